use super::keys::Key;
use super::*;
use serde_json::json;

fn props(extra: Value) -> Value {
    let mut base = json!({
        "ServiceToken": "arn:aws:lambda:us-east-1:1:function:f",
        "BotTokenSecret": "groundcrew/telegram/bot-token",
        "WebhookUrl": "https://bot.example.com/telegram",
        "SecretTokenSecret": "groundcrew/telegram/webhook-secret"
    });
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

fn err_of(v: Value) -> String {
    WebhookProperties::from_json(&v, Style::Properties)
        .unwrap_err()
        .to_string()
}

#[test]
fn reads_cloudformation_strings() {
    let s = WebhookProperties::from_json(
        &props(json!({"MaxConnections": "40", "DropPendingUpdates": "true", "AllowedUpdates": ["message", "callback_query"]})),
        Style::Properties,
    )
    .unwrap();
    let d = s.desired(Style::Properties).unwrap();
    assert_eq!(d.max_connections, Some(40));
    assert!(d.drop_pending_updates);
    assert_eq!(
        d.allowed_updates.unwrap(),
        vec!["message", "callback_query"]
    );
}

#[test]
fn bad_values_name_the_property() {
    assert!(
        err_of(props(json!({"WebhookUrl": "http://bot.example.com/x"}))).contains("WebhookUrl")
    );
    let e = err_of(props(
        json!({"WebhookUrl": "https://bot.example.com:8080/x"}),
    ));
    assert!(e.contains("WebhookUrl") && e.contains("8080"), "{e}");
    for port in [443, 80, 88, 8443] {
        let url = format!("https://bot.example.com:{port}/x");
        assert!(WebhookProperties::from_json(
            &props(json!({ "WebhookUrl": url })),
            Style::Properties
        )
        .is_ok());
    }
    assert!(err_of(props(json!({"MaxConnections": "0"}))).contains("MaxConnections"));
    assert!(err_of(props(json!({"MaxConnections": "101"}))).contains("MaxConnections"));
    assert!(err_of(props(json!({"MaxConnections": "many"}))).contains("MaxConnections"));
    assert!(
        err_of(props(json!({"AllowedUpdates": ["message", "everything"]})))
            .contains("AllowedUpdates")
    );
    assert!(err_of(props(json!({"DropPendingUpdates": "maybe"}))).contains("DropPendingUpdates"));
    assert!(
        err_of(props(json!({"BotTokenSecret": "arn:aws:s3:::bucket"}))).contains("BotTokenSecret")
    );
    let missing = WebhookProperties::from_json(
        &json!({"WebhookUrl": "https://a.example/x"}),
        Style::Properties,
    )
    .unwrap()
    .desired(Style::Properties)
    .unwrap_err();
    assert!(missing.to_string().contains("BotTokenSecret"), "{missing}");
}

#[test]
fn misspelt_keys_are_refused_not_ignored() {
    let e = err_of(props(json!({"WebhookURL": "https://elsewhere.example/x"})));
    assert!(
        e.contains("unknown field `WebhookURL`") && e.contains("`WebhookUrl`"),
        "{e}"
    );
    let e = WebhookProperties::from_json(
        &json!({"action": "register", "webhok_url": "https://elsewhere.example/x"}),
        Style::Action,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("unknown field `webhok_url`"), "{e}");
    // CloudFormation's own keys are accepted.
    assert!(WebhookProperties::from_json(
        &props(json!({"ServiceTimeout": "300"})),
        Style::Properties
    )
    .is_ok());
}

#[test]
fn action_style_uses_snake_case_and_env_defaults() {
    let defaults = WebhookProperties {
        bot_token_secret: Some("env/bot".into()),
        webhook_url: Some("https://env.example/hook".into()),
        secret_token_secret: Some("env/secret".into()),
        ..Default::default()
    };
    let s = WebhookProperties::from_json(
        &json!({"action": "register", "webhook_url": "https://b.example/h"}),
        Style::Action,
    )
    .unwrap()
    .or(&defaults);
    let d = s.desired(Style::Action).unwrap();
    assert_eq!(d.webhook_url, "https://b.example/h");
    assert_eq!(d.bot_token_secret, "env/bot");
    let e =
        WebhookProperties::from_json(&json!({"max_connections": 500}), Style::Action).unwrap_err();
    assert!(e.to_string().contains("max_connections"));
}

#[test]
fn an_unknown_key_lists_every_key_of_its_spelling() {
    // The text serde's derive gave when each spelling had its own struct.
    assert_eq!(
        err_of(props(json!({"WebhookURL": "https://elsewhere.example/x"}))),
        "ResourceProperties: unknown field `WebhookURL`, expected one of \
         `ServiceToken`, `ServiceTimeout`, `BotTokenSecret`, `WebhookUrl`, `SecretTokenSecret`, \
         `AllowedUpdates`, `MaxConnections`, `DropPendingUpdates`"
    );
    let e = WebhookProperties::from_json(&json!({"WebhookUrl": "x"}), Style::Action)
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with(
            "unknown field `WebhookUrl`, expected one of `action`, `bot_token_secret`, \
             `webhook_url`, `secret_token_secret`, `allowed_updates`, `max_connections`, \
             `drop_pending_updates`"
        ),
        "{e}"
    );
    // `action` is not a property, and CloudFormation's keys are not an action's.
    assert!(err_of(props(json!({"action": "register"}))).contains("unknown field `action`"));
    let e = WebhookProperties::from_json(&json!({"ServiceToken": "arn"}), Style::Action)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `ServiceToken`"), "{e}");
}

#[test]
fn the_key_lists_and_the_settings_table_agree() {
    for style in [Style::Properties, Style::Action] {
        let settings: Vec<&str> = Setting::ALL.iter().map(|s| s.key(style)).collect();
        let keys = style.keys();
        // Each setting last, in the table's order, after the input's own keys.
        assert_eq!(&keys[keys.len() - settings.len()..], settings.as_slice());
        for key in keys {
            assert!(Key::of(key, style).is_some(), "{key}");
        }
    }
    assert_eq!(Key::of("webhook_url", Style::Properties), None);
    assert_eq!(Key::of("WebhookUrl", Style::Action), None);
}

#[test]
fn null_is_unset_and_only_an_object_is_read() {
    let s = WebhookProperties::from_json(
        &props(json!({"WebhookUrl": null, "MaxConnections": null})),
        Style::Properties,
    )
    .unwrap();
    assert_eq!((s.webhook_url, s.max_connections), (None, None));
    let e = Input::read(&json!(["https://a.example/x"]), Style::Action).unwrap_err();
    assert!(
        e.to_string()
            .contains("expected an object of webhook settings"),
        "{e}"
    );
}
