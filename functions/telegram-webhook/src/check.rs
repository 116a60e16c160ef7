//! The scheduled health check: compare Telegram's webhook with what was registered,
//! repair drift, report delivery errors, backlog and (opt-in) the endpoint probe, and
//! publish every finding as a metric. Never an error: what stopped it is a finding.

use groundcrew::secrets::{reveal, SecretRef};
use groundcrew::Deadline;
use serde::Serialize;

use crate::alerts::Alerts;
use crate::error::Error;
use crate::handler::App;
use crate::health::{emf, Finding};
use crate::probe::{Endpoint, Probed};
use crate::properties::{Desired, Style};
use crate::register::drift;
use crate::registration::{parameter_name, Registration};
use crate::vault::Vault;
use groundcrew::http::Transport;

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
    /// What the check could not look at (it stopped first): left out of the metrics.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<Finding>,
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
            unknown: finding.hides(),
        }
    }
}

impl<V: Vault, A: Alerts, T: Transport, E: Endpoint> App<V, A, T, E> {
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
            &report.unknown,
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
        let mut report = match self.inspect(desired, deadline, now).await {
            Ok(report) => report,
            Err(e) => HealthReport::failed(
                &desired.webhook_url,
                Finding::of_error(&e),
                format!("the check could not finish: {e}"),
            ),
        };
        self.alert(&mut report, desired).await;
        report
    }

    /// The notice to `ALARM_TOPIC_ARN` of a report with problems, a check that could not
    /// finish (a revoked token, an unreadable secret, Telegram down) included: those are the
    /// worst cases. A failed publish is a finding of its own; the metrics carry the rest.
    async fn alert(&self, report: &mut HealthReport, desired: &Desired) {
        if report.problems.is_empty() {
            return;
        }
        let subject = if report.bot_id.is_empty() {
            "Telegram webhook health check could not finish".to_string()
        } else {
            format!("Telegram webhook of bot {} is unhealthy", report.bot_id)
        };
        let mut message = format!(
            "groundcrew telegram-webhook health check ({})\nbot: {}\nwebhook: {}\npending updates: {}\n",
            self.config.stage,
            if report.bot_id.is_empty() { "(not read)" } else { &report.bot_id },
            desired.webhook_url,
            report.pending_update_count
        );
        if report.repaired {
            message.push_str(&format!("drift repaired: {}\n", report.drift.join("; ")));
        }
        // The problems were cleaned of the token where they were written.
        for p in &report.problems {
            message.push_str(&format!("- {p}\n"));
        }
        match self.alerts.publish(&subject, &message).await {
            Ok(published) => report.alert_published = published,
            Err(e) => {
                report.findings.push(Finding::AlertUndelivered);
                report.findings.sort();
                report.findings.dedup();
                report.healthy = false;
                tracing::warn!(error = %e, "could not publish the alert");
            }
        }
    }

    pub(crate) async fn inspect(
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
        let mut unknown = Vec::new();
        if self.config.probe_endpoint {
            let probed = self.probe_endpoint(desired, deadline).await;
            for (finding, why) in probed.found {
                findings.push(finding);
                problems.push(why);
            }
            unknown = probed.unknown;
        }
        let problems: Vec<String> = problems
            .iter()
            .map(|p| self.clean(p, &[&bot.token]))
            .collect();
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
            alert_published: false,
            findings,
            unknown,
        })
    }

    /// The endpoint probe, with the secret token read (never created) for it.
    pub(crate) async fn probe_endpoint(&self, desired: &Desired, deadline: Deadline) -> Probed {
        let token = match SecretRef::parse(&desired.secret_token_secret) {
            Ok(reference) => self.vault.read(&reference).await.map_err(Error::from),
            Err(e) => Err(Error::from(e)),
        };
        let token = match token {
            Ok(token) => token,
            // Not probed: the endpoint's alarms keep their state.
            Err(e) => {
                return Probed {
                    found: vec![(
                        Finding::SecretUnreadable,
                        format!("the endpoint probe needs the secret token: {e}"),
                    )],
                    unknown: vec![
                        Finding::EndpointProbeFailed,
                        Finding::EndpointAcceptsUnsigned,
                    ],
                }
            }
        };
        let url = self
            .config
            .probe_url
            .as_deref()
            .unwrap_or(&desired.webhook_url);
        crate::probe::probe(
            &self.endpoint,
            url,
            reveal(&token),
            self.config.health_url.as_deref(),
            deadline,
        )
        .await
    }
}
