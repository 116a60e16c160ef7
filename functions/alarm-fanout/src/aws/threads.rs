//! [`crate::threads::Threads`] over DynamoDB: one item per chat and alarm in the function's
//! table, `thread#<chat>#<alarm key>`, with the chat as the receiver answered it (`chat`),
//! the message's id (`msg`) and the TTL attribute `expires_at`. A newer ALARM of the same
//! alarm replaces the item, so an OK replies to the ALARM it follows.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use groundcrew::aws::describe_sdk_error;

use super::Shared;
use crate::threads::{Anchor, BoxFuture, Threads, THREAD_TTL};

#[derive(Debug, Clone)]
pub struct DynamoThreads {
    pub(super) client: Shared<aws_sdk_dynamodb::Client>,
    table: String,
}

impl DynamoThreads {
    /// Over a client built on first use ([`super::Clients`]).
    pub fn shared(client: Shared<aws_sdk_dynamodb::Client>, table: &str) -> Self {
        Self {
            client,
            table: table.to_string(),
        }
    }
}

fn key(chat: &str, alarm: &str) -> AttributeValue {
    AttributeValue::S(format!("thread#{chat}#{alarm}"))
}

fn text(item: &std::collections::HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    item.get(name)?.as_s().ok().cloned()
}

impl Threads for DynamoThreads {
    fn anchor<'a>(
        &'a self,
        chat: &'a str,
        alarm: &'a str,
    ) -> BoxFuture<'a, Result<Option<Anchor>, String>> {
        Box::pin(async move {
            let out = self
                .client
                .get_item()
                .table_name(&self.table)
                .key("pk", key(chat, alarm))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| format!("thread of {chat}: {}", describe_sdk_error(&e)))?;
            Ok(out.item().and_then(|item| {
                Some(Anchor {
                    chat: text(item, "chat")?,
                    message: text(item, "msg")?,
                })
            }))
        })
    }

    fn keep<'a>(
        &'a self,
        chat: &'a str,
        alarm: &'a str,
        anchor: &'a Anchor,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or(Duration::ZERO);
            let expires_at = (now + THREAD_TTL).as_secs();
            self.client
                .put_item()
                .table_name(&self.table)
                .item("pk", key(chat, alarm))
                .item("chat", AttributeValue::S(anchor.chat.clone()))
                .item("msg", AttributeValue::S(anchor.message.clone()))
                .item("expires_at", AttributeValue::N(expires_at.to_string()))
                .send()
                .await
                .map_err(|e| format!("thread of {chat}: {}", describe_sdk_error(&e)))?;
            Ok(())
        })
    }
}
