//! Registering: `setWebhook` with the secret token, verified with `getWebhookInfo`; the
//! physical id; drift between what was asked and what Telegram has; the record of what the
//! custom resource registered.

use groundcrew::secrets::reveal;
use groundcrew::Deadline;
use secrecy::SecretString;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::alerts::Alerts;
use crate::error::Error;
use crate::handler::{App, Bot};
use crate::probe::Endpoint;
use crate::properties::Desired;
use crate::redacted::Redacted;
use crate::registration::{parameter_name, Registration};
use crate::telegram::{SetWebhook, WebhookInfo};
use crate::vault::{secret_token, Vault};
use groundcrew::http::Transport;

/// The stable physical id: the same bot and URL give the same id; a change of either gives
/// a new one (CloudFormation then deletes the old resource).
pub fn physical_id(bot_id: &str, url: &str) -> String {
    let digest = Sha256::digest(url.as_bytes());
    format!("telegram-webhook-{bot_id}-{}", &hex::encode(digest)[..16])
}

/// What registering did, as reported; `S` as in [`WebhookInfo`] (`Redacted` in the
/// `register` action's answer).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Registered<S = String> {
    pub bot_id: String,
    pub physical_resource_id: String,
    pub secret_token_created: bool,
    pub webhook: WebhookInfo<S>,
    /// What was registered, as the custom resource records it.
    #[serde(skip)]
    pub registration: Registration,
}

impl Registered {
    /// The report with the token masked in what Telegram echoed back.
    pub fn redacted(self, token: &SecretString) -> Registered<Redacted> {
        Registered {
            bot_id: self.bot_id,
            physical_resource_id: self.physical_resource_id,
            secret_token_created: self.secret_token_created,
            webhook: self.webhook.redacted(token),
            registration: self.registration,
        }
    }
}

/// Differences between the desired settings and Telegram's.
pub fn drift(desired: &Desired, info: &WebhookInfo) -> Vec<String> {
    let mut found = Vec::new();
    if info.url != desired.webhook_url {
        found.push(if info.url.is_empty() {
            "no webhook is set".to_string()
        } else {
            format!(
                "the webhook URL is {}, not {}",
                info.url, desired.webhook_url
            )
        });
    }
    if let (Some(want), Some(have)) = (desired.max_connections, info.max_connections) {
        if want != have {
            found.push(format!("max_connections is {have}, not {want}"));
        }
    }
    // Telegram leaves `allowed_updates` out when none were given (every type but
    // `chat_member`): against a registered list, that is drift too.
    if let (Some(want), false) = (&desired.allowed_updates, info.url.is_empty()) {
        let mut want = want.clone();
        let mut have = info.allowed_updates.clone().unwrap_or_default();
        want.sort();
        want.dedup();
        have.sort();
        have.dedup();
        if info.allowed_updates.is_none() {
            found.push(format!(
                "allowed_updates are Telegram's default (every type but chat_member), not {want:?}"
            ));
        } else if want != have {
            found.push(format!("allowed_updates are {have:?}, not {want:?}"));
        }
    }
    found
}

impl<V: Vault, A: Alerts, T: Transport, E: Endpoint> App<V, A, T, E> {
    /// setWebhook with the secret token, then getWebhookInfo to verify it took.
    pub(crate) async fn register(
        &self,
        bot: &Bot,
        desired: &Desired,
        drop_pending: bool,
        deadline: Deadline,
    ) -> Result<Registered, Error> {
        let (secret, created) = secret_token(&self.vault, &desired.secret_token_secret).await?;
        let params = SetWebhook {
            url: &desired.webhook_url,
            secret_token: reveal(&secret),
            max_connections: desired.max_connections,
            allowed_updates: desired.allowed_updates.as_deref(),
            drop_pending_updates: drop_pending,
        };
        self.telegram
            .call(&bot.token, "setWebhook", &params, deadline)
            .await
            .map_err(|e| self.scrub(e.into(), &[&bot.token, &secret]))?;
        let info = self.telegram.get_webhook_info(&bot.token, deadline).await?;
        let differences = drift(desired, &info);
        if !differences.is_empty() {
            return Err(Error::Verification(format!(
                "Telegram accepted setWebhook but getWebhookInfo reports: {}",
                differences.join("; ")
            )));
        }
        tracing::info!(bot_id = %bot.id, url = %info.url, pending = info.pending_update_count, "webhook registered and verified");
        Ok(Registered {
            bot_id: bot.id.clone(),
            physical_resource_id: physical_id(&bot.id, &desired.webhook_url),
            secret_token_created: created,
            webhook: info,
            registration: Registration::of(desired, &secret),
        })
    }

    /// The custom resource's work; errors become FAILED with a token-free reason.
    /// The physical id is claimed before `setWebhook`: a Create that then times out or
    /// Records what the custom resource registered, when a place for it is configured.
    pub(crate) async fn record(&self, bot: &Bot, registration: &Registration) -> Result<(), Error> {
        let Some(prefix) = &self.config.registration_prefix else {
            return Ok(());
        };
        self.vault
            .store_record(&parameter_name(prefix, &bot.id), &registration.to_json())
            .await
    }

    /// Removes the record of a deleted webhook (unless a newer registration replaced it).
    pub(crate) async fn forget(&self, bot: &Bot, url: &str) -> Result<(), Error> {
        let Some(prefix) = &self.config.registration_prefix else {
            return Ok(());
        };
        let name = parameter_name(prefix, &bot.id);
        match self.vault.load_record(&name).await? {
            Some(text) if Registration::parse(&name, &text).is_ok_and(|r| r.webhook_url != url) => {
                Ok(())
            }
            Some(_) => self.vault.delete_record(&name).await,
            None => Ok(()),
        }
    }
}
