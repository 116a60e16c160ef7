//! What the HTTP-peer tests share (`tests/http.rs`, `tests/receivers.rs`): the receivers
//! over reqwest against a wiremock server, with in-memory secrets, no SNS and quick
//! retries, and the requests the server saw.

#![allow(dead_code)] // each test file uses its own part

use std::time::Duration;

use alarm_fanout::receivers::{Endpoints, Publisher, Receivers, SendError};
use alarm_fanout::transport::ReqwestTransport;
use groundcrew::http::HttpSettings;
use groundcrew::retry::RetryPolicy;
use groundcrew::secrets::{CachedSecrets, InMemorySecretStore};
use groundcrew::Deadline;
use serde_json::Value;
use wiremock::{MockServer, Request};

/// SNS receivers are not tested here.
pub struct NoSns;

impl Publisher for NoSns {
    async fn publish(&self, _t: &str, _s: &str, _m: &str) -> Result<(), SendError> {
        Ok(())
    }
}

pub type Tested = Receivers<InMemorySecretStore, NoSns, ReqwestTransport>;

/// The receivers with `secrets` and `endpoints`, requests timing out after
/// `request_timeout`, three attempts 10 to 50 ms apart.
pub fn receivers(
    secrets: InMemorySecretStore,
    endpoints: Endpoints,
    request_timeout: Duration,
) -> Tested {
    Receivers::with_transport(
        ReqwestTransport::new(http(request_timeout)).unwrap(),
        CachedSecrets::new(secrets, Duration::from_secs(60)),
        NoSns,
        endpoints,
        RetryPolicy {
            max_attempts: 3,
            min_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            ..RetryPolicy::default()
        },
    )
}

pub fn http(request_timeout: Duration) -> HttpSettings {
    HttpSettings {
        connect_timeout: Duration::from_secs(2),
        request_timeout,
    }
}

pub fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(20))
}

/// The requests whose path `matches`, with their JSON bodies (`null` when not JSON).
pub async fn requests(
    server: &MockServer,
    matches: impl Fn(&str) -> bool,
) -> Vec<(Request, Value)> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| matches(r.url.path()))
        .map(|r| {
            let body = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            (r, body)
        })
        .collect()
}
