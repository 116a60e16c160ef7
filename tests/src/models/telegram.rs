//! The Telegram Bot API, as telegram-webhook sees it through its HTTP transport seam
//! (`groundcrew::http::Transport`), with the bot's own endpoint behind it.
//!
//! Semantics from the Bot API documentation (https://core.telegram.org/bots/api):
//! - `setWebhook` ("Setting a webhook"): `url` HTTPS on ports 443, 80, 88 or 8443, an empty
//!   string removes the webhook; `max_connections` 1-100, default 40; `allowed_updates`
//!   "if not specified, the previous setting will be used"; `secret_token` 1-256 characters
//!   of `A-Z a-z 0-9 _ -`; `drop_pending_updates` drops what is waiting. Returns `true`.
//! - `deleteWebhook` (`drop_pending_updates` optional), `getMe` (a `User` with `is_bot`).
//! - `getWebhookInfo` (`WebhookInfo`): `url` (empty when no webhook is set),
//!   `has_custom_certificate`, `pending_update_count`, and only when they apply `ip_address`,
//!   `last_error_date` (Unix time of the most recent error delivering an update),
//!   `last_error_message`, `max_connections`, `allowed_updates`.
//! - "Getting updates": incoming updates are kept until the bot receives them, but not
//!   longer than 24 hours; a webhook request that fails is repeated, and Telegram gives up
//!   "after a reasonable amount of attempts".
//! - Errors: `{"ok": false, "error_code", "description"}`; flood control answers 429 with
//!   `parameters.retry_after` ("the number of seconds left to wait before the request can be
//!   repeated", `ResponseParameters`). A revoked or unknown token answers 401 Unauthorized.
//!
//! ASSUMPTIONS (the documentation does not say):
//! - while updates are waiting and the endpoint fails, Telegram tries to deliver once a
//!   minute, and each failed try sets `last_error_date`/`last_error_message` ("Wrong response
//!   from the webhook: 502 Bad Gateway", the wording telegram's own clients show);
//! - a healthy endpoint drains the queue within the minute (40 connections by default);
//! - revoking a token (BotFather's /revoke) keeps the bot, its webhook and its pending
//!   updates; only the old token answers 401 from then on;
//! - a `setWebhook` keeps `last_error_*` (they describe deliveries, not the setting);
//! - `retry_after` of a 429 is 1-30 s; an outage answers 502 with an nginx HTML body;
//! - `ip_address` is the endpoint host's address as resolved by Telegram (fixed here).
//!
//! Faults come from the seed, keyed by ("telegram", method, nth call): throttle (429), server
//! error (500), and timeouts before or after the call took effect ([`REQUEST_TIMEOUT`]).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use groundcrew::http::{HttpAnswer, Transport, TransportError};
use serde_json::{json, Value};

use crate::kernel::rng::keyed;
use crate::kernel::{lock, Fault, Sim};

/// The function's HTTP request timeout (`groundcrew::http::HttpSettings::default`).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Pending updates are dropped after this long (Bot API, "Getting updates").
pub const KEPT_FOR: chrono::Duration = chrono::Duration::hours(24);
/// `max_connections` when `setWebhook` does not give one (Bot API, `setWebhook`).
pub const DEFAULT_MAX_CONNECTIONS: u32 = 40;
/// ASSUMPTION: the address Telegram resolved the endpoint's host to.
pub const ENDPOINT_IP: &str = "203.0.113.10";
/// The error Telegram records for a failed delivery (ASSUMPTION: its wording).
pub const DELIVERY_ERROR: &str = "Wrong response from the webhook: 502 Bad Gateway";

/// A webhook as Telegram holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub url: String,
    pub max_connections: u32,
    pub allowed_updates: Option<Vec<String>>,
    pub secret_token: Option<String>,
}

/// Who made a call, as the model tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    Valid,
    Revoked,
    Unknown,
}

/// One call, as Telegram saw it.
#[derive(Debug, Clone)]
pub struct Call {
    pub at: DateTime<Utc>,
    pub method: String,
    pub token: TokenState,
    /// The HTTP status answered, or `None` when the answer was lost (a timeout).
    pub status: Option<u16>,
    /// The call took effect (a setWebhook or deleteWebhook that changed the webhook).
    pub acted: bool,
}

#[derive(Debug)]
struct Bot {
    id: String,
    token: String,
    revoked: Vec<String>,
    webhook: Option<Webhook>,
    /// When each waiting update arrived, oldest first.
    pending: VecDeque<DateTime<Utc>>,
    last_error: Option<(DateTime<Utc>, String)>,
}

#[derive(Debug, Default)]
struct State {
    bot: Option<Bot>,
    /// Endpoints (webhook URLs) that currently fail every delivery.
    failing: BTreeMap<String, bool>,
    /// Telegram answers 502 to every Bot API call during these (start, end) windows.
    outages: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Minutes already simulated (deliveries, arrivals, expiry).
    minute: Option<i64>,
    /// The chance an update arrives in a given minute.
    arrival_per_minute: f64,
    calls: Vec<Call>,
    delivered: u64,
    expired: u64,
}

/// The Bot API server and the bot's endpoint.
#[derive(Clone)]
pub struct TelegramModel {
    sim: Arc<Sim>,
    state: Arc<Mutex<State>>,
}

fn error_body(code: u16, description: &str) -> String {
    json!({"ok": false, "error_code": code, "description": description}).to_string()
}

fn ok_body(result: Value) -> String {
    json!({"ok": true, "result": result}).to_string()
}

/// `…/bot<token>/<method>` → (token, method).
fn token_and_method(url: &str) -> (&str, &str) {
    let path = url.rsplit_once("/bot").map_or("", |(_, p)| p);
    path.rsplit_once('/').unwrap_or(("", ""))
}

fn valid_webhook_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split('/').next().unwrap_or("");
    let port = host.rsplit_once(':').map_or("443", |(_, p)| p);
    !host.is_empty() && matches!(port, "443" | "80" | "88" | "8443")
}

fn valid_secret_token(token: &str) -> bool {
    (1..=256).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl TelegramModel {
    /// A Bot API server knowing one bot, `token` (`<id>:<secret>`); about `per_minute`
    /// updates arrive for it each minute (0 to 1).
    pub fn new(sim: Arc<Sim>, token: &str, per_minute: f64) -> Self {
        let id = token.split(':').next().unwrap_or("").to_string();
        let state = State {
            bot: Some(Bot {
                id,
                token: token.to_string(),
                revoked: Vec::new(),
                webhook: None,
                pending: VecDeque::new(),
                last_error: None,
            }),
            arrival_per_minute: per_minute,
            ..State::default()
        };
        Self {
            sim,
            state: Arc::new(Mutex::new(state)),
        }
    }

    fn with_bot<R>(&self, f: impl FnOnce(&mut Bot) -> R) -> Option<R> {
        self.advance();
        lock(&self.state).bot.as_mut().map(f)
    }

    /// BotFather's /revoke: the old token answers 401 from now on; returns the new one.
    pub fn revoke(&self) -> String {
        let n = self.with_bot(|b| b.revoked.len()).unwrap_or(0);
        self.with_bot(|b| {
            let old = std::mem::replace(&mut b.token, format!("{}:REVOKED{n}-new_secret", b.id));
            b.revoked.push(old);
            b.token.clone()
        })
        .unwrap_or_default()
    }

    /// The token that works now.
    pub fn token(&self) -> String {
        self.with_bot(|b| b.token.clone()).unwrap_or_default()
    }

    /// Someone else calls `setWebhook` (drift): `webhook` replaces the bot's.
    pub fn set_by_hand(&self, webhook: Webhook) {
        self.with_bot(|b| b.webhook = Some(webhook));
    }

    /// The webhook as Telegram holds it now.
    pub fn webhook(&self) -> Option<Webhook> {
        self.with_bot(|b| b.webhook.clone()).flatten()
    }

    pub fn pending(&self) -> u64 {
        self.with_bot(|b| b.pending.len() as u64).unwrap_or(0)
    }

    pub fn last_error_date(&self) -> Option<DateTime<Utc>> {
        self.with_bot(|b| b.last_error.as_ref().map(|(at, _)| *at))
            .flatten()
    }

    /// Makes the endpoint at `url` fail (or recover).
    pub fn endpoint_failing(&self, url: &str, failing: bool) {
        self.advance();
        lock(&self.state).failing.insert(url.to_string(), failing);
    }

    /// Telegram answers 502 to every call in `[from, to)`.
    pub fn outage(&self, from: DateTime<Utc>, to: DateTime<Utc>) {
        lock(&self.state).outages.push((from, to));
    }

    pub fn in_outage(&self, at: DateTime<Utc>) -> bool {
        lock(&self.state)
            .outages
            .iter()
            .any(|(from, to)| *from <= at && at < *to)
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        lock(&self.state).calls.clone()
    }

    pub fn calls_len(&self) -> usize {
        lock(&self.state).calls.len()
    }

    /// (delivered, dropped after 24 hours) updates so far.
    pub fn deliveries(&self) -> (u64, u64) {
        let s = lock(&self.state);
        (s.delivered, s.expired)
    }

    /// Brings arrivals, deliveries and expiry up to the current minute.
    pub fn advance(&self) {
        let now = self.sim.now();
        let current = now.timestamp().div_euclid(60);
        let seed = self.sim.seed;
        let mut guard = lock(&self.state);
        let state = &mut *guard;
        let from = state.minute.map_or(current, |m| m + 1);
        for minute in from..=current {
            let at = DateTime::<Utc>::from_timestamp(minute * 60, 0).unwrap_or(now);
            let Some(bot) = state.bot.as_mut() else {
                break;
            };
            if keyed(seed, &["telegram", "arrival"], minute as u64) < state.arrival_per_minute {
                bot.pending.push_back(at);
            }
            while bot.pending.front().is_some_and(|t| at - *t >= KEPT_FOR) {
                bot.pending.pop_front();
                state.expired += 1;
            }
            let Some(webhook) = &bot.webhook else {
                continue;
            };
            if bot.pending.is_empty() {
                continue;
            }
            if state.failing.get(&webhook.url).copied().unwrap_or(false) {
                bot.last_error = Some((at, DELIVERY_ERROR.to_string()));
            } else {
                state.delivered += bot.pending.len() as u64;
                bot.pending.clear();
            }
        }
        state.minute = Some(current);
    }

    fn record(&self, method: &str, token: TokenState, status: Option<u16>, acted: bool) {
        let at = self.sim.now();
        lock(&self.state).calls.push(Call {
            at,
            method: method.to_string(),
            token,
            status,
            acted,
        });
    }

    fn token_state(&self, token: &str) -> TokenState {
        let s = lock(&self.state);
        match &s.bot {
            Some(b) if b.token == token => TokenState::Valid,
            Some(b) if b.revoked.iter().any(|t| t == token) => TokenState::Revoked,
            _ => TokenState::Unknown,
        }
    }

    /// Answers one Bot API call (no faults): (status, body, acted).
    fn answer(&self, method: &str, params: &Value) -> (u16, String, bool) {
        let mut guard = lock(&self.state);
        let Some(bot) = guard.bot.as_mut() else {
            return (404, error_body(404, "Not Found"), false);
        };
        match method {
            "getMe" => (
                200,
                ok_body(
                    json!({"id": bot.id.parse::<u64>().unwrap_or(0), "is_bot": true,
                    "first_name": "groundcrew sim bot", "username": "groundcrew_sim_bot"}),
                ),
                false,
            ),
            "getWebhookInfo" => {
                let mut info = json!({
                    "url": bot.webhook.as_ref().map_or("", |w| w.url.as_str()),
                    "has_custom_certificate": false,
                    "pending_update_count": bot.pending.len(),
                });
                if let Some(w) = &bot.webhook {
                    info["ip_address"] = json!(ENDPOINT_IP);
                    info["max_connections"] = json!(w.max_connections);
                    if let Some(list) = &w.allowed_updates {
                        info["allowed_updates"] = json!(list);
                    }
                    if let Some((at, message)) = &bot.last_error {
                        info["last_error_date"] = json!(at.timestamp());
                        info["last_error_message"] = json!(message);
                    }
                }
                (200, ok_body(info), false)
            }
            "setWebhook" => {
                let url = params.get("url").and_then(Value::as_str).unwrap_or("");
                if url.is_empty() {
                    let had = bot.webhook.take().is_some();
                    return (200, ok_body(json!(true)), had);
                }
                if !valid_webhook_url(url) {
                    return (
                        400,
                        error_body(
                            400,
                            "Bad Request: bad webhook: HTTPS url must be provided for webhook",
                        ),
                        false,
                    );
                }
                let max_connections = match params.get("max_connections").map(Value::as_u64) {
                    None => DEFAULT_MAX_CONNECTIONS,
                    Some(Some(n)) if (1..=100).contains(&n) => n as u32,
                    Some(_) => {
                        return (
                            400,
                            error_body(400, "Bad Request: bad max_connections"),
                            false,
                        )
                    }
                };
                let secret_token = match params.get("secret_token").and_then(Value::as_str) {
                    Some(t) if !valid_secret_token(t) => {
                        return (
                            400,
                            error_body(
                                400,
                                "Bad Request: secret token contains unallowed characters",
                            ),
                            false,
                        )
                    }
                    other => other.map(str::to_string),
                };
                let allowed_updates = match params.get("allowed_updates") {
                    Some(Value::Array(items)) => Some(
                        items
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect(),
                    ),
                    // "If not specified, the previous setting will be used."
                    _ => bot.webhook.as_ref().and_then(|w| w.allowed_updates.clone()),
                };
                if params.get("drop_pending_updates").and_then(Value::as_bool) == Some(true) {
                    bot.pending.clear();
                }
                bot.webhook = Some(Webhook {
                    url: url.to_string(),
                    max_connections,
                    allowed_updates,
                    secret_token,
                });
                (200, ok_body(json!(true)), true)
            }
            "deleteWebhook" => {
                if params.get("drop_pending_updates").and_then(Value::as_bool) == Some(true) {
                    bot.pending.clear();
                }
                let had = bot.webhook.take().is_some();
                (200, ok_body(json!(true)), had)
            }
            _ => (404, error_body(404, "Not Found: method not found"), false),
        }
    }
}

impl Transport for TelegramModel {
    async fn post_json(&self, url: &str, body: &Value) -> Result<HttpAnswer, TransportError> {
        self.advance();
        let (token, method) = token_and_method(url);
        let (token, method) = (token.to_string(), method.to_string());
        let answer = |status: u16, body: String| HttpAnswer {
            status,
            retry_after: None,
            body,
        };
        let token_state = self.token_state(&token);
        if self.in_outage(self.sim.now()) {
            self.record(&method, token_state, Some(502), false);
            return Ok(answer(
                502,
                "<html><head><title>502 Bad Gateway</title></head></html>".into(),
            ));
        }
        let fault = self.sim.fault("telegram", &method);
        match fault {
            Fault::Throttle => {
                let n = self.calls_len() as u64;
                let wait =
                    1 + (keyed(self.sim.seed, &["telegram", "retry_after"], n) * 30.0) as u64;
                self.record(&method, token_state, Some(429), false);
                return Ok(answer(
                    429,
                    json!({"ok": false, "error_code": 429,
                        "description": format!("Too Many Requests: retry after {wait}"),
                        "parameters": {"retry_after": wait}})
                    .to_string(),
                ));
            }
            Fault::ServerError => {
                self.record(&method, token_state, Some(500), false);
                return Ok(answer(500, error_body(500, "Internal Server Error")));
            }
            Fault::TimeoutBeforeAction => {
                tokio::time::sleep(REQUEST_TIMEOUT).await;
                self.record(&method, token_state, None, false);
                return Err(TransportError {
                    reason: "operation timed out".into(),
                    timed_out: true,
                });
            }
            Fault::None | Fault::TimeoutAfterAction => {}
        }
        let (status, text, acted) = if token_state == TokenState::Valid {
            self.answer(&method, body)
        } else {
            (401, error_body(401, "Unauthorized"), false)
        };
        if fault == Fault::TimeoutAfterAction {
            tokio::time::sleep(REQUEST_TIMEOUT).await;
            self.record(&method, token_state, None, acted);
            return Err(TransportError {
                reason: "operation timed out".into(),
                timed_out: true,
            });
        }
        self.record(&method, token_state, Some(status), acted);
        Ok(answer(status, text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{run_seeds, FaultRates};

    const TOKEN: &str = "7000000001:AAsim-token_0";
    const URL: &str = "https://bot.example.com/telegram";

    fn start() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-02T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    async fn call(m: &TelegramModel, token: &str, method: &str, params: Value) -> (u16, Value) {
        let url = format!("https://api.telegram.org/bot{token}/{method}");
        let a = m.post_json(&url, &params).await.unwrap();
        (
            a.status,
            serde_json::from_str(&a.body).unwrap_or(Value::Null),
        )
    }

    fn in_sim(body: impl Fn(Arc<Sim>) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>) {
        run_seeds("telegram-model", &[1], start(), FaultRates::NONE, body);
    }

    #[test]
    fn set_get_and_delete_a_webhook_as_documented() {
        in_sim(|sim| {
            Box::pin(async move {
                let m = TelegramModel::new(sim, TOKEN, 0.0);
                let (s, info) = call(&m, TOKEN, "getWebhookInfo", json!({})).await;
                assert_eq!(s, 200);
                assert_eq!(info["result"]["url"], "");
                assert!(info["result"].get("max_connections").is_none());
                let (s, _) = call(
                    &m,
                    TOKEN,
                    "setWebhook",
                    json!({"url": URL, "secret_token": "abc_DEF-1",
                    "allowed_updates": ["message"]}),
                )
                .await;
                assert_eq!(s, 200);
                let (_, info) = call(&m, TOKEN, "getWebhookInfo", json!({})).await;
                let r = &info["result"];
                assert_eq!(r["url"], URL);
                assert_eq!(r["max_connections"], 40, "the documented default");
                assert_eq!(r["allowed_updates"], json!(["message"]));
                assert_eq!(r["ip_address"], ENDPOINT_IP);
                // allowed_updates not given: the previous setting stays.
                call(
                    &m,
                    TOKEN,
                    "setWebhook",
                    json!({"url": URL, "max_connections": 60}),
                )
                .await;
                let w = m.webhook().unwrap();
                assert_eq!(w.max_connections, 60);
                assert_eq!(w.allowed_updates, Some(vec!["message".to_string()]));
                for bad in [
                    json!({"url": "http://bot.example.com/x"}),
                    json!({"url": "https://b.example:8080/x"}),
                    json!({"url": URL, "max_connections": 101}),
                    json!({"url": URL, "secret_token": "no spaces"}),
                ] {
                    let (s, e) = call(&m, TOKEN, "setWebhook", bad.clone()).await;
                    assert_eq!((s, e["ok"].clone()), (400, json!(false)), "{bad}");
                }
                let (s, _) = call(&m, TOKEN, "deleteWebhook", json!({})).await;
                assert_eq!(s, 200);
                assert!(m.webhook().is_none());
                let (_, me) = call(&m, TOKEN, "getMe", json!({})).await;
                assert_eq!(me["result"]["id"], 7000000001u64);
                assert_eq!(me["result"]["is_bot"], true);
            })
        });
    }

    #[test]
    fn a_revoked_token_answers_401_and_the_new_one_keeps_the_webhook() {
        in_sim(|sim| {
            Box::pin(async move {
                let m = TelegramModel::new(sim, TOKEN, 0.0);
                call(&m, TOKEN, "setWebhook", json!({"url": URL})).await;
                let new = m.revoke();
                let (s, e) = call(&m, TOKEN, "getWebhookInfo", json!({})).await;
                assert_eq!((s, e["error_code"].clone()), (401, json!(401)));
                let (s, _) = call(
                    &m,
                    TOKEN,
                    "setWebhook",
                    json!({"url": "https://evil.example/x"}),
                )
                .await;
                assert_eq!(s, 401);
                assert_eq!(
                    m.webhook().unwrap().url,
                    URL,
                    "a refused call changes nothing"
                );
                let (s, info) = call(&m, &new, "getWebhookInfo", json!({})).await;
                assert_eq!((s, info["result"]["url"].clone()), (200, json!(URL)));
                let calls = m.calls();
                assert_eq!(
                    calls
                        .iter()
                        .filter(|c| c.token == TokenState::Revoked)
                        .count(),
                    2
                );
                let (s, _) = call(&m, "1:unknown", "getMe", json!({})).await;
                assert_eq!(s, 401);
            })
        });
    }

    #[test]
    fn a_failing_endpoint_keeps_updates_24_hours_and_sets_the_last_error() {
        in_sim(|sim| {
            Box::pin(async move {
                let m = TelegramModel::new(sim.clone(), TOKEN, 1.0);
                call(&m, TOKEN, "setWebhook", json!({"url": URL})).await;
                tokio::time::sleep(Duration::from_secs(600)).await;
                assert_eq!(m.pending(), 0, "a healthy endpoint drains the queue");
                assert!(m.last_error_date().is_none());
                m.endpoint_failing(URL, true);
                tokio::time::sleep(Duration::from_secs(3600)).await;
                assert_eq!(m.pending(), 60);
                let (_, info) = call(&m, TOKEN, "getWebhookInfo", json!({})).await;
                let r = &info["result"];
                assert_eq!(r["pending_update_count"], 60);
                assert_eq!(r["last_error_date"], sim.now().timestamp() / 60 * 60);
                assert_eq!(r["last_error_message"], DELIVERY_ERROR);
                tokio::time::sleep(Duration::from_secs(30 * 3600)).await;
                assert_eq!(m.pending(), 24 * 60, "nothing older than 24 hours is kept");
                assert!(m.deliveries().1 > 0);
                m.endpoint_failing(URL, false);
                tokio::time::sleep(Duration::from_secs(60)).await;
                assert_eq!(m.pending(), 0);
                let (_, info) = call(&m, TOKEN, "getWebhookInfo", json!({})).await;
                assert!(
                    info["result"]["last_error_date"].is_number(),
                    "the last error stays reported"
                );
                call(
                    &m,
                    TOKEN,
                    "setWebhook",
                    json!({"url": URL, "drop_pending_updates": true}),
                )
                .await;
                assert_eq!(m.pending(), 0);
            })
        });
    }

    #[test]
    fn outages_answer_502_and_faults_429_with_retry_after() {
        run_seeds(
            "telegram-model-faults",
            &[3],
            start(),
            FaultRates {
                throttle: 0.5,
                ..FaultRates::NONE
            },
            |sim| async move {
                let m = TelegramModel::new(sim.clone(), TOKEN, 0.0);
                m.outage(sim.now(), sim.now() + chrono::Duration::minutes(5));
                let a = m
                    .post_json(
                        &format!("https://api.telegram.org/bot{TOKEN}/getMe"),
                        &json!({}),
                    )
                    .await
                    .unwrap();
                assert_eq!(a.status, 502);
                tokio::time::sleep(Duration::from_secs(300)).await;
                let mut throttled = 0;
                for _ in 0..40 {
                    let (s, body) = call(&m, TOKEN, "getWebhookInfo", json!({})).await;
                    if s == 429 {
                        throttled += 1;
                        let wait = body["parameters"]["retry_after"].as_u64().unwrap();
                        assert!((1..=30).contains(&wait), "{body}");
                    } else {
                        assert_eq!(s, 200);
                    }
                }
                assert!((5..=35).contains(&throttled), "{throttled}");
            },
        );
    }
}
