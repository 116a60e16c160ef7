//! How each setting's key is spelt: PascalCase in CloudFormation properties, snake_case in
//! a direct action, one table for both so that the reader and the errors agree.

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

    /// Every key the input may have, in the order an unknown-key error lists them.
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            Style::Properties => &[
                "ServiceToken",
                "ServiceTimeout",
                "BotTokenSecret",
                "WebhookUrl",
                "SecretTokenSecret",
                "AllowedUpdates",
                "MaxConnections",
                "DropPendingUpdates",
            ],
            Style::Action => &[
                "action",
                "bot_token_secret",
                "webhook_url",
                "secret_token_secret",
                "allowed_updates",
                "max_connections",
                "drop_pending_updates",
            ],
        }
    }
}

/// The webhook's settings, whichever way the input spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    BotTokenSecret,
    WebhookUrl,
    SecretTokenSecret,
    AllowedUpdates,
    MaxConnections,
    DropPendingUpdates,
}

impl Setting {
    pub const ALL: [Setting; 6] = [
        Setting::BotTokenSecret,
        Setting::WebhookUrl,
        Setting::SecretTokenSecret,
        Setting::AllowedUpdates,
        Setting::MaxConnections,
        Setting::DropPendingUpdates,
    ];

    /// The key as `style` spells it (errors name the setting this way).
    pub fn key(self, style: Style) -> &'static str {
        let (pascal, snake) = match self {
            Setting::BotTokenSecret => ("BotTokenSecret", "bot_token_secret"),
            Setting::WebhookUrl => ("WebhookUrl", "webhook_url"),
            Setting::SecretTokenSecret => ("SecretTokenSecret", "secret_token_secret"),
            Setting::AllowedUpdates => ("AllowedUpdates", "allowed_updates"),
            Setting::MaxConnections => ("MaxConnections", "max_connections"),
            Setting::DropPendingUpdates => ("DropPendingUpdates", "drop_pending_updates"),
        };
        style.key(pascal, snake)
    }

    /// The setting a key names in `style`, if it names one.
    pub fn named(key: &str, style: Style) -> Option<Setting> {
        Setting::ALL.into_iter().find(|s| s.key(style) == key)
    }
}

/// What a key of the input is, besides a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Setting(Setting),
    /// A direct action's `action`.
    Action,
    /// Set by CloudFormation itself on every custom resource (`ServiceToken`,
    /// `ServiceTimeout`): accepted and not read.
    CloudFormation,
}

impl Key {
    pub fn of(key: &str, style: Style) -> Option<Key> {
        match (style, key) {
            (Style::Action, "action") => Some(Key::Action),
            (Style::Properties, "ServiceToken" | "ServiceTimeout") => Some(Key::CloudFormation),
            _ => Setting::named(key, style).map(Key::Setting),
        }
    }
}
