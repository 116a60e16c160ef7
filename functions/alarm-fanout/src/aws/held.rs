//! [`crate::held::HeldStore`] over DynamoDB, in the delivery table.
//!
//! - `held#<subject>`: the held notice (`notice`, its JSON), `receivers` (list), `expires_at`;
//! - `held`: the index the sweep reads with one `GetItem` instead of scanning the table:
//!   one attribute `h:<subject>` per held subject, whose value is the held message id.
//!
//! A held item that expired (TTL) while its index entry remained is released by the sweep.

use aws_sdk_dynamodb::types::AttributeValue;

use super::dynamo::{n, s, store_err, DynamoStore};
use super::index::Index;
use crate::error::Error;
use crate::held::{Held, HeldStore};

const INDEX: Index = Index {
    pk: "held",
    prefix: "h:",
    read: "GetItem (held index)",
    write: "UpdateItem (held index)",
};

impl DynamoStore {
    async fn held_item(&self, subject: &str, message_id: &str) -> Result<Option<Held>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(&format!("held#{subject}")))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_err("GetItem (held)"))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let text = item
            .get("notice")
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| Error::Store(format!("held#{subject}: no notice")))?;
        let notice: crate::notice::Notice = serde_json::from_str(text)
            .map_err(|e| Error::Store(format!("held#{subject}: notice: {e}")))?;
        if notice.id != message_id {
            // Replaced between the index read and this one; the index names the newer one.
            return Ok(None);
        }
        let receivers = item
            .get("receivers")
            .and_then(|v| v.as_l().ok())
            .map(|l| l.iter().filter_map(|r| r.as_s().ok().cloned()).collect())
            .unwrap_or_default();
        Ok(Some(Held {
            subject: subject.to_string(),
            notice,
            receivers,
        }))
    }
}

impl HeldStore for DynamoStore {
    async fn hold(&self, held: &Held, expires_at: i64) -> Result<(), Error> {
        let notice = serde_json::to_string(&held.notice)
            .map_err(|e| Error::Store(format!("held notice {}: {e}", held.notice.id)))?;
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&format!("held#{}", held.subject)))
            .item("notice", s(&notice))
            .item(
                "receivers",
                AttributeValue::L(held.receivers.iter().map(|r| s(r)).collect()),
            )
            .item("expires_at", n(expires_at))
            .send()
            .await
            .map_err(store_err("PutItem (held)"))?;
        self.set_index_entry(&INDEX, &held.subject, Some(s(&held.notice.id)), None)
            .await
            .map(|_| ())
    }

    async fn held(&self) -> Result<Vec<Held>, Error> {
        let entries: Vec<(String, String)> = self
            .index_entries(&INDEX)
            .await?
            .into_iter()
            .filter_map(|(subject, v)| Some((subject, v.as_s().ok()?.clone())))
            .collect();
        let mut held = Vec::with_capacity(entries.len());
        for (subject, message_id) in entries {
            match self.held_item(&subject, &message_id).await? {
                Some(h) => held.push(h),
                // Expired or replaced: forget the index entry if it still names this one.
                None => self.release_held(&subject, &message_id).await?,
            }
        }
        Ok(held)
    }

    async fn release_held(&self, subject: &str, message_id: &str) -> Result<(), Error> {
        // Only if it still names this one: a newer notice may be held for the subject now
        // (or it was released already).
        self.set_index_entry(&INDEX, subject, None, Some(s(message_id)))
            .await
            .map(|_| ())
    }
}
