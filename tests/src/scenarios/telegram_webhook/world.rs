//! The world of one run: the function built on the models, CloudFormation's requests, and
//! what the models know (the lasting problems, the registration).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use groundcrew::custom_resource::{Claim, Request, ResponderSettings};
use serde_json::{json, Value};
use telegram_webhook::health::{Finding, MetricsSink, HEALTH_CHECK_OK};
use telegram_webhook::registration::{parameter_name, sha256, Registration};
use telegram_webhook::telegram::Telegram;
use telegram_webhook::vault::Vault;
use telegram_webhook::{App, Config};

use super::alarms::{self, AlarmSpec, Alarms};
use super::endpoint::EndpointModel;
use super::topic::SimTopic;
use super::vault::SimVault;
use super::{
    Figures, Truth, World, BACKLOG, BOT_SECRET, BUDGET, PREFIX, RECENT_ERROR, TOKEN, URL,
    WEBHOOK_SECRET,
};
use crate::kernel::Sim;
use crate::models::telegram::TelegramModel;

pub(super) type SimApp = App<SimVault, SimTopic, TelegramModel, EndpointModel>;

pub(super) fn app(
    model: &TelegramModel,
    vault: &SimVault,
    endpoint: &EndpointModel,
    topic: &SimTopic,
    webhook_url: &str,
) -> Result<SimApp, String> {
    let vars = [
        ("TELEGRAM_API_BASE_URL", "https://api.telegram.org"),
        ("BOT_TOKEN_SECRET", BOT_SECRET),
        ("WEBHOOK_URL", webhook_url),
        ("SECRET_TOKEN_SECRET", WEBHOOK_SECRET),
        ("ALLOWED_UPDATES", "message,callback_query"),
        ("REGISTRATION_PARAMETER_PREFIX", PREFIX),
        // The opt-in probe of the bot's endpoint, and its health URL.
        ("PROBE_ENDPOINT", "true"),
        ("HEALTH_URL", "https://bot.example.com/api/telegram/health"),
        // The template leaves it unset; an operator who wants a notice every run sets it.
        (
            "ALARM_TOPIC_ARN",
            "arn:aws:sns:us-east-1:123456789012:gc-sim-alarms",
        ),
        ("AWS_LAMBDA_FUNCTION_NAME", "gc-sim-telegram-webhook"),
    ];
    let config = Config::from_env(&groundcrew::testing::env(&vars)).map_err(|e| e.to_string())?;
    let http = groundcrew::http::client(groundcrew::http::HttpSettings::default())
        .map_err(|e| e.to_string())?;
    Ok(App {
        telegram: Telegram::over(model.clone(), &config.api_base),
        http,
        endpoint: endpoint.clone(),
        vault: vault.clone(),
        alerts: topic.clone(),
        responder: ResponderSettings {
            response_reserve: telegram_webhook::handler::RESPONSE_RESERVE,
            ..ResponderSettings::default()
        },
        config,
        config_error: None,
        metrics: MetricsSink::memory(),
    })
}

pub(super) fn props(url: &str, max_connections: u32) -> Value {
    json!({
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:gc-sim-telegram-webhook",
        "ServiceTimeout": "300",
        "BotTokenSecret": BOT_SECRET,
        "WebhookUrl": url,
        "SecretTokenSecret": WEBHOOK_SECRET,
        "AllowedUpdates": ["message", "callback_query"],
        "MaxConnections": max_connections.to_string(),
    })
}

pub(super) fn request(
    kind: &str,
    n: u64,
    props: Value,
    old: Option<Value>,
    physical: Option<&str>,
) -> Value {
    let mut e = json!({
        "RequestType": kind,
        "ServiceToken": props["ServiceToken"],
        "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/sim",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/gc-sim/guid",
        "RequestId": format!("sim-request-{n}"),
        "ResourceType": "Custom::TelegramWebhook",
        "LogicalResourceId": "TelegramBotWebhook",
        "ResourceProperties": props,
    });
    if let Some(p) = physical {
        e["PhysicalResourceId"] = json!(p);
    }
    if let Some(o) = old {
        e["OldResourceProperties"] = o;
    }
    e
}

impl World {
    /// The function on fresh models, with the environment's webhook at [`URL`].
    pub(super) fn new(sim: Arc<Sim>) -> Result<Self, String> {
        let model = TelegramModel::new(sim.clone(), TOKEN, 0.3);
        let vault = SimVault::new(sim.clone());
        let endpoint = EndpointModel::new(sim.clone(), vault.inner.clone(), WEBHOOK_SECRET);
        let topic = SimTopic::new(sim.clone());
        let built = app(&model, &vault, &endpoint, &topic, URL)?;
        Ok(World {
            sim,
            model,
            vault,
            endpoint,
            topic,
            app: built,
            revoked: false,
            physical_id: None,
            figures: Figures::default(),
            causes: BTreeMap::new(),
            requests: 0,
            alarms: Alarms::of_template(),
            one_of_one: Alarms::of(
                alarms::template_alarms()
                    .into_iter()
                    .map(|spec| match spec.metric {
                        HEALTH_CHECK_OK => spec,
                        _ => AlarmSpec { m: 1, n: 1, ..spec },
                    })
                    .collect(),
            ),
            runs: VecDeque::new(),
            checks_in_period: 0,
            paged: BTreeMap::new(),
            missed_in_row: 0,
        })
    }

    pub(super) fn truth(&self) -> Truth {
        let now = self.sim.now();
        Truth {
            secrets_down: self.vault.is_down(),
            outage: self.model.in_outage(now),
            revoked: self.revoked,
            delivery_error: self
                .model
                .last_error_date()
                .is_some_and(|at| (now - at).num_seconds() <= RECENT_ERROR),
            backlog: self.model.pending() > BACKLOG,
            endpoint_down: self.endpoint.is_down(),
            accepts_unsigned: self.endpoint.accepts_unsigned(),
        }
    }

    /// The registration the check holds Telegram to: the record, else the environment's.
    pub(super) async fn registration(&self) -> Option<Registration> {
        let name = parameter_name(PREFIX, "7000000001");
        let text = self.vault.inner.load_record(&name).await.ok().flatten()?;
        Registration::parse(&name, &text).ok()
    }

    pub(super) fn cause(&mut self, finding: Finding) {
        self.causes.entry(finding).or_insert(self.sim.now());
    }

    /// Whether Telegram's webhook is exactly the registration (record, else environment).
    pub(super) async fn matches_registration(&self) -> bool {
        let Some(webhook) = self.model.webhook() else {
            return false;
        };
        let Some(reg) = self.registration().await else {
            return webhook.url
                == self
                    .app
                    .config
                    .defaults
                    .webhook_url
                    .clone()
                    .unwrap_or_default();
        };
        let secret = self
            .vault
            .inner
            .get(WEBHOOK_SECRET)
            .map(|s| sha256(&s))
            .unwrap_or_default();
        webhook.url == reg.webhook_url
            && Some(webhook.max_connections) == reg.max_connections.or(Some(40))
            && webhook.allowed_updates == reg.allowed_updates
            && webhook.secret_token.as_deref().map(sha256) == Some(reg.secret_token_sha256.clone())
            && secret == reg.secret_token_sha256
    }

    /// One CloudFormation request through the custom resource's logic. A FAILED answer is
    /// retried by the operator [`RETRY_AFTER`](super::plan::RETRY_AFTER) later, as a happening of its own: the world
    /// (a token put back, an outage ending) goes on meanwhile.
    pub(super) async fn cloudformation(
        &mut self,
        kind: &str,
        event: Value,
    ) -> Result<String, String> {
        self.requests += 1;
        self.figures.cfn_requests += 1;
        self.sim.step();
        let request: Request = serde_json::from_value(event)
            .map_err(|e| format!("the simulated request does not parse: {e}"))?;
        let invocation = self.sim.invocation(BUDGET);
        let work = invocation
            .deadline
            .less(self.app.responder.response_reserve);
        let claim = Claim::default();
        let answered = work
            .run(self.app.custom_resource(request, work, claim.clone()))
            .await;
        self.sim.check(
            "every CloudFormation request is answered before the deadline",
            answered.is_ok(),
            || format!("{kind} ran past its deadline"),
        );
        match answered {
            Ok(Ok(outcome)) => {
                self.sim.trace(format!(
                    "CloudFormation {kind}: SUCCESS {}",
                    outcome.physical_resource_id
                ));
                Ok(outcome.physical_resource_id)
            }
            Ok(Err(failure)) => {
                self.figures.cfn_failed += 1;
                self.sim.check(
                    "a FAILED answer says why",
                    !failure.reason.is_empty(),
                    String::new,
                );
                self.sim
                    .trace(format!("CloudFormation {kind}: FAILED {}", failure.reason));
                Err(failure.reason)
            }
            Err(_) => Err("timed out".into()),
        }
    }
}
