//! alarm-fanout's receivers (Telegram, Slack, Google Chat, PagerDuty, a webhook, an SNS
//! email topic) as one model under the function's own HTTP transport and SNS publisher
//! seams, so that the function's retry, 429 and timeout handling run for real.
//!
//! Each request draws a fault keyed by (receiver, "send", nth call):
//! - `ServerError`: HTTP 500, nothing shown;
//! - `Throttle`: HTTP 429 with Telegram's `parameters.retry_after` of 1 s (Telegram's
//!   documented error shape; the value is an assumption), nothing shown;
//! - `TimeoutBeforeAction`: no answer within the function's 10 s request timeout, nothing
//!   shown;
//! - `TimeoutAfterAction`: the receiver shows the message, and the answer is lost after the
//!   10 s timeout (the ambiguous case).
//!
//! An outage makes one receiver answer 503 to everything for a while (the dead-letter path).
//!
//! With `telegram_limits`, the `tg` chat answers 429 with `retry_after` beyond a group's
//! limits (see [`TG_PER_MINUTE`]), and every request to `tg` (1 a second, 20 a minute) and
//! to `slack` (1 a second) is checked against those limits as it arrives: the invariant
//! "no chat exceeds its limits", whether or not the request then succeeds.
//!
//! A digest (a message whose first line starts with 📋) shows one alarm per line; its
//! "… and N more" line counts alarms it does not list.
//!
//! What a receiver shows is read back from the message as a person would: the alarm's name
//! (`storm-N…`), its state (the headline's emoji; PagerDuty: `trigger` or `resolve`) and its state change time
//! (the `YYYY-MM-DD HH:MM:SS UTC` line every format carries).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alarm_fanout::receivers::{HttpAnswer, Publisher, SendError, Transport, TransportError};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::kernel::{lock, Fault, Sim};

/// The request timeout the scenario configures (the function's default, `HTTP_TIMEOUT_SECONDS`).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// One message a receiver showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub alarm: String,
    /// `ALARM`, `OK`, `INSUFFICIENT_DATA`; PagerDuty: `trigger` or `resolve`.
    pub state: String,
    /// The state change time, as the message prints it (second precision).
    pub time: String,
    /// Shown as a line of a digest.
    pub digest: bool,
}

#[derive(Debug, Default)]
pub struct Logs {
    /// What each receiver showed, in order.
    pub shown: BTreeMap<String, Vec<Shown>>,
    /// Requests a receiver showed but whose answer was lost, per (receiver, alarm, time).
    pub ambiguous: BTreeMap<(String, String, String), u32>,
    /// Order violations seen as they happened: (receiver, alarm, older shown after newer).
    pub out_of_order: Vec<String>,
    /// Messages shown per (receiver, minute of simulated time).
    pub per_minute: BTreeMap<(String, i64), u64>,
    /// 429s Telegram's limits answered.
    pub telegram_429: u64,
    /// When each receiver last showed a message.
    pub last_at: BTreeMap<String, DateTime<Utc>>,
    /// Requests each paced receiver got in the last minute.
    requests: BTreeMap<String, Vec<DateTime<Utc>>>,
    /// Requests over a chat's limits: (receiver, what).
    pub over_limit: Vec<String>,
    /// Per receiver: digests shown, and the alarms they counted without a line.
    pub digests: BTreeMap<String, u64>,
    pub counted: BTreeMap<String, u64>,
}

/// Every receiver of the scenario, told apart by the request's URL (the path names it).
#[derive(Clone)]
pub struct ReceiverModel {
    sim: Arc<Sim>,
    pub logs: Arc<Mutex<Logs>>,
    /// A receiver down (HTTP 503 to everything) from one time to another.
    pub outage: Option<(&'static str, DateTime<Utc>, DateTime<Utc>)>,
    /// Telegram enforces its group limits (below) on the `tg` chat.
    pub telegram_limits: bool,
    /// When the `tg` chat accepted its messages.
    tg_accepted: Arc<Mutex<Vec<DateTime<Utc>>>>,
}

/// Telegram's limits for one group chat: about 1 message a second and 20 a minute (Bot API
/// FAQ, "My bot is hitting limits"); beyond them it answers 429 with `retry_after`. The
/// sliding one-minute window is this model's assumption about how the limit is counted.
const TG_PER_MINUTE: usize = 20;

fn receiver_of(url: &str) -> &'static str {
    if url.contains("/bot") {
        "tg"
    } else if url.contains("/slack/") {
        "slack"
    } else if url.contains("/chat/") {
        "chat"
    } else if url.contains("/v2/enqueue") {
        "pd"
    } else {
        "hook"
    }
}

/// A digest's lines (alarms it lists) and the number it counts without a line; `None` when
/// the message is not a digest.
pub fn read_digest(text: &str) -> Option<(Vec<String>, u64)> {
    if !text.contains('📋') {
        return None;
    }
    // A Slack body is JSON text: its line breaks are the two characters `\n`.
    let text = text.replace("\\n", "\n");
    let lines: Vec<String> = text
        .lines()
        .skip(1)
        .filter(|l| l.contains("storm-"))
        .map(str::to_string)
        .collect();
    let counted = text
        .split("… and ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Some((lines, counted))
}

/// `storm-NN`, the state and the time line, from any format's text.
pub fn read_shown(receiver: &str, text: &str) -> Option<Shown> {
    let at = text.find("storm-")?;
    let digits = text[at + 6..]
        .chars()
        .take_while(char::is_ascii_digit)
        .count();
    let alarm = text.get(at..at + 6 + digits)?.to_string();
    let state = if receiver == "pd" {
        if text.contains("\"resolve\"") {
            "resolve"
        } else {
            "trigger"
        }
    } else {
        // The headline's emoji (a composite rule's text names ALARM whatever the state).
        [("🔴", "ALARM"), ("✅", "OK"), ("⚪", "INSUFFICIENT_DATA")]
            .iter()
            .filter_map(|(emoji, state)| text.find(emoji).map(|at| (at, *state)))
            .min()?
            .1
    };
    let time_at = text.find(" UTC")?;
    let time = text.get(time_at.checked_sub(19)?..time_at)?.to_string();
    Some(Shown {
        alarm,
        state: state.to_string(),
        time,
        digest: false,
    })
}

impl ReceiverModel {
    pub fn new(sim: Arc<Sim>) -> Self {
        Self {
            sim,
            logs: Arc::new(Mutex::new(Logs::default())),
            outage: None,
            telegram_limits: false,
            tg_accepted: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The receiver shows the message: one alarm, or a digest's lines.
    fn show(&self, receiver: &str, text: &str, ambiguous: bool) {
        let minute = self.sim.now().timestamp() / 60;
        {
            let mut logs = lock(&self.logs);
            *logs
                .per_minute
                .entry((receiver.to_string(), minute))
                .or_default() += 1;
            logs.last_at.insert(receiver.to_string(), self.sim.now());
        }
        match read_digest(text) {
            Some((lines, counted)) => {
                {
                    let mut logs = lock(&self.logs);
                    *logs.digests.entry(receiver.to_string()).or_default() += 1;
                    *logs.counted.entry(receiver.to_string()).or_default() += counted;
                }
                self.sim.trace(format!(
                    "{receiver} shows a digest of {} lines, {counted} counted",
                    lines.len()
                ));
                for line in lines {
                    if let Some(mut shown) = read_shown(receiver, &line) {
                        shown.digest = true;
                        self.show_one(receiver, shown, ambiguous);
                    }
                }
            }
            None => {
                if let Some(shown) = read_shown(receiver, text) {
                    self.show_one(receiver, shown, ambiguous);
                }
            }
        }
    }

    /// Checks a request to a paced receiver against its limits as it arrives.
    fn check_limits(&self, receiver: &str) {
        let per_minute = match receiver {
            "tg" => TG_PER_MINUTE,
            "slack" => usize::MAX,
            _ => return,
        };
        let now = self.sim.now();
        let mut logs = lock(&self.logs);
        let times = logs.requests.entry(receiver.to_string()).or_default();
        times.retain(|t| now - *t < chrono::Duration::seconds(60));
        let too_soon = times
            .last()
            .is_some_and(|t| now - *t < chrono::Duration::seconds(1));
        times.push(now);
        let in_minute = times.len();
        let ok = !too_soon && in_minute <= per_minute;
        if !ok {
            logs.over_limit.push(format!(
                "{receiver} at {now}: {in_minute} in a minute, too soon: {too_soon}"
            ));
        }
        drop(logs);
        self.sim.check(
            "alarm-fanout: no chat exceeds its limits (1 a second; a group 20 a minute)",
            ok,
            || format!("{receiver} at {now}: {in_minute} requests in the last minute, one less than a second before: {too_soon}"),
        );
    }

    fn show_one(&self, receiver: &str, shown: Shown, ambiguous: bool) {
        let mut logs = lock(&self.logs);
        let list = logs.shown.entry(receiver.to_string()).or_default();
        let older = list
            .iter()
            .rev()
            .find(|s| s.alarm == shown.alarm)
            .is_some_and(|last| shown.time < last.time);
        list.push(shown.clone());
        self.sim.check(
            "alarm-fanout: no receiver shows an older state after a newer",
            !older,
            || format!("{receiver} {} {} {}", shown.alarm, shown.state, shown.time),
        );
        if older {
            logs.out_of_order.push(format!(
                "{receiver} {} {} {}",
                shown.alarm, shown.state, shown.time
            ));
        }
        if ambiguous {
            *logs
                .ambiguous
                .entry((
                    receiver.to_string(),
                    shown.alarm.clone(),
                    shown.time.clone(),
                ))
                .or_default() += 1;
        }
        self.sim.trace(format!(
            "{receiver} shows {} {} {}",
            shown.alarm, shown.state, shown.time
        ));
    }

    /// Seconds until the `tg` chat may take another message (zero: now), and takes it.
    fn telegram_wait(&self) -> u64 {
        let now = self.sim.now();
        let mut accepted = lock(&self.tg_accepted);
        accepted.retain(|t| now - *t < chrono::Duration::seconds(60));
        let last_second = accepted
            .last()
            .is_some_and(|t| now - *t < chrono::Duration::seconds(1));
        if accepted.len() >= TG_PER_MINUTE {
            let oldest = accepted[0];
            return (oldest + chrono::Duration::seconds(60) - now)
                .num_seconds()
                .max(1) as u64;
        }
        if last_second {
            return 1;
        }
        accepted.push(now);
        0
    }

    async fn request(&self, receiver: &str, text: &str) -> Result<(), Fault> {
        let now = self.sim.now();
        if self
            .outage
            .is_some_and(|(down, from, to)| down == receiver && from <= now && now < to)
        {
            return Err(Fault::ServerError);
        }
        match self.sim.fault(receiver, "send") {
            Fault::None => {
                self.show(receiver, text, false);
                Ok(())
            }
            Fault::TimeoutAfterAction => {
                self.show(receiver, text, true);
                tokio::time::sleep(REQUEST_TIMEOUT).await;
                Err(Fault::TimeoutAfterAction)
            }
            Fault::TimeoutBeforeAction => {
                tokio::time::sleep(REQUEST_TIMEOUT).await;
                Err(Fault::TimeoutBeforeAction)
            }
            other => Err(other),
        }
    }
}

impl Transport for ReceiverModel {
    async fn post_json(&self, url: &str, body: &Value) -> Result<HttpAnswer, TransportError> {
        let receiver = receiver_of(url);
        if self.telegram_limits {
            self.check_limits(receiver);
        }
        let answer = |status: u16, body: &str| HttpAnswer {
            status,
            retry_after: None,
            body: body.to_string(),
        };
        if receiver == "tg" && self.telegram_limits {
            let wait = self.telegram_wait();
            if wait > 0 {
                lock(&self.logs).telegram_429 += 1;
                return Ok(answer(
                    429,
                    &format!(
                        r#"{{"ok":false,"error_code":429,"description":"Too Many Requests: retry after {wait}","parameters":{{"retry_after":{wait}}}}}"#
                    ),
                ));
            }
        }
        match self.request(receiver, &body.to_string()).await {
            Ok(()) => Ok(answer(200, r#"{"ok":true}"#)),
            Err(Fault::Throttle) => Ok(answer(
                429,
                r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}"#,
            )),
            Err(Fault::ServerError) => Ok(answer(500, "internal error")),
            Err(_) => Err(TransportError {
                reason: "operation timed out".into(),
                timed_out: true,
            }),
        }
    }
}

impl Publisher for ReceiverModel {
    async fn publish(&self, _topic: &str, subject: &str, message: &str) -> Result<(), SendError> {
        match self.request("mail", &format!("{subject}\n{message}")).await {
            Ok(()) => Ok(()),
            Err(f) => Err(SendError::Sns {
                reason: format!("{f:?}"),
                retryable: true,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_each_format_shows() {
        let tg = "🔴 <b>ALARM</b> · <b>storm-07</b>\n<b>Time:</b> 2026-11-21 21:30:42 UTC";
        let ok = "✅ OK: storm-07\nRule: ALARM(a) OR ALARM(b)\nTime: 2026-11-21 21:30:42 UTC";
        assert_eq!(read_shown("mail", ok).unwrap().state, "OK");
        assert_eq!(
            read_shown("tg", tg),
            Some(Shown {
                alarm: "storm-07".into(),
                state: "ALARM".into(),
                time: "2026-11-21 21:30:42".into(),
                digest: false,
            })
        );
        let digest = "<b>📋 40 notices while this chat was at its message limit:</b>\n🔴 storm-07 · ALARM · 2026-11-21 21:30:42 UTC (2 changes)\n✅ storm-08 · OK · 2026-11-21 21:30:50 UTC\n… and 37 more (see CloudWatch)";
        let (lines, counted) = read_digest(digest).unwrap();
        assert_eq!((lines.len(), counted), (2, 37));
        assert_eq!(read_shown("tg", &lines[1]).unwrap().state, "OK");
        let slack = serde_json::json!({"text": digest.replace("<b>", "*").replace("</b>", "*")})
            .to_string();
        assert_eq!(read_digest(&slack).unwrap().0.len(), 2);
        assert_eq!(read_digest(tg), None);
        let pd = r#"{"event_action":"resolve","payload":{"summary":"✅ OK: storm-07 · Time: 2026-11-21 21:30:42 UTC"}}"#;
        assert_eq!(read_shown("pd", pd).unwrap().state, "resolve");
        assert_eq!(read_shown("hook", "no alarm here"), None);
    }
}
