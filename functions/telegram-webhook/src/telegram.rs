//! The Telegram Bot API client: `POST {base}/bot<token>/<method>` with a JSON body.
//!
//! The token is in the URL, so no error here carries the URL: transport errors are
//! stripped of it (`HttpError::transport`) and descriptions Telegram sends back are
//! redacted of the token. 429 (`parameters.retry_after`) and 5xx are retried within the
//! deadline. The HTTP request itself goes through [`Transport`], the seam the simulation
//! tier drives.

use std::time::Duration;

use groundcrew::http::{excerpt, redact};
use groundcrew::retry::{retry, RetryAdvice, RetryPolicy, Transient};
use groundcrew::secrets::reveal;
use groundcrew::Deadline;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::redacted::Redacted;
use groundcrew::http::{ReqwestTransport, Transport};

pub const DEFAULT_API_BASE: &str = "https://api.telegram.org";

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum TelegramError {
    #[error("Telegram {method}: error {code}: {description}")]
    Api {
        method: String,
        code: u16,
        description: String,
        retry_after: Option<u64>,
    },
    #[error("Telegram {method}: request failed: {reason}")]
    Transport { method: String, reason: String },
    #[error("Telegram {method}: the invocation deadline passed")]
    Deadline { method: String },
    /// The parameters did not serialise to JSON (not expected of the typed ones here).
    #[error("Telegram {method}: the parameters could not be encoded: {reason}")]
    Encode { method: String, reason: String },
}

impl TelegramError {
    pub fn code(&self) -> Option<u16> {
        match self {
            Self::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// 401 (token revoked) or 404 (no such bot): the bot is gone.
    pub fn bot_gone(&self) -> bool {
        matches!(self.code(), Some(401) | Some(404))
    }
}

impl Transient for TelegramError {
    fn retry_advice(&self) -> RetryAdvice {
        match self {
            Self::Api {
                code: 429,
                retry_after,
                ..
            } => retry_after.map_or(RetryAdvice::Retry, |s| {
                RetryAdvice::RetryAfter(Duration::from_secs(s))
            }),
            Self::Api { code, .. } if (500..600).contains(code) => RetryAdvice::Retry,
            Self::Api { .. } | Self::Deadline { .. } | Self::Encode { .. } => RetryAdvice::Stop,
            Self::Transport { .. } => RetryAdvice::Retry,
        }
    }
}

/// `getWebhookInfo`'s result (fields Telegram may omit are optional). `S` is the type of
/// the text Telegram echoes back: `String` as read, [`Redacted`] in an action's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookInfo<S = String> {
    #[serde(default)]
    pub url: S,
    #[serde(default)]
    pub has_custom_certificate: bool,
    #[serde(default)]
    pub pending_update_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_date: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_message: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_synchronization_error_date: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_updates: Option<Vec<String>>,
}

impl WebhookInfo {
    /// The info with the token masked in the text Telegram echoes back.
    pub fn redacted(self, token: &SecretString) -> WebhookInfo<Redacted> {
        WebhookInfo {
            url: Redacted::new(&self.url, token),
            has_custom_certificate: self.has_custom_certificate,
            pending_update_count: self.pending_update_count,
            ip_address: self.ip_address,
            last_error_date: self.last_error_date,
            last_error_message: self.last_error_message.map(|m| Redacted::new(&m, token)),
            last_synchronization_error_date: self.last_synchronization_error_date,
            max_connections: self.max_connections,
            allowed_updates: self.allowed_updates,
        }
    }
}

/// `setWebhook`'s parameters. A setting left unset is left out, and Telegram keeps its
/// default (40 connections, every update type but `chat_member`, pending updates kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetWebhook<'a> {
    pub url: &'a str,
    pub secret_token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_updates: Option<&'a [String]>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub drop_pending_updates: bool,
}

/// `deleteWebhook`'s parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeleteWebhook {
    pub drop_pending_updates: bool,
}

#[derive(Debug, Deserialize)]
struct Envelope {
    ok: bool,
    #[serde(default)]
    result: Value,
    #[serde(default)]
    error_code: Option<u16>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<Parameters>,
}

#[derive(Debug, Deserialize)]
struct Parameters {
    #[serde(default)]
    retry_after: Option<u64>,
}

/// The Bot API client over a [`Transport`] (reqwest in production, the Telegram model in
/// the simulation tier).
#[derive(Clone)]
pub struct Telegram<T = ReqwestTransport> {
    transport: T,
    base: String,
    policy: RetryPolicy,
}

impl Telegram<ReqwestTransport> {
    pub fn new(http: reqwest::Client, base: &str) -> Self {
        Self::over(ReqwestTransport::from_client(http), base)
    }
}

impl<T: Transport> Telegram<T> {
    /// The client over `transport`, talking to the Bot API server at `base`.
    pub fn over(transport: T, base: &str) -> Self {
        Self {
            transport,
            base: base.trim_end_matches('/').to_string(),
            policy: RetryPolicy {
                max_attempts: 4,
                min_delay: Duration::from_millis(300),
                max_delay: Duration::from_secs(3),
                max_retry_after: Duration::from_secs(20),
            },
        }
    }

    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Calls `method` with `params` as its JSON body, retrying 429 and 5xx within
    /// `deadline`; returns `result`.
    pub async fn call<P: Serialize + ?Sized>(
        &self,
        token: &SecretString,
        method: &str,
        params: &P,
        deadline: Deadline,
    ) -> Result<Value, TelegramError> {
        let params = serde_json::to_value(params).map_err(|e| TelegramError::Encode {
            method: method.to_string(),
            reason: e.to_string(),
        })?;
        retry(&self.policy, deadline, method, || {
            self.attempt(token, method, &params, deadline)
        })
        .await
    }

    async fn attempt(
        &self,
        token: &SecretString,
        method: &str,
        params: &Value,
        deadline: Deadline,
    ) -> Result<Value, TelegramError> {
        let secret = reveal(token);
        let url = format!("{}/bot{}/{}", self.base, secret, method);
        let answer = match deadline.run(self.transport.post_json(&url, params)).await {
            Err(_) => {
                return Err(TelegramError::Deadline {
                    method: method.to_string(),
                })
            }
            Ok(Err(e)) => {
                return Err(TelegramError::Transport {
                    method: method.to_string(),
                    reason: redact(&e.reason, &[secret]),
                });
            }
            Ok(Ok(answer)) => answer,
        };
        let status = answer.status;
        let header_wait = answer.retry_after.map(|d| d.as_secs());
        let body = answer.body;
        match serde_json::from_str::<Envelope>(&body) {
            Ok(env) if env.ok => Ok(env.result),
            Ok(env) => Err(TelegramError::Api {
                method: method.to_string(),
                code: env.error_code.unwrap_or(status),
                description: excerpt(
                    &redact(
                        env.description.as_deref().unwrap_or("no description"),
                        &[secret],
                    ),
                    300,
                ),
                retry_after: env.parameters.and_then(|p| p.retry_after).or(header_wait),
            }),
            Err(_) => Err(TelegramError::Api {
                method: method.to_string(),
                code: if status == 200 { 502 } else { status },
                description: format!(
                    "unexpected answer: {}",
                    excerpt(&redact(&body, &[secret]), 200)
                ),
                retry_after: header_wait,
            }),
        }
    }

    /// `deleteWebhook`; Telegram answers `true`.
    pub async fn delete_webhook(
        &self,
        token: &SecretString,
        params: &DeleteWebhook,
        deadline: Deadline,
    ) -> Result<bool, TelegramError> {
        let result = self.call(token, "deleteWebhook", params, deadline).await?;
        result.as_bool().ok_or_else(|| TelegramError::Api {
            method: "deleteWebhook".to_string(),
            code: 502,
            description: format!("unexpected result: {}", excerpt(&result.to_string(), 200)),
            retry_after: None,
        })
    }

    pub async fn get_webhook_info(
        &self,
        token: &SecretString,
        deadline: Deadline,
    ) -> Result<WebhookInfo, TelegramError> {
        let result = self
            .call(token, "getWebhookInfo", &serde_json::json!({}), deadline)
            .await?;
        serde_json::from_value(result).map_err(|e| TelegramError::Api {
            method: "getWebhookInfo".to_string(),
            code: 502,
            description: format!("unexpected result: {}", excerpt(&e.to_string(), 200)),
            retry_after: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use groundcrew::http::{client, HttpSettings};
    use serde_json::json;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const TOKEN: &str = "123456:SECRET-token_value";

    fn token() -> SecretString {
        SecretString::from(TOKEN.to_string())
    }

    fn fast(t: Telegram) -> Telegram {
        t.with_policy(RetryPolicy {
            max_attempts: 4,
            min_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(20),
            max_retry_after: Duration::from_secs(2),
        })
    }

    #[tokio::test]
    async fn retries_429_after_retry_after_and_5xx() {
        let server = MockServer::start().await;
        Mock::given(path(format!("/bot{TOKEN}/getWebhookInfo")))
            .respond_with(ResponseTemplate::new(429).set_body_json(json!({
                "ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1}})))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(path(format!("/bot{TOKEN}/getWebhookInfo")))
            .respond_with(ResponseTemplate::new(502).set_body_string("bad gateway"))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": {"url": "https://a.example/h", "pending_update_count": 3}})))
            .mount(&server)
            .await;
        let tg = fast(Telegram::new(
            client(HttpSettings::default()).unwrap(),
            &server.uri(),
        ));
        let started = std::time::Instant::now();
        let info = tg
            .get_webhook_info(&token(), Deadline::after(Duration::from_secs(20)))
            .await
            .unwrap();
        assert_eq!(info.url, "https://a.example/h");
        assert_eq!(info.pending_update_count, 3);
        assert_eq!(server.received_requests().await.unwrap().len(), 3);
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "waited retry_after"
        );
    }

    #[tokio::test]
    async fn a_429_longer_than_the_deadline_is_not_waited_for() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(429).set_body_json(json!({
                "ok": false, "error_code": 429, "description": "Too Many Requests: retry after 30",
                "parameters": {"retry_after": 30}})))
            .mount(&server)
            .await;
        let tg = Telegram::new(client(HttpSettings::default()).unwrap(), &server.uri());
        let err = tg
            .get_webhook_info(&token(), Deadline::after(Duration::from_secs(3)))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(429));
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn errors_never_carry_the_token() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(400).set_body_json(json!({
                "ok": false, "error_code": 400, "description": format!("Bad Request: bot{TOKEN} is odd")})))
            .mount(&server)
            .await;
        let tg = Telegram::new(client(HttpSettings::default()).unwrap(), &server.uri());
        let err = tg
            .call(
                &token(),
                "setWebhook",
                &json!({}),
                Deadline::after(Duration::from_secs(5)),
            )
            .await
            .unwrap_err();
        assert!(!err.to_string().contains("SECRET-token"), "{err}");
        assert_eq!(err.retry_advice(), RetryAdvice::Stop);
        // Nothing listens on port 9.
        let tg = fast(Telegram::new(
            client(HttpSettings::default()).unwrap(),
            "http://127.0.0.1:9",
        ));
        let err = tg
            .call(
                &token(),
                "getMe",
                &json!({}),
                Deadline::after(Duration::from_secs(5)),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, TelegramError::Transport { .. }), "{err}");
        assert!(!err.to_string().contains("SECRET-token"), "{err}");
    }

    #[test]
    fn webhook_parameters_leave_out_what_is_unset() {
        // The bodies the handler built with `json!` before they were typed.
        let bare = SetWebhook {
            url: "https://bot.example.com/telegram",
            secret_token: "s3cr3t",
            max_connections: None,
            allowed_updates: None,
            drop_pending_updates: false,
        };
        assert_eq!(
            serde_json::to_value(&bare).unwrap(),
            json!({"url": "https://bot.example.com/telegram", "secret_token": "s3cr3t"})
        );
        let updates = vec!["message".to_string(), "callback_query".to_string()];
        let full = SetWebhook {
            max_connections: Some(20),
            allowed_updates: Some(&updates),
            drop_pending_updates: true,
            ..bare
        };
        assert_eq!(
            serde_json::to_value(&full).unwrap(),
            json!({
                "url": "https://bot.example.com/telegram",
                "secret_token": "s3cr3t",
                "max_connections": 20,
                "allowed_updates": ["message", "callback_query"],
                "drop_pending_updates": true,
            })
        );
        for drop_pending_updates in [false, true] {
            assert_eq!(
                serde_json::to_value(DeleteWebhook {
                    drop_pending_updates
                })
                .unwrap(),
                json!({ "drop_pending_updates": drop_pending_updates })
            );
        }
    }
}
