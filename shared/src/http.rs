//! The outbound HTTP client (reqwest with rustls) and errors that never carry a secret.
//!
//! Receivers put secrets in URLs (Telegram's bot token, Slack and Google Chat webhook
//! paths): errors here name a caller-chosen `target` label instead of the URL, strip the
//! URL from reqwest's errors, and [`redact`] removes any secret that a body echoes back.

pub mod transport;

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::retry::{RetryAdvice, Transient};

pub use transport::{HttpAnswer, ReqwestTransport, Transport, TransportError};

#[derive(Debug, Clone, Copy)]
pub struct HttpSettings {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// Longest excerpt of a response body kept in an error.
pub const BODY_EXCERPT_CHARS: usize = 300;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("could not build the HTTP client: {reason}")]
    Build { reason: String },
    #[error("{target}: request failed: {reason}")]
    Transport {
        target: String,
        reason: String,
        timed_out: bool,
    },
    #[error("{target}: HTTP {status}: {body}")]
    Status {
        target: String,
        status: u16,
        body: String,
        retry_after: Option<Duration>,
    },
}

impl HttpError {
    /// A transport error, described without its URL.
    pub fn transport(target: &str, err: reqwest::Error) -> Self {
        let timed_out = err.is_timeout();
        let err = err.without_url();
        let mut reason = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            reason.push_str(": ");
            reason.push_str(&cause.to_string());
            source = cause.source();
        }
        Self::Transport {
            target: target.to_string(),
            reason,
            timed_out,
        }
    }

    /// An unsuccessful answer; `secrets` are removed from the body excerpt.
    pub fn status(
        target: &str,
        status: u16,
        headers: &HeaderMap,
        body: &str,
        secrets: &[&str],
    ) -> Self {
        Self::Status {
            target: target.to_string(),
            status,
            body: excerpt(&redact(body, secrets), BODY_EXCERPT_CHARS),
            retry_after: retry_after(headers),
        }
    }

    pub fn status_code(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl Transient for HttpError {
    fn retry_advice(&self) -> RetryAdvice {
        match self {
            Self::Build { .. } => RetryAdvice::Stop,
            Self::Transport { .. } => RetryAdvice::Retry,
            Self::Status {
                status,
                retry_after,
                ..
            } => advice_for_status(*status, *retry_after),
        }
    }
}

/// 429, 408 and 5xx are worth another try; other statuses are not.
pub fn advice_for_status(status: u16, retry_after: Option<Duration>) -> RetryAdvice {
    if status == 429 || status == 408 || (500..600).contains(&status) {
        retry_after.map_or(RetryAdvice::Retry, RetryAdvice::RetryAfter)
    } else {
        RetryAdvice::Stop
    }
}

/// Builds the client once per cold start.
pub fn client(settings: HttpSettings) -> Result<reqwest::Client, HttpError> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(crate::tls::reqwest_tls())
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.request_timeout)
        .user_agent(concat!("groundcrew/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| HttpError::Build {
            reason: e.without_url().to_string(),
        })
}

/// The `Retry-After` header, in seconds or as an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// Replaces every occurrence of each non-empty secret with `[REDACTED]`.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    secrets
        .iter()
        .filter(|s| !s.is_empty())
        .fold(text.to_string(), |acc, secret| {
            acc.replace(secret, "[REDACTED]")
        })
}

/// At most `max` characters, cut on a character boundary, marked when cut.
pub fn excerpt(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::any;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    #[test]
    fn redacts_every_secret() {
        let text = "POST /bot123:ABC/sendMessage failed for 123:ABC";
        assert_eq!(
            redact(text, &["123:ABC", ""]),
            "POST /bot[REDACTED]/sendMessage failed for [REDACTED]"
        );
    }

    #[test]
    fn excerpt_cuts_on_char_boundaries() {
        assert_eq!(excerpt("héllo", 2), "hé…");
        assert_eq!(excerpt("hi", 5), "hi");
    }

    #[test]
    fn retry_after_in_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn statuses_map_to_advice() {
        assert_eq!(
            advice_for_status(429, Some(Duration::from_secs(3))),
            RetryAdvice::RetryAfter(Duration::from_secs(3))
        );
        assert_eq!(advice_for_status(503, None), RetryAdvice::Retry);
        assert_eq!(advice_for_status(400, None), RetryAdvice::Stop);
        assert_eq!(
            advice_for_status(404, Some(Duration::from_secs(1))),
            RetryAdvice::Stop
        );
    }

    #[tokio::test]
    async fn transport_errors_do_not_contain_the_url() {
        // Nothing listens on port 9: the connection is refused.
        let http = client(HttpSettings::default()).unwrap();
        let err = http
            .get("http://127.0.0.1:9/bot123456:SECRET-TOKEN/getMe")
            .send()
            .await
            .unwrap_err();
        let err = HttpError::transport("telegram getMe", err);
        let text = err.to_string();
        assert!(text.starts_with("telegram getMe: request failed"), "{text}");
        assert!(!text.contains("SECRET-TOKEN"), "{text}");
        assert_eq!(err.retry_advice(), RetryAdvice::Retry);
    }

    #[tokio::test]
    async fn status_errors_redact_echoed_secrets() {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("retry-after", "2")
                    .set_body_string("token hooks/T000/SECRETPATH rejected"),
            )
            .mount(&server)
            .await;
        let http = client(HttpSettings::default()).unwrap();
        let resp = http
            .post(format!("{}/hooks/T000/SECRETPATH", server.uri()))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.text().await.unwrap();
        let err = HttpError::status(
            "slack ops",
            status,
            &headers,
            &body,
            &["hooks/T000/SECRETPATH"],
        );
        assert!(!err.to_string().contains("SECRETPATH"), "{err}");
        assert_eq!(
            err.retry_advice(),
            RetryAdvice::RetryAfter(Duration::from_secs(2))
        );
    }
}
