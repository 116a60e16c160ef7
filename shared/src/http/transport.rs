//! One HTTP request as a seam: [`Transport`] POSTs a JSON body and answers the status,
//! `Retry-After` and body, or a [`TransportError`] that never carries the URL (Telegram's
//! bot token, Slack's and Google Chat's webhook keys are in URLs).
//!
//! The callers' retry, 429 and deadline logic sits above it, so it runs unchanged over
//! [`ReqwestTransport`] in production (wiremock behind it in the HTTP tests) and over the
//! receiver models of the simulation tier, which implement this one trait.

use std::future::Future;
use std::time::Duration;

use serde_json::Value;

use super::{client, retry_after, HttpError, HttpSettings};

/// What came back from one request, as much of it as retry logic needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    pub status: u16,
    /// The `Retry-After` header, when the answer had one.
    pub retry_after: Option<Duration>,
    pub body: String,
}

/// A request that got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct TransportError {
    /// Why, without the URL.
    pub reason: String,
    /// The request or the connection timed out (it may still have taken effect).
    pub timed_out: bool,
}

impl TransportError {
    /// reqwest's error, described without its URL ([`HttpError::transport`]).
    pub fn from_reqwest(err: reqwest::Error) -> Self {
        match HttpError::transport("", err) {
            HttpError::Transport {
                reason, timed_out, ..
            } => Self { reason, timed_out },
            other => Self {
                reason: other.to_string(),
                timed_out: false,
            },
        }
    }
}

/// Sends one HTTP request.
pub trait Transport: Send + Sync {
    /// POSTs `body` as JSON to `url`.
    fn post_json(
        &self,
        url: &str,
        body: &Value,
    ) -> impl Future<Output = Result<HttpAnswer, TransportError>> + Send;
}

/// [`Transport`] over the shared reqwest client ([`client`]: rustls on compiled-in roots,
/// timeouts), built once per cold start.
#[derive(Debug, Clone)]
pub struct ReqwestTransport(reqwest::Client);

impl ReqwestTransport {
    pub fn new(settings: HttpSettings) -> Result<Self, HttpError> {
        client(settings).map(Self)
    }

    /// Over a client the caller already built (to share its connection pool).
    pub fn from_client(client: reqwest::Client) -> Self {
        Self(client)
    }
}

impl Transport for ReqwestTransport {
    async fn post_json(&self, url: &str, body: &Value) -> Result<HttpAnswer, TransportError> {
        let response = self
            .0
            .post(url)
            .json(body)
            .send()
            .await
            .map_err(TransportError::from_reqwest)?;
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        let body = response
            .text()
            .await
            .map_err(TransportError::from_reqwest)?;
        Ok(HttpAnswer {
            status,
            retry_after,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wiremock::matchers::{body_json, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const SECRET_PATH: &str = "/bot123:SECRET-token/getMe";

    #[tokio::test]
    async fn posts_json_and_answers_status_retry_after_and_body() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(SECRET_PATH))
            .and(body_json(json!({"a": 1})))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", "7")
                    .set_body_string("slow down"),
            )
            .mount(&server)
            .await;
        let t = ReqwestTransport::new(HttpSettings::default()).unwrap();
        let answer = t
            .post_json(&format!("{}{SECRET_PATH}", server.uri()), &json!({"a": 1}))
            .await
            .unwrap();
        assert_eq!(
            answer,
            HttpAnswer {
                status: 429,
                retry_after: Some(Duration::from_secs(7)),
                body: "slow down".into()
            }
        );
    }

    #[tokio::test]
    async fn a_failed_request_never_names_its_url() {
        // Nothing listens on the discard port.
        let t = ReqwestTransport::new(HttpSettings::default()).unwrap();
        let err = t
            .post_json(&format!("http://127.0.0.1:9{SECRET_PATH}"), &json!({}))
            .await
            .unwrap_err();
        assert!(!err.reason.contains("SECRET"), "{err}");
        assert!(!err.to_string().contains("127.0.0.1:9/bot"), "{err}");
        assert!(!err.timed_out);
    }
}
