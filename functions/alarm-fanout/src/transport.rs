//! The seams under the receivers' retry logic: [`Transport`] (one HTTP request) with its
//! production side over reqwest (rustls, timeouts), and [`Publisher`] (SNS, in
//! [`crate::aws`]).

use std::future::Future;
use std::time::Duration;

use groundcrew::http::{HttpError, HttpSettings};
use serde_json::Value;

use crate::send::SendError;

/// An HTTP answer, as much of it as the retry logic needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    pub status: u16,
    /// `Retry-After`, when the answer had one.
    pub retry_after: Option<Duration>,
    pub body: String,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{reason}")]
pub struct TransportError {
    /// Why, without the URL.
    pub reason: String,
    pub timed_out: bool,
}

/// Sends one HTTP request: the seam under the retry logic (reqwest in production, wiremock
/// behind it in tests, receiver models in the simulation).
pub trait Transport: Send + Sync {
    fn post_json(
        &self,
        url: &str,
        body: &Value,
    ) -> impl Future<Output = Result<HttpAnswer, TransportError>> + Send;
}

/// Publishes to an SNS topic.
pub trait Publisher: Send + Sync {
    fn publish(
        &self,
        topic_arn: &str,
        subject: &str,
        message: &str,
    ) -> impl Future<Output = Result<(), SendError>> + Send;
}

/// [`Transport`] over reqwest (rustls, timeouts), built once per cold start.
#[derive(Debug, Clone)]
pub struct ReqwestTransport(reqwest::Client);

impl ReqwestTransport {
    pub fn new(settings: HttpSettings) -> Result<Self, HttpError> {
        groundcrew::http::client(settings).map(Self)
    }
}

fn transport_error(err: reqwest::Error) -> TransportError {
    match HttpError::transport("", err) {
        HttpError::Transport {
            reason, timed_out, ..
        } => TransportError { reason, timed_out },
        other => TransportError {
            reason: other.to_string(),
            timed_out: false,
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
