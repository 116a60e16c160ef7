//! The input as people write it, before anything is judged: a custom resource's
//! properties or a direct action, read into one typed [`Input`] with the keys spelt as the
//! [`Style`] says.
//!
//! One reader serves both spellings (serde's derive fixes one spelling per struct, and
//! `flatten` cannot be combined with `deny_unknown_fields`). A misspelt key is refused
//! rather than ignored (ignoring `WebhookURL` would silently register the environment's
//! default URL instead), with serde's own message: "unknown field `WebhookURL`, expected
//! one of `ServiceToken`, ...".

use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::Deserializer;

use super::keys::{Key, Setting, Style};
use super::loose::Loose;

/// Each setting as it came, unset when the input left it out.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    pub bot_token_secret: Option<Loose>,
    pub webhook_url: Option<Loose>,
    pub secret_token_secret: Option<Loose>,
    pub allowed_updates: Option<Loose>,
    pub max_connections: Option<Loose>,
    pub drop_pending_updates: Option<Loose>,
}

impl Fields {
    fn slot(&mut self, setting: Setting) -> &mut Option<Loose> {
        match setting {
            Setting::BotTokenSecret => &mut self.bot_token_secret,
            Setting::WebhookUrl => &mut self.webhook_url,
            Setting::SecretTokenSecret => &mut self.secret_token_secret,
            Setting::AllowedUpdates => &mut self.allowed_updates,
            Setting::MaxConnections => &mut self.max_connections,
            Setting::DropPendingUpdates => &mut self.drop_pending_updates,
        }
    }
}

/// `Custom::TelegramWebhook`'s properties, or a direct invocation `{"action": ...,
/// ...settings}`.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// A direct action's name (never set from properties, where `action` is unknown).
    pub action: Option<Loose>,
    pub fields: Fields,
}

impl Input {
    /// Reads an object whose keys are spelt as `style` spells them. Only a key that is
    /// not one of them, or one given twice, fails here: every known key takes any value.
    pub fn read<'de, D: Deserializer<'de>>(input: D, style: Style) -> Result<Self, D::Error> {
        input.deserialize_map(Reader(style))
    }
}

struct Reader(Style);

impl<'de> Visitor<'de> for Reader {
    type Value = Input;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of webhook settings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Input, A::Error> {
        let style = self.0;
        let mut input = Input::default();
        while let Some(key) = map.next_key::<String>()? {
            let (slot, name) = match Key::of(&key, style) {
                None => return Err(de::Error::unknown_field(&key, style.keys())),
                Some(Key::CloudFormation) => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                Some(Key::Action) => (&mut input.action, "action"),
                Some(Key::Setting(s)) => (input.fields.slot(s), s.key(style)),
            };
            if slot.is_some() {
                return Err(de::Error::duplicate_field(name));
            }
            // `null` is unset, as an absent key.
            *slot = map.next_value::<Option<Loose>>()?;
        }
        Ok(input)
    }
}
