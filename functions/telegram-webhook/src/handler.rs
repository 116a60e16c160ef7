//! The handler: one event in, routed to its mode (custom resource, scheduled health check,
//! direct action), one report out.

use std::time::Duration;

use groundcrew::custom_resource::{self, Answered, Failure, ResponderSettings};
use groundcrew::http::redact;
use groundcrew::secrets::{reveal, SecretRef};
use groundcrew::Invocation;
use secrecy::SecretString;
use serde::Serialize;
use serde_json::Value;

use crate::action::ActionReport;
use crate::alerts::Alerts;
use crate::check::HealthReport;
use crate::config::Config;
use crate::error::Error;
use crate::event::Event;
use crate::health::MetricsSink;
use crate::probe::{Endpoint, HttpEndpoint};
use crate::telegram::Telegram;
use crate::validate::bot_id;
use crate::vault::Vault;
use groundcrew::http::{ReqwestTransport, Transport};

pub struct App<V, A, T = ReqwestTransport, E = HttpEndpoint> {
    pub config: Config,
    /// CloudFormation's ResponseURL.
    pub http: reqwest::Client,
    pub telegram: Telegram<T>,
    /// The bot's endpoint, for the opt-in probe.
    pub endpoint: E,
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
pub(crate) struct Bot {
    pub(crate) token: SecretString,
    pub(crate) id: String,
}

/// What an invocation returns.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Report {
    /// What was PUT to CloudFormation's ResponseURL.
    CustomResource(Answered),
    /// A scheduled health check.
    Health(HealthReport),
    /// A direct action's result.
    Action(ActionReport),
}

impl<V: Vault, A: Alerts, T: Transport, E: Endpoint> App<V, A, T, E> {
    /// Routes any event to its mode.
    pub async fn handle(&self, event: Value, invocation: Invocation) -> Result<Report, Error> {
        let deadline = invocation.deadline;
        let now = invocation.now().timestamp();
        match Event::classify(event)? {
            Event::CustomResource(event) => {
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
                Ok(Report::CustomResource(answered))
            }
            Event::Scheduled => Ok(Report::Health(self.scheduled_check(deadline, now).await)),
            Event::Action(action) => match &self.config_error {
                Some(problem) => Err(Error::Misconfigured(problem.clone())),
                None => self
                    .action(&action, deadline, now)
                    .await
                    .map(Report::Action),
            },
        }
    }

    pub(crate) async fn bot(&self, reference: &str) -> Result<Bot, Error> {
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
    pub(crate) fn clean(&self, text: &str, secrets: &[&SecretString]) -> String {
        let values: Vec<&str> = secrets.iter().map(|s| reveal(s)).collect();
        redact(text, &values)
    }

    pub(crate) fn scrub(&self, err: Error, secrets: &[&SecretString]) -> Error {
        let text = err.to_string();
        let cleaned = self.clean(&text, secrets);
        if cleaned == text {
            err
        } else {
            Error::BadEvent(cleaned)
        }
    }
}

/// Default time kept for answering CloudFormation.
pub const RESPONSE_RESERVE: Duration = Duration::from_secs(2);
