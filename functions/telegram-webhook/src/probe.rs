//! The bot's own endpoint, probed the way Telegram calls it (opt-in: `PROBE_ENDPOINT`).
//!
//! `getWebhookInfo` tells what Telegram thinks; the endpoint can still be broken or, worse,
//! accept updates that do not carry the secret token (anyone could then send the bot
//! updates). So the probe POSTs a harmless synthetic update, `{"update_id": 0}`: no message,
//! no callback, nothing a bot acts on (an update of no known kind, which bots ignore), first
//! with the secret token header, expecting a 2xx within Telegram's 60 s, then with a wrong
//! header, expecting a refusal. The bot does see both requests, hence opt-in. Optionally it
//! GETs the application's health URL (`HEALTH_URL`, for example `/api/telegram/health`
//! answering `{"status":"healthy","mode":"webhook"}`) and checks the mode.
//!
//! The requests go through [`Endpoint`], so that the simulation can put a model of the
//! bot's endpoint behind them; [`HttpEndpoint`] is the production one over reqwest.

use std::future::Future;
use std::time::Duration;

use groundcrew::http::{excerpt, redact};
use groundcrew::Deadline;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::health::Finding;

/// The header Telegram sends the secret token in.
pub const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";
/// Telegram gives a webhook this long to answer.
pub const TELEGRAM_TIMEOUT: Duration = Duration::from_secs(60);
/// What the wrong-header probe sends instead of the token.
pub const WRONG_TOKEN: &str = "groundcrew-probe-wrong-token";

/// The synthetic update: nothing in it for a bot to act on.
pub fn synthetic_update() -> Value {
    json!({"update_id": 0})
}

/// The bot's endpoint as the probe sees it. Errors are texts free of the URL (a webhook
/// URL may carry a path the operator considers private).
pub trait Endpoint: Send + Sync {
    /// POSTs `update` as JSON with `secret_token` in [`SECRET_HEADER`]; the HTTP status.
    fn post_update(
        &self,
        url: &str,
        secret_token: &str,
        update: &Value,
        wait: Duration,
    ) -> impl Future<Output = Result<u16, String>> + Send;
    /// GETs `url`; the HTTP status and the body.
    fn get(
        &self,
        url: &str,
        wait: Duration,
    ) -> impl Future<Output = Result<(u16, String), String>> + Send;
}

/// [`Endpoint`] over the function's reqwest client.
#[derive(Debug, Clone)]
pub struct HttpEndpoint(pub reqwest::Client);

impl Endpoint for HttpEndpoint {
    async fn post_update(
        &self,
        url: &str,
        secret_token: &str,
        update: &Value,
        wait: Duration,
    ) -> Result<u16, String> {
        self.0
            .post(url)
            .header(SECRET_HEADER, secret_token)
            .json(update)
            .timeout(wait)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(|e| e.without_url().to_string())
    }

    async fn get(&self, url: &str, wait: Duration) -> Result<(u16, String), String> {
        let response = self
            .0
            .get(url)
            .timeout(wait)
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        let status = response.status().as_u16();
        // A body that cannot be read is judged like an empty one: the status decides.
        let body = response.text().await.unwrap_or_default();
        Ok((status, body))
    }
}

/// The part of the application's health answer the probe reads; the rest is the
/// application's business.
#[derive(Debug, Deserialize)]
struct HealthAnswer {
    mode: Option<String>,
}

fn ok(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Whether a failed request is worth one more try: no answer, or a 5xx (Telegram, too,
/// retries a delivery that failed so; one dropped connection is not a broken endpoint).
fn worth_retrying(status: Result<u16, &String>) -> bool {
    status.map_or(true, |status| status >= 500)
}

/// What a probe found, each finding with why (token-free), and what it could not tell.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Probed {
    pub found: Vec<(Finding, String)>,
    /// Left out of the metrics, so that the alarm keeps its state: the wrong-header probe
    /// got no answer, or a 5xx, which says nothing of whether the bot checks the token.
    pub unknown: Vec<Finding>,
}

/// Probes `url` (and `health_url`).
pub async fn probe<E: Endpoint>(
    endpoint: &E,
    url: &str,
    token: &str,
    health_url: Option<&str>,
    deadline: Deadline,
) -> Probed {
    let mut found = Vec::new();
    let mut unknown = Vec::new();
    let clean = |text: String| excerpt(&redact(&text, &[token]), 300);
    let update = synthetic_update();
    let wait = || deadline.remaining().min(TELEGRAM_TIMEOUT);
    let mut signed = endpoint.post_update(url, token, &update, wait()).await;
    if worth_retrying(signed.as_ref().copied()) && !deadline.remaining().is_zero() {
        signed = endpoint.post_update(url, token, &update, wait()).await;
    }
    match signed {
        Ok(status) if ok(status) => {}
        Ok(status) => found.push((
            Finding::EndpointProbeFailed,
            format!("the webhook endpoint answered a signed probe update with HTTP {status}"),
        )),
        Err(e) => found.push((
            Finding::EndpointProbeFailed,
            clean(format!(
                "the webhook endpoint did not answer a signed probe update: {e}"
            )),
        )),
    }
    // Only a 2xx (accepted) or a 4xx (refused) tells whether the bot checks the token.
    match endpoint
        .post_update(url, WRONG_TOKEN, &update, wait())
        .await
    {
        Ok(status) if ok(status) => found.push((
            Finding::EndpointAcceptsUnsigned,
            format!(
                "the webhook endpoint accepted an update with a wrong {SECRET_HEADER} (HTTP {status}): it does not check the secret token"
            ),
        )),
        Ok(status) if (400..500).contains(&status) => {}
        _ => unknown.push(Finding::EndpointAcceptsUnsigned),
    }
    if let Some(health) = health_url {
        let mut answer = endpoint.get(health, wait()).await;
        if worth_retrying(answer.as_ref().map(|(s, _)| *s)) && !deadline.remaining().is_zero() {
            answer = endpoint.get(health, wait()).await;
        }
        if let Some(problem) = judge_health(answer) {
            found.push((Finding::EndpointProbeFailed, clean(problem)));
        }
    }
    Probed { found, unknown }
}

/// Why the health URL's answer is not healthy in webhook mode, if it is not.
fn judge_health(answer: Result<(u16, String), String>) -> Option<String> {
    let (status, body) = match answer {
        Ok(answer) => answer,
        Err(e) => return Some(format!("the health URL did not answer: {e}")),
    };
    if !ok(status) {
        return Some(format!("the health URL answered HTTP {status}"));
    }
    // A 2xx that is not our JSON says nothing about the mode: healthy by its status.
    let mode = serde_json::from_str::<HealthAnswer>(&body)
        .ok()
        .and_then(|a| a.mode);
    match mode.as_deref() {
        Some("webhook") | None => None,
        Some(other) => Some(format!(
            "the health URL reports mode {:?}, not \"webhook\"",
            excerpt(other, 40)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// An endpoint answering the signed probes from a script, then 200; the unsigned 401.
    struct Scripted(Mutex<Vec<Result<u16, String>>>);

    impl Endpoint for Scripted {
        async fn post_update(
            &self,
            _: &str,
            token: &str,
            _: &Value,
            _: Duration,
        ) -> Result<u16, String> {
            if token == WRONG_TOKEN {
                return Ok(401);
            }
            let mut script = self.0.lock().unwrap();
            if script.is_empty() {
                Ok(200)
            } else {
                script.remove(0)
            }
        }

        async fn get(&self, _: &str, _: Duration) -> Result<(u16, String), String> {
            Ok((200, "not json".into()))
        }
    }

    async fn found(script: Vec<Result<u16, String>>) -> Vec<Finding> {
        let endpoint = Scripted(Mutex::new(script));
        let deadline = Deadline::after(Duration::from_secs(60));
        probe(
            &endpoint,
            "https://bot.example.com/hook",
            "t0ken",
            Some("https://h"),
            deadline,
        )
        .await
        .found
        .into_iter()
        .map(|(f, _)| f)
        .collect()
    }

    #[tokio::test]
    async fn one_dropped_answer_is_tried_again_two_are_a_finding() {
        assert_eq!(found(vec![Err("connection reset".into())]).await, []);
        assert_eq!(found(vec![Ok(502)]).await, []);
        assert_eq!(
            found(vec![Ok(502), Err("timed out".into())]).await,
            [Finding::EndpointProbeFailed]
        );
        // A refusal is an answer: not tried again.
        assert_eq!(found(vec![Ok(403)]).await, [Finding::EndpointProbeFailed]);
    }
}
