//! Direct actions for operators: `{"action": "register" | "info" | "delete" | "check",
//! ...properties}`, missing properties taken from the environment.

use groundcrew::Deadline;
use serde::Serialize;

use crate::alerts::Alerts;
use crate::check::HealthReport;
use crate::error::Error;
use crate::event::{Action, ActionName};
use crate::handler::App;
use crate::probe::Endpoint;
use crate::properties::Style;
use crate::redacted::Redacted;
use crate::register::Registered;
use crate::telegram::{DeleteWebhook, WebhookInfo};
use crate::vault::Vault;
use groundcrew::http::Transport;

/// A direct action's answer, `{"action": name, ...}`. What Telegram echoes back is
/// [`Redacted`]: the bot token cannot reach the answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum ActionReport {
    Register {
        registered: bool,
        result: Registered<Redacted>,
    },
    Info {
        bot_id: String,
        webhook: WebhookInfo<Redacted>,
    },
    Delete {
        bot_id: String,
        deleted: bool,
    },
    Check {
        report: HealthReport,
    },
}

impl<V: Vault, A: Alerts, T: Transport, E: Endpoint> App<V, A, T, E> {
    /// A direct action (`event.rs` read it), unset settings from the environment.
    pub async fn action(
        &self,
        action: &Action,
        deadline: Deadline,
        now: i64,
    ) -> Result<ActionReport, Error> {
        let settings = action.settings.clone().or(&self.config.defaults);
        match action.name {
            ActionName::Register => {
                let desired = settings.desired(Style::Action)?;
                let bot = self.bot(&desired.bot_token_secret).await?;
                let done = self
                    .register(&bot, &desired, desired.drop_pending_updates, deadline)
                    .await
                    .map_err(|e| self.scrub(e, &[&bot.token]))?;
                Ok(ActionReport::Register {
                    registered: true,
                    result: done.redacted(&bot.token),
                })
            }
            ActionName::Info => {
                let bot = self.bot(settings.bot_token_secret(Style::Action)?).await?;
                let info = self
                    .telegram
                    .get_webhook_info(&bot.token, deadline)
                    .await
                    .map_err(|e| self.scrub(e.into(), &[&bot.token]))?;
                Ok(ActionReport::Info {
                    webhook: info.redacted(&bot.token),
                    bot_id: bot.id,
                })
            }
            ActionName::Delete => {
                let bot = self.bot(settings.bot_token_secret(Style::Action)?).await?;
                let params = DeleteWebhook {
                    drop_pending_updates: settings.drop_pending_updates,
                };
                let deleted = self
                    .telegram
                    .delete_webhook(&bot.token, &params, deadline)
                    .await
                    .map_err(|e| self.scrub(e.into(), &[&bot.token]))?;
                Ok(ActionReport::Delete {
                    bot_id: bot.id,
                    deleted,
                })
            }
            ActionName::Check => {
                let desired = settings.desired(Style::Action)?;
                let report = self.check(&desired, deadline, now).await;
                Ok(ActionReport::Check { report })
            }
        }
    }
}
