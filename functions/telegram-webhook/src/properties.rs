//! The webhook's properties (URL, secret references, allowed updates, max connections),
//! read from custom-resource properties or a direct action, and validated before anything
//! calls Telegram. The function's environment gives the defaults (`config.rs`).

use serde::de::IgnoredAny;
use serde::Deserialize;
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

/// A value as it comes: CloudFormation passes every scalar as a string, a person writing a
/// direct invocation may write a number or a boolean. Read as it is here; judged below,
/// with the property's name in any error (serde's own type errors name no field).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Loose {
    Text(String),
    Number(serde_json::Number),
    Flag(bool),
    List(Vec<Loose>),
    Other(IgnoredAny),
}

/// `Custom::TelegramWebhook`'s properties as people write them in a template: a misspelt
/// key is refused rather than ignored (ignoring `WebhookURL` would silently register the
/// environment's default URL instead).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct PropertiesInput {
    /// Set by CloudFormation itself on every custom resource.
    pub service_token: Option<IgnoredAny>,
    pub service_timeout: Option<IgnoredAny>,
    pub bot_token_secret: Option<Loose>,
    pub webhook_url: Option<Loose>,
    pub secret_token_secret: Option<Loose>,
    pub allowed_updates: Option<Loose>,
    pub max_connections: Option<Loose>,
    pub drop_pending_updates: Option<Loose>,
}

/// A direct invocation: `{"action": ..., ...settings}` in snake_case.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    pub action: Option<Loose>,
    pub bot_token_secret: Option<Loose>,
    pub webhook_url: Option<Loose>,
    pub secret_token_secret: Option<Loose>,
    pub allowed_updates: Option<Loose>,
    pub max_connections: Option<Loose>,
    pub drop_pending_updates: Option<Loose>,
}

/// The settings of either input, before they are judged.
struct Fields {
    bot_token_secret: Option<Loose>,
    webhook_url: Option<Loose>,
    secret_token_secret: Option<Loose>,
    allowed_updates: Option<Loose>,
    max_connections: Option<Loose>,
    drop_pending_updates: Option<Loose>,
}

impl From<PropertiesInput> for Fields {
    fn from(p: PropertiesInput) -> Self {
        Self {
            bot_token_secret: p.bot_token_secret,
            webhook_url: p.webhook_url,
            secret_token_secret: p.secret_token_secret,
            allowed_updates: p.allowed_updates,
            max_connections: p.max_connections,
            drop_pending_updates: p.drop_pending_updates,
        }
    }
}

impl From<ActionInput> for Fields {
    fn from(a: ActionInput) -> Self {
        Self {
            bot_token_secret: a.bot_token_secret,
            webhook_url: a.webhook_url,
            secret_token_secret: a.secret_token_secret,
            allowed_updates: a.allowed_updates,
            max_connections: a.max_connections,
            drop_pending_updates: a.drop_pending_updates,
        }
    }
}

/// A string setting; blank is unset.
fn text(value: Option<Loose>, key: &str) -> Result<Option<String>, Error> {
    match value {
        None => Ok(None),
        Some(Loose::Text(s)) if s.trim().is_empty() => Ok(None),
        Some(Loose::Text(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(invalid(key, "expected a string")),
    }
}

fn whole_number(value: Option<Loose>, key: &str) -> Result<Option<u64>, Error> {
    let bad = || invalid(key, "expected a whole number");
    match value {
        None => Ok(None),
        Some(Loose::Number(n)) => n.as_u64().map(Some).ok_or_else(bad),
        Some(Loose::Text(s)) if s.trim().is_empty() => Ok(None),
        Some(Loose::Text(s)) => s.trim().parse::<u64>().map(Some).map_err(|_| bad()),
        Some(_) => Err(bad()),
    }
}

fn flag(value: Option<Loose>, key: &str) -> Result<bool, Error> {
    let bad = || invalid(key, "expected true or false");
    match value {
        None => Ok(false),
        Some(Loose::Flag(b)) => Ok(b),
        Some(Loose::Text(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" | "" => Ok(false),
            _ => Err(bad()),
        },
        Some(_) => Err(bad()),
    }
}

/// A list of names, or one comma-separated string.
fn names(value: Option<Loose>, key: &str) -> Result<Option<Vec<String>>, Error> {
    let bad = || invalid(key, "expected a list of update type names");
    match value {
        None => Ok(None),
        Some(Loose::Text(s)) => Ok(Some(
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        )),
        Some(Loose::List(items)) => items
            .into_iter()
            .map(|item| match item {
                Loose::Text(s) => Ok(s.trim().to_string()),
                _ => Err(bad()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(bad()),
    }
}

impl WebhookProperties {
    /// Reads the settings from a custom resource's properties or a direct action (typed:
    /// [`PropertiesInput`], [`ActionInput`]); CloudFormation passes every scalar as a
    /// string, so numbers and booleans are accepted as strings too.
    pub fn from_json(obj: &Value, style: Style) -> Result<Self, Error> {
        let whole = style.key("ResourceProperties", "event");
        if !obj.is_object() {
            return Err(invalid(whole, "expected an object"));
        }
        // Only an unknown key can fail here: every known one takes any value.
        let fields: Fields = match style {
            Style::Properties => PropertiesInput::deserialize(obj).map(Fields::from),
            Style::Action => ActionInput::deserialize(obj).map(Fields::from),
        }
        .map_err(|e| invalid(whole, e.to_string()))?;
        Self::judge(fields, style)
    }

    /// A direct action's settings (the input typed already: `event.rs`).
    pub fn from_action(input: ActionInput) -> Result<Self, Error> {
        Self::judge(input.into(), Style::Action)
    }

    /// Each setting checked, errors naming the property as the input spells it.
    fn judge(fields: Fields, style: Style) -> Result<Self, Error> {
        let k = |p, s| style.key(p, s);
        let max_key = k("MaxConnections", "max_connections");
        let max_connections = whole_number(fields.max_connections, max_key)?
            .map(|n| validate::max_connections(n).map_err(|r| invalid(max_key, r)))
            .transpose()?;
        let drop_pending_updates = flag(
            fields.drop_pending_updates,
            k("DropPendingUpdates", "drop_pending_updates"),
        )?;
        let updates_key = k("AllowedUpdates", "allowed_updates");
        let allowed_updates = names(fields.allowed_updates, updates_key)?;
        if let Some(list) = &allowed_updates {
            validate::update_types(list).map_err(|r| invalid(updates_key, r))?;
        }
        let settings = Self {
            bot_token_secret: text(
                fields.bot_token_secret,
                k("BotTokenSecret", "bot_token_secret"),
            )?,
            webhook_url: text(fields.webhook_url, k("WebhookUrl", "webhook_url"))?,
            secret_token_secret: text(
                fields.secret_token_secret,
                k("SecretTokenSecret", "secret_token_secret"),
            )?,
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
        let e = WebhookProperties::from_json(&json!({"max_connections": 500}), Style::Action)
            .unwrap_err();
        assert!(e.to_string().contains("max_connections"));
    }
}
