//! The on-call week's receivers: a small model of the three APIs' answers (Telegram's
//! `Message` with its `message_id`, Slack's `chat.postMessage` answer with `channel` and
//! `ts`, PagerDuty Events API v2's 202), recording what each shows as a person reads it.
//!
//! Each request draws a fault from the seed's plan (`send` on the receiver): a 429 with
//! `Retry-After` (and Telegram's `parameters.retry_after`), a 500, a timeout before the
//! receiver acted, or a timeout after it showed the message (the answer is lost, so the
//! function cannot know it arrived: the showing is marked `ambiguous`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use alarm_fanout::receivers::api::{Api, Body, BoxFuture, Request};
use alarm_fanout::receivers::{HttpAnswer, Publisher, SendError, Transport, TransportError};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::time::Duration;

use super::ALARMS;
use crate::kernel::{lock, Fault, Sim};

/// How long a receiver's request hangs before the client gives up (the function's HTTP
/// timeout is longer; the model only needs the time to pass).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The `Retry-After` a throttled receiver asks for, seconds.
const RETRY_AFTER: u64 = 2;

/// One message a receiver showed, read back as a person would.
#[derive(Debug, Clone)]
pub(super) struct Delivery {
    pub at: DateTime<Utc>,
    pub receiver: &'static str,
    pub alarm: &'static str,
    pub firing: bool,
    pub reminder: bool,
    /// The message it replies to (Telegram `message_id`, Slack `ts`).
    pub reply_to: Option<String>,
    /// Its own id, for OKs to reply to.
    pub id: String,
    /// Shown by a request whose answer was lost (the sender saw a timeout).
    pub ambiguous: bool,
    /// A line of a digest rather than a message of its own.
    pub digest: bool,
}

/// The three receivers' APIs: records what each shows and answers as the API does.
#[derive(Clone)]
pub(super) struct Desk {
    pub sim: Arc<Sim>,
    pub shown: Arc<Mutex<Vec<Delivery>>>,
    pub next_id: Arc<AtomicU64>,
    pub digests: Arc<AtomicU64>,
}

impl Desk {
    /// Reads `text` (one alarm, or a digest's lines) and records it; returns the message id.
    fn show(
        &self,
        receiver: &'static str,
        text: &str,
        reply_to: Option<String>,
        ambiguous: bool,
    ) -> String {
        let n = self.next_id.fetch_add(1, Ordering::SeqCst) + 1;
        let id = if receiver == "bot" {
            format!("1761091200.{n:06}")
        } else {
            n.to_string()
        };
        let digest = text.contains("📋");
        let lines: Vec<&str> = if digest {
            self.digests.fetch_add(1, Ordering::SeqCst);
            text.lines().collect()
        } else {
            vec![text]
        };
        for line in lines {
            let Some(name) = ALARMS
                .iter()
                .filter_map(|a| line.find(a.name).map(|p| (p, a.name)))
                .min()
                .map(|(_, n)| n)
            else {
                continue;
            };
            let firing = if receiver == "pager" {
                !line.contains("\"resolve\"")
            } else {
                line.find("🔴").unwrap_or(usize::MAX) < line.find("✅").unwrap_or(usize::MAX)
            };
            self.sim.trace(format!(
                "{receiver} shows {name} {}",
                if firing { "ALARM" } else { "OK" }
            ));
            lock(&self.shown).push(Delivery {
                at: self.sim.now(),
                receiver,
                alarm: name,
                firing,
                reminder: line.contains("Reminder:"),
                reply_to: reply_to.clone(),
                id: id.clone(),
                ambiguous,
                digest,
            });
        }
        id
    }
}

fn answer(status: u16, body: Value) -> HttpAnswer {
    HttpAnswer {
        status,
        retry_after: None,
        body: body.to_string(),
    }
}

impl Desk {
    /// One request to `receiver`: its fault, then (when it gets that far) the showing.
    /// `Ok(id)` is a success; `Err` the answer the sender sees instead.
    async fn request(
        &self,
        receiver: &'static str,
        text: &str,
        reply_to: Option<String>,
    ) -> Result<String, Result<HttpAnswer, TransportError>> {
        let timed_out = || TransportError {
            reason: "operation timed out".into(),
            timed_out: true,
        };
        match self.sim.fault(receiver, "send") {
            Fault::None => Ok(self.show(receiver, text, reply_to, false)),
            Fault::Throttle => Err(Ok(HttpAnswer {
                status: 429,
                retry_after: Some(Duration::from_secs(RETRY_AFTER)),
                body: json!({"ok": false, "error_code": 429, "error": "ratelimited",
                    "description": format!("Too Many Requests: retry after {RETRY_AFTER}"),
                    "parameters": {"retry_after": RETRY_AFTER}})
                .to_string(),
            })),
            Fault::ServerError => Err(Ok(answer(
                500,
                json!({"ok": false, "description": "Internal Server Error"}),
            ))),
            Fault::TimeoutBeforeAction => {
                tokio::time::sleep(REQUEST_TIMEOUT).await;
                Err(Err(timed_out()))
            }
            Fault::TimeoutAfterAction => {
                self.show(receiver, text, reply_to, true);
                tokio::time::sleep(REQUEST_TIMEOUT).await;
                Err(Err(timed_out()))
            }
        }
    }
}

impl Transport for Desk {
    async fn post_json(&self, url: &str, body: &Value) -> Result<HttpAnswer, TransportError> {
        if url.contains("/sendMessage") {
            let text = body["text"].as_str().unwrap_or_default();
            let reply = body
                .pointer("/reply_parameters/message_id")
                .map(|v| v.to_string());
            let id: i64 = match self.request("tg", text, reply).await {
                Ok(id) => id.parse().unwrap_or_default(),
                Err(other) => return other,
            };
            return Ok(answer(
                200,
                json!({"ok": true, "result": {"message_id": id, "date": 0, "chat": {"id": -100, "type": "supergroup"}}}),
            ));
        }
        if url.contains("enqueue") {
            if let Err(other) = self.request("pager", &body.to_string(), None).await {
                return other;
            }
            return Ok(answer(
                202,
                json!({"status": "success", "message": "Event processed", "dedup_key": "k"}),
            ));
        }
        Ok(answer(
            404,
            json!({"ok": false, "description": "Not Found"}),
        ))
    }
}

impl Api for Desk {
    fn send<'a>(
        &'a self,
        request: &'a Request,
    ) -> BoxFuture<'a, Result<HttpAnswer, TransportError>> {
        Box::pin(async move {
            match (&request.body, request.url.ends_with("chat.postMessage")) {
                (Body::Json(v), true) => {
                    let text = v["text"]
                        .as_str()
                        .map_or_else(|| v.to_string(), str::to_string);
                    let reply = v["thread_ts"].as_str().map(str::to_string);
                    match self.request("bot", &text, reply).await {
                        Ok(ts) => Ok(answer(200, json!({"ok": true, "channel": "C1", "ts": ts}))),
                        Err(other) => other,
                    }
                }
                _ => Ok(answer(200, json!({"ok": false, "error": "unknown_method"}))),
            }
        })
    }
}

impl Publisher for Desk {
    async fn publish(&self, _topic: &str, _subject: &str, _message: &str) -> Result<(), SendError> {
        Err(SendError::Sns {
            reason: "the week has no SNS receiver".into(),
            retryable: false,
        })
    }
}
