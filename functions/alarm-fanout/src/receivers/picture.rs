//! The picture of an alarm, sent after its text: Telegram `sendPhoto` as a quiet reply to
//! the text (the caption is the headline: the text itself may be longer than a caption's
//! 1,024 characters), Slack through `files.getUploadURLExternal`, an upload of the PNG and
//! `files.completeUploadExternal` into the alarm's thread (the older `files.upload` is
//! retired). The text is out before the picture is fetched, the picture has
//! [`PICTURE_BUDGET`], and any failure is logged and costs only the picture.

use std::sync::atomic::AtomicU32;
use std::time::Duration;

use groundcrew::secrets::{reveal, SecretStore};
use groundcrew::Deadline;
use serde::Deserialize;
use serde_json::{json, Value};

use super::api::{Body, Field, Request};
use super::slack::read_answer;
use super::{join_url, Publisher, Receivers, SendError, To, Transport};
use crate::format::PictureRequest;
use crate::picture::PICTURE_BUDGET;
use crate::routing::Receiver;
use crate::threads::Thread;

/// Left for the delivery record after a picture's budget.
const RESERVE: Duration = Duration::from_secs(2);

#[derive(Debug, Deserialize)]
struct UploadUrl {
    upload_url: String,
    file_id: String,
}

impl<S: SecretStore + 'static, P: Publisher, T: Transport> Receivers<S, P, T> {
    /// Sends the picture when there is time for it; never fails the delivery.
    pub(super) async fn send_picture(
        &self,
        to: To<'_>,
        target: &str,
        request: &PictureRequest,
        thread: &Thread,
        deadline: Deadline,
    ) {
        if !deadline.allows(PICTURE_BUDGET + RESERVE) {
            tracing::warn!(receiver = to.name, "no time left for the alarm's picture");
            return;
        }
        let work = self.picture_inner(to, target, request, thread, deadline.within(PICTURE_BUDGET));
        match tokio::time::timeout(PICTURE_BUDGET, work).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(receiver = to.name, %error, "the alarm's picture was not sent")
            }
            Err(_) => tracing::warn!(
                receiver = to.name,
                "the alarm's picture took longer than its budget: not sent"
            ),
        }
    }

    async fn picture_inner(
        &self,
        to: To<'_>,
        target: &str,
        request: &PictureRequest,
        thread: &Thread,
        deadline: Deadline,
    ) -> Result<(), SendError> {
        let png = self
            .pictures
            .picture(&request.alarm_name)
            .await
            .map_err(|reason| SendError::Rejected {
                target: target.to_string(),
                reason,
            })?;
        let Some(png) = png else {
            return Ok(());
        };
        let uncertain = AtomicU32::new(0);
        match to.receiver {
            Receiver::Telegram {
                chat_id,
                thread_id,
                bot_token_secret,
                ..
            } => {
                let token = self.secrets.get_str(bot_token_secret).await?;
                let token = reveal(&token);
                let chat = self.telegram_chat(to.name, chat_id);
                let key = super::telegram::chat_key(&chat);
                let mut fields = vec![
                    text("chat_id", chat.to_string().trim_matches('"')),
                    Field::File {
                        name: "photo".into(),
                        file_name: "alarm.png".into(),
                        content_type: "image/png".into(),
                        data: png,
                    },
                    text("caption", &request.caption),
                    // The text already rang; the picture follows quietly.
                    text("disable_notification", "true"),
                ];
                if let Some(t) = thread_id {
                    fields.push(text("message_thread_id", &t.to_string()));
                }
                if let Some(anchor) = self.anchor(&key, &thread.alarm).await {
                    if let Ok(id) = anchor.message.parse::<i64>() {
                        let reply = json!({"message_id": id, "allow_sending_without_reply": true});
                        fields.push(text("reply_parameters", &reply.to_string()));
                    }
                }
                let request = Request {
                    url: join_url(
                        &self.endpoints.telegram_api,
                        &format!("bot{token}/sendPhoto"),
                    ),
                    bearer: None,
                    body: Body::Form(fields),
                };
                let answer = self
                    .call(to, target, &request, token, &uncertain, deadline)
                    .await?;
                let ok = serde_json::from_str::<Value>(&answer)
                    .ok()
                    .and_then(|v| v.get("ok").and_then(Value::as_bool));
                if ok == Some(false) {
                    return Err(SendError::Rejected {
                        target: target.to_string(),
                        reason: "Telegram answered ok=false to sendPhoto".into(),
                    });
                }
                Ok(())
            }
            Receiver::SlackBot {
                bot_token_secret,
                channel,
                ..
            } => {
                // The file goes into the ALARM's thread, by channel id.
                let Some(anchor) = self
                    .anchor(&format!("slack:{channel}"), &thread.alarm)
                    .await
                else {
                    return Ok(());
                };
                let token = self.secrets.get_str(bot_token_secret).await?;
                let token = reveal(&token);
                let api = |method: &str, pairs: Vec<(String, String)>| Request {
                    url: join_url(&self.endpoints.slack_api, method),
                    bearer: Some(token.to_string()),
                    body: Body::UrlEncoded(pairs),
                };
                let pair = |k: &str, v: String| (k.to_string(), v);
                let asked = api(
                    "files.getUploadURLExternal",
                    vec![
                        pair("filename", "alarm.png".into()),
                        pair("length", png.len().to_string()),
                        pair("alt_txt", request.caption.clone()),
                    ],
                );
                let answer = self
                    .call(to, target, &asked, token, &uncertain, deadline)
                    .await?;
                read_answer(target, &answer)?;
                let upload: UploadUrl =
                    serde_json::from_str(&answer).map_err(|_| SendError::Rejected {
                        target: target.to_string(),
                        reason: "Slack gave no upload_url".into(),
                    })?;
                let put = Request {
                    url: upload.upload_url,
                    bearer: None,
                    body: Body::Bytes {
                        content_type: "image/png".into(),
                        data: png,
                    },
                };
                self.call(to, target, &put, token, &uncertain, deadline)
                    .await?;
                let files = json!([{"id": upload.file_id, "title": request.caption}]);
                let complete = api(
                    "files.completeUploadExternal",
                    vec![
                        pair("files", files.to_string()),
                        pair("channel_id", anchor.chat),
                        pair("thread_ts", anchor.message),
                    ],
                );
                let answer = self
                    .call(to, target, &complete, token, &uncertain, deadline)
                    .await?;
                read_answer(target, &answer).map(|_| ())
            }
            _ => Ok(()),
        }
    }
}

fn text(name: &str, value: &str) -> Field {
    Field::Text {
        name: name.to_string(),
        value: value.to_string(),
    }
}
