//! What a health check found, published as CloudWatch metrics (EMF lines on stdout).
//!
//! Every scheduled check publishes every metric, 1 or 0, so that each alarm gets a datum a
//! run: a problem turns its alarm to ALARM, its end turns it back to OK, and CloudWatch (not
//! this function) holds that state, sends one notice per change, and alarm-fanout threads
//! and de-duplicates them like any alarm. `HealthCheckOk` is 1 only when nothing was found;
//! its alarm treats missing data as breaching, so a check that stops running (or a function
//! that cannot start) is an alarm too. A failure of the check itself (a revoked token, an
//! unreadable secret, Telegram down) is a finding like any other, never a silent error.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::error::Error;

/// One kind of problem; the variant's name is its metric's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Finding {
    /// Telegram answers 401/404 for the bot token: revoked, or no such bot.
    TokenRevoked,
    /// The bot token or the webhook's secret token could not be read (or is not one).
    SecretUnreadable,
    /// Telegram could not be reached or answered with an error.
    TelegramUnreachable,
    /// The webhook differs from what was registered and was not (or could not be) repaired.
    WebhookDrifted,
    /// Telegram reported a recent error delivering an update to the webhook.
    DeliveryErrors,
    /// More updates are waiting than the threshold.
    Backlog,
    /// The function's own settings are invalid.
    ConfigInvalid,
    /// The SNS alert could not be published.
    AlertUndelivered,
    /// Anything else that stopped the check.
    CheckFailed,
    /// The bot's endpoint did not answer a signed probe update with a 2xx, or its health
    /// URL is not healthy in webhook mode (`PROBE_ENDPOINT`).
    EndpointProbeFailed,
    /// The bot's endpoint accepted an update with a wrong secret token: a security problem.
    EndpointAcceptsUnsigned,
}

/// The metric that is 1 when a check found nothing.
pub const HEALTH_CHECK_OK: &str = "HealthCheckOk";

impl Finding {
    pub const ALL: [Finding; 11] = [
        Finding::TokenRevoked,
        Finding::SecretUnreadable,
        Finding::TelegramUnreachable,
        Finding::WebhookDrifted,
        Finding::DeliveryErrors,
        Finding::Backlog,
        Finding::ConfigInvalid,
        Finding::AlertUndelivered,
        Finding::CheckFailed,
        Finding::EndpointProbeFailed,
        Finding::EndpointAcceptsUnsigned,
    ];

    pub fn metric(self) -> &'static str {
        match self {
            Finding::TokenRevoked => "TokenRevoked",
            Finding::SecretUnreadable => "SecretUnreadable",
            Finding::TelegramUnreachable => "TelegramUnreachable",
            Finding::WebhookDrifted => "WebhookDrifted",
            Finding::DeliveryErrors => "DeliveryErrors",
            Finding::Backlog => "Backlog",
            Finding::ConfigInvalid => "ConfigInvalid",
            Finding::AlertUndelivered => "AlertUndelivered",
            Finding::CheckFailed => "CheckFailed",
            Finding::EndpointProbeFailed => "EndpointProbeFailed",
            Finding::EndpointAcceptsUnsigned => "EndpointAcceptsUnsigned",
        }
    }

    /// What a check stopped by this finding could not look at. Their metrics are left out
    /// of its EMF line: the alarms treat missing data as `ignore` and keep their state, so a
    /// problem hidden behind another (a revoked token while the secret is unreadable) is
    /// neither reported as ended nor raised a second time when the other one ends.
    pub fn hides(self) -> Vec<Finding> {
        self.hidden()
            .iter()
            .copied()
            .filter(|f| *f != self)
            .collect()
    }

    fn hidden(self) -> &'static [Finding] {
        use Finding::*;
        const AFTER_TELEGRAM: [Finding; 5] = [
            WebhookDrifted,
            DeliveryErrors,
            Backlog,
            EndpointProbeFailed,
            EndpointAcceptsUnsigned,
        ];
        match self {
            ConfigInvalid => &[
                TokenRevoked,
                SecretUnreadable,
                TelegramUnreachable,
                WebhookDrifted,
                DeliveryErrors,
                Backlog,
                EndpointProbeFailed,
                EndpointAcceptsUnsigned,
            ],
            // Telegram answered: the token is known to be revoked, nothing past it.
            TokenRevoked => &AFTER_TELEGRAM,
            TelegramUnreachable => &[
                TokenRevoked,
                WebhookDrifted,
                DeliveryErrors,
                Backlog,
                EndpointProbeFailed,
                EndpointAcceptsUnsigned,
            ],
            // Stopped before Telegram was asked (the token, the registration record).
            _ => &[
                TokenRevoked,
                TelegramUnreachable,
                WebhookDrifted,
                DeliveryErrors,
                Backlog,
                EndpointProbeFailed,
                EndpointAcceptsUnsigned,
            ],
        }
    }

    /// What an error that stopped the check stands for.
    pub fn of_error(err: &Error) -> Finding {
        match err {
            Error::Telegram(e) if e.bot_gone() => Finding::TokenRevoked,
            Error::Telegram(_) => Finding::TelegramUnreachable,
            Error::Secret(_)
            | Error::NotABotToken { .. }
            | Error::BadSecretToken { .. }
            | Error::SecretCreate { .. }
            | Error::SecretStore { .. } => Finding::SecretUnreadable,
            Error::Config(_) | Error::Misconfigured(_) | Error::Invalid { .. } => {
                Finding::ConfigInvalid
            }
            Error::Verification(_) => Finding::WebhookDrifted,
            Error::Alert(_) => Finding::AlertUndelivered,
            Error::BadEvent(_)
            | Error::CustomResource(_)
            | Error::Registry(_)
            | Error::RegistryCall { .. }
            | Error::HttpClient(_) => Finding::CheckFailed,
        }
    }
}

/// One EMF line: every finding's metric (1 when found, else 0; left out when the check
/// could not look: `unknown`) and `HealthCheckOk`, with a `Function` dimension (the alarms
/// in the template name it).
pub fn emf(
    namespace: &str,
    function: &str,
    findings: &[Finding],
    unknown: &[Finding],
    timestamp_ms: i64,
) -> Value {
    let mut metrics = vec![json!({"Name": HEALTH_CHECK_OK, "Unit": "Count"})];
    let mut line = Map::new();
    line.insert("Function".into(), json!(function));
    line.insert(
        HEALTH_CHECK_OK.into(),
        json!(if findings.is_empty() { 1 } else { 0 }),
    );
    for finding in Finding::ALL {
        if unknown.contains(&finding) && !findings.contains(&finding) {
            continue;
        }
        metrics.push(json!({"Name": finding.metric(), "Unit": "Count"}));
        line.insert(
            finding.metric().into(),
            json!(u8::from(findings.contains(&finding))),
        );
    }
    line.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["Function"]],
                "Metrics": metrics,
            }],
        }),
    );
    Value::Object(line)
}

/// Where EMF lines go: stdout in Lambda (CloudWatch Logs extracts the metrics), memory in
/// tests.
#[derive(Clone, Default)]
pub enum MetricsSink {
    #[default]
    Stdout,
    Memory(Arc<Mutex<Vec<Value>>>),
}

impl MetricsSink {
    pub fn memory() -> Self {
        MetricsSink::Memory(Arc::default())
    }

    pub fn emit(&self, line: Value) {
        match self {
            // One line, outside the JSON log subscriber: EMF must be a top-level object.
            MetricsSink::Stdout => println!("{line}"),
            MetricsSink::Memory(lines) => {
                if let Ok(mut lines) = lines.lock() {
                    lines.push(line);
                }
            }
        }
    }

    /// What was emitted (memory sink; empty for stdout).
    pub fn lines(&self) -> Vec<Value> {
        match self {
            MetricsSink::Stdout => Vec::new(),
            MetricsSink::Memory(lines) => lines.lock().map(|l| l.clone()).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_is_published_each_run() {
        let line = emf(
            "groundcrew/telegram-webhook",
            "gc-telegram-webhook",
            &[Finding::TokenRevoked],
            &[],
            1_800_000_000_000,
        );
        assert_eq!(line[HEALTH_CHECK_OK], 0);
        assert_eq!(line["TokenRevoked"], 1);
        assert_eq!(line["Backlog"], 0);
        assert_eq!(line["Function"], "gc-telegram-webhook");
        let declared = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(declared, Finding::ALL.len() + 1);
        let healthy = emf("ns", "f", &[], &[], 0);
        assert_eq!(healthy[HEALTH_CHECK_OK], 1);
        assert!(Finding::ALL.iter().all(|f| healthy[f.metric()] == 0));
    }

    #[test]
    fn what_a_stopped_check_could_not_see_is_left_out() {
        let stopped = Finding::SecretUnreadable;
        let line = emf("ns", "f", &[stopped], &stopped.hides(), 0);
        assert_eq!(line[HEALTH_CHECK_OK], 0);
        assert_eq!(line["SecretUnreadable"], 1);
        assert_eq!(line["ConfigInvalid"], 0);
        assert!(line.get("TokenRevoked").is_none(), "{line}");
        assert!(line.get("Backlog").is_none(), "{line}");
        let declared: Vec<&str> = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["Name"].as_str())
            .collect();
        assert!(!declared.contains(&"TokenRevoked"), "{declared:?}");
        assert_eq!(
            declared.len(),
            Finding::ALL.len() + 1 - stopped.hides().len()
        );
        // A revoked token: Telegram answered, so it is reachable; nothing past it was seen.
        let line = emf(
            "ns",
            "f",
            &[Finding::TokenRevoked],
            &Finding::TokenRevoked.hides(),
            0,
        );
        assert_eq!(line["TelegramUnreachable"], 0);
        assert!(line.get("WebhookDrifted").is_none());
        for f in Finding::ALL {
            assert!(!f.hides().contains(&f), "{f:?} hides itself");
        }
    }

    #[test]
    fn findings_serialize_as_their_metric_names() {
        for f in Finding::ALL {
            assert_eq!(serde_json::to_value(f).unwrap(), json!(f.metric()));
        }
    }
}
