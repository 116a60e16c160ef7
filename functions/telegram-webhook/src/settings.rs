//! The webhook's desired settings, read from custom-resource properties, a direct action
//! or the environment, and validated before anything calls Telegram.

use serde_json::Value;

use crate::error::Error;

/// Update types Telegram knows (Bot API `Update` fields).
pub const KNOWN_UPDATE_TYPES: &[&str] = &[
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
];

/// Ports Telegram delivers webhooks to.
pub const ALLOWED_PORTS: &[u16] = &[443, 80, 88, 8443];

/// How keys are spelled in the input: CloudFormation properties or a direct action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Properties,
    Action,
}

impl Style {
    pub fn key(self, pascal: &'static str, snake: &'static str) -> &'static str {
        match self {
            Style::Properties => pascal,
            Style::Action => snake,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// Where the bot token is stored (Secrets Manager or SSM reference), never the token.
    pub bot_token_secret: Option<String>,
    pub webhook_url: Option<String>,
    /// Where the webhook's secret token is stored; created when absent.
    pub secret_token_secret: Option<String>,
    pub allowed_updates: Option<Vec<String>>,
    pub max_connections: Option<u32>,
    pub drop_pending_updates: bool,
}

/// What registering needs, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub bot_token_secret: String,
    pub webhook_url: String,
    pub secret_token_secret: String,
    pub allowed_updates: Option<Vec<String>>,
    pub max_connections: Option<u32>,
    pub drop_pending_updates: bool,
}

fn invalid(property: &str, reason: impl Into<String>) -> Error {
    Error::Invalid {
        property: property.to_string(),
        reason: reason.into(),
    }
}

fn text(obj: &Value, key: &str) -> Result<Option<String>, Error> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(invalid(key, "expected a string")),
    }
}

impl Settings {
    /// Reads the settings from an object; CloudFormation passes every scalar as a string,
    /// so numbers and booleans are accepted as strings too.
    pub fn from_json(obj: &Value, style: Style) -> Result<Self, Error> {
        if !obj.is_object() {
            return Err(invalid(
                style.key("ResourceProperties", "event"),
                "expected an object",
            ));
        }
        let k = |p, s| style.key(p, s);
        reject_unknown_keys(obj, style)?;
        let max_key = k("MaxConnections", "max_connections");
        let max_connections = match obj.get(max_key) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(
                n.as_u64()
                    .ok_or_else(|| invalid(max_key, "expected a whole number"))?,
            ),
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some(
                s.trim()
                    .parse::<u64>()
                    .map_err(|_| invalid(max_key, "expected a whole number"))?,
            ),
            Some(_) => return Err(invalid(max_key, "expected a whole number")),
        };
        let max_connections = max_connections
            .map(|n| {
                if (1..=100).contains(&n) {
                    Ok(n as u32)
                } else {
                    Err(invalid(max_key, format!("{n} is outside 1..100")))
                }
            })
            .transpose()?;
        let drop_key = k("DropPendingUpdates", "drop_pending_updates");
        let drop_pending_updates = match obj.get(drop_key) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" => true,
                "false" | "" => false,
                _ => return Err(invalid(drop_key, "expected true or false")),
            },
            Some(_) => return Err(invalid(drop_key, "expected true or false")),
        };
        let updates_key = k("AllowedUpdates", "allowed_updates");
        let allowed_updates = match obj.get(updates_key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|v| {
                        v.as_str().map(|s| s.trim().to_string()).ok_or_else(|| {
                            invalid(updates_key, "expected a list of update type names")
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(_) => return Err(invalid(updates_key, "expected a list of update type names")),
        };
        if let Some(list) = &allowed_updates {
            validate_updates(list, updates_key)?;
        }
        let settings = Self {
            bot_token_secret: text(obj, k("BotTokenSecret", "bot_token_secret"))?,
            webhook_url: text(obj, k("WebhookUrl", "webhook_url"))?,
            secret_token_secret: text(obj, k("SecretTokenSecret", "secret_token_secret"))?,
            allowed_updates,
            max_connections,
            drop_pending_updates,
        };
        if let Some(url) = &settings.webhook_url {
            validate_webhook_url(url, k("WebhookUrl", "webhook_url"))?;
        }
        if let Some(r) = &settings.bot_token_secret {
            validate_reference(r, k("BotTokenSecret", "bot_token_secret"))?;
        }
        if let Some(r) = &settings.secret_token_secret {
            validate_reference(r, k("SecretTokenSecret", "secret_token_secret"))?;
        }
        Ok(settings)
    }

    /// Fills what is unset from `defaults` (the function's environment).
    pub fn or(self, defaults: &Settings) -> Settings {
        Settings {
            bot_token_secret: self
                .bot_token_secret
                .or_else(|| defaults.bot_token_secret.clone()),
            webhook_url: self.webhook_url.or_else(|| defaults.webhook_url.clone()),
            secret_token_secret: self
                .secret_token_secret
                .or_else(|| defaults.secret_token_secret.clone()),
            allowed_updates: self
                .allowed_updates
                .or_else(|| defaults.allowed_updates.clone()),
            max_connections: self.max_connections.or(defaults.max_connections),
            drop_pending_updates: self.drop_pending_updates || defaults.drop_pending_updates,
        }
    }

    pub fn bot_token_secret(&self, style: Style) -> Result<&str, Error> {
        let key = style.key("BotTokenSecret", "bot_token_secret");
        self.bot_token_secret.as_deref().ok_or_else(|| {
            invalid(
                key,
                "is required (the name or ARN of the secret holding the bot token)",
            )
        })
    }

    /// Everything registering needs, or an error naming what is missing.
    pub fn desired(&self, style: Style) -> Result<Desired, Error> {
        let bot_token_secret = self.bot_token_secret(style)?.to_string();
        let webhook_url = self
            .webhook_url
            .clone()
            .ok_or_else(|| invalid(style.key("WebhookUrl", "webhook_url"), "is required"))?;
        let secret_token_secret = self.secret_token_secret.clone().ok_or_else(|| {
            invalid(
                style.key("SecretTokenSecret", "secret_token_secret"),
                "is required (where the webhook's secret token is kept; created when absent)",
            )
        })?;
        Ok(Desired {
            bot_token_secret,
            webhook_url,
            secret_token_secret,
            allowed_updates: self.allowed_updates.clone(),
            max_connections: self.max_connections,
            drop_pending_updates: self.drop_pending_updates,
        })
    }
}

/// Keys each style accepts. A misspelt key is refused rather than ignored: ignoring
/// `webhok_url` would silently register the environment's default URL instead.
const PROPERTY_KEYS: &[&str] = &[
    // Set by CloudFormation itself on every custom resource.
    "ServiceToken",
    "ServiceTimeout",
    "BotTokenSecret",
    "WebhookUrl",
    "SecretTokenSecret",
    "AllowedUpdates",
    "MaxConnections",
    "DropPendingUpdates",
];
const ACTION_KEYS: &[&str] = &[
    "action",
    "bot_token_secret",
    "webhook_url",
    "secret_token_secret",
    "allowed_updates",
    "max_connections",
    "drop_pending_updates",
];

fn reject_unknown_keys(obj: &Value, style: Style) -> Result<(), Error> {
    let known = match style {
        Style::Properties => PROPERTY_KEYS,
        Style::Action => ACTION_KEYS,
    };
    let Some(map) = obj.as_object() else {
        return Ok(());
    };
    match map.keys().find(|key| !known.contains(&key.as_str())) {
        None => Ok(()),
        Some(unknown) => Err(invalid(
            style.key("ResourceProperties", "event"),
            format!(
                "unknown key {:?}; expected one of {}",
                unknown.chars().take(64).collect::<String>(),
                known.join(", ")
            ),
        )),
    }
}

fn validate_reference(reference: &str, key: &str) -> Result<(), Error> {
    groundcrew::secrets::SecretRef::parse(reference)
        .map(|_| ())
        .map_err(|e| invalid(key, e.to_string()))
}

pub fn validate_updates(list: &[String], key: &str) -> Result<(), Error> {
    for item in list {
        if !KNOWN_UPDATE_TYPES.contains(&item.as_str()) {
            return Err(invalid(
                key,
                format!(
                    "unknown update type {:?}",
                    groundcrew::http::excerpt(item, 40)
                ),
            ));
        }
    }
    Ok(())
}

/// HTTPS, a host, one of Telegram's ports, no fragment, no user info.
pub fn validate_webhook_url(raw: &str, key: &str) -> Result<(), Error> {
    let url = url::Url::parse(raw).map_err(|e| invalid(key, format!("not a URL ({e})")))?;
    if url.scheme() != "https" {
        return Err(invalid(key, "must be an https:// URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid(key, "has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(key, "must not contain user information"));
    }
    if url.fragment().is_some() {
        return Err(invalid(key, "must not contain a #fragment"));
    }
    let port = url.port_or_known_default().unwrap_or(443);
    if !ALLOWED_PORTS.contains(&port) {
        return Err(invalid(
            key,
            format!(
                "port {port} is not allowed; Telegram only delivers to ports 443, 80, 88 and 8443"
            ),
        ));
    }
    if raw.len() > 2048 {
        return Err(invalid(key, "is longer than 2,048 characters"));
    }
    Ok(())
}

/// Telegram's `secret_token`: 1 to 256 of `A-Z a-z 0-9 _ -`.
pub fn valid_secret_token(token: &str) -> bool {
    (1..=256).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The bot's numeric id (public) from a token `<id>:<secret>`, or `None` when the text
/// is not shaped like a bot token.
pub fn bot_id(token: &str) -> Option<&str> {
    let (id, rest) = token.split_once(':')?;
    let ok = !id.is_empty()
        && id.bytes().all(|b| b.is_ascii_digit())
        && !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    ok.then_some(id)
}

#[cfg(test)]
mod tests {
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
        Settings::from_json(&v, Style::Properties)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn reads_cloudformation_strings() {
        let s = Settings::from_json(
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
            assert!(
                Settings::from_json(&props(json!({ "WebhookUrl": url })), Style::Properties)
                    .is_ok()
            );
        }
        assert!(err_of(props(json!({"MaxConnections": "0"}))).contains("MaxConnections"));
        assert!(err_of(props(json!({"MaxConnections": "101"}))).contains("MaxConnections"));
        assert!(err_of(props(json!({"MaxConnections": "many"}))).contains("MaxConnections"));
        assert!(
            err_of(props(json!({"AllowedUpdates": ["message", "everything"]})))
                .contains("AllowedUpdates")
        );
        assert!(
            err_of(props(json!({"DropPendingUpdates": "maybe"}))).contains("DropPendingUpdates")
        );
        assert!(
            err_of(props(json!({"BotTokenSecret": "arn:aws:s3:::bucket"})))
                .contains("BotTokenSecret")
        );
        let missing = Settings::from_json(
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
            e.contains("unknown key \"WebhookURL\"") && e.contains("WebhookUrl"),
            "{e}"
        );
        let e = Settings::from_json(
            &json!({"action": "register", "webhok_url": "https://elsewhere.example/x"}),
            Style::Action,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown key \"webhok_url\""), "{e}");
        // CloudFormation's own keys are accepted.
        assert!(
            Settings::from_json(&props(json!({"ServiceTimeout": "300"})), Style::Properties)
                .is_ok()
        );
    }

    #[test]
    fn action_style_uses_snake_case_and_env_defaults() {
        let defaults = Settings {
            bot_token_secret: Some("env/bot".into()),
            webhook_url: Some("https://env.example/hook".into()),
            secret_token_secret: Some("env/secret".into()),
            ..Default::default()
        };
        let s = Settings::from_json(
            &json!({"action": "register", "webhook_url": "https://b.example/h"}),
            Style::Action,
        )
        .unwrap()
        .or(&defaults);
        let d = s.desired(Style::Action).unwrap();
        assert_eq!(d.webhook_url, "https://b.example/h");
        assert_eq!(d.bot_token_secret, "env/bot");
        let e = Settings::from_json(&json!({"max_connections": 500}), Style::Action).unwrap_err();
        assert!(e.to_string().contains("max_connections"));
    }

    #[test]
    fn secret_tokens_and_bot_ids() {
        assert!(valid_secret_token("abc_DEF-123"));
        assert!(!valid_secret_token(""));
        assert!(!valid_secret_token("has space"));
        assert!(!valid_secret_token(&"a".repeat(257)));
        assert_eq!(bot_id("123456:AAE-x_y"), Some("123456"));
        assert_eq!(bot_id("nonsense"), None);
        assert_eq!(bot_id("12a:xyz"), None);
        assert_eq!(bot_id("12:"), None);
    }
}
