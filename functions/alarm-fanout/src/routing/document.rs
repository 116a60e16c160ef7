//! The routing document's types as people write them: the receivers by type and the raw
//! document, before [`super::parse`] checks it.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::matchers::one_or_many;
use super::tree::RawRoute;
use crate::windows::RawInterval;

/// A Telegram chat: a numeric id or an `@channel` name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(untagged)]
pub enum ChatId {
    Id(i64),
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Receiver {
    Telegram {
        chat_id: ChatId,
        #[serde(default)]
        thread_id: Option<i64>,
        bot_token_secret: String,
        /// Attach a picture of the metric to metric alarms.
        #[serde(default)]
        picture: bool,
    },
    Slack {
        webhook_url_secret: String,
    },
    /// Slack through a bot token (the Web API): OKs threaded under their ALARM.
    SlackBot {
        bot_token_secret: String,
        channel: String,
        /// Also edit the ALARM message in place to show the OK.
        #[serde(default)]
        update_message: bool,
        /// Attach a picture of the metric to metric alarms.
        #[serde(default)]
        picture: bool,
    },
    /// Microsoft Teams through a Workflows webhook.
    Teams {
        webhook_url_secret: String,
    },
    GoogleChat {
        webhook_url_secret: String,
    },
    Pagerduty {
        routing_key_secret: String,
    },
    Sns {
        topic_arn: String,
    },
    Webhook {
        url_secret: String,
    },
}

impl Receiver {
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Telegram { .. } => "telegram",
            Self::Slack { .. } => "slack",
            Self::SlackBot { .. } => "slack_bot",
            Self::Teams { .. } => "teams",
            Self::GoogleChat { .. } => "google_chat",
            Self::Pagerduty { .. } => "pagerduty",
            Self::Sns { .. } => "sns",
            Self::Webhook { .. } => "webhook",
        }
    }

    pub(super) fn secret(&self) -> Option<(&'static str, &str)> {
        match self {
            Self::Telegram {
                bot_token_secret, ..
            } => Some(("bot_token_secret", bot_token_secret)),
            Self::Slack { webhook_url_secret }
            | Self::GoogleChat { webhook_url_secret }
            | Self::Teams { webhook_url_secret } => {
                Some(("webhook_url_secret", webhook_url_secret))
            }
            Self::SlackBot {
                bot_token_secret, ..
            } => Some(("bot_token_secret", bot_token_secret)),
            Self::Pagerduty { routing_key_secret } => {
                Some(("routing_key_secret", routing_key_secret))
            }
            Self::Webhook { url_secret } => Some(("url_secret", url_secret)),
            Self::Sns { .. } => None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDocument {
    pub(super) receivers: BTreeMap<String, Receiver>,
    #[serde(default)]
    pub(super) routes: Vec<RawRoute>,
    #[serde(deserialize_with = "one_or_many")]
    pub(super) default: Option<Vec<String>>,
    #[serde(default)]
    pub(super) repeat_interval: Option<String>,
    #[serde(default)]
    pub(super) time_intervals: BTreeMap<String, Vec<RawInterval>>,
    #[serde(default)]
    pub(super) inhibit_rules: Vec<serde_json::Value>,
}
