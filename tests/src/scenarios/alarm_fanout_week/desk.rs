//! The on-call week's receivers: a small model of the three APIs' answers (Telegram's
//! `Message` with its `message_id`, Slack's `chat.postMessage` answer with `channel` and
//! `ts`, PagerDuty Events API v2's 202), recording what each shows as a person reads it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use alarm_fanout::receivers::api::{Api, Body, BoxFuture, Request};
use alarm_fanout::receivers::{HttpAnswer, Publisher, SendError, Transport, TransportError};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::ALARMS;
use crate::kernel::{lock, Sim};

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
    fn show(&self, receiver: &'static str, text: &str, reply_to: Option<String>) -> String {
        let n = self.next_id.fetch_add(1, Ordering::SeqCst) + 1;
        let id = if receiver == "bot" {
            format!("1761091200.{n:06}")
        } else {
            n.to_string()
        };
        let lines: Vec<&str> = if text.contains("📋") {
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

impl Transport for Desk {
    async fn post_json(&self, url: &str, body: &Value) -> Result<HttpAnswer, TransportError> {
        if url.contains("/sendMessage") {
            let text = body["text"].as_str().unwrap_or_default();
            let reply = body
                .pointer("/reply_parameters/message_id")
                .map(|v| v.to_string());
            let id = self.show("tg", text, reply);
            let id: i64 = id.parse().unwrap_or_default();
            return Ok(answer(
                200,
                json!({"ok": true, "result": {"message_id": id, "date": 0, "chat": {"id": -100, "type": "supergroup"}}}),
            ));
        }
        if url.contains("enqueue") {
            self.show("pager", &body.to_string(), None);
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
                    let ts = self.show("bot", &text, reply);
                    Ok(answer(200, json!({"ok": true, "channel": "C1", "ts": ts})))
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
