//! The three modes: custom resource, scheduled health check, direct operator actions.

use std::time::Duration;

use groundcrew::custom_resource::{self, Claim, Failure, Outcome, Request, ResponderSettings};
use groundcrew::http::redact;
use groundcrew::secrets::{reveal, SecretError, SecretRef};
use groundcrew::Deadline;
use secrecy::SecretString;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::alerts::Alerts;
use crate::config::Config;
use crate::error::Error;
use crate::health::{emf, Finding, MetricsSink};
use crate::registration::{parameter_name, Registration};
use crate::settings::{bot_id, Desired, Settings, Style};
use crate::telegram::{Telegram, WebhookInfo};
use crate::vault::{secret_token, Vault};

pub struct App<V, A> {
    pub config: Config,
    pub http: reqwest::Client,
    pub telegram: Telegram,
    pub vault: V,
    pub alerts: A,
    pub responder: ResponderSettings,
    /// Why the function's own settings are invalid, if they are: every request is then
    /// answered with it (CloudFormation FAILED, a health finding) instead of the process
    /// failing to start, which would leave CloudFormation waiting for an answer.
    pub config_error: Option<String>,
    /// Where the health check's metrics go.
    pub metrics: MetricsSink,
}

/// The bot token, with the secrets every text leaving the function must be cleaned of.
struct Bot {
    token: SecretString,
    id: String,
}

/// The stable physical id: the same bot and URL give the same id; a change of either gives
/// a new one (CloudFormation then deletes the old resource).
pub fn physical_id(bot_id: &str, url: &str) -> String {
    let digest = Sha256::digest(url.as_bytes());
    format!("telegram-webhook-{bot_id}-{}", &hex::encode(digest)[..16])
}

/// What registering did, as reported.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Registered {
    pub bot_id: String,
    pub physical_resource_id: String,
    pub secret_token_created: bool,
    pub webhook: WebhookInfo,
    /// What was registered, as the custom resource records it.
    #[serde(skip)]
    pub registration: Registration,
}

/// Differences between the desired settings and Telegram's.
pub fn drift(desired: &Desired, info: &WebhookInfo) -> Vec<String> {
    let mut found = Vec::new();
    if info.url != desired.webhook_url {
        found.push(if info.url.is_empty() {
            "no webhook is set".to_string()
        } else {
            format!(
                "the webhook URL is {}, not {}",
                info.url, desired.webhook_url
            )
        });
    }
    if let (Some(want), Some(have)) = (desired.max_connections, info.max_connections) {
        if want != have {
            found.push(format!("max_connections is {have}, not {want}"));
        }
    }
    if let (Some(want), Some(have)) = (&desired.allowed_updates, &info.allowed_updates) {
        let mut want = want.clone();
        let mut have = have.clone();
        want.sort();
        want.dedup();
        have.sort();
        have.dedup();
        if want != have {
            found.push(format!("allowed_updates are {have:?}, not {want:?}"));
        }
    }
    found
}

/// The health report of a check.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HealthReport {
    pub healthy: bool,
    pub bot_id: String,
    pub webhook_url: String,
    pub pending_update_count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error_date: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error_message: Option<String>,
    pub drift: Vec<String>,
    pub repaired: bool,
    pub problems: Vec<String>,
    pub alert_published: bool,
    /// What the metrics say: empty when healthy.
    pub findings: Vec<Finding>,
}

impl HealthReport {
    /// A check that could not finish: `problem` is why (free of secrets).
    fn failed(webhook_url: &str, finding: Finding, problem: String) -> Self {
        Self {
            healthy: false,
            bot_id: String::new(),
            webhook_url: webhook_url.to_string(),
            pending_update_count: 0,
            last_error_date: None,
            last_error_message: None,
            drift: Vec::new(),
            repaired: false,
            problems: vec![problem],
            alert_published: false,
            findings: vec![finding],
        }
    }
}

impl<V: Vault, A: Alerts> App<V, A> {
    /// Routes any event to its mode.
    pub async fn handle(&self, event: Value, deadline: Deadline, now: i64) -> Result<Value, Error> {
        if custom_resource::looks_like_custom_resource(&event) {
            let answered = custom_resource::respond_always_claiming(
                &self.http,
                event,
                deadline,
                &self.responder,
                |req, dl, claim| async move {
                    match &self.config_error {
                        Some(problem) => Err(Failure::new(format!(
                            "the telegram-webhook function is misconfigured: {problem}; fix its environment and update the stack"
                        ))),
                        None => self.custom_resource(req, dl, claim).await,
                    }
                },
            )
            .await?;
            return Ok(serde_json::to_value(answered).unwrap_or(Value::Null));
        }
        if event.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event")
            || event.get("source").and_then(Value::as_str) == Some("aws.events")
        {
            let report = self.scheduled_check(deadline, now).await;
            return Ok(serde_json::to_value(report).unwrap_or(Value::Null));
        }
        if let Some(problem) = &self.config_error {
            return Err(Error::Misconfigured(problem.clone()));
        }
        if event.get("action").is_some() {
            return self.action(&event, deadline, now).await;
        }
        Err(Error::BadEvent(
            "expected a CloudFormation custom-resource request, an EventBridge Scheduled Event, or {\"action\": \"register\"|\"info\"|\"delete\"|\"check\"}"
                .to_string(),
        ))
    }

    async fn bot(&self, reference: &str) -> Result<Bot, Error> {
        let parsed = SecretRef::parse(reference)?;
        let token = self.vault.read(&parsed).await?;
        let id = bot_id(reveal(&token))
            .ok_or_else(|| Error::NotABotToken {
                reference: parsed.display(),
            })?
            .to_string();
        Ok(Bot { token, id })
    }

    /// Removes the token (and any other secret) from text leaving the function.
    fn clean(&self, text: &str, secrets: &[&SecretString]) -> String {
        let values: Vec<&str> = secrets.iter().map(|s| reveal(s)).collect();
        redact(text, &values)
    }

    /// setWebhook with the secret token, then getWebhookInfo to verify it took.
    async fn register(
        &self,
        bot: &Bot,
        desired: &Desired,
        drop_pending: bool,
        deadline: Deadline,
    ) -> Result<Registered, Error> {
        let (secret, created) = secret_token(&self.vault, &desired.secret_token_secret).await?;
        let mut params = json!({
            "url": desired.webhook_url,
            "secret_token": reveal(&secret),
        });
        if let Some(n) = desired.max_connections {
            params["max_connections"] = json!(n);
        }
        if let Some(list) = &desired.allowed_updates {
            params["allowed_updates"] = json!(list);
        }
        if drop_pending {
            params["drop_pending_updates"] = json!(true);
        }
        self.telegram
            .call(&bot.token, "setWebhook", &params, deadline)
            .await
            .map_err(|e| self.scrub(e.into(), &[&bot.token, &secret]))?;
        let info = self.telegram.get_webhook_info(&bot.token, deadline).await?;
        let differences = drift(desired, &info);
        if !differences.is_empty() {
            return Err(Error::Verification(format!(
                "Telegram accepted setWebhook but getWebhookInfo reports: {}",
                differences.join("; ")
            )));
        }
        tracing::info!(bot_id = %bot.id, url = %info.url, pending = info.pending_update_count, "webhook registered and verified");
        Ok(Registered {
            bot_id: bot.id.clone(),
            physical_resource_id: physical_id(&bot.id, &desired.webhook_url),
            secret_token_created: created,
            webhook: info,
            registration: Registration::of(desired, &secret),
        })
    }

    /// The custom resource's work; errors become FAILED with a token-free reason.
    /// The physical id is claimed before `setWebhook`: a Create that then times out or
    /// panics is answered FAILED with it, and the rollback Delete removes the webhook.
    pub async fn custom_resource(
        &self,
        request: Request,
        deadline: Deadline,
        claim: Claim,
    ) -> Result<Outcome, Failure> {
        match request {
            Request::Create(r) => {
                self.create_or_update(&r.resource_properties, None, deadline, &claim)
                    .await
            }
            Request::Update(r) => {
                self.create_or_update(
                    &r.resource_properties,
                    Some(&r.physical_resource_id),
                    deadline,
                    &claim,
                )
                .await
            }
            Request::Delete(r) => {
                self.delete_resource(&r.resource_properties, &r.physical_resource_id, deadline)
                    .await
            }
            #[allow(unreachable_patterns)]
            _ => Err(Failure::new("unknown RequestType")),
        }
    }

    async fn create_or_update(
        &self,
        props: &Value,
        old_id: Option<&str>,
        deadline: Deadline,
        claim: &Claim,
    ) -> Result<Outcome, Failure> {
        let desired = Settings::from_json(props, Style::Properties)
            .and_then(|s| s.desired(Style::Properties))
            .map_err(|e| Failure::new(e.to_string()))?;
        let bot = self
            .bot(&desired.bot_token_secret)
            .await
            .map_err(|e| Failure::new(e.to_string()))?;
        let id = physical_id(&bot.id, &desired.webhook_url);
        claim.set(id.clone());
        let registered = match self
            .register(&bot, &desired, desired.drop_pending_updates, deadline)
            .await
        {
            Ok(done) => self.record(&bot, &done.registration).await.map(|()| done),
            Err(e) => Err(e),
        };
        match registered {
            Ok(done) => Ok(Outcome::new(done.physical_resource_id)
                .with_data("Url", done.webhook.url.clone())
                .with_data(
                    "PendingUpdateCount",
                    done.webhook.pending_update_count.to_string(),
                )
                .with_data(
                    "MaxConnections",
                    done.webhook
                        .max_connections
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                )
                .with_data("BotId", done.bot_id)
                .with_reason(if done.secret_token_created {
                    "webhook registered and verified; a new secret token was stored"
                } else {
                    "webhook registered and verified"
                })),
            Err(e) => {
                let reason = self.clean(&e.to_string(), &[&bot.token]);
                // A Create that may have set the webhook reports its id, so that the
                // rollback Delete removes it; an Update keeps the old id.
                Err(match old_id {
                    None => Failure::new(reason).with_physical_id(id),
                    Some(_) => Failure::new(reason),
                })
            }
        }
    }

    async fn delete_resource(
        &self,
        props: &Value,
        physical: &str,
        deadline: Deadline,
    ) -> Result<Outcome, Failure> {
        let done = |why: &str| Ok(Outcome::new(physical.to_string()).with_reason(why.to_string()));
        let settings = match Settings::from_json(props, Style::Properties) {
            Ok(s) => s,
            Err(e) => {
                return done(&format!(
                    "nothing to delete: the properties are unusable ({e})"
                ))
            }
        };
        let (Some(reference), Some(url)) = (
            settings.bot_token_secret.as_deref(),
            settings.webhook_url.as_deref(),
        ) else {
            return done("nothing to delete: no BotTokenSecret or WebhookUrl");
        };
        let bot = match self.bot(reference).await {
            Ok(bot) => bot,
            Err(Error::Secret(SecretError::NotFound { .. })) => {
                return done("the bot token secret no longer exists; nothing to delete")
            }
            Err(Error::NotABotToken { .. }) => {
                return done("the secret no longer holds a bot token; nothing to delete")
            }
            Err(e) => return Err(Failure::new(e.to_string())),
        };
        if physical_id(&bot.id, url) != physical {
            return done("the secret now holds another bot or the URL changed; this resource's webhook is left alone");
        }
        let outcome = self
            .delete_webhook(&bot, url, settings.drop_pending_updates, physical, deadline)
            .await?;
        // This resource is gone, whatever Telegram still had: its record goes too (unless a
        // newer registration of the bot replaced it), so that no repair brings it back.
        self.forget(&bot, url)
            .await
            .map_err(|e| Failure::new(e.to_string()))?;
        Ok(outcome)
    }

    /// `deleteWebhook` when the bot's webhook is still this resource's URL.
    async fn delete_webhook(
        &self,
        bot: &Bot,
        url: &str,
        drop_pending_updates: bool,
        physical: &str,
        deadline: Deadline,
    ) -> Result<Outcome, Failure> {
        let done = |why: &str| Ok(Outcome::new(physical.to_string()).with_reason(why.to_string()));
        let info = match self.telegram.get_webhook_info(&bot.token, deadline).await {
            Ok(info) => info,
            Err(e) if e.bot_gone() => {
                return done("Telegram no longer knows this bot token; nothing to delete")
            }
            Err(e) => return Err(Failure::new(self.clean(&e.to_string(), &[&bot.token]))),
        };
        if info.url.is_empty() {
            return done("the bot already has no webhook");
        }
        if info.url != url {
            return done("the webhook now points elsewhere (a newer resource); left alone");
        }
        let params = json!({"drop_pending_updates": drop_pending_updates});
        match self
            .telegram
            .call(&bot.token, "deleteWebhook", &params, deadline)
            .await
        {
            Ok(_) => {
                tracing::info!(bot_id = %bot.id, "webhook deleted");
                done("webhook deleted")
            }
            Err(e) if e.bot_gone() => {
                done("Telegram no longer knows this bot token; nothing to delete")
            }
            Err(e) => Err(Failure::new(self.clean(&e.to_string(), &[&bot.token]))),
        }
    }

    /// Records what the custom resource registered, when a place for it is configured.
    async fn record(&self, bot: &Bot, registration: &Registration) -> Result<(), Error> {
        let Some(prefix) = &self.config.registration_prefix else {
            return Ok(());
        };
        self.vault
            .store_record(&parameter_name(prefix, &bot.id), &registration.to_json())
            .await
    }

    /// Removes the record of a deleted webhook (unless a newer registration replaced it).
    async fn forget(&self, bot: &Bot, url: &str) -> Result<(), Error> {
        let Some(prefix) = &self.config.registration_prefix else {
            return Ok(());
        };
        let name = parameter_name(prefix, &bot.id);
        match self.vault.load_record(&name).await? {
            Some(text) if Registration::parse(&name, &text).is_ok_and(|r| r.webhook_url != url) => {
                Ok(())
            }
            Some(_) => self.vault.delete_record(&name).await,
            None => Ok(()),
        }
    }

    /// The scheduled health check on the function's settings; publishes its findings.
    pub async fn scheduled_check(&self, deadline: Deadline, now: i64) -> HealthReport {
        let desired = match &self.config_error {
            Some(problem) => Err(Error::Misconfigured(problem.clone())),
            None => self.config.defaults.desired(Style::Action).map_err(|e| {
                Error::Misconfigured(format!(
                    "a scheduled health check needs BOT_TOKEN_SECRET, WEBHOOK_URL and SECRET_TOKEN_SECRET: {e}"
                ))
            }),
        };
        let report = match desired {
            Ok(desired) => self.check(&desired, deadline, now).await,
            Err(e) => HealthReport::failed("", Finding::of_error(&e), e.to_string()),
        };
        self.metrics.emit(emf(
            &self.config.metrics_namespace,
            &self.config.function_name,
            &report.findings,
            now.saturating_mul(1000),
        ));
        if !report.healthy {
            tracing::warn!(findings = ?report.findings, problems = ?report.problems, "webhook unhealthy");
        }
        report
    }

    /// The health check: compare with what was registered, repair drift, report errors and
    /// backlog. Never an error: what stopped it is a finding.
    pub async fn check(&self, desired: &Desired, deadline: Deadline, now: i64) -> HealthReport {
        match self.inspect(desired, deadline, now).await {
            Ok(report) => report,
            Err(e) => HealthReport::failed(
                &desired.webhook_url,
                Finding::of_error(&e),
                format!("the check could not finish: {e}"),
            ),
        }
    }

    async fn inspect(
        &self,
        desired: &Desired,
        deadline: Deadline,
        now: i64,
    ) -> Result<HealthReport, Error> {
        let bot = self.bot(&desired.bot_token_secret).await?;
        // Hold Telegram to what the custom resource registered, when it recorded that.
        let recorded = match &self.config.registration_prefix {
            Some(prefix) => {
                let name = parameter_name(prefix, &bot.id);
                match self.vault.load_record(&name).await? {
                    Some(text) => Some(Registration::parse(&name, &text)?.desired(desired)),
                    None => None,
                }
            }
            None => None,
        };
        let desired = recorded.as_ref().unwrap_or(desired);
        let mut findings = Vec::new();
        let mut info = self
            .telegram
            .get_webhook_info(&bot.token, deadline)
            .await
            .map_err(|e| self.scrub(e.into(), &[&bot.token]))?;
        let differences = drift(desired, &info);
        let mut problems = Vec::new();
        let mut repaired = false;
        if !differences.is_empty() {
            tracing::warn!(bot_id = %bot.id, drift = ?differences, "the webhook drifted");
            if self.config.repair {
                // Never drop pending updates when repairing.
                match self.register(&bot, desired, false, deadline).await {
                    Ok(done) => {
                        repaired = true;
                        let errors = (info.last_error_date, info.last_error_message.clone());
                        info = done.webhook;
                        (info.last_error_date, info.last_error_message) = (
                            info.last_error_date.or(errors.0),
                            info.last_error_message.or(errors.1),
                        );
                    }
                    Err(e) => {
                        findings.push(Finding::WebhookDrifted);
                        if !matches!(Finding::of_error(&e), Finding::WebhookDrifted) {
                            findings.push(Finding::of_error(&e));
                        }
                        problems.push(format!(
                            "repair failed: {}",
                            self.clean(&e.to_string(), &[&bot.token])
                        ))
                    }
                }
            } else {
                findings.push(Finding::WebhookDrifted);
                problems.push(format!(
                    "drift not repaired (REPAIR_DRIFT=false): {}",
                    differences.join("; ")
                ));
            }
        }
        if let Some(at) = info.last_error_date {
            let age = now - at;
            if age <= self.config.recent_error.as_secs() as i64 {
                findings.push(Finding::DeliveryErrors);
                problems.push(format!(
                    "Telegram reported a delivery error {}s ago: {}",
                    age.max(0),
                    info.last_error_message.as_deref().unwrap_or("(no message)")
                ));
            }
        }
        if info.pending_update_count > self.config.pending_threshold {
            findings.push(Finding::Backlog);
            problems.push(format!(
                "{} updates are waiting (threshold {})",
                info.pending_update_count, self.config.pending_threshold
            ));
        }
        if self.config.probe_endpoint {
            for (finding, why) in self.probe_endpoint(desired, deadline).await {
                findings.push(finding);
                problems.push(why);
            }
        }
        let problems: Vec<String> = problems
            .iter()
            .map(|p| self.clean(p, &[&bot.token]))
            .collect();
        let mut alert_published = false;
        if !problems.is_empty() {
            let subject = format!("Telegram webhook of bot {} is unhealthy", bot.id);
            let mut message = format!(
                "groundcrew telegram-webhook health check ({})\nbot: {}\nwebhook: {}\npending updates: {}\n",
                self.config.stage, bot.id, desired.webhook_url, info.pending_update_count
            );
            if repaired {
                message.push_str(&format!("drift repaired: {}\n", differences.join("; ")));
            }
            for p in &problems {
                message.push_str(&format!("- {p}\n"));
            }
            let message = self.clean(&message, &[&bot.token]);
            // A failed publish is a finding; the metrics still carry the rest.
            match self.alerts.publish(&subject, &message).await {
                Ok(published) => alert_published = published,
                Err(e) => {
                    findings.push(Finding::AlertUndelivered);
                    tracing::warn!(error = %self.clean(&e.to_string(), &[&bot.token]), "could not publish the alert");
                }
            }
        }
        findings.sort();
        findings.dedup();
        Ok(HealthReport {
            healthy: problems.is_empty() && findings.is_empty(),
            bot_id: bot.id.clone(),
            webhook_url: info.url.clone(),
            pending_update_count: info.pending_update_count,
            last_error_date: info.last_error_date,
            last_error_message: info
                .last_error_message
                .as_deref()
                .map(|m| self.clean(m, &[&bot.token])),
            drift: differences,
            repaired,
            problems,
            alert_published,
            findings,
        })
    }

    /// The endpoint probe, with the secret token read (never created) for it.
    async fn probe_endpoint(
        &self,
        desired: &Desired,
        deadline: Deadline,
    ) -> Vec<(Finding, String)> {
        let token = match SecretRef::parse(&desired.secret_token_secret) {
            Ok(reference) => self.vault.read(&reference).await.map_err(Error::from),
            Err(e) => Err(Error::from(e)),
        };
        let token = match token {
            Ok(token) => token,
            Err(e) => {
                return vec![(
                    Finding::SecretUnreadable,
                    format!("the endpoint probe needs the secret token: {e}"),
                )]
            }
        };
        let url = self
            .config
            .probe_url
            .as_deref()
            .unwrap_or(&desired.webhook_url);
        crate::probe::probe(
            &self.http,
            url,
            reveal(&token),
            self.config.health_url.as_deref(),
            deadline,
        )
        .await
    }

    /// `{"action": "register" | "info" | "delete" | "check", ...settings}`.
    pub async fn action(
        &self,
        event: &Value,
        deadline: Deadline,
        now: i64,
    ) -> Result<Value, Error> {
        let action = event
            .get("action")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::BadEvent("action must be a string".into()))?;
        if !matches!(action, "register" | "info" | "delete" | "check") {
            return Err(Error::Invalid {
                property: "action".into(),
                reason: "expected register, info, delete or check".into(),
            });
        }
        let settings = Settings::from_json(event, Style::Action)?.or(&self.config.defaults);
        match action {
            "register" => {
                let desired = settings.desired(Style::Action)?;
                let bot = self.bot(&desired.bot_token_secret).await?;
                let done = self
                    .register(&bot, &desired, desired.drop_pending_updates, deadline)
                    .await
                    .map_err(|e| self.scrub(e, &[&bot.token]))?;
                Ok(self.clean_value(
                    json!({"action": "register", "registered": true, "result": done}),
                    &bot,
                ))
            }
            "info" => {
                let bot = self.bot(settings.bot_token_secret(Style::Action)?).await?;
                let info = self
                    .telegram
                    .get_webhook_info(&bot.token, deadline)
                    .await
                    .map_err(|e| self.scrub(e.into(), &[&bot.token]))?;
                Ok(self.clean_value(
                    json!({"action": "info", "bot_id": bot.id, "webhook": info}),
                    &bot,
                ))
            }
            "delete" => {
                let bot = self.bot(settings.bot_token_secret(Style::Action)?).await?;
                let params = json!({"drop_pending_updates": settings.drop_pending_updates});
                let result = self
                    .telegram
                    .call(&bot.token, "deleteWebhook", &params, deadline)
                    .await
                    .map_err(|e| self.scrub(e.into(), &[&bot.token]))?;
                Ok(self.clean_value(
                    json!({"action": "delete", "bot_id": bot.id, "deleted": result}),
                    &bot,
                ))
            }
            _ => {
                let desired = settings.desired(Style::Action)?;
                let report = self.check(&desired, deadline, now).await;
                Ok(json!({"action": "check", "report": report}))
            }
        }
    }

    fn scrub(&self, err: Error, secrets: &[&SecretString]) -> Error {
        let text = err.to_string();
        let cleaned = self.clean(&text, secrets);
        if cleaned == text {
            err
        } else {
            Error::BadEvent(cleaned)
        }
    }

    fn clean_value(&self, value: Value, bot: &Bot) -> Value {
        let text = value.to_string();
        let cleaned = self.clean(&text, &[&bot.token]);
        serde_json::from_str(&cleaned).unwrap_or(Value::Null)
    }
}

/// Default time kept for answering CloudFormation.
pub const RESPONSE_RESERVE: Duration = Duration::from_secs(2);
