//! Slack through a bot token (`chat.postMessage`, the token in the `Authorization` header):
//! an alarm's ALARM message's channel and `ts` are kept, its reminders (also shown in the
//! channel, `reply_broadcast`) and its OK are posted in that thread (`thread_ts`) and, with
//! `update_message`, the ALARM message is edited in place to show the OK (`chat.update`),
//! as Alertmanager's `update_message` does. A reminder never replaces the kept `ts`: the
//! OK answers and edits the ALARM itself. Slack answers most
//! refusals with HTTP 200 and `"ok": false`; its `error` code is reported.

use std::sync::atomic::AtomicU32;

use groundcrew::secrets::{reveal, SecretStore};
use groundcrew::Deadline;
use serde::Deserialize;
use serde_json::Value;

use super::api::{Body, Request};
use super::{join_url, Publisher, Receivers, SendError, To, Transport};
use crate::routing::Receiver;
use crate::threads::{Anchor, Role, Thread};

/// Slack's answer: `ok`, the `error` code when not, and where the message went.
#[derive(Debug, Deserialize)]
pub(super) struct Answer {
    pub ok: bool,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub ts: Option<String>,
}

/// Reads Slack's answer; `"ok": false` is a refusal naming Slack's error code.
pub(super) fn read_answer(target: &str, body: &str) -> Result<Answer, SendError> {
    let answer: Answer = serde_json::from_str(body).map_err(|_| SendError::Rejected {
        target: target.to_string(),
        reason: "Slack's answer is not JSON".into(),
    })?;
    if !answer.ok {
        return Err(SendError::Rejected {
            target: target.to_string(),
            reason: format!(
                "Slack answered {}",
                answer.error.as_deref().unwrap_or("ok=false")
            ),
        });
    }
    Ok(answer)
}

impl<S: SecretStore + 'static, P: Publisher, T: Transport> Receivers<S, P, T> {
    /// Posts `body` (a Slack message with its `channel`) in the alarm's thread.
    pub(super) async fn send_slack_bot(
        &self,
        to: To<'_>,
        target: &str,
        body: &Value,
        thread: Option<&Thread>,
        uncertain: &AtomicU32,
        deadline: Deadline,
    ) -> Result<(), SendError> {
        let Receiver::SlackBot {
            bot_token_secret,
            channel,
            update_message,
            ..
        } = to.receiver
        else {
            return Err(SendError::Mismatch(format!(
                "{target}: not a Slack bot receiver"
            )));
        };
        let token = self.secrets.get_str(bot_token_secret).await?;
        let token = reveal(&token);
        let chat = format!("slack:{channel}");
        let follows = thread.filter(|t| t.role != Role::Start);
        let anchor = match follows {
            Some(t) => self.anchor(&chat, &t.alarm).await,
            None => None,
        };
        let mut message = body.clone();
        if message.get("channel").is_none() {
            // Digests are made without one.
            message["channel"] = Value::String(channel.clone());
        }
        if let Some(a) = &anchor {
            message["thread_ts"] = Value::String(a.message.clone());
            if follows.is_some_and(|t| t.role == Role::Remind) {
                // A reminder wants attention again: shown in the channel too, not only in
                // the thread.
                message["reply_broadcast"] = Value::Bool(true);
            }
        }
        let request = Request {
            url: join_url(&self.endpoints.slack_api, "chat.postMessage"),
            bearer: Some(token.to_string()),
            body: Body::Json(message),
        };
        let answer = self
            .call(to, target, &request, token, uncertain, deadline)
            .await?;
        let answer = read_answer(target, &answer)?;
        match (thread, anchor) {
            (Some(t), _) if t.role == Role::Start => {
                if let (Some(channel_id), Some(ts)) = (answer.channel, answer.ts) {
                    let anchor = Anchor {
                        chat: channel_id,
                        message: ts,
                    };
                    self.keep(&chat, &t.alarm, &anchor).await;
                }
            }
            (Some(t), Some(anchor)) if t.role == Role::Reply && *update_message => {
                // The OK is delivered already: a failed edit is reported, not retried by
                // re-sending the reply.
                let mut edit = body.clone();
                edit["channel"] = Value::String(anchor.chat.clone());
                edit["ts"] = Value::String(anchor.message.clone());
                let request = Request {
                    url: join_url(&self.endpoints.slack_api, "chat.update"),
                    bearer: Some(token.to_string()),
                    body: Body::Json(edit),
                };
                let edited = self
                    .call(to, target, &request, token, &AtomicU32::new(0), deadline)
                    .await
                    .and_then(|answer| read_answer(target, &answer).map(|_| ()));
                if let Err(e) = edited {
                    tracing::warn!(receiver = to.name, error = %e, "the ALARM message could not be edited to show the OK");
                }
            }
            _ => {}
        }
        Ok(())
    }
}
