//! telegram-webhook: custom-resource properties and direct-action settings. Validation
//! must never panic, and what it accepts is a webhook Telegram would accept.
#![no_main]
use libfuzzer_sys::fuzz_target;
use telegram_webhook::event::Event;
use telegram_webhook::properties::{Style, WebhookProperties};
use telegram_webhook::validate;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let properties = value.get("ResourceProperties").unwrap_or(&value);
    for style in [Style::Properties, Style::Action] {
        let Ok(settings) = WebhookProperties::from_json(properties, style) else {
            continue;
        };
        if let Ok(desired) = settings.desired(style) {
            assert!(validate::webhook_url(&desired.webhook_url).is_ok());
            if let Some(n) = desired.max_connections {
                assert!((1..=100).contains(&n));
            }
        }
    }
    // The whole event as the handler reads it first (a direct action's settings included).
    let _ = Event::classify(value.clone());
    let _ = groundcrew::custom_resource::looks_like_custom_resource(&value);
});
