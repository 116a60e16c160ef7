//! Test helpers: a stateful fake Telegram Bot API (wiremock), a CloudFormation
//! ResponseURL, invocations, and app construction (log capture is `groundcrew::testing`).
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use groundcrew::custom_resource::ResponderSettings;
pub use groundcrew::testing::env;
use groundcrew::{Deadline, Invocation};
use serde_json::{json, Value};
use telegram_webhook::alerts::Alerts;
use telegram_webhook::telegram::Telegram;
use telegram_webhook::vault::{MemoryVault, Vault};
use telegram_webhook::{App, Config};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const TOKEN: &str = "7000000001:AAsecretPART-xyz_0123456789";
pub const BOT_SECRET: &str = "tg/bot-token";
pub const WEBHOOK_SECRET: &str = "tg/webhook-secret";
pub const URL: &str = "https://bot.example.com/telegram/webhook";
/// The invocations' clock (Unix seconds).
pub const NOW: i64 = 1_800_000_000;

/// A deadline no test reaches.
pub fn long() -> Deadline {
    Deadline::after(Duration::from_secs(30))
}

/// A vault holding the bot token.
pub fn vault() -> MemoryVault {
    MemoryVault::default().with(BOT_SECRET, TOKEN)
}

/// EventBridge's Scheduled Event (the health check).
pub fn scheduled() -> Value {
    json!({"version": "0", "id": "x", "detail-type": "Scheduled Event", "source": "aws.events", "account": "123456789012",
           "time": "2026-11-21T22:00:00Z", "region": "us-east-1", "resources": [], "detail": {}})
}

#[derive(Default)]
pub struct State {
    /// token -> webhook info
    pub webhooks: HashMap<String, Value>,
    /// (method, body) of every call
    pub calls: Vec<(String, Value)>,
    /// getWebhookInfo reports this URL instead of the real one
    pub report_url: Option<String>,
    pub pending: u64,
    pub last_error_date: Option<i64>,
    /// answer the next N calls of this method with this (status, body)
    pub fail: Vec<(String, u16, Value)>,
    /// delay every setWebhook
    pub set_delay: Option<Duration>,
    /// tokens Telegram rejects with 401
    pub revoked: Vec<String>,
}

#[derive(Clone, Default)]
pub struct FakeTelegram(pub Arc<Mutex<State>>);

impl FakeTelegram {
    pub fn calls(&self, name: &str) -> Vec<Value> {
        let s = self.0.lock().unwrap();
        s.calls
            .iter()
            .filter(|(m, _)| m == name)
            .map(|(_, b)| b.clone())
            .collect()
    }
    pub fn set(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.0.lock().unwrap());
    }
    pub fn webhook(&self, token: &str) -> Option<Value> {
        self.0.lock().unwrap().webhooks.get(token).cloned()
    }
}

impl Respond for FakeTelegram {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let path = req.url.path().to_string();
        let rest = path.trim_start_matches("/bot");
        let (token, name) = rest.rsplit_once('/').unwrap_or(("", ""));
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(json!({}));
        let mut s = self.0.lock().unwrap();
        s.calls.push((name.to_string(), body.clone()));
        if let Some(i) = s.fail.iter().position(|(m, _, _)| m == name) {
            let (_, status, answer) = s.fail.remove(i);
            return ResponseTemplate::new(status).set_body_json(answer);
        }
        if s.revoked.iter().any(|t| t == token) {
            return ResponseTemplate::new(401).set_body_json(
                json!({"ok": false, "error_code": 401, "description": "Unauthorized"}),
            );
        }
        let ok = |result: Value| {
            ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": result}))
        };
        match name {
            "setWebhook" => {
                let url = body["url"].as_str().unwrap_or("").to_string();
                let mut info = json!({"url": url, "has_custom_certificate": false, "pending_update_count": 0,
                    "max_connections": body.get("max_connections").cloned().unwrap_or(json!(40))});
                if let Some(list) = body.get("allowed_updates") {
                    info["allowed_updates"] = list.clone();
                }
                s.webhooks.insert(token.to_string(), info);
                let r = ok(json!(true));
                match s.set_delay {
                    Some(d) => r.set_delay(d),
                    None => r,
                }
            }
            "deleteWebhook" => {
                s.webhooks.remove(token);
                ok(json!(true))
            }
            "getWebhookInfo" => {
                let mut info = s.webhooks.get(token).cloned().unwrap_or(
                    json!({"url": "", "has_custom_certificate": false, "pending_update_count": 0}),
                );
                if let Some(u) = &s.report_url {
                    info["url"] = json!(u);
                }
                info["pending_update_count"] = json!(s.pending);
                if let Some(d) = s.last_error_date {
                    info["last_error_date"] = json!(d);
                    info["last_error_message"] =
                        json!("Wrong response from the webhook: 502 Bad Gateway");
                }
                ok(info)
            }
            _ => ResponseTemplate::new(404)
                .set_body_json(json!({"ok": false, "error_code": 404, "description": "Not Found"})),
        }
    }
}

pub async fn telegram_server() -> (MockServer, FakeTelegram) {
    let server = MockServer::start().await;
    let fake = FakeTelegram::default();
    Mock::given(method("POST"))
        .and(path_regex("^/bot[^/]+/[A-Za-z]+$"))
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    (server, fake)
}

pub async fn cfn_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

/// The JSON bodies PUT to the ResponseURL.
pub async fn cfn_bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() == "PUT")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

pub fn config(telegram_base: &str, extra: &[(&str, &str)]) -> Config {
    let base = [
        ("TELEGRAM_API_BASE_URL", telegram_base),
        ("BOT_TOKEN_SECRET", BOT_SECRET),
        ("WEBHOOK_URL", URL),
        ("SECRET_TOKEN_SECRET", WEBHOOK_SECRET),
    ];
    let pairs: Vec<(&str, &str)> = base.iter().chain(extra).copied().collect();
    Config::from_env(&env(&pairs)).unwrap()
}

pub fn app<V: Vault, A: Alerts>(config: Config, vault: V, alerts: A) -> App<V, A> {
    let http = groundcrew::http::client(groundcrew::http::HttpSettings::default()).unwrap();
    App {
        telegram: Telegram::new(http.clone(), &config.api_base).with_policy(
            groundcrew::retry::RetryPolicy {
                max_attempts: 4,
                min_delay: Duration::from_millis(10),
                max_delay: Duration::from_millis(50),
                max_retry_after: Duration::from_secs(2),
            },
        ),
        endpoint: telegram_webhook::probe::HttpEndpoint(http.clone()),
        http,
        vault,
        alerts,
        responder: ResponderSettings::default(),
        config,
        config_error: None,
        metrics: telegram_webhook::health::MetricsSink::memory(),
    }
}

pub fn cr_event(kind: &str, response_url: &str, props: Value, physical: Option<&str>) -> Value {
    let mut e = json!({
        "RequestType": kind,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:groundcrew-dev-telegram-webhook",
        "ResponseURL": response_url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/guid",
        "RequestId": format!("req-{kind}"),
        "ResourceType": "Custom::TelegramWebhook",
        "LogicalResourceId": "BotWebhook",
        "ResourceProperties": props,
    });
    if let Some(p) = physical {
        e["PhysicalResourceId"] = json!(p);
    }
    if kind == "Update" {
        e["OldResourceProperties"] = e["ResourceProperties"].clone();
    }
    e
}

pub fn props(extra: Value) -> Value {
    let mut p = json!({
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "BotTokenSecret": BOT_SECRET,
        "WebhookUrl": URL,
        "SecretTokenSecret": WEBHOOK_SECRET,
        "AllowedUpdates": ["message", "callback_query"],
        "MaxConnections": "40",
    });
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

/// An invocation with `deadline`, whose clock reads `now` (Unix seconds) throughout.
pub fn inv(deadline: Deadline, now: i64) -> Invocation {
    let at = chrono::DateTime::from_timestamp(now, 0).unwrap_or_default();
    Invocation::new("test-request", deadline, Arc::new(FixedClock(at)))
}

/// A clock that stays at one instant.
pub struct FixedClock(pub chrono::DateTime<chrono::Utc>);

impl groundcrew::Clock for FixedClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0
    }
}

/// `app.handle`, its report as JSON (what Lambda would return).
pub async fn handle<V: Vault, A: Alerts>(
    app: &App<V, A>,
    event: Value,
    invocation: Invocation,
) -> Result<Value, telegram_webhook::Error> {
    app.handle(event, invocation)
        .await
        .map(|report| serde_json::to_value(report).expect("a report serialises"))
}
