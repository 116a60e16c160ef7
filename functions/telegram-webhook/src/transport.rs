//! The HTTP seam under the Bot API client: one POST of a JSON body, answered with a status,
//! a `Retry-After` and a body. The client's retry, 429 and deadline handling sit above it, so
//! the simulation tier drives them unchanged through its Telegram model.

use std::future::Future;
use std::time::Duration;

use groundcrew::http::{HttpError, HttpSettings};
use serde_json::Value;

/// What came back from one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    pub status: u16,
    /// The `Retry-After` header, when there was one.
    pub retry_after: Option<Duration>,
    pub body: String,
}

/// A request that got no answer. `reason` never contains the URL (the bot token is in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    pub reason: String,
}

pub trait Transport: Send + Sync {
    /// POSTs `body` as JSON to `url`.
    fn post_json(
        &self,
        url: &str,
        body: &Value,
    ) -> impl Future<Output = Result<HttpAnswer, TransportError>> + Send;
}

/// [`Transport`] over reqwest (rustls, timeouts), built once per cold start.
#[derive(Debug, Clone)]
pub struct ReqwestTransport(reqwest::Client);

impl ReqwestTransport {
    pub fn new(settings: HttpSettings) -> Result<Self, HttpError> {
        groundcrew::http::client(settings).map(Self)
    }

    pub fn from_client(client: reqwest::Client) -> Self {
        Self(client)
    }
}

fn transport_error(err: reqwest::Error) -> TransportError {
    // `HttpError::transport` drops the URL from reqwest's text.
    match HttpError::transport("", err) {
        HttpError::Transport { reason, .. } => TransportError { reason },
        other => TransportError {
            reason: other.to_string(),
        },
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
            .map_err(transport_error)?;
        let status = response.status().as_u16();
        let retry_after = groundcrew::http::retry_after(response.headers());
        let body = response.text().await.map_err(transport_error)?;
        Ok(HttpAnswer {
            status,
            retry_after,
            body,
        })
    }
}
