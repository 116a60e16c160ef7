//! The receivers without threads, one request each: Slack and Teams webhooks and plain
//! webhooks (the URL is the secret), Google Chat (its thread key is in the body),
//! PagerDuty (the routing key added to the event) and SNS.

use std::sync::atomic::AtomicU32;

use groundcrew::retry::retry;
use groundcrew::secrets::{reveal, SecretStore};
use groundcrew::Deadline;
use serde_json::Value;

use super::{join_url, Publisher, Receivers, SendError, To, Transport};
use crate::format::Message;
use crate::routing::Receiver;

impl<S: SecretStore + 'static, P: Publisher, T: Transport> Receivers<S, P, T> {
    /// The receivers without threads: one request each.
    pub(super) async fn send_plain(
        &self,
        to: To<'_>,
        target: &str,
        message: &Message,
        uncertain: &AtomicU32,
        deadline: Deadline,
    ) -> Result<Option<i64>, SendError> {
        let mismatch = || SendError::Mismatch(format!("{target}: no message made for it"));
        match (to.receiver, message) {
            (Receiver::Slack { webhook_url_secret }, Message::Json(body))
            | (Receiver::Teams { webhook_url_secret }, Message::Json(body))
            | (
                Receiver::Webhook {
                    url_secret: webhook_url_secret,
                },
                Message::Json(body),
            ) => {
                let url = self.secrets.get_str(webhook_url_secret).await?;
                let url = reveal(&url);
                self.post(to, target, url, || body.clone(), url, uncertain, deadline)
                    .await?;
                Ok(None)
            }
            (Receiver::GoogleChat { webhook_url_secret }, Message::Json(body)) => {
                let secret = self.secrets.get_str(webhook_url_secret).await?;
                let mut url =
                    url::Url::parse(reveal(&secret)).map_err(|_| SendError::Rejected {
                        target: target.to_string(),
                        reason: "the webhook URL secret is not a URL".into(),
                    })?;
                url.query_pairs_mut()
                    .append_pair("messageReplyOption", "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD");
                self.post(
                    to,
                    target,
                    url.as_str(),
                    || body.clone(),
                    reveal(&secret),
                    uncertain,
                    deadline,
                )
                .await?;
                Ok(None)
            }
            (Receiver::Pagerduty { routing_key_secret }, Message::Pagerduty(event)) => {
                let key = self.secrets.get_str(routing_key_secret).await?;
                let key = reveal(&key);
                let url = join_url(&self.endpoints.pagerduty_events, "v2/enqueue");
                let body = || {
                    let mut body = event.clone();
                    body["routing_key"] = Value::String(key.to_string());
                    body
                };
                self.post(to, target, &url, body, key, uncertain, deadline)
                    .await?;
                Ok(None)
            }
            (Receiver::Sns { topic_arn }, Message::Sns { subject, message }) => {
                retry(&self.policy, deadline, target, || {
                    self.publisher.publish(topic_arn, subject, message)
                })
                .await?;
                Ok(None)
            }
            _ => Err(mismatch()),
        }
    }
}
