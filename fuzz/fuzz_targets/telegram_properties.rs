//! telegram-webhook: custom-resource properties and direct-action settings. Validation
//! must never panic, and what it accepts is a webhook Telegram would accept.
#![no_main]
use libfuzzer_sys::fuzz_target;
use telegram_webhook::settings::{validate_webhook_url, Settings, Style};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let properties = value.get("ResourceProperties").unwrap_or(&value);
    for style in [Style::Properties, Style::Action] {
        let Ok(settings) = Settings::from_json(properties, style) else {
            continue;
        };
        if let Ok(desired) = settings.desired(style) {
            assert!(validate_webhook_url(&desired.webhook_url, "WebhookUrl").is_ok());
            if let Some(n) = desired.max_connections {
                assert!((1..=100).contains(&n));
            }
        }
    }
    let _ = groundcrew::custom_resource::looks_like_custom_resource(&value);
});
