//! The on-call week's receivers: a small model of the three APIs' answers (Telegram's
//! `Message` with its `message_id`, Slack's `chat.postMessage` answer with `channel` and
//! `ts`, PagerDuty Events API v2's 202), recording what each shows as a person reads it.
//! Two more receivers show the extras: `photo`, a second Telegram group (chat -200) with
//! `picture: true` (its `sendPhoto` recorded as a picture), and `edit`, a second Slack
//! channel (C2) with `update_message: true` (its `chat.update` recorded as an edit of the
//! message whose `ts` it names). The desk also draws the pictures ([`Pictures`]): every
//! fourth one takes longer than the function's picture budget.
//!
//! Each request draws a fault from the seed's plan (`send` on the receiver): a 429 with
//! `Retry-After` (and Telegram's `parameters.retry_after`), a 500, a timeout before the
//! receiver acted, or a timeout after it showed the message (the answer is lost, so the
//! function cannot know it arrived: the showing is marked `ambiguous`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use alarm_fanout::picture::{BoxFuture as PictureFuture, Pictures};
use alarm_fanout::receivers::api::{Api, Body, BoxFuture, Field, Request};
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
/// How long a slow picture takes to draw: longer than the function's picture budget
/// (`alarm_fanout::picture::PICTURE_BUDGET`, 6 s), so that it is given up.
const SLOW_PICTURE: Duration = Duration::from_secs(9);

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
    /// What kind of showing this is: a message, an edit of an earlier one, a picture.
    pub kind: Kind,
}

/// A message of its own (`reply_to` the message it answers), an edit of the message whose
/// id it names (`chat.update`), or a picture (`reply_to` the message it illustrates).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Kind {
    Message,
    Edit(String),
    Picture,
}

/// The three receivers' APIs: records what each shows and answers as the API does.
#[derive(Clone)]
pub(super) struct Desk {
    pub sim: Arc<Sim>,
    pub shown: Arc<Mutex<Vec<Delivery>>>,
    pub next_id: Arc<AtomicU64>,
    pub digests: Arc<AtomicU64>,
    /// Pictures drawn (every fourth is slow).
    pub drawn: Arc<AtomicU64>,
}

impl Desk {
    /// Reads `text` (one alarm, or a digest's lines) and records it; returns the message id.
    fn show(
        &self,
        receiver: &'static str,
        text: &str,
        reply_to: Option<String>,
        kind: &Kind,
        ambiguous: bool,
    ) -> String {
        let n = self.next_id.fetch_add(1, Ordering::SeqCst) + 1;
        let id = if let Kind::Edit(ts) = kind {
            // An edit keeps the message's own id.
            ts.clone()
        } else if receiver == "bot" || receiver == "edit" {
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
                "{receiver} shows {name} {}{}",
                if firing { "ALARM" } else { "OK" },
                match kind {
                    Kind::Message => String::new(),
                    Kind::Edit(ts) => format!(" (an edit of {ts})"),
                    Kind::Picture => " (a picture)".into(),
                }
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
                kind: kind.clone(),
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
        kind: Kind,
    ) -> Result<String, Result<HttpAnswer, TransportError>> {
        let timed_out = || TransportError {
            reason: "operation timed out".into(),
            timed_out: true,
        };
        match self.sim.fault(receiver, "send") {
            Fault::None => Ok(self.show(receiver, text, reply_to, &kind, false)),
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
                self.show(receiver, text, reply_to, &kind, true);
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
            let chat = if body["chat_id"].as_i64() == Some(-200) {
                "photo"
            } else {
                "tg"
            };
            let id: i64 = match self.request(chat, text, reply, Kind::Message).await {
                Ok(id) => id.parse().unwrap_or_default(),
                Err(other) => return other,
            };
            return Ok(answer(
                200,
                json!({"ok": true, "result": {"message_id": id, "date": 0, "chat": {"id": -100, "type": "supergroup"}}}),
            ));
        }
        if url.contains("enqueue") {
            if let Err(other) = self
                .request("pager", &body.to_string(), None, Kind::Message)
                .await
            {
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

/// A text field of a multipart form.
fn field<'a>(fields: &'a [Field], name: &str) -> Option<&'a str> {
    fields.iter().find_map(|f| match f {
        Field::Text { name: n, value } if n == name => Some(value.as_str()),
        _ => None,
    })
}

impl Api for Desk {
    fn send<'a>(
        &'a self,
        request: &'a Request,
    ) -> BoxFuture<'a, Result<HttpAnswer, TransportError>> {
        Box::pin(async move {
            let method = request.url.rsplit('/').next().unwrap_or_default();
            match (&request.body, method) {
                (Body::Json(v), "chat.postMessage" | "chat.update") => {
                    let text = v["text"]
                        .as_str()
                        .map_or_else(|| v.to_string(), str::to_string);
                    let receiver = if v["channel"].as_str() == Some("C2") {
                        "edit"
                    } else {
                        "bot"
                    };
                    let (reply, kind) = if method == "chat.update" {
                        (
                            None,
                            Kind::Edit(v["ts"].as_str().unwrap_or_default().to_string()),
                        )
                    } else {
                        (v["thread_ts"].as_str().map(str::to_string), Kind::Message)
                    };
                    match self.request(receiver, &text, reply, kind).await {
                        Ok(ts) => Ok(answer(
                            200,
                            json!({"ok": true, "channel": v["channel"], "ts": ts}),
                        )),
                        Err(other) => other,
                    }
                }
                (Body::Form(fields), "sendPhoto") => {
                    let caption = field(fields, "caption").unwrap_or_default();
                    let reply = field(fields, "reply_parameters")
                        .and_then(|r| serde_json::from_str::<Value>(r).ok())
                        .and_then(|r| r.get("message_id").map(Value::to_string));
                    let receiver = if field(fields, "chat_id") == Some("-200") {
                        "photo"
                    } else {
                        "tg"
                    };
                    match self.request(receiver, caption, reply, Kind::Picture).await {
                        Ok(id) => Ok(answer(
                            200,
                            json!({"ok": true, "result": {"message_id": id.parse::<i64>().unwrap_or_default(), "date": 0, "chat": {"id": -200, "type": "supergroup"}}}),
                        )),
                        Err(other) => other,
                    }
                }
                _ => Ok(answer(200, json!({"ok": false, "error": "unknown_method"}))),
            }
        })
    }
}

impl Pictures for Desk {
    fn picture<'a>(
        &'a self,
        _alarm_name: &'a str,
    ) -> PictureFuture<'a, Result<Option<Vec<u8>>, String>> {
        Box::pin(async move {
            if self.drawn.fetch_add(1, Ordering::SeqCst) % 4 == 3 {
                tokio::time::sleep(SLOW_PICTURE).await;
            }
            // Only its arrival matters to the week, not its pixels.
            Ok(Some(b"\x89PNG\r\n\x1a\n".to_vec()))
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
