//! JSON bodies for the webhook-style receivers: Slack (incoming webhook and bot), Google
//! Chat, Microsoft Teams (an Adaptive Card), PagerDuty Events v2 and plain webhooks, and
//! the SNS subject.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{
    body_text, console_url, cut_bytes, dedup_key, details, headline, place, plain_text,
    GOOGLE_CHAT_MAX_BYTES,
};
use crate::notice::{Body, Notice, State};
use crate::severity::Severity;

/// Slack's escaping for mrkdwn text.
pub fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A Slack incoming-webhook body: blocks with a text fallback.
pub fn slack(notice: &Notice, severity: Severity) -> Value {
    let cut = |s: String, n: usize| groundcrew::http::excerpt(&s, n);
    let mut section = format!("*{}*", slack_escape(&headline(notice)));
    if let Some(b) = body_text(notice) {
        section.push_str(&format!("\n{}", slack_escape(&b)));
    }
    let mut blocks =
        vec![json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(section, 2900)}})];
    let fields: Vec<Value> = details(notice, severity)
        .into_iter()
        .take(10)
        .map(|(label, value)| json!({"type": "mrkdwn", "text": cut(format!("*{label}*\n{}", slack_escape(&value)), 1900)}))
        .collect();
    if !fields.is_empty() {
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    if let Some(url) = console_url(notice) {
        blocks.push(json!({"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open in CloudWatch"}, "url": url}]}));
    }
    // The fallback text is mrkdwn too: unescaped, `<!channel>` in a description would ping.
    json!({"text": cut(slack_escape(&plain_text(notice, severity)), 3000), "blocks": blocks})
}

/// Google Chat's thread key: one thread per alarm, so its ALARM and OK sit together.
pub fn thread_key(notice: &Notice) -> String {
    match notice.alarm() {
        Some(a) => format!(
            "alarm-{}",
            &hex::encode(Sha256::digest(a.key().as_bytes()))[..32]
        ),
        None => format!("notice-{}", notice.id),
    }
}

/// A Google Chat webhook body (its own markup: `*bold*`, `<url|text>`).
pub fn google_chat(notice: &Notice, severity: Severity) -> Value {
    let mut text = format!("*{}*", headline(notice));
    if let Some(b) = body_text(notice) {
        text.push_str(&format!("\n{b}"));
    }
    for (label, value) in details(notice, severity) {
        text.push_str(&format!("\n*{label}:* {value}"));
    }
    if let Some(url) = console_url(notice) {
        text.push_str(&format!("\n<{url}|Open in CloudWatch>"));
    }
    json!({"text": cut_bytes(&text, GOOGLE_CHAT_MAX_BYTES), "thread": {"threadKey": thread_key(notice)}})
}

/// The largest Teams webhook payload we send: Teams refuses messages over 28 KB.
pub const TEAMS_MAX_BYTES: usize = 27_000;

/// A Teams Workflows webhook body: one Adaptive Card (the only format Workflows post)
/// with the headline, the description, the details as facts and a button to the console.
pub fn teams(notice: &Notice, severity: Severity) -> Value {
    let color = match notice.alarm().map(|a| a.state) {
        Some(State::Alarm) => "Attention",
        Some(State::Ok) => "Good",
        Some(State::InsufficientData) => "Warning",
        None => "Default",
    };
    let card = |description: Option<&str>| {
        let mut body = vec![
            json!({"type": "TextBlock", "text": headline(notice), "weight": "Bolder",
            "size": "Medium", "color": color, "wrap": true}),
        ];
        if let Some(d) = description {
            body.push(json!({"type": "TextBlock", "text": d, "wrap": true, "isSubtle": true}));
        }
        let facts: Vec<Value> = details(notice, severity)
            .into_iter()
            .map(|(title, value)| json!({"title": title, "value": groundcrew::http::excerpt(&value, 1000)}))
            .collect();
        if !facts.is_empty() {
            body.push(json!({"type": "FactSet", "facts": facts}));
        }
        let mut content = json!({
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "msteams": {"width": "Full"},
            "body": body,
        });
        if let Some(url) = console_url(notice) {
            content["actions"] =
                json!([{"type": "Action.OpenUrl", "title": "Open in CloudWatch", "url": url}]);
        }
        json!({"type": "message", "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": content,
        }]})
    };
    let description = body_text(notice);
    let mut message = card(description.as_deref());
    // The description is what can be long: cut it until the whole payload fits (JSON
    // escaping can make the text longer than its bytes).
    let mut room = description.as_ref().map_or(0, String::len);
    loop {
        let size = message.to_string().len();
        if size <= TEAMS_MAX_BYTES || room == 0 {
            break;
        }
        // Shrink in proportion (escaping grows text evenly), a little more each time.
        room = (room * TEAMS_MAX_BYTES / size).saturating_sub(64);
        let cut = description.as_deref().map(|d| cut_bytes(d, room));
        message = card(cut.as_deref());
    }
    message
}

/// A Teams Workflows webhook body for plain lines (a digest): a bold title over the text,
/// in the one format Workflows post. Adaptive Cards show no HTML, so nothing is escaped.
pub fn teams_text(title: &str, text: &str) -> Value {
    json!({"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive",
        "contentUrl": null,
        "content": {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "msteams": {"width": "Full"},
            "body": [
                {"type": "TextBlock", "text": title, "weight": "Bolder", "wrap": true},
                {"type": "TextBlock", "text": text, "wrap": true},
            ],
        },
    }]})
}

/// PagerDuty Events API v2 with its routing key.
pub fn pagerduty(notice: &Notice, severity: Severity, routing_key: &str) -> Value {
    let mut event = pagerduty_event(notice, severity);
    event["routing_key"] = Value::String(routing_key.to_string());
    event
}

/// PagerDuty Events API v2 without the routing key: `trigger` on ALARM (and other
/// notices), `resolve` on OK, the alarm ARN as `dedup_key` (so a re-sent trigger is one
/// incident, and the resolve closes it).
pub fn pagerduty_event(notice: &Notice, severity: Severity) -> Value {
    let (action, dedup_key) = match notice.alarm() {
        Some(a) if a.state == State::Ok => ("resolve", dedup_key(&a.key())),
        Some(a) => ("trigger", dedup_key(&a.key())),
        None => ("trigger", dedup_key(&notice.id)),
    };
    let summary =
        groundcrew::http::excerpt(&plain_text(notice, severity).replace('\n', " · "), 1000);
    let mut details = serde_json::Map::new();
    for (label, value) in self::details(notice, severity) {
        details.insert(label.to_ascii_lowercase(), Value::String(value));
    }
    let source = notice
        .alarm()
        .and_then(|a| a.arn.clone())
        .or_else(|| place(notice))
        .unwrap_or_else(|| "alarm-fanout".into());
    let timestamp = notice.alarm().and_then(|a| a.time).map(|t| t.to_rfc3339());
    let mut event = json!({
        "event_action": action,
        "dedup_key": dedup_key,
        "payload": {"summary": summary, "source": source, "severity": severity.as_str(), "custom_details": details},
    });
    if let Some(t) = timestamp {
        event["payload"]["timestamp"] = Value::String(t);
    }
    if let Some(url) = console_url(notice) {
        event["links"] = json!([{"href": url, "text": "Open in CloudWatch"}]);
    }
    event
}

/// SNS subject: ASCII, one line, under 100 characters.
pub fn sns_subject(notice: &Notice) -> String {
    let text: String = match &notice.body {
        Body::Alarm(a) => format!("{}: {}", a.state.as_str(), a.name),
        Body::Text { title, .. } => title.clone(),
    };
    let clean: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let clean = if clean.is_empty() {
        "Notification".to_string()
    } else {
        clean
    };
    clean.chars().take(99).collect()
}

/// The JSON webhook body.
pub fn webhook(notice: &Notice, severity: Severity) -> Value {
    json!({
        "version": "1",
        "id": notice.id,
        "severity": severity,
        "headline": headline(notice),
        "text": plain_text(notice, severity),
        "console_url": console_url(notice),
        "notice": notice,
    })
}
