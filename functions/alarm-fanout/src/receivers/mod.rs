//! Sending one request of a made message ([`crate::format::Message`]) to a receiver: the
//! secret resolved, the request sent through a [`Transport`] (or SNS), retried within the
//! invocation deadline (429 after its `retry_after`, 5xx and timeouts with backoff).
//! Errors name the receiver, never its URL or key.
//!
//! A timeout can come after the receiver accepted the request: such an attempt is
//! "uncertain", and a later attempt that succeeds may have delivered a second copy. Those
//! are counted as possible duplicates, except for PagerDuty, whose `dedup_key` makes a
//! re-sent event the same incident.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use groundcrew::http::{HttpError, HttpSettings, BODY_EXCERPT_CHARS};
use groundcrew::retry::{retry, RetryPolicy};
use groundcrew::secrets::{reveal, CachedSecrets, SecretStore};
use groundcrew::Deadline;
use serde_json::Value;

use crate::format::Message;
use crate::routing::{ChatId, Receiver};
pub use crate::send::{Deliver, Failed, SendError, Sent, To};
pub use crate::transport::{HttpAnswer, Publisher, Transport, TransportError};

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

pub struct Receivers<S, P, T> {
    transport: T,
    secrets: CachedSecrets<S>,
    publisher: P,
    endpoints: Endpoints,
    policy: RetryPolicy,
    /// Telegram chats that became supergroups, by receiver name, for the process's life.
    migrations: Mutex<BTreeMap<String, i64>>,
}

impl<S: SecretStore + 'static, P: Publisher> Receivers<S, P, crate::transport::ReqwestTransport> {
    pub fn new(
        secrets: CachedSecrets<S>,
        publisher: P,
        endpoints: Endpoints,
        http: HttpSettings,
        policy: RetryPolicy,
    ) -> Result<Self, HttpError> {
        Ok(Self::with_transport(
            crate::transport::ReqwestTransport::new(http)?,
            secrets,
            publisher,
            endpoints,
            policy,
        ))
    }
}

fn join_url(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// Telegram's answers name their waits and migrations in the body.
fn telegram_parameter(body: &str, name: &str) -> Option<i64> {
    serde_json::from_str::<Value>(body)
        .ok()?
        .pointer(&format!("/parameters/{name}"))?
        .as_i64()
}

impl<S: SecretStore + 'static, P: Publisher, T: Transport> Receivers<S, P, T> {
    pub fn with_transport(
        transport: T,
        secrets: CachedSecrets<S>,
        publisher: P,
        endpoints: Endpoints,
        policy: RetryPolicy,
    ) -> Self {
        Self {
            transport,
            secrets,
            publisher,
            endpoints,
            policy,
            migrations: Mutex::new(BTreeMap::new()),
        }
    }

    fn migrated(&self, name: &str) -> Option<i64> {
        self.migrations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(name)
            .copied()
    }

    /// POSTs `body()` (rebuilt for each attempt), retrying; returns the answer's body.
    #[allow(clippy::too_many_arguments)]
    async fn post(
        &self,
        to: To<'_>,
        target: &str,
        url: &str,
        body: impl Fn() -> Value,
        secret: &str,
        uncertain: &AtomicU32,
        deadline: Deadline,
    ) -> Result<String, SendError> {
        retry(&self.policy, deadline, target, || {
            let body = body();
            async move {
                // Every request counts against the receiver's limits, retries included.
                to.pace.admit(to.name, to.receiver, deadline).await?;
                let answer = self.transport.post_json(url, &body).await.map_err(|e| {
                    let err = HttpError::Transport {
                        target: target.to_string(),
                        reason: groundcrew::http::redact(&e.reason, &[secret]),
                        timed_out: e.timed_out,
                    };
                    if e.timed_out {
                        uncertain.fetch_add(1, Ordering::SeqCst);
                    }
                    SendError::Http(err)
                })?;
                if (200..300).contains(&answer.status) {
                    return Ok(answer.body);
                }
                let retry_after = answer.retry_after.or_else(|| {
                    telegram_parameter(&answer.body, "retry_after")
                        .and_then(|s| u64::try_from(s).ok())
                        .map(Duration::from_secs)
                });
                Err(SendError::Http(HttpError::Status {
                    target: target.to_string(),
                    status: answer.status,
                    body: groundcrew::http::excerpt(
                        &groundcrew::http::redact(&answer.body, &[secret]),
                        BODY_EXCERPT_CHARS,
                    ),
                    retry_after,
                }))
            }
        })
        .await
    }

    async fn send_telegram(
        &self,
        to: To<'_>,
        target: &str,
        text: &str,
        uncertain: &AtomicU32,
        deadline: Deadline,
    ) -> Result<Option<i64>, SendError> {
        let name = to.name;
        let Receiver::Telegram {
            chat_id,
            thread_id,
            bot_token_secret,
        } = to.receiver
        else {
            return Err(SendError::Mismatch(format!(
                "{target}: not a Telegram receiver"
            )));
        };
        let token = self.secrets.get_str(bot_token_secret).await?;
        let token = reveal(&token);
        let url = join_url(
            &self.endpoints.telegram_api,
            &format!("bot{token}/sendMessage"),
        );
        let body = || {
            let chat = match (self.migrated(name), chat_id) {
                (Some(id), _) => Value::from(id),
                (None, ChatId::Id(id)) => Value::from(*id),
                (None, ChatId::Name(n)) => Value::from(n.clone()),
            };
            let mut body = serde_json::json!({
                "chat_id": chat,
                "text": text,
                "parse_mode": "HTML",
                "link_preview_options": {"is_disabled": true},
            });
            if let Some(t) = thread_id {
                body["message_thread_id"] = Value::from(*t);
            }
            body
        };
        // A chat that became a supergroup is followed once, at once, to its new id.
        let mut followed = false;
        let answer = loop {
            match self
                .post(to, target, &url, body, token, uncertain, deadline)
                .await
            {
                Err(SendError::Http(HttpError::Status {
                    status: 400, body, ..
                })) => match telegram_parameter(&body, "migrate_to_chat_id") {
                    Some(chat_id) if !followed => {
                        followed = true;
                        self.migrations
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .insert(name.to_string(), chat_id);
                        tracing::warn!(
                            receiver = name,
                            chat_id,
                            "the Telegram group became a supergroup: update the routing document"
                        );
                    }
                    _ => {
                        return Err(SendError::Rejected {
                            target: target.to_string(),
                            reason: format!("HTTP 400: {body}"),
                        })
                    }
                },
                other => break other?,
            }
        };
        let ok = serde_json::from_str::<Value>(&answer)
            .ok()
            .and_then(|v| v.get("ok").and_then(Value::as_bool));
        if ok == Some(false) {
            return Err(SendError::Rejected {
                target: target.to_string(),
                reason: "Telegram answered ok=false".into(),
            });
        }
        Ok(self.migrated(name))
    }
}

impl<S: SecretStore + 'static, P: Publisher, T: Transport> Deliver for Receivers<S, P, T> {
    async fn send(
        &self,
        to: To<'_>,
        message: &Message,
        part: usize,
        deadline: Deadline,
    ) -> Result<Sent, Failed> {
        let receiver = to.receiver;
        let target = format!("{} receiver {}", receiver.type_name(), to.name);
        let uncertain = AtomicU32::new(0);
        let result = self
            .send_inner(to, &target, message, part, &uncertain, deadline)
            .await;
        let uncertain = uncertain.load(Ordering::SeqCst);
        let idempotent = matches!(receiver, Receiver::Pagerduty { .. });
        match result {
            Ok(migrated_to) => Ok(Sent {
                possible_duplicates: if idempotent { 0 } else { uncertain },
                migrated_to,
            }),
            Err(error) => Failed {
                uncertain: uncertain > 0 || error.uncertain(),
                error,
            }
            .into_err(),
        }
    }
}

impl Failed {
    fn into_err<T>(self) -> Result<T, Self> {
        Err(self)
    }
}

impl<S: SecretStore + 'static, P: Publisher, T: Transport> Receivers<S, P, T> {
    async fn send_inner(
        &self,
        to: To<'_>,
        target: &str,
        message: &Message,
        part: usize,
        uncertain: &AtomicU32,
        deadline: Deadline,
    ) -> Result<Option<i64>, SendError> {
        let mismatch = || SendError::Mismatch(format!("{target}: no message made for it"));
        match (to.receiver, message) {
            (Receiver::Telegram { .. }, Message::Telegram { parts }) => {
                let text = parts.get(part).ok_or_else(mismatch)?;
                self.send_telegram(to, target, text, uncertain, deadline)
                    .await
            }
            (Receiver::Slack { webhook_url_secret }, Message::Json(body))
            | (
                Receiver::Webhook {
                    url_secret: webhook_url_secret,
                },
                Message::Json(body),
            ) => {
                let url = self.secrets.get_str(webhook_url_secret).await?;
                let url = reveal(&url);
                self.post(to, target, url, || body.clone(), url, uncertain, deadline)
                    .await?;
                Ok(None)
            }
            (Receiver::GoogleChat { webhook_url_secret }, Message::Json(body)) => {
                let secret = self.secrets.get_str(webhook_url_secret).await?;
                let mut url =
                    url::Url::parse(reveal(&secret)).map_err(|_| SendError::Rejected {
                        target: target.to_string(),
                        reason: "the webhook URL secret is not a URL".into(),
                    })?;
                url.query_pairs_mut()
                    .append_pair("messageReplyOption", "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD");
                self.post(
                    to,
                    target,
                    url.as_str(),
                    || body.clone(),
                    reveal(&secret),
                    uncertain,
                    deadline,
                )
                .await?;
                Ok(None)
            }
            (Receiver::Pagerduty { routing_key_secret }, Message::Pagerduty(event)) => {
                let key = self.secrets.get_str(routing_key_secret).await?;
                let key = reveal(&key);
                let url = join_url(&self.endpoints.pagerduty_events, "v2/enqueue");
                let body = || {
                    let mut body = event.clone();
                    body["routing_key"] = Value::String(key.to_string());
                    body
                };
                self.post(to, target, &url, body, key, uncertain, deadline)
                    .await?;
                Ok(None)
            }
            (Receiver::Sns { topic_arn }, Message::Sns { subject, message }) => {
                retry(&self.policy, deadline, target, || {
                    self.publisher.publish(topic_arn, subject, message)
                })
                .await?;
                Ok(None)
            }
            _ => Err(mismatch()),
        }
    }
}
