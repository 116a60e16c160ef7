//! The bot's own endpoint, as the function's opt-in probe reaches it: the user's bot behind
//! its webhook URL (and its health URL), reading the same secret token as the function.
//!
//! - Up, checking the token: a POST with the right `X-Telegram-Bot-Api-Secret-Token` gets
//!   200, any other 401 (what a bot that checks the header answers).
//! - Down (a window): every request gets the load balancer's 502, or, one in three, a
//!   connection refused.
//! - Not checking the token (a window: a deploy lost the check): every POST gets 200.
//! - A share of calls fails as any other call of the run does (the kernel's fault plan,
//!   resource `bot-endpoint`): a throttle is a proxy's 503, a server error a 502, a timeout
//!   a connection reset.
//!
//! ASSUMPTION: the endpoint answers or drops the connection at once; an endpoint that
//! hangs (the probe would wait up to its deadline) is not modelled.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use telegram_webhook::probe::Endpoint;
use telegram_webhook::vault::MemoryVault;

use crate::kernel::{lock, Fault, Sim};

/// A stretch of simulated time (from, until).
pub type Window = (DateTime<Utc>, DateTime<Utc>);

/// One probe request: the secret token header sent, and the status answered (none: refused).
pub type ProbeRequest = (String, Option<u16>);

#[derive(Clone)]
pub struct EndpointModel {
    sim: Arc<Sim>,
    /// Where the bot reads its secret token (the function's vault: the same secret).
    secrets: MemoryVault,
    secret_name: &'static str,
    down: Arc<Mutex<Vec<Window>>>,
    unsigned: Arc<Mutex<Vec<Window>>>,
    /// Calls that a drawn fault broke (reset per check by the scenario).
    pub faulted: Arc<Mutex<u64>>,
    /// Every request: (secret token header sent, status or none).
    pub requests: Arc<Mutex<Vec<ProbeRequest>>>,
}

fn within(windows: &Mutex<Vec<Window>>, now: DateTime<Utc>) -> bool {
    lock(windows).iter().any(|(a, b)| *a <= now && now < *b)
}

impl EndpointModel {
    pub fn new(sim: Arc<Sim>, secrets: MemoryVault, secret_name: &'static str) -> Self {
        Self {
            sim,
            secrets,
            secret_name,
            down: Arc::default(),
            unsigned: Arc::default(),
            faulted: Arc::default(),
            requests: Arc::default(),
        }
    }

    pub fn down_during(&self, window: Window) {
        lock(&self.down).push(window);
    }

    pub fn unsigned_during(&self, window: Window) {
        lock(&self.unsigned).push(window);
    }

    pub fn is_down(&self) -> bool {
        within(&self.down, self.sim.now())
    }

    /// The endpoint takes updates without the secret token (and is up to show it).
    pub fn accepts_unsigned(&self) -> bool {
        within(&self.unsigned, self.sim.now()) && !self.is_down()
    }

    /// The answer of the endpoint or what stands in front of it, before the bot looks.
    fn in_front(&self, operation: &str) -> Option<Result<u16, String>> {
        if self.is_down() {
            // Not the scenario's random stream: its other draws stay as they were.
            let refused = lock(&self.requests).len().is_multiple_of(3);
            return Some(if refused {
                Err("error sending request: connection refused".into())
            } else {
                Ok(502)
            });
        }
        let answer = match self.sim.fault("bot-endpoint", operation) {
            Fault::None => return None,
            Fault::Throttle => Ok(503),
            Fault::ServerError => Ok(502),
            Fault::TimeoutBeforeAction | Fault::TimeoutAfterAction => {
                Err("error sending request: connection reset by peer".into())
            }
        };
        *lock(&self.faulted) += 1;
        Some(answer)
    }
}

impl Endpoint for EndpointModel {
    async fn post_update(
        &self,
        _url: &str,
        secret_token: &str,
        update: &Value,
        _wait: Duration,
    ) -> Result<u16, String> {
        let answer = self.in_front("POST").unwrap_or_else(|| {
            let expected = self.secrets.get(self.secret_name);
            let signed = expected.as_deref() == Some(secret_token);
            // The synthetic update is the only one the probe sends; a bot ignores it.
            let harmless = *update == json!({"update_id": 0});
            Ok(if !harmless {
                400
            } else if signed || within(&self.unsigned, self.sim.now()) {
                200
            } else {
                401
            })
        });
        lock(&self.requests).push((secret_token.to_string(), answer.as_ref().ok().copied()));
        answer
    }

    async fn get(&self, _url: &str, _wait: Duration) -> Result<(u16, String), String> {
        let answer = self.in_front("GET").unwrap_or(Ok(200));
        answer.map(|status| {
            let body = if status == 200 {
                json!({"status": "healthy", "mode": "webhook"}).to_string()
            } else {
                "<html>Bad Gateway</html>".to_string()
            };
            (status, body)
        })
    }
}
