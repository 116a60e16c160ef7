//! Telegram's `sendMessage`: HTML text to a chat (or a forum topic), following a group that
//! became a supergroup, and threading an alarm: the `message_id` of the first part of its
//! ALARM is kept per chat, its reminders are replies to it and its OK a quiet one
//! (`reply_parameters`, `disable_notification`). A reminder never replaces the kept id.

use std::sync::atomic::AtomicU32;

use groundcrew::http::HttpError;
use groundcrew::secrets::{reveal, SecretStore};
use groundcrew::Deadline;
use serde::Deserialize;
use serde_json::Value;

use super::{join_url, telegram_parameter, Publisher, Receivers, SendError, To, Transport};
use crate::routing::{ChatId, Receiver};
use crate::threads::{Anchor, Role, Thread};

/// The part of Telegram's answer that threads need.
#[derive(Debug, Deserialize)]
struct Answer {
    ok: bool,
    #[serde(default)]
    result: Option<SentMessage>,
}

#[derive(Debug, Deserialize)]
struct SentMessage {
    message_id: i64,
}

/// The thread store's name for a chat.
pub(super) fn chat_key(chat: &Value) -> String {
    format!("telegram:{}", chat.to_string().trim_matches('"'))
}

impl<S: SecretStore + 'static, P: Publisher, T: Transport> Receivers<S, P, T> {
    /// The chat a receiver's messages go to: the configured one, or the supergroup it
    /// became.
    pub(super) fn telegram_chat(&self, name: &str, chat_id: &ChatId) -> Value {
        match (self.migrated(name), chat_id) {
            (Some(id), _) => Value::from(id),
            (None, ChatId::Id(id)) => Value::from(*id),
            (None, ChatId::Name(n)) => Value::from(n.clone()),
        }
    }

    /// Sends one part; `thread` places it in its alarm's thread, `first` says whether it
    /// is the message's first part (the one a thread's replies point at).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn send_telegram(
        &self,
        to: To<'_>,
        target: &str,
        text: &str,
        thread: Option<&Thread>,
        first: bool,
        uncertain: &AtomicU32,
        deadline: Deadline,
    ) -> Result<Option<i64>, SendError> {
        let name = to.name;
        let Receiver::Telegram {
            chat_id,
            thread_id,
            bot_token_secret,
            ..
        } = to.receiver
        else {
            return Err(SendError::Mismatch(format!(
                "{target}: not a Telegram receiver"
            )));
        };
        let token = self.secrets.get_str(bot_token_secret).await?;
        let token = reveal(&token);
        let url = join_url(
            &self.endpoints.telegram_api,
            &format!("bot{token}/sendMessage"),
        );
        let chat = || self.telegram_chat(name, chat_id);
        // An OK and a reminder answer the ALARM; only an OK is quiet.
        let follows = thread.filter(|t| t.role != Role::Start);
        let quiet = thread.is_some_and(|t| t.role == Role::Reply);
        let anchor = match follows {
            Some(t) => self.anchor(&chat_key(&chat()), &t.alarm).await,
            None => None,
        };
        let body = || {
            let chat = chat();
            let mut body = serde_json::json!({
                "chat_id": chat,
                "text": text,
                "parse_mode": "HTML",
                "link_preview_options": {"is_disabled": true},
            });
            if let Some(t) = thread_id {
                body["message_thread_id"] = Value::from(*t);
            }
            if quiet {
                // An OK needs no one's attention now: it lands quietly.
                body["disable_notification"] = Value::Bool(true);
            }
            // A reply in another chat (the group was migrated since) cannot point back.
            let same_chat = anchor.as_ref().filter(|a| a.chat == chat_key(&chat));
            if let Some(id) = same_chat.and_then(|a| a.message.parse::<i64>().ok()) {
                body["reply_parameters"] = serde_json::json!({
                    "message_id": id,
                    // The ALARM may have been deleted: the OK goes out anyway.
                    "allow_sending_without_reply": true,
                });
            }
            body
        };
        // A chat that became a supergroup is followed once, at once, to its new id.
        let mut followed = false;
        let answer = loop {
            match self
                .post(to, target, &url, body, token, uncertain, deadline)
                .await
            {
                Err(SendError::Http(HttpError::Status {
                    status: 400, body, ..
                })) => match telegram_parameter(&body, "migrate_to_chat_id") {
                    Some(chat_id) if !followed => {
                        followed = true;
                        self.migrations
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .insert(name.to_string(), chat_id);
                        tracing::warn!(
                            receiver = name,
                            chat_id,
                            "the Telegram group became a supergroup: update the routing document"
                        );
                    }
                    _ => {
                        return Err(SendError::Rejected {
                            target: target.to_string(),
                            reason: format!("HTTP 400: {body}"),
                        })
                    }
                },
                other => break other?,
            }
        };
        let answer = serde_json::from_str::<Answer>(&answer).ok();
        if answer.as_ref().is_some_and(|a| !a.ok) {
            return Err(SendError::Rejected {
                target: target.to_string(),
                reason: "Telegram answered ok=false".into(),
            });
        }
        if let (Some(t), true) = (thread.filter(|t| t.role == Role::Start), first) {
            if let Some(sent) = answer.and_then(|a| a.result) {
                let chat = chat_key(&chat());
                let anchor = Anchor {
                    chat: chat.clone(),
                    message: sent.message_id.to_string(),
                };
                self.keep(&chat, &t.alarm, &anchor).await;
            }
        }
        Ok(self.migrated(name))
    }
}
