//! What the custom resource registered, recorded for the health check.
//!
//! The custom resource takes its settings from its properties (`MaxConnections: 40`), the
//! health check from the environment. Comparing Telegram's webhook with the environment
//! would miss drift from the properties and "repair" the webhook back to other settings.
//! So a Create or Update records exactly what it registered (one SSM parameter per bot,
//! under `REGISTRATION_PARAMETER_PREFIX`), a Delete removes the record, and the health check
//! compares with, and repairs to, the record when there is one.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use groundcrew::secrets::reveal;

use crate::error::Error;
use crate::properties::Desired;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub webhook_url: String,
    /// Where the secret token is kept (a name, never the token).
    pub secret_token_secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_updates: Option<Vec<String>>,
    /// SHA-256 (hex) of the secret token sent to Telegram: tells a rotated token from the
    /// registered one without keeping the token.
    pub secret_token_sha256: String,
}

impl Registration {
    pub fn of(desired: &Desired, secret_token: &SecretString) -> Self {
        Self {
            webhook_url: desired.webhook_url.clone(),
            secret_token_secret: desired.secret_token_secret.clone(),
            max_connections: desired.max_connections,
            allowed_updates: desired.allowed_updates.clone(),
            secret_token_sha256: sha256(reveal(secret_token)),
        }
    }

    /// The settings the health check holds Telegram to: the registered ones, read with the
    /// bot token secret of `base`. A repair never drops pending updates.
    pub fn desired(&self, base: &Desired) -> Desired {
        Desired {
            bot_token_secret: base.bot_token_secret.clone(),
            webhook_url: self.webhook_url.clone(),
            secret_token_secret: self.secret_token_secret.clone(),
            allowed_updates: self.allowed_updates.clone(),
            max_connections: self.max_connections,
            drop_pending_updates: false,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn parse(name: &str, text: &str) -> Result<Self, Error> {
        serde_json::from_str(text)
            .map_err(|e| Error::Registry(format!("{name} does not hold a registration: {e}")))
    }
}

/// The parameter recording what was registered for `bot_id`.
pub fn parameter_name(prefix: &str, bot_id: &str) -> String {
    format!("{}/registered/{bot_id}", prefix.trim_end_matches('/'))
}

pub fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired() -> Desired {
        Desired {
            bot_token_secret: "tg/bot".into(),
            webhook_url: "https://bot.example/h".into(),
            secret_token_secret: "tg/secret".into(),
            allowed_updates: Some(vec!["message".into()]),
            max_connections: Some(40),
            drop_pending_updates: true,
        }
    }

    #[test]
    fn round_trips_without_the_token_and_restores_exactly_what_was_registered() {
        let token = SecretString::from("s3cret-token".to_string());
        let r = Registration::of(&desired(), &token);
        let text = r.to_json();
        assert!(!text.contains("s3cret-token"), "{text}");
        let back = Registration::parse("/p/registered/1", &text).unwrap();
        assert_eq!(back, r);
        let mut env = desired();
        env.webhook_url = "https://other.example/h".into();
        env.max_connections = Some(10);
        let restored = back.desired(&env);
        assert_eq!(restored.webhook_url, "https://bot.example/h");
        assert_eq!(restored.max_connections, Some(40));
        assert!(!restored.drop_pending_updates);
        assert_eq!(
            parameter_name("/gc-dev/telegram-webhook/", "7"),
            "/gc-dev/telegram-webhook/registered/7"
        );
        assert!(Registration::parse("/p", "nope")
            .unwrap_err()
            .to_string()
            .contains("/p"));
    }
}
