//! Sending to receivers: HTTP (Telegram, Slack, Google Chat, PagerDuty, webhooks) and SNS,
//! each call retried within the invocation deadline (429 after its `retry_after`, 5xx and
//! timeouts with backoff). Errors name the receiver, never its URL or key.

use std::future::Future;
use std::time::Duration;

use groundcrew::http::{HttpError, HttpSettings};
use groundcrew::retry::{retry, RetryAdvice, RetryPolicy, Transient};
use groundcrew::secrets::{reveal, CachedSecrets, SecretError, SecretStore};
use groundcrew::Deadline;
use serde_json::Value;

use crate::format;
use crate::html;
use crate::notice::Notice;
use crate::routing::{ChatId, Receiver};
use crate::severity::Severity;

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("{target}: {reason}")]
    Rejected { target: String, reason: String },
    #[error("sns publish: {reason}")]
    Sns { reason: String, retryable: bool },
    #[error("the invocation deadline passed before the receiver answered")]
    Deadline,
}

impl Transient for SendError {
    fn retry_advice(&self) -> RetryAdvice {
        match self {
            Self::Http(e) => e.retry_advice(),
            Self::Sns {
                retryable: true, ..
            } => RetryAdvice::Retry,
            _ => RetryAdvice::Stop,
        }
    }
}

/// Delivers one notice to one receiver (all its retries included).
pub trait Deliver: Send + Sync {
    fn deliver(
        &self,
        name: &str,
        receiver: &Receiver,
        notice: &Notice,
        severity: Severity,
        deadline: Deadline,
    ) -> impl Future<Output = Result<(), SendError>> + Send;
}

/// Publishes to an SNS topic.
pub trait Publisher: Send + Sync {
    fn publish(
        &self,
        topic_arn: &str,
        subject: &str,
        message: &str,
    ) -> impl Future<Output = Result<(), SendError>> + Send;
}

impl Publisher for aws_sdk_sns::Client {
    async fn publish(
        &self,
        topic_arn: &str,
        subject: &str,
        message: &str,
    ) -> Result<(), SendError> {
        aws_sdk_sns::Client::publish(self)
            .topic_arn(topic_arn)
            .subject(subject)
            .message(message)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                // The SDK already retried throttling; what is left may still pass later.
                let retryable = e.as_service_error().is_none_or(|s| {
                    s.is_internal_error_exception() || s.meta().code() == Some("Throttling")
                });
                SendError::Sns {
                    reason: groundcrew::aws::describe_sdk_error(&e),
                    retryable,
                }
            })
    }
}

/// External base URLs, configurable so that tests and the demo use local servers.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub telegram_api: String,
    pub pagerduty_events: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Self {
            telegram_api: "https://api.telegram.org".into(),
            pagerduty_events: "https://events.pagerduty.com".into(),
        }
    }
}

pub struct Receivers<S, P> {
    http: reqwest::Client,
    secrets: CachedSecrets<S>,
    publisher: P,
    endpoints: Endpoints,
    policy: RetryPolicy,
    telegram_max_parts: usize,
}

impl<S: SecretStore + 'static, P: Publisher> Receivers<S, P> {
    pub fn new(
        secrets: CachedSecrets<S>,
        publisher: P,
        endpoints: Endpoints,
        http: HttpSettings,
        policy: RetryPolicy,
        telegram_max_parts: usize,
    ) -> Result<Self, HttpError> {
        Ok(Self {
            http: groundcrew::http::client(http)?,
            secrets,
            publisher,
            endpoints,
            policy,
            telegram_max_parts,
        })
    }

    /// POSTs JSON, retrying; `check` can turn a 2xx answer into an error (Telegram's `ok`).
    async fn post(
        &self,
        target: &str,
        url: &str,
        body: &Value,
        secret: &str,
        deadline: Deadline,
    ) -> Result<String, SendError> {
        retry(&self.policy, deadline, target, || async {
            let response = self
                .http
                .post(url)
                .json(body)
                .send()
                .await
                .map_err(|e| HttpError::transport(target, e))?;
            let status = response.status();
            let headers = response.headers().clone();
            let text = response
                .text()
                .await
                .map_err(|e| HttpError::transport(target, e))?;
            if status.is_success() {
                return Ok(text);
            }
            let mut err = HttpError::status(target, status.as_u16(), &headers, &text, &[secret]);
            // Telegram names its wait in the body: {"parameters":{"retry_after":5}}.
            if let HttpError::Status {
                retry_after: slot @ None,
                ..
            } = &mut err
            {
                *slot = serde_json::from_str::<Value>(&text)
                    .ok()
                    .and_then(|v| v.pointer("/parameters/retry_after").and_then(Value::as_u64))
                    .map(Duration::from_secs);
            }
            Err(SendError::Http(err))
        })
        .await
    }
}

fn join_url(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

impl<S: SecretStore + 'static, P: Publisher> Deliver for Receivers<S, P> {
    async fn deliver(
        &self,
        name: &str,
        receiver: &Receiver,
        notice: &Notice,
        severity: Severity,
        deadline: Deadline,
    ) -> Result<(), SendError> {
        let target = format!("{} receiver {name}", receiver.type_name());
        match receiver {
            Receiver::Telegram {
                chat_id,
                thread_id,
                bot_token_secret,
            } => {
                let token = self.secrets.get_str(bot_token_secret).await?;
                let token = reveal(&token);
                let url = join_url(
                    &self.endpoints.telegram_api,
                    &format!("bot{token}/sendMessage"),
                );
                let text = format::telegram_html(notice, severity);
                for part in html::split_at_most(&text, 4096, self.telegram_max_parts) {
                    let mut body = serde_json::json!({
                        "chat_id": match chat_id { ChatId::Id(i) => Value::from(*i), ChatId::Name(n) => Value::from(n.clone()) },
                        "text": part,
                        "parse_mode": "HTML",
                        "link_preview_options": {"is_disabled": true},
                    });
                    if let Some(t) = thread_id {
                        body["message_thread_id"] = Value::from(*t);
                    }
                    let answer = self.post(&target, &url, &body, token, deadline).await?;
                    let ok = serde_json::from_str::<Value>(&answer)
                        .ok()
                        .and_then(|v| v.get("ok").and_then(Value::as_bool));
                    if ok == Some(false) {
                        return Err(SendError::Rejected {
                            target,
                            reason: "Telegram answered ok=false".into(),
                        });
                    }
                }
                Ok(())
            }
            Receiver::Slack { webhook_url_secret } => {
                let url = self.secrets.get_str(webhook_url_secret).await?;
                self.post(
                    &target,
                    reveal(&url),
                    &format::slack(notice, severity),
                    reveal(&url),
                    deadline,
                )
                .await?;
                Ok(())
            }
            Receiver::GoogleChat { webhook_url_secret } => {
                let secret = self.secrets.get_str(webhook_url_secret).await?;
                let mut url =
                    url::Url::parse(reveal(&secret)).map_err(|_| SendError::Rejected {
                        target: target.clone(),
                        reason: "the webhook URL secret is not a URL".into(),
                    })?;
                url.query_pairs_mut()
                    .append_pair("messageReplyOption", "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD");
                self.post(
                    &target,
                    url.as_str(),
                    &format::google_chat(notice, severity),
                    reveal(&secret),
                    deadline,
                )
                .await?;
                Ok(())
            }
            Receiver::Pagerduty { routing_key_secret } => {
                let key = self.secrets.get_str(routing_key_secret).await?;
                let url = join_url(&self.endpoints.pagerduty_events, "v2/enqueue");
                self.post(
                    &target,
                    &url,
                    &format::pagerduty(notice, severity, reveal(&key)),
                    reveal(&key),
                    deadline,
                )
                .await?;
                Ok(())
            }
            Receiver::Webhook { url_secret } => {
                let url = self.secrets.get_str(url_secret).await?;
                self.post(
                    &target,
                    reveal(&url),
                    &format::webhook(notice, severity),
                    reveal(&url),
                    deadline,
                )
                .await?;
                Ok(())
            }
            Receiver::Sns { topic_arn } => {
                let subject = format::sns_subject(notice);
                let message = format::plain_text(notice, severity);
                retry(&self.policy, deadline, &target, || {
                    self.publisher.publish(topic_arn, &subject, &message)
                })
                .await
            }
        }
    }
}
