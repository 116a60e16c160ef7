//! Messages made for each receiver: Telegram HTML, Slack blocks, Google Chat text with a
//! thread per alarm, PagerDuty Events v2, SNS (email/SMS) text and a JSON webhook body.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::html;
use crate::notice::{Alarm, Body, Notice, State};
use crate::routing::Receiver;
use crate::severity::Severity;
use crate::threads::{Role, Thread};

mod bodies;
pub use bodies::*;

/// Google Chat's limit on a message, in bytes.
pub const GOOGLE_CHAT_MAX_BYTES: usize = 32_000;
/// SNS's limit on a message, in bytes (256 KiB).
pub const SNS_MAX_BYTES: usize = 262_144;
/// PagerDuty's limit on `dedup_key`, in characters.
pub const PAGERDUTY_DEDUP_KEY_MAX: usize = 255;
/// Telegram's limit on a message's text, in characters.
pub const TELEGRAM_MAX_CHARS: usize = 4096;

/// The complete outgoing message for one receiver; only secrets are added when sending
/// (the Telegram bot token in the URL, the PagerDuty routing key in the body).
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// Telegram HTML, in parts sent in order (each within Telegram's limit).
    Telegram {
        parts: Vec<String>,
    },
    /// A JSON body for Slack, Google Chat or a webhook.
    Json(Value),
    /// A PagerDuty Events v2 event without its `routing_key`.
    Pagerduty(Value),
    Sns {
        subject: String,
        message: String,
    },
    /// An alarm's message in a chat that threads (Telegram, Slack through a bot token).
    Threaded(Box<Threaded>),
}

/// A message with its place in the alarm's thread.
#[derive(Debug, Clone, PartialEq)]
pub struct Threaded {
    pub message: Message,
    pub thread: Thread,
    /// A picture of the alarm to send after the text (receivers that opted in).
    pub picture: Option<PictureRequest>,
}

/// Which alarm to draw, and the line shown with its picture.
#[derive(Debug, Clone, PartialEq)]
pub struct PictureRequest {
    pub alarm_name: String,
    pub caption: String,
}

/// Telegram's limit on a photo's caption, in characters.
pub const TELEGRAM_CAPTION_MAX_CHARS: usize = 1024;

/// A picture for a metric alarm (not a composite one) going into ALARM, when the receiver
/// asked for pictures.
pub fn picture(receiver: &Receiver, notice: &Notice) -> Option<PictureRequest> {
    let wanted = matches!(
        receiver,
        Receiver::Telegram { picture: true, .. } | Receiver::SlackBot { picture: true, .. }
    );
    let alarm = notice
        .alarm()
        .filter(|a| a.state == State::Alarm && a.rule.is_none())?;
    wanted.then(|| PictureRequest {
        alarm_name: alarm.name.clone(),
        caption: groundcrew::http::excerpt(
            &format!(
                "{} · last {} hours",
                headline(notice),
                crate::picture::HOURS
            ),
            TELEGRAM_CAPTION_MAX_CHARS - 1,
        ),
    })
}

impl Message {
    /// How many requests sending it takes.
    pub fn parts(&self) -> usize {
        match self {
            Self::Telegram { parts } => parts.len(),
            Self::Threaded(t) => t.message.parts(),
            _ => 1,
        }
    }

    /// The message without its thread.
    pub fn plain(&self) -> &Message {
        match self {
            Self::Threaded(t) => t.message.plain(),
            other => other,
        }
    }
}

/// The alarm's thread: its ALARM (or INSUFFICIENT_DATA) starts one, its reminders follow
/// it, its OK replies.
pub fn thread(notice: &Notice) -> Option<Thread> {
    notice.alarm().map(|a| Thread {
        alarm: a.key(),
        role: match a.state {
            State::Ok => Role::Reply,
            _ if notice.reminder => Role::Remind,
            _ => Role::Start,
        },
    })
}

fn threaded(message: Message, notice: &Notice, receiver: &Receiver) -> Message {
    match thread(notice) {
        Some(thread) => Message::Threaded(Box::new(Threaded {
            message,
            thread,
            picture: picture(receiver, notice),
        })),
        None => message,
    }
}

/// The message made for `receiver`.
pub fn message(
    receiver: &Receiver,
    notice: &Notice,
    severity: Severity,
    telegram_max_parts: usize,
) -> Message {
    match receiver {
        Receiver::Telegram { .. } => threaded(
            Message::Telegram {
                parts: html::split_at_most(
                    &telegram_html(notice, severity),
                    TELEGRAM_MAX_CHARS,
                    telegram_max_parts,
                ),
            },
            notice,
            receiver,
        ),
        Receiver::Slack { .. } => Message::Json(slack(notice, severity)),
        Receiver::SlackBot { channel, .. } => {
            let mut body = slack(notice, severity);
            body["channel"] = Value::String(channel.clone());
            threaded(Message::Json(body), notice, receiver)
        }
        Receiver::Teams { .. } => Message::Json(teams(notice, severity)),
        Receiver::GoogleChat { .. } => Message::Json(google_chat(notice, severity)),
        Receiver::Webhook { .. } => Message::Json(webhook(notice, severity)),
        Receiver::Pagerduty { .. } => Message::Pagerduty(pagerduty_event(notice, severity)),
        Receiver::Sns { .. } => {
            let subject = sns_subject(notice);
            let message = cut_bytes(&plain_text(notice, severity), SNS_MAX_BYTES);
            Message::Sns { subject, message }
        }
    }
}

/// At most `max` bytes of `text`, cut on a character boundary and marked with `…` when cut.
pub fn cut_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// PagerDuty's `dedup_key` for an alarm: its key, or when that is longer than PagerDuty
/// allows, a readable start and a SHA-256 of the whole (stable across ALARM and OK).
pub fn dedup_key(key: &str) -> String {
    if key.chars().count() <= PAGERDUTY_DEDUP_KEY_MAX {
        return key.to_string();
    }
    let digest = hex::encode(Sha256::digest(key.as_bytes()));
    let head: String = key
        .chars()
        .take(PAGERDUTY_DEDUP_KEY_MAX - digest.len() - 1)
        .collect();
    format!("{head}#{digest}")
}

fn time_text(alarm: &Alarm) -> Option<String> {
    alarm
        .time
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

fn place(notice: &Notice) -> Option<String> {
    match (notice.account.as_deref(), notice.region.as_deref()) {
        (Some(a), Some(r)) => Some(format!("account {a} · {r}")),
        (Some(a), None) => Some(format!("account {a}")),
        (None, Some(r)) => Some(r.to_string()),
        (None, None) => None,
    }
}

/// The first line: emoji, state and name (or kind and title).
pub fn headline(notice: &Notice) -> String {
    match &notice.body {
        Body::Alarm(a) => format!("{} {}: {}", a.state.emoji(), a.state.as_str(), a.name),
        Body::Text { kind, title, .. } => format!("{} {title}", kind.emoji()),
    }
}

/// `(label, value)` lines shared by every format.
fn details(notice: &Notice, severity: Severity) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Body::Alarm(a) = &notice.body {
        if !a.reason.is_empty() {
            out.push(("Reason", a.reason.clone()));
        }
        if let Some(m) = &a.metric {
            out.push(("Metric", m.clone()));
        }
        if let Some(t) = &a.threshold {
            out.push(("Threshold", t.clone()));
        }
        if let Some(r) = &a.rule {
            out.push(("Rule", r.clone()));
        }
        out.push(("Severity", severity.as_str().to_string()));
        if let Some(p) = a.previous_state {
            out.push(("Was", p.as_str().to_string()));
        }
        if let Some(t) = time_text(a) {
            out.push(("Time", t));
        }
    }
    if let Some(p) = place(notice) {
        out.push(("Where", p));
    }
    out
}

fn body_text(notice: &Notice) -> Option<String> {
    match &notice.body {
        Body::Alarm(a) => a.description.clone(),
        Body::Text { text, .. } => (!text.trim().is_empty()).then(|| text.clone()),
    }
}

fn console_url(notice: &Notice) -> Option<String> {
    notice.alarm().and_then(Alarm::console_url)
}

/// Plain text (SNS email/SMS, fallbacks).
pub fn plain_text(notice: &Notice, severity: Severity) -> String {
    let mut out = headline(notice);
    if let Some(b) = body_text(notice) {
        out.push_str(&format!("\n{b}"));
    }
    for (label, value) in details(notice, severity) {
        out.push_str(&format!("\n{label}: {value}"));
    }
    if let Some(url) = console_url(notice) {
        out.push_str(&format!("\n{url}"));
    }
    out
}

/// Telegram HTML, before splitting.
pub fn telegram_html(notice: &Notice, severity: Severity) -> String {
    let mut out = match &notice.body {
        Body::Alarm(a) => format!(
            "{} <b>{}</b> · <b>{}</b>",
            a.state.emoji(),
            a.state.as_str(),
            html::escape(&a.name)
        ),
        Body::Text { kind, title, .. } => {
            format!("{} <b>{}</b>", kind.emoji(), html::escape(title))
        }
    };
    if let Some(b) = body_text(notice) {
        let b = html::escape(&b);
        out.push_str(&if notice.alarm().is_some() {
            format!("\n<i>{b}</i>")
        } else {
            format!("\n{b}")
        });
    }
    for (label, value) in details(notice, severity) {
        let value = html::escape(&value);
        let value = if matches!(label, "Metric" | "Rule") {
            format!("<code>{value}</code>")
        } else {
            value
        };
        out.push_str(&format!("\n<b>{label}:</b> {value}"));
    }
    if let Some(url) = console_url(notice) {
        out.push_str(&format!(
            "\n<a href=\"{}\">Open in CloudWatch</a>",
            html::escape(&url)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notice::parse_message;
    use serde_json::json;

    fn alarm(state: &str) -> Notice {
        let m = json!({"AlarmName": "prod <db> & co", "NewStateValue": state, "NewStateReason": "x > 5",
            "AlarmArn": "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:prod <db> & co", "AlarmDescription": null,
            "StateChangeTime": "2026-01-12T16:30:42.236+0000"});
        parse_message("m-1", None, &m.to_string())
    }

    #[test]
    fn telegram_escapes_names_and_links() {
        let h = telegram_html(&alarm("ALARM"), Severity::Critical);
        assert!(
            h.starts_with("🔴 <b>ALARM</b> · <b>prod &lt;db&gt; &amp; co</b>"),
            "{h}"
        );
        assert!(h.contains("<b>Time:</b> 2026-01-12 16:30:42 UTC"), "{h}");
        assert!(
            h.contains("<a href=\"https://eu-west-1.console.aws.amazon.com/"),
            "{h}"
        );
        assert_eq!(html::split(&h, 4096).len(), 1);
    }

    #[test]
    fn pagerduty_triggers_and_resolves_on_the_arn() {
        let t = pagerduty(&alarm("ALARM"), Severity::Critical, "rk");
        let r = pagerduty(&alarm("OK"), Severity::Critical, "rk");
        assert_eq!(t["event_action"], "trigger");
        assert_eq!(r["event_action"], "resolve");
        assert_eq!(t["dedup_key"], r["dedup_key"]);
        assert_eq!(
            t["dedup_key"],
            "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:prod <db> & co"
        );
        assert_eq!(t["payload"]["severity"], "critical");
    }

    #[test]
    fn google_chat_threads_by_alarm_and_slack_has_fallback() {
        assert_eq!(
            google_chat(&alarm("ALARM"), Severity::Info)["thread"],
            google_chat(&alarm("OK"), Severity::Info)["thread"]
        );
        let s = slack(&alarm("ALARM"), Severity::Info);
        assert!(s["text"]
            .as_str()
            .unwrap()
            .contains("ALARM: prod &lt;db&gt; &amp; co"));
        assert!(s["blocks"][0]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("prod &lt;db&gt; &amp; co"));
    }

    #[test]
    fn teams_gets_an_adaptive_card_within_its_size_limit() {
        let card = teams(&alarm("ALARM"), Severity::Critical);
        let attachment = &card["attachments"][0];
        assert_eq!(card["type"], "message");
        assert_eq!(
            attachment["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        let content = &attachment["content"];
        assert_eq!(content["type"], "AdaptiveCard");
        assert_eq!(content["body"][0]["text"], "🔴 ALARM: prod <db> & co");
        assert_eq!(content["body"][0]["color"], "Attention");
        let facts = content["body"][1]["facts"].as_array().unwrap();
        assert!(facts
            .iter()
            .any(|f| f["title"] == "Severity" && f["value"] == "critical"));
        assert_eq!(content["actions"][0]["type"], "Action.OpenUrl");
        assert_eq!(
            teams(&alarm("OK"), Severity::Critical)["attachments"][0]["content"]["body"][0]
                ["color"],
            "Good"
        );
        let m = json!({"AlarmName": "a", "NewStateValue": "ALARM", "AlarmDescription": "\"é\n".repeat(40_000)});
        let big = teams(&parse_message("m", None, &m.to_string()), Severity::Info);
        let size = big.to_string().len();
        assert!(size <= TEAMS_MAX_BYTES && size > 20_000, "{size}");
    }

    #[test]
    fn sns_subjects_are_ascii_single_lines() {
        let n = parse_message("m", Some("é\nline two"), "body");
        assert_eq!(sns_subject(&n), "line two");
        assert_eq!(sns_subject(&alarm("OK")), "OK: prod <db> & co");
    }

    #[test]
    fn long_alarm_keys_get_a_stable_dedup_key_within_pagerdutys_limit() {
        let name = "n".repeat(300);
        let m = |state: &str| {
            let m = json!({"AlarmName": name, "NewStateValue": state,
                "AlarmArn": format!("arn:aws:cloudwatch:eu-west-1:111122223333:alarm:{name}")});
            parse_message("m", None, &m.to_string())
        };
        let t = pagerduty(&m("ALARM"), Severity::Critical, "rk");
        let r = pagerduty(&m("OK"), Severity::Critical, "rk");
        let key = t["dedup_key"].as_str().unwrap();
        assert!(
            key.chars().count() <= PAGERDUTY_DEDUP_KEY_MAX,
            "{}",
            key.len()
        );
        assert_eq!(t["dedup_key"], r["dedup_key"]);
        assert!(key.starts_with("arn:aws:cloudwatch:eu-west-1:111122223333:alarm:nnn"));
        assert_ne!(
            dedup_key(&format!("{}x", "n".repeat(300))),
            dedup_key(&"n".repeat(301))
        );
        assert_eq!(dedup_key("short"), "short");
    }

    #[test]
    fn slack_fallback_text_is_escaped() {
        let m = json!({"AlarmName": "a", "NewStateValue": "ALARM", "AlarmDescription": "<!channel> & <https://x|y>"});
        let s = slack(&parse_message("m", None, &m.to_string()), Severity::Info);
        let text = s["text"].as_str().unwrap();
        assert!(
            text.contains("&lt;!channel&gt; &amp; &lt;https://x|y&gt;"),
            "{text}"
        );
        assert!(!text.contains('<'), "{text}");
    }

    #[test]
    fn google_chat_and_sns_stay_within_their_byte_limits() {
        let huge = "é".repeat(200_000);
        let m = json!({"AlarmName": "a", "NewStateValue": "ALARM", "AlarmDescription": huge});
        let n = parse_message("m", None, &m.to_string());
        let chat = google_chat(&n, Severity::Info);
        let text = chat["text"].as_str().unwrap();
        assert!(
            text.len() <= GOOGLE_CHAT_MAX_BYTES && text.len() > 31_000,
            "{}",
            text.len()
        );
        assert!(text.ends_with('…'));
        let sns = Receiver::Sns {
            topic_arn: "t".into(),
        };
        let Message::Sns {
            subject,
            message: body,
        } = message(&sns, &n, Severity::Info, 3)
        else {
            panic!("not an SNS message");
        };
        assert!(
            body.len() <= SNS_MAX_BYTES && body.len() > 250_000,
            "{}",
            body.len()
        );
        assert_eq!(subject, "ALARM: a");
        assert_eq!(cut_bytes("abc", 3), "abc");
        assert_eq!(cut_bytes("abcdef", 5), "ab…");
    }
}
