//! Sending one request of a made message ([`crate::format::Message`]) to a receiver: the
//! secret resolved, the request sent through a [`Transport`] (or SNS), retried within the
//! invocation deadline (429 after its `retry_after`, 5xx and timeouts with backoff).
//! Errors name the receiver, never its URL or key.
//!
//! A timeout can come after the receiver accepted the request: such an attempt is
//! "uncertain", and a later attempt that succeeds may have delivered a second copy. Those
//! are counted as possible duplicates, except for PagerDuty, whose `dedup_key` makes a
//! re-sent event the same incident.
//!
//! Alarm threads ([`crate::threads`]): the id of a chat's ALARM message is kept when it is
//! sent, and its reminders and its OK go as replies to it ([`telegram`], [`slack`]); Google
//! Chat threads by the key in the message itself.

pub mod api;
mod picture;
mod plain;
mod slack;
mod telegram;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use groundcrew::http::{HttpError, HttpSettings, BODY_EXCERPT_CHARS};
use groundcrew::retry::{retry, RetryPolicy};
use groundcrew::secrets::{CachedSecrets, SecretStore};
use groundcrew::Deadline;
use serde_json::Value;

use crate::format::Message;
use crate::picture::{NoPictures, Pictures};
use crate::routing::Receiver;
pub use crate::send::{Deliver, Failed, SendError, Sent, To};
use crate::threads::{MemoryThreads, Threads};
pub use crate::transport::{HttpAnswer, Publisher, Transport, TransportError};
use api::{Api, NoApi, ReqwestApi};

/// External base URLs, configurable so that tests and the demo use local servers.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub telegram_api: String,
    pub pagerduty_events: String,
    /// Slack's Web API (`chat.postMessage`...), for receivers with a bot token.
    pub slack_api: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Self {
            telegram_api: "https://api.telegram.org".into(),
            pagerduty_events: "https://events.pagerduty.com".into(),
            slack_api: "https://slack.com/api".into(),
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
    /// Where each chat's ALARM messages are, for their OKs to reply to.
    threads: Arc<dyn Threads>,
    /// Calls beyond a JSON POST (Slack's Web API, uploads).
    api: Arc<dyn Api>,
    /// Pictures of alarms, for receivers that ask for them.
    pictures: Arc<dyn Pictures>,
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
        )
        .with_api(Arc::new(ReqwestApi::new(http)?)))
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
            threads: Arc::new(MemoryThreads::default()),
            api: Arc::new(NoApi),
            pictures: Arc::new(NoPictures),
        }
    }

    /// Draws alarms with `pictures` (CloudWatch in production; none otherwise).
    pub fn with_pictures(mut self, pictures: Arc<dyn Pictures>) -> Self {
        self.pictures = pictures;
        self
    }

    /// Keeps threads in `threads` (the DynamoDB table in production; in memory otherwise).
    pub fn with_threads(mut self, threads: Arc<dyn Threads>) -> Self {
        self.threads = threads;
        self
    }

    /// Makes Web API calls through `api` (none otherwise: Slack bot receivers fail).
    pub fn with_api(mut self, api: Arc<dyn Api>) -> Self {
        self.api = api;
        self
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
        self.attempts(to, target, secret, uncertain, deadline, || {
            let body = body();
            async move { self.transport.post_json(url, &body).await }
        })
        .await
    }

    /// Sends `request` through the Web API client, retrying; returns the answer's body.
    async fn call(
        &self,
        to: To<'_>,
        target: &str,
        request: &api::Request,
        secret: &str,
        uncertain: &AtomicU32,
        deadline: Deadline,
    ) -> Result<String, SendError> {
        self.attempts(to, target, secret, uncertain, deadline, || {
            self.api.send(request)
        })
        .await
    }

    /// Runs `send` until it answers 2xx, within the retry policy and the deadline, each
    /// attempt admitted by the receiver's budget first.
    async fn attempts<F, Fut>(
        &self,
        to: To<'_>,
        target: &str,
        secret: &str,
        uncertain: &AtomicU32,
        deadline: Deadline,
        send: F,
    ) -> Result<String, SendError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<HttpAnswer, TransportError>>,
    {
        retry(&self.policy, deadline, target, || {
            let sending = send();
            async move {
                // Every request counts against the receiver's limits, retries included.
                to.pace.admit(to.name, to.receiver, deadline).await?;
                let answer = sending.await.map_err(|e| {
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
    /// The anchor of `alarm`'s thread in `chat`; none when the store fails (the message then
    /// goes out on its own).
    async fn anchor(&self, chat: &str, alarm: &str) -> Option<crate::threads::Anchor> {
        match self.threads.anchor(chat, alarm).await {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(%error, "could not read the alarm's thread: sending unthreaded");
                None
            }
        }
    }

    /// Keeps the anchor of `alarm`'s thread in `chat`; a failure only costs the thread.
    async fn keep(&self, chat: &str, alarm: &str, anchor: &crate::threads::Anchor) {
        if let Err(error) = self.threads.keep(chat, alarm, anchor).await {
            tracing::warn!(%error, "could not keep the alarm's thread: its OK will not be a reply");
        }
    }

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
        let (thread, message) = match message {
            Message::Threaded(t) => (Some(&**t), &t.message),
            other => (None, other),
        };
        // The picture follows the last part of the text, never before it.
        let picture = thread
            .filter(|_| part + 1 == message.parts())
            .and_then(|t| Some((t.picture.as_ref()?, &t.thread)));
        let thread = thread.map(|t| &t.thread);
        let migrated = match (to.receiver, message) {
            (Receiver::Telegram { .. }, Message::Telegram { parts }) => {
                let text = parts.get(part).ok_or_else(mismatch)?;
                self.send_telegram(to, target, text, thread, part == 0, uncertain, deadline)
                    .await?
            }
            (Receiver::SlackBot { .. }, Message::Json(body)) => {
                self.send_slack_bot(to, target, body, thread, uncertain, deadline)
                    .await?;
                None
            }
            _ => {
                return self
                    .send_plain(to, target, message, uncertain, deadline)
                    .await
            }
        };
        if let Some((request, thread)) = picture {
            self.send_picture(to, target, request, thread, deadline)
                .await;
        }
        Ok(migrated)
    }
}
