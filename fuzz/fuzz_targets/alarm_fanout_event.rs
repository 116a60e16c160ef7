//! alarm-fanout: any event (SNS batch, EventBridge, alarm action, plain text) into
//! notices, then every receiver's message. Parsing must never panic, and a Telegram
//! message split at any limit keeps every part within it.
#![no_main]
use alarm_fanout::{format, html, notice, severity::Severity};
use libfuzzer_sys::fuzz_target;

const SEVERITIES: [Severity; 4] = [
    Severity::Critical,
    Severity::Error,
    Severity::Warning,
    Severity::Info,
];

fn render_all(n: &notice::Notice, limit: usize) {
    for s in SEVERITIES {
        let _ = format::headline(n);
        let _ = format::plain_text(n, s);
        let _ = format::slack(n, s);
        let _ = format::google_chat(n, s);
        let _ = format::pagerduty(n, s, "routing-key");
        let _ = format::sns_subject(n);
        let _ = format::webhook(n, s);
        let _ = format::thread_key(n);
        let message = format::telegram_html(n, s);
        for part in html::split(&message, limit) {
            assert!(
                html::length(&part) <= limit,
                "a part of {} units exceeds the limit {limit}",
                html::length(&part)
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    // Telegram allows 4,096; smaller limits reach the splitting paths with short inputs.
    let limit = 256 + usize::from(first) * 15;
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    render_all(&notice::parse_message("fuzz-id", Some("subject"), text), limit);
    if let Ok(event) = serde_json::from_str::<serde_json::Value>(text) {
        if let Ok(notices) = notice::parse_event(&event) {
            for n in &notices {
                render_all(n, limit);
            }
        }
    }
});
