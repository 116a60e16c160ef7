//! [`Transport`] over reqwest (rustls, timeouts): the production side of the HTTP seam
//! under the receivers' retry logic.

use groundcrew::http::{HttpError, HttpSettings};
use serde_json::Value;

use crate::receivers::{HttpAnswer, Transport, TransportError};

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
