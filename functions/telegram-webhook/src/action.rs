//! Direct actions for operators: `{"action": "register" | "info" | "delete" | "check",
//! ...properties}`, missing properties taken from the environment.

use groundcrew::Deadline;
use serde_json::{json, Value};

use crate::alerts::Alerts;
use crate::error::Error;
use crate::event::{Action, ActionName};
use crate::handler::App;
use crate::probe::Endpoint;
use crate::properties::Style;
use crate::telegram::DeleteWebhook;
use crate::vault::Vault;
use groundcrew::http::Transport;

impl<V: Vault, A: Alerts, T: Transport, E: Endpoint> App<V, A, T, E> {
    /// A direct action (`event.rs` read it), unset settings from the environment.
    pub async fn action(
        &self,
        action: &Action,
        deadline: Deadline,
        now: i64,
    ) -> Result<Value, Error> {
        let settings = action.settings.clone().or(&self.config.defaults);
        match action.name {
            ActionName::Register => {
                let desired = settings.desired(Style::Action)?;
                let bot = self.bot(&desired.bot_token_secret).await?;
                let done = self
                    .register(&bot, &desired, desired.drop_pending_updates, deadline)
                    .await
                    .map_err(|e| self.scrub(e, &[&bot.token]))?;
                self.clean_value(
                    json!({"action": "register", "registered": true, "result": done}),
                    &bot,
                )
            }
            ActionName::Info => {
                let bot = self.bot(settings.bot_token_secret(Style::Action)?).await?;
                let info = self
                    .telegram
                    .get_webhook_info(&bot.token, deadline)
                    .await
                    .map_err(|e| self.scrub(e.into(), &[&bot.token]))?;
                self.clean_value(
                    json!({"action": "info", "bot_id": bot.id, "webhook": info}),
                    &bot,
                )
            }
            ActionName::Delete => {
                let bot = self.bot(settings.bot_token_secret(Style::Action)?).await?;
                let params = DeleteWebhook {
                    drop_pending_updates: settings.drop_pending_updates,
                };
                let result = self
                    .telegram
                    .call(&bot.token, "deleteWebhook", &params, deadline)
                    .await
                    .map_err(|e| self.scrub(e.into(), &[&bot.token]))?;
                self.clean_value(
                    json!({"action": "delete", "bot_id": bot.id, "deleted": result}),
                    &bot,
                )
            }
            ActionName::Check => {
                let desired = settings.desired(Style::Action)?;
                let report = self.check(&desired, deadline, now).await;
                Ok(json!({"action": "check", "report": report}))
            }
        }
    }
}
