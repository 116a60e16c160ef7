//! The digest: what a rate-limited receiver could not be sent one by one, folded into one
//! message. One line per alarm (its newest state, and how many changes it stands for), as
//! many lines as fit in one message, and a count of the rest ("… and 37 more"). Every
//! folded state change is either on a line or in that count.

use std::collections::BTreeMap;

use serde_json::json;

use crate::format::{self, Message, TELEGRAM_MAX_CHARS};
use crate::html;
use crate::notice::{Body, Notice};
use crate::routing::Receiver;

/// At most this many lines are kept per receiver; later subjects are only counted (so the
/// record stays far below DynamoDB's 400 KB item limit whatever the storm).
pub const MAX_ENTRIES: usize = 500;
/// Slack's fallback `text` is cut at the same length as a notice's.
const SLACK_MAX_CHARS: usize = 3_000;
/// A Teams digest's text, in UTF-16 units: at most 3 bytes each, so the card stays well
/// under Teams' 28 KB.
const TEAMS_MAX_CHARS: usize = 8_000;

/// One subject's line in a pending digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The line, without markup: state emoji, name, state and state change time.
    pub line: String,
    /// The state change it shows (ms since the epoch; 0 for notices that are not alarms).
    pub at_ms: i64,
    /// State changes this line stands for (the newest shown, older ones folded into it).
    pub changes: u32,
}

/// The folded notices waiting for one receiver, by subject (alarm key or message id).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pending {
    pub entries: BTreeMap<String, Entry>,
    /// State changes counted but given no line (beyond [`MAX_ENTRIES`]).
    pub extra: u32,
}

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.extra == 0
    }

    /// State changes waiting, lines and count together.
    pub fn changes(&self) -> u64 {
        self.entries
            .values()
            .map(|e| u64::from(e.changes))
            .sum::<u64>()
            + u64::from(self.extra)
    }

    /// Folds one state change in: it replaces an older line of its subject (counting both),
    /// is a no-op when that very change is already folded (a retried event), and is only
    /// counted once the digest holds [`MAX_ENTRIES`] lines.
    pub fn fold(&mut self, subject: &str, entry: Entry) {
        let full = self.entries.len() >= MAX_ENTRIES;
        match self.entries.get_mut(subject) {
            Some(old) if old.at_ms == entry.at_ms && old.line == entry.line => {}
            Some(old) => {
                let changes = old.changes + entry.changes;
                if entry.at_ms >= old.at_ms {
                    *old = entry;
                }
                old.changes = changes;
            }
            None if full => self.extra += entry.changes,
            None => {
                self.entries.insert(subject.to_string(), entry);
            }
        }
    }

    /// What is left after `sent` went out: lines that changed meanwhile stay.
    pub fn without(&self, sent: &Pending) -> Pending {
        let entries = self
            .entries
            .iter()
            .filter(|(k, e)| sent.entries.get(*k) != Some(e))
            .map(|(k, e)| (k.clone(), e.clone()))
            .collect();
        Pending {
            entries,
            extra: self.extra.saturating_sub(sent.extra),
        }
    }
}

/// A notice's digest line.
pub fn entry(notice: &Notice) -> Entry {
    let (line, at_ms) = match &notice.body {
        Body::Alarm(a) => {
            let time = a
                .time
                .or(notice.sent_at)
                .map(|t| format!(" · {}", t.format("%Y-%m-%d %H:%M:%S UTC")))
                .unwrap_or_default();
            (
                format!(
                    "{} {} · {}{time}",
                    a.state.emoji(),
                    groundcrew::http::excerpt(&a.name, 200),
                    a.state.as_str()
                ),
                a.time
                    .or(notice.sent_at)
                    .map_or(0, |t| t.timestamp_millis()),
            )
        }
        Body::Text { .. } => (groundcrew::http::excerpt(&format::headline(notice), 200), 0),
    };
    Entry {
        line,
        at_ms,
        changes: 1,
    }
}

/// The digest message for `receiver` (Telegram, Slack or Teams): the lines that fit, oldest
/// first, and the count of the rest. Always one request.
pub fn message(receiver: &Receiver, pending: &Pending) -> Message {
    let mut lines: Vec<(&String, &Entry)> = pending.entries.iter().collect();
    lines.sort_by(|a, b| (a.1.at_ms, a.0).cmp(&(b.1.at_ms, b.0)));
    let total = pending.changes();
    let header = format!(
        "📋 {total} {} while this chat was at its message limit:",
        if total == 1 { "notice" } else { "notices" }
    );
    let (escape, limit): (fn(&str) -> String, usize) = match receiver {
        Receiver::Telegram { .. } => (html::escape, TELEGRAM_MAX_CHARS),
        Receiver::Teams { .. } => (str::to_string, TEAMS_MAX_CHARS),
        _ => (format::slack_escape, SLACK_MAX_CHARS),
    };
    // Room for the count line, whatever its number.
    let reserve = 60;
    let mut text = match receiver {
        Receiver::Telegram { .. } => format!("<b>{}</b>", escape(&header)),
        Receiver::Teams { .. } => header,
        _ => format!("*{}*", escape(&header)),
    };
    let mut shown = 0u64;
    for (_, e) in &lines {
        let mut line = format!("\n{}", escape(&e.line));
        if e.changes > 1 {
            line.push_str(&format!(" ({} changes)", e.changes));
        }
        if html::length(&text) + html::length(&line) + reserve > limit {
            break;
        }
        text.push_str(&line);
        shown += u64::from(e.changes);
    }
    if shown < total {
        text.push_str(&format!("\n… and {} more (see CloudWatch)", total - shown));
    }
    match receiver {
        Receiver::Telegram { .. } => Message::Telegram { parts: vec![text] },
        // A Workflows webhook posts Adaptive Cards only; a TextBlock breaks lines at a
        // blank line.
        Receiver::Teams { .. } => {
            let (title, lines) = text.split_once('\n').unwrap_or((&text, ""));
            Message::Json(format::teams_text(title, &lines.replace('\n', "\n\n")))
        }
        _ => Message::Json(json!({ "text": text })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: usize, at_ms: i64) -> Entry {
        Entry {
            line: format!(
                "🔴 storm-{n:03} · ALARM · 2026-11-21 21:00:{:02} UTC",
                n % 60
            ),
            at_ms,
            changes: 1,
        }
    }

    #[test]
    fn folding_keeps_the_newest_line_and_counts_every_change() {
        let mut p = Pending::default();
        p.fold("a", line(1, 10));
        p.fold("a", line(1, 10)); // the same change again: a retried event
        p.fold("a", line(2, 20));
        p.fold("b", line(3, 5));
        assert_eq!(p.entries["a"].at_ms, 20);
        assert_eq!(p.entries["a"].changes, 2);
        assert_eq!(p.changes(), 3);
        let sent = p.clone();
        p.fold("a", line(4, 30));
        let left = p.without(&sent);
        assert_eq!(left.entries.len(), 1, "{left:?}");
        assert_eq!(left.entries["a"].at_ms, 30);
    }

    #[test]
    fn a_teams_digest_is_an_adaptive_card_under_the_size_limit() {
        let doc = r#"{"receivers": {"teams": {"type": "teams", "webhook_url_secret": "t"}},
            "default": "teams"}"#;
        let routing = crate::routing::Routing::parse(doc).unwrap();
        let mut p = Pending::default();
        for n in 0..2_000 {
            p.fold(&format!("alarm#{n}"), line(n, n as i64));
        }
        let Message::Json(card) = message(&routing.receivers["teams"], &p) else {
            panic!("not JSON");
        };
        assert!(card.to_string().len() <= format::TEAMS_MAX_BYTES);
        let content = &card["attachments"][0]["content"];
        assert_eq!(content["type"], "AdaptiveCard");
        assert!(content["body"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("📋 2000 notices"));
        let lines = content["body"][1]["text"].as_str().unwrap();
        let listed = lines.matches("storm-").count() as u64;
        assert!(listed > 50, "{listed}");
        assert!(lines.contains(&format!("… and {} more", 2_000 - listed)));
        // Not escaped for HTML: a card shows text as it is.
        assert!(!lines.contains("&amp;") && lines.contains("\n\n"));
    }

    #[test]
    fn a_digest_lists_what_fits_in_one_message_and_counts_the_rest() {
        let doc = r#"{"receivers": {"tg": {"type": "telegram", "chat_id": -1, "bot_token_secret": "t"},
            "slack": {"type": "slack", "webhook_url_secret": "s"}}, "default": "tg"}"#;
        let routing = crate::routing::Routing::parse(doc).unwrap();
        let mut p = Pending::default();
        for n in 0..500 {
            p.fold(&format!("alarm#{n}"), line(n, n as i64));
        }
        for name in ["tg", "slack"] {
            let text = match message(&routing.receivers[name], &p) {
                Message::Telegram { parts } => parts.concat(),
                Message::Json(v) => v["text"].as_str().unwrap().to_string(),
                other => panic!("{other:?}"),
            };
            let limit = if name == "tg" { 4_096 } else { 3_000 };
            assert!(html::length(&text) <= limit, "{name}: {}", text.len());
            let listed = text.matches("storm-").count() as u64;
            assert!(listed > 20, "{name}: {listed}");
            assert!(
                text.contains(&format!("… and {} more", 500 - listed)),
                "{name}: {text}"
            );
            assert!(text.starts_with("<b>📋 500 notices") || text.starts_with("*📋 500"));
            // Oldest first.
            assert!(text.find("storm-000").unwrap() < text.find("storm-001").unwrap());
        }
    }
}
