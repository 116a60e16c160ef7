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

use std::time::Duration;

use groundcrew::http::{excerpt, redact};
use groundcrew::Deadline;
use serde_json::{json, Value};

use crate::health::Finding;

/// The header Telegram sends the secret token in.
pub const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";
/// Telegram gives a webhook this long to answer.
pub const TELEGRAM_TIMEOUT: Duration = Duration::from_secs(60);
/// What the wrong-header probe sends instead of the token.
const WRONG_TOKEN: &str = "groundcrew-probe-wrong-token";

/// The synthetic update: nothing in it for a bot to act on.
pub fn synthetic_update() -> Value {
    json!({"update_id": 0})
}

/// Probes `url` (and `health_url`); returns what was found, each with why (token-free).
pub async fn probe(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    health_url: Option<&str>,
    deadline: Deadline,
) -> Vec<(Finding, String)> {
    let mut found = Vec::new();
    let wait = deadline.remaining().min(TELEGRAM_TIMEOUT);
    let clean = |text: String| excerpt(&redact(&text, &[token]), 300);
    match post(http, url, token, wait).await {
        Ok(status) if (200..300).contains(&status) => {}
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
    let wait = deadline.remaining().min(TELEGRAM_TIMEOUT);
    if let Ok(status) = post(http, url, WRONG_TOKEN, wait).await {
        if (200..300).contains(&status) {
            found.push((
                Finding::EndpointAcceptsUnsigned,
                format!(
                    "the webhook endpoint accepted an update with a wrong {SECRET_HEADER} (HTTP {status}): it does not check the secret token"
                ),
            ));
        }
    }
    if let Some(health) = health_url {
        let wait = deadline.remaining().min(TELEGRAM_TIMEOUT);
        if let Some(problem) = check_health(http, health, wait).await {
            found.push((Finding::EndpointProbeFailed, clean(problem)));
        }
    }
    found
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    wait: Duration,
) -> Result<u16, String> {
    http.post(url)
        .header(SECRET_HEADER, token)
        .json(&synthetic_update())
        .timeout(wait)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| e.without_url().to_string())
}

/// Why the health URL is not healthy in webhook mode, if it is not.
async fn check_health(http: &reqwest::Client, url: &str, wait: Duration) -> Option<String> {
    let response = match http.get(url).timeout(wait).send().await {
        Ok(r) => r,
        Err(e) => {
            return Some(format!(
                "the health URL did not answer: {}",
                e.without_url()
            ))
        }
    };
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        return Some(format!("the health URL answered HTTP {status}"));
    }
    let body: Value = response.json().await.unwrap_or(Value::Null);
    match body.get("mode").and_then(Value::as_str) {
        Some("webhook") | None => None,
        Some(other) => Some(format!(
            "the health URL reports mode {:?}, not \"webhook\"",
            excerpt(other, 40)
        )),
    }
}
