//! [`PaceStore`] over DynamoDB: one item `pace#<chat>` per paced chat (its budget key,
//! shared by every receiver posting there), in the delivery table:
//! - `buckets` (list of numbers): per limit, when the bucket is full again (epoch ms);
//! - `pending` (map subject -> map `line`, `at`, `n`) and `extra` (number): the digest;
//! - `last_sent` (epoch ms): when the last digest went;
//! - `flush_holder`, `flush_until`: who is sending the digest, until when;
//! - `v` (number): the item's version. Every write is conditional on the version read, so
//!   two invocations never both take the last token or lose each other's folded lines; a
//!   writer that loses the race reads again.
//!
//! The item has no `expires_at`: it must outlive any quiet spell while a digest waits.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;

use super::dynamo::{n, num, s, store_err, DynamoStore};
use crate::budget::Limit;
use crate::digest::{Entry, Pending};
use crate::error::Error;
use crate::pace::{admission, claimable, Admission, Claimed, PaceRecord, PaceStore};

/// Conditional writes lost to other invocations before giving up (the caller's retry or
/// Lambda's takes over).
const MAX_RACES: usize = 20;

type Item = HashMap<String, AttributeValue>;

fn key(receiver: &str) -> AttributeValue {
    s(&format!("pace#{receiver}"))
}

fn pending_value(p: &Pending) -> AttributeValue {
    AttributeValue::M(
        p.entries
            .iter()
            .map(|(subject, e)| {
                let m = [
                    ("line".to_string(), s(&e.line)),
                    ("at".to_string(), n(e.at_ms)),
                    ("n".to_string(), n(i64::from(e.changes))),
                ];
                (subject.clone(), AttributeValue::M(m.into()))
            })
            .collect(),
    )
}

fn read_record(item: &Item) -> PaceRecord {
    let mut record = PaceRecord {
        buckets: item
            .get("buckets")
            .and_then(|v| v.as_l().ok())
            .map(|l| l.iter().map(|v| num(Some(v)).unwrap_or(0)).collect())
            .unwrap_or_default(),
        last_sent_ms: num(item.get("last_sent")).unwrap_or(0),
        ..PaceRecord::default()
    };
    if let Some(m) = item.get("pending").and_then(|v| v.as_m().ok()) {
        for (subject, v) in m {
            let Ok(e) = v.as_m() else { continue };
            record.pending.entries.insert(
                subject.clone(),
                Entry {
                    line: e
                        .get("line")
                        .and_then(|v| v.as_s().ok())
                        .cloned()
                        .unwrap_or_default(),
                    at_ms: num(e.get("at")).unwrap_or(0),
                    changes: num(e.get("n"))
                        .and_then(|n| u32::try_from(n).ok())
                        .unwrap_or(1),
                },
            );
        }
    }
    record.pending.extra = num(item.get("extra"))
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(0);
    if let (Some(holder), Some(until)) = (
        item.get("flush_holder").and_then(|v| v.as_s().ok()),
        num(item.get("flush_until")),
    ) {
        record.holder = Some((holder.clone(), until));
    }
    record
}

impl DynamoStore {
    /// The receiver's record and its version (none: no item yet).
    async fn read_pace(&self, receiver: &str) -> Result<(PaceRecord, Option<i64>), Error> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", key(receiver))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_err("GetItem (pace)"))?;
        Ok(match out.item() {
            Some(item) => (read_record(item), num(item.get("v"))),
            None => (PaceRecord::default(), None),
        })
    }

    /// One update conditional on the version read; `false` when another writer came first.
    async fn write_pace(
        &self,
        receiver: &str,
        version: Option<i64>,
        update: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<bool, Error> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", key(receiver))
            .update_expression(format!("SET v = :next, {update}"))
            .expression_attribute_values(":next", n(version.unwrap_or(0) + 1));
        request = match version {
            Some(v) => request
                .condition_expression("v = :v")
                .expression_attribute_values(":v", n(v)),
            None => request.condition_expression("attribute_not_exists(v)"),
        };
        for (k, v) in values {
            request = request.expression_attribute_values(k, v);
        }
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(store_err("UpdateItem (pace)")(e)),
        }
    }

    fn raced(receiver: &str) -> Error {
        Error::Store(format!(
            "pace#{receiver}: lost {MAX_RACES} conditional writes in a row to other invocations"
        ))
    }
}

impl PaceStore for DynamoStore {
    async fn admit(
        &self,
        receiver: &str,
        limits: &[Limit],
        now_ms: i64,
        behind_digest: bool,
    ) -> Result<Admission, Error> {
        for _ in 0..MAX_RACES {
            let (record, version) = self.read_pace(receiver).await?;
            let (answer, next) = admission(&record, limits, now_ms, behind_digest);
            let Some(next) = next else {
                return Ok(answer);
            };
            let buckets = AttributeValue::L(next.into_iter().map(n).collect());
            if self
                .write_pace(receiver, version, "buckets = :b", vec![(":b", buckets)])
                .await?
            {
                return Ok(answer);
            }
        }
        Err(Self::raced(receiver))
    }

    async fn fold(
        &self,
        receiver: &str,
        subject: &str,
        entry: &Entry,
        _expires_at: i64,
    ) -> Result<(), Error> {
        for _ in 0..MAX_RACES {
            let (mut record, version) = self.read_pace(receiver).await?;
            record.pending.fold(subject, entry.clone());
            let values = vec![
                (":p", pending_value(&record.pending)),
                (":x", n(i64::from(record.pending.extra))),
            ];
            if self
                .write_pace(receiver, version, "pending = :p, extra = :x", values)
                .await?
            {
                return Ok(());
            }
        }
        Err(Self::raced(receiver))
    }

    async fn claim_digest(
        &self,
        receiver: &str,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
        interval: Duration,
    ) -> Result<Option<Claimed>, Error> {
        for _ in 0..MAX_RACES {
            let (record, version) = self.read_pace(receiver).await?;
            if !claimable(&record, now_ms, interval) {
                return Ok(None);
            }
            let values = vec![(":h", s(holder)), (":u", n(until_ms))];
            if self
                .write_pace(
                    receiver,
                    version,
                    "flush_holder = :h, flush_until = :u",
                    values,
                )
                .await?
            {
                return Ok(Some(Claimed {
                    pending: record.pending,
                }));
            }
        }
        Err(Self::raced(receiver))
    }

    async fn finish_digest(
        &self,
        receiver: &str,
        holder: &str,
        sent: &Pending,
        now_ms: i64,
    ) -> Result<(), Error> {
        for _ in 0..MAX_RACES {
            let (record, version) = self.read_pace(receiver).await?;
            if record.holder.as_ref().is_none_or(|(h, _)| h != holder) {
                return Err(Error::LeaseLost {
                    subject: format!("pace#{receiver}"),
                });
            }
            let rest = record.pending.without(sent);
            let values = vec![
                (":p", pending_value(&rest)),
                (":x", n(i64::from(rest.extra))),
                (":t", n(now_ms)),
            ];
            if self
                .write_pace(
                    receiver,
                    version,
                    "pending = :p, extra = :x, last_sent = :t REMOVE flush_holder, flush_until",
                    values,
                )
                .await?
            {
                return Ok(());
            }
        }
        Err(Self::raced(receiver))
    }

    async fn release_digest(&self, receiver: &str, holder: &str) -> Result<(), Error> {
        for _ in 0..MAX_RACES {
            let (record, version) = self.read_pace(receiver).await?;
            if record.holder.as_ref().is_none_or(|(h, _)| h != holder) {
                return Ok(());
            }
            if self
                .write_pace(
                    receiver,
                    version,
                    "last_sent = if_not_exists(last_sent, :zero) REMOVE flush_holder, flush_until",
                    vec![(":zero", n(0))],
                )
                .await?
            {
                return Ok(());
            }
        }
        Err(Self::raced(receiver))
    }
}
