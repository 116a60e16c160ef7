//! The webhook's properties (URL, secret references, allowed updates, max connections),
//! read from custom-resource properties or a direct action, and validated before anything
//! calls Telegram. The function's environment gives the defaults (`config.rs`).
//!
//! How keys are spelt is `keys.rs`; reading the input as it comes, `input.rs` and
//! `loose.rs`; judging each setting, here.

mod input;
mod keys;
mod loose;
#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::error::Error;
use crate::validate;
pub use input::{Fields, Input};
pub use keys::{Setting, Style};
pub use loose::Loose;
use loose::{flag, names, text, whole_number};

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

impl WebhookProperties {
    /// Reads the settings from a custom resource's properties or a direct action (typed:
    /// [`Input`]); CloudFormation passes every scalar as a string, so numbers and booleans
    /// are accepted as strings too.
    pub fn from_json(obj: &Value, style: Style) -> Result<Self, Error> {
        let whole = style.key("ResourceProperties", "event");
        if !obj.is_object() {
            return Err(invalid(whole, "expected an object"));
        }
        let input = Input::read(obj, style).map_err(|e| invalid(whole, e.to_string()))?;
        Self::judge(input.fields, style)
    }

    /// A direct action's settings (the input read already: `event.rs`).
    pub fn from_action(input: Input) -> Result<Self, Error> {
        Self::judge(input.fields, Style::Action)
    }

    /// Each setting checked, errors naming the property as the input spells it.
    fn judge(fields: Fields, style: Style) -> Result<Self, Error> {
        let k = |s: Setting| s.key(style);
        let max_key = k(Setting::MaxConnections);
        let max_connections = whole_number(fields.max_connections, max_key)?
            .map(|n| validate::max_connections(n).map_err(|r| invalid(max_key, r)))
            .transpose()?;
        let drop_pending_updates =
            flag(fields.drop_pending_updates, k(Setting::DropPendingUpdates))?;
        let updates_key = k(Setting::AllowedUpdates);
        let allowed_updates = names(fields.allowed_updates, updates_key)?;
        if let Some(list) = &allowed_updates {
            validate::update_types(list).map_err(|r| invalid(updates_key, r))?;
        }
        let settings = Self {
            bot_token_secret: text(fields.bot_token_secret, k(Setting::BotTokenSecret))?,
            webhook_url: text(fields.webhook_url, k(Setting::WebhookUrl))?,
            secret_token_secret: text(fields.secret_token_secret, k(Setting::SecretTokenSecret))?,
            allowed_updates,
            max_connections,
            drop_pending_updates,
        };
        if let Some(url) = &settings.webhook_url {
            validate::webhook_url(url).map_err(|r| invalid(k(Setting::WebhookUrl), r))?;
        }
        if let Some(r) = &settings.bot_token_secret {
            validate::secret_reference(r).map_err(|e| invalid(k(Setting::BotTokenSecret), e))?;
        }
        if let Some(r) = &settings.secret_token_secret {
            validate::secret_reference(r).map_err(|e| invalid(k(Setting::SecretTokenSecret), e))?;
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
        let key = Setting::BotTokenSecret.key(style);
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
            .ok_or_else(|| invalid(Setting::WebhookUrl.key(style), "is required"))?;
        let secret_token_secret = self.secret_token_secret.clone().ok_or_else(|| {
            invalid(
                Setting::SecretTokenSecret.key(style),
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
