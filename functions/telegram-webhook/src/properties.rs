//! The webhook's properties (URL, secret references, allowed updates, max connections),
//! read from custom-resource properties or a direct action, and validated before anything
//! calls Telegram. The function's environment gives the defaults (`config.rs`).

use serde_json::Value;

use crate::error::Error;
use crate::validate;

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
pub struct WebhookProperties {
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

impl WebhookProperties {
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
            .map(|n| validate::max_connections(n).map_err(|r| invalid(max_key, r)))
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
            validate::update_types(list).map_err(|r| invalid(updates_key, r))?;
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
            validate::webhook_url(url).map_err(|r| invalid(k("WebhookUrl", "webhook_url"), r))?;
        }
        if let Some(r) = &settings.bot_token_secret {
            validate::secret_reference(r)
                .map_err(|e| invalid(k("BotTokenSecret", "bot_token_secret"), e))?;
        }
        if let Some(r) = &settings.secret_token_secret {
            validate::secret_reference(r)
                .map_err(|e| invalid(k("SecretTokenSecret", "secret_token_secret"), e))?;
        }
        Ok(settings)
    }

    /// Fills what is unset from `defaults` (the function's environment).
    pub fn or(self, defaults: &WebhookProperties) -> WebhookProperties {
        WebhookProperties {
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
        assert!(
            err_of(props(json!({"DropPendingUpdates": "maybe"}))).contains("DropPendingUpdates")
        );
        assert!(
            err_of(props(json!({"BotTokenSecret": "arn:aws:s3:::bucket"})))
                .contains("BotTokenSecret")
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
            e.contains("unknown key \"WebhookURL\"") && e.contains("WebhookUrl"),
            "{e}"
        );
        let e = WebhookProperties::from_json(
            &json!({"action": "register", "webhok_url": "https://elsewhere.example/x"}),
            Style::Action,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown key \"webhok_url\""), "{e}");
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
        let e = WebhookProperties::from_json(&json!({"max_connections": 500}), Style::Action)
            .unwrap_err();
        assert!(e.to_string().contains("max_connections"));
    }
}
