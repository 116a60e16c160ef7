//! The custom resource (`Custom::TelegramWebhook`): Create and Update register, Delete
//! removes the webhook when it is still this resource's. Errors become FAILED with a
//! token-free reason.

use groundcrew::custom_resource::{Claim, Failure, Outcome, Request};
use groundcrew::secrets::SecretError;
use groundcrew::Deadline;
use serde_json::Value;

use crate::alerts::Alerts;
use crate::error::Error;
use crate::handler::{App, Bot};
use crate::probe::Endpoint;
use crate::properties::{Style, WebhookProperties};
use crate::register::physical_id;
use crate::telegram::DeleteWebhook;
use crate::vault::Vault;
use groundcrew::http::Transport;

impl<V: Vault, A: Alerts, T: Transport, E: Endpoint> App<V, A, T, E> {
    /// panics is answered FAILED with it, and the rollback Delete removes the webhook.
    pub async fn custom_resource(
        &self,
        request: Request,
        deadline: Deadline,
        claim: Claim,
    ) -> Result<Outcome, Failure> {
        match request {
            Request::Create(r) => {
                self.create_or_update(&r.resource_properties, None, deadline, &claim)
                    .await
            }
            Request::Update(r) => {
                self.create_or_update(
                    &r.resource_properties,
                    Some(&r.physical_resource_id),
                    deadline,
                    &claim,
                )
                .await
            }
            Request::Delete(r) => {
                self.delete_resource(&r.resource_properties, &r.physical_resource_id, deadline)
                    .await
            }
            #[allow(unreachable_patterns)]
            _ => Err(Failure::new("unknown RequestType")),
        }
    }

    pub(crate) async fn create_or_update(
        &self,
        props: &Value,
        old_id: Option<&str>,
        deadline: Deadline,
        claim: &Claim,
    ) -> Result<Outcome, Failure> {
        let desired = WebhookProperties::from_json(props, Style::Properties)
            .and_then(|s| s.desired(Style::Properties))
            .map_err(|e| Failure::new(e.to_string()))?;
        let bot = self
            .bot(&desired.bot_token_secret)
            .await
            .map_err(|e| Failure::new(e.to_string()))?;
        let id = physical_id(&bot.id, &desired.webhook_url);
        claim.set(id.clone());
        let registered = match self
            .register(&bot, &desired, desired.drop_pending_updates, deadline)
            .await
        {
            Ok(done) => self.record(&bot, &done.registration).await.map(|()| done),
            Err(e) => Err(e),
        };
        match registered {
            Ok(done) => Ok(Outcome::new(done.physical_resource_id)
                .with_data("Url", done.webhook.url.clone())
                .with_data(
                    "PendingUpdateCount",
                    done.webhook.pending_update_count.to_string(),
                )
                .with_data(
                    "MaxConnections",
                    done.webhook
                        .max_connections
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                )
                .with_data("BotId", done.bot_id)
                .with_reason(if done.secret_token_created {
                    "webhook registered and verified; a new secret token was stored"
                } else {
                    "webhook registered and verified"
                })),
            Err(e) => {
                let reason = self.clean(&e.to_string(), &[&bot.token]);
                // A Create that may have set the webhook reports its id, so that the
                // rollback Delete removes it; an Update keeps the old id.
                Err(match old_id {
                    None => Failure::new(reason).with_physical_id(id),
                    Some(_) => Failure::new(reason),
                })
            }
        }
    }

    pub(crate) async fn delete_resource(
        &self,
        props: &Value,
        physical: &str,
        deadline: Deadline,
    ) -> Result<Outcome, Failure> {
        let done = |why: &str| Ok(Outcome::new(physical.to_string()).with_reason(why.to_string()));
        let settings = match WebhookProperties::from_json(props, Style::Properties) {
            Ok(s) => s,
            Err(e) => {
                return done(&format!(
                    "nothing to delete: the properties are unusable ({e})"
                ))
            }
        };
        let (Some(reference), Some(url)) = (
            settings.bot_token_secret.as_deref(),
            settings.webhook_url.as_deref(),
        ) else {
            return done("nothing to delete: no BotTokenSecret or WebhookUrl");
        };
        let bot = match self.bot(reference).await {
            Ok(bot) => bot,
            Err(Error::Secret(SecretError::NotFound { .. })) => {
                return done("the bot token secret no longer exists; nothing to delete")
            }
            Err(Error::NotABotToken { .. }) => {
                return done("the secret no longer holds a bot token; nothing to delete")
            }
            Err(e) => return Err(Failure::new(e.to_string())),
        };
        if physical_id(&bot.id, url) != physical {
            return done("the secret now holds another bot or the URL changed; this resource's webhook is left alone");
        }
        let outcome = self
            .delete_webhook(&bot, url, settings.drop_pending_updates, physical, deadline)
            .await?;
        // This resource is gone, whatever Telegram still had: its record goes too (unless a
        // newer registration of the bot replaced it), so that no repair brings it back.
        self.forget(&bot, url)
            .await
            .map_err(|e| Failure::new(e.to_string()))?;
        Ok(outcome)
    }

    /// `deleteWebhook` when the bot's webhook is still this resource's URL.
    pub(crate) async fn delete_webhook(
        &self,
        bot: &Bot,
        url: &str,
        drop_pending_updates: bool,
        physical: &str,
        deadline: Deadline,
    ) -> Result<Outcome, Failure> {
        let done = |why: &str| Ok(Outcome::new(physical.to_string()).with_reason(why.to_string()));
        let info = match self.telegram.get_webhook_info(&bot.token, deadline).await {
            Ok(info) => info,
            Err(e) if e.bot_gone() => {
                return done("Telegram no longer knows this bot token; nothing to delete")
            }
            Err(e) => return Err(Failure::new(self.clean(&e.to_string(), &[&bot.token]))),
        };
        if info.url.is_empty() {
            return done("the bot already has no webhook");
        }
        if info.url != url {
            return done("the webhook now points elsewhere (a newer resource); left alone");
        }
        let params = DeleteWebhook {
            drop_pending_updates,
        };
        match self
            .telegram
            .call(&bot.token, "deleteWebhook", &params, deadline)
            .await
        {
            Ok(_) => {
                tracing::info!(bot_id = %bot.id, "webhook deleted");
                done("webhook deleted")
            }
            Err(e) if e.bot_gone() => {
                done("Telegram no longer knows this bot token; nothing to delete")
            }
            Err(e) => Err(Failure::new(self.clean(&e.to_string(), &[&bot.token]))),
        }
    }
}
