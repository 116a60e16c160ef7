//! [`crate::reminders::ReminderStore`] over DynamoDB, in the delivery table.
//!
//! - `remind#<subject>`: the ALARM notice (`notice`, its JSON), `since_ms`, `last_sent`
//!   (a map of receiver to milliseconds), `expires_at`;
//! - `remind`: the index the sweep reads with one `GetItem` instead of scanning the table:
//!   one attribute `r:<subject>` per alarm with reminders, whose value is its next due time
//!   (ms). A sweep claims a reminder by an `UpdateItem` conditional on that value.
//!
//! Each claim of a still-firing alarm's reminder moves `expires_at` to the record TTL
//! past the next due time, in the write that records `last_sent`, so an alarm that fires
//! for longer than the TTL keeps its reminders. A cancelled reminder loses its index
//! entry; its item is left to expire (TTL), since the function has no `DeleteItem`. A
//! reminder item that expired (TTL) while its index entry remained is dropped by the
//! sweep.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::dynamo::{n, s, store_err, DynamoStore};
use super::index::Index;
use crate::error::Error;
use crate::reminders::{Reminder, ReminderStore, Rescheduled};

const INDEX: Index = Index {
    pk: "remind",
    prefix: "r:",
    read: "GetItem (reminder index)",
    write: "UpdateItem (reminder index)",
};

fn last_sent(map: &BTreeMap<String, i64>) -> AttributeValue {
    AttributeValue::M(map.iter().map(|(k, v)| (k.clone(), n(*v))).collect())
}

fn number(v: &AttributeValue) -> Option<i64> {
    v.as_n().ok()?.parse().ok()
}

impl DynamoStore {
    /// The index item: every scheduled subject and its due time (ms).
    async fn index(&self) -> Result<BTreeMap<String, i64>, Error> {
        Ok(self
            .index_entries(&INDEX)
            .await?
            .into_iter()
            .filter_map(|(subject, v)| Some((subject, number(&v)?)))
            .collect())
    }

    async fn reminder_item(&self, subject: &str, due_ms: i64) -> Result<Option<Reminder>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(&format!("remind#{subject}")))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_err("GetItem (reminder)"))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let text = item
            .get("notice")
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| Error::Store(format!("remind#{subject}: no notice")))?;
        let notice: crate::notice::Notice = serde_json::from_str(text)
            .map_err(|e| Error::Store(format!("remind#{subject}: notice: {e}")))?;
        let since_ms = item
            .get("since_ms")
            .and_then(number)
            .ok_or_else(|| Error::Store(format!("remind#{subject}: no since_ms")))?;
        let last_sent_ms = item
            .get("last_sent")
            .and_then(|v| v.as_m().ok())
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), number(v)?)))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Some(Reminder {
            subject: subject.to_string(),
            notice,
            since_ms,
            last_sent_ms,
            due_ms,
        }))
    }

    /// Sets (`Some`) or removes the subject's due time, if `condition`, only while it is
    /// that due time (`false` otherwise).
    async fn set_index(
        &self,
        subject: &str,
        due: Option<i64>,
        condition: Option<i64>,
    ) -> Result<bool, Error> {
        self.set_index_entry(&INDEX, subject, due.map(n), condition.map(n))
            .await
    }
}

impl ReminderStore for DynamoStore {
    async fn schedule(&self, reminder: &Reminder, expires_at: i64) -> Result<(), Error> {
        let notice = serde_json::to_string(&reminder.notice)
            .map_err(|e| Error::Store(format!("reminder {}: {e}", reminder.notice.id)))?;
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&format!("remind#{}", reminder.subject)))
            .item("notice", s(&notice))
            .item("since_ms", n(reminder.since_ms))
            .item("last_sent", last_sent(&reminder.last_sent_ms))
            .item("expires_at", n(expires_at))
            .send()
            .await
            .map_err(store_err("PutItem (reminder)"))?;
        self.set_index(&reminder.subject, Some(reminder.due_ms), None)
            .await
            .map(|_| ())
    }

    async fn due_reminders(&self, now_ms: i64) -> Result<Vec<Reminder>, Error> {
        let due: Vec<(String, i64)> = self
            .index()
            .await?
            .into_iter()
            .filter(|(_, due)| *due <= now_ms)
            .collect();
        let mut reminders = Vec::with_capacity(due.len());
        for (subject, due_ms) in due {
            match self.reminder_item(&subject, due_ms).await? {
                Some(r) => reminders.push(r),
                // Expired: forget the index entry if it still has this due time.
                None => {
                    self.set_index(&subject, None, Some(due_ms)).await?;
                }
            }
        }
        Ok(reminders)
    }

    async fn claim(
        &self,
        subject: &str,
        due_ms: i64,
        next: Option<Rescheduled<'_>>,
    ) -> Result<bool, Error> {
        if !self
            .set_index(subject, next.map(|n| n.due_ms), Some(due_ms))
            .await?
        {
            return Ok(false);
        }
        let key = s(&format!("remind#{subject}"));
        match next {
            Some(next) => self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", key)
                .update_expression("SET last_sent = :l, expires_at = :e")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":l", last_sent(next.last_sent_ms))
                .expression_attribute_values(":e", n(next.expires_at))
                .send()
                .await
                .map(|_| true)
                .or_else(|e| {
                    if e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception())
                    {
                        Ok(true)
                    } else {
                        Err(store_err("UpdateItem (reminder)")(e))
                    }
                }),
            // The index entry was the reminder; the item expires by its TTL (and a new
            // ALARM's reminder overwrites it).
            None => Ok(true),
        }
    }

    async fn cancel(&self, subject: &str) -> Result<(), Error> {
        // Without its index entry no sweep finds the item, which expires by its TTL.
        self.set_index(subject, None, None).await.map(|_| ())
    }

    async fn reminder(&self, subject: &str) -> Result<Option<Reminder>, Error> {
        match self.index().await?.get(subject).copied() {
            Some(due_ms) => self.reminder_item(subject, due_ms).await,
            None => Ok(None),
        }
    }
}
