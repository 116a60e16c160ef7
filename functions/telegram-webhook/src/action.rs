//! Direct actions for operators: `{"action": "register" | "info" | "delete" | "check",
//! ...properties}`, missing properties taken from the environment.

use groundcrew::Deadline;
use serde_json::{json, Value};

use crate::alerts::Alerts;
use crate::error::Error;
use crate::handler::App;
use crate::properties::{Style, WebhookProperties};
use crate::vault::Vault;
use groundcrew::http::Transport;

impl<V: Vault, A: Alerts, T: Transport> App<V, A, T> {
    /// `{"action": "register" | "info" | "delete" | "check", ...settings}`.
    pub async fn action(
        &self,
        event: &Value,
        deadline: Deadline,
        now: i64,
    ) -> Result<Value, Error> {
        let action = event
            .get("action")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::BadEvent("action must be a string".into()))?;
        if !matches!(action, "register" | "info" | "delete" | "check") {
            return Err(Error::Invalid {
                property: "action".into(),
                reason: "expected register, info, delete or check".into(),
            });
        }
        let settings =
            WebhookProperties::from_json(event, Style::Action)?.or(&self.config.defaults);
        match action {
            "register" => {
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
            "info" => {
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
            "delete" => {
                let bot = self.bot(settings.bot_token_secret(Style::Action)?).await?;
                let params = json!({"drop_pending_updates": settings.drop_pending_updates});
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
            _ => {
                let desired = settings.desired(Style::Action)?;
                let report = self.check(&desired, deadline, now).await;
                Ok(json!({"action": "check", "report": report}))
            }
        }
    }
}
