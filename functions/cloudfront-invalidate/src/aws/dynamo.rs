//! [`PendingStore`] on DynamoDB: one table, key `pk`/`sk` (strings), TTL attribute
//! `expires`. Items:
//!
//! | pk              | sk               | what                                              |
//! |-----------------|------------------|---------------------------------------------------|
//! | `head`          | distribution id  | the open generation ([`Head`])                    |
//! | `msg#<key>`     | `msg`            | a message taken by `flush_id`                     |
//! | `gen#<flush>`   | `paths#<chunk>`  | paths of one chunk (string set)                   |
//! | `gen#<flush>`   | `flush`          | the flush record ([`FlushRecord`])                |
//! | `usage`         | `YYYY-MM`        | paths billed that month by this function (`billed`) |
//! | `bill#<ref>`    | `bill`           | an invalidation outside flushes, counted once     |
//! | `plan#<key>`    | `plan`           | the wildcards a plan chose (`wildcards`, a list)  |

use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, KeysAndAttributes, TransactWriteItem, Update,
};

use crate::aws::dynamo_item::{
    build_error, get_n, get_s, head_from, head_item, key, n, record_from, record_item, s, Item,
};
pub use crate::aws::dynamo_table::SdkPending;
use crate::aws::sdk_error;
use crate::error::AwsError;
use crate::store::{
    gathered, Chunk, FlushRecord, FlushState, Head, PendingStore, RETENTION_SECONDS,
};

/// DynamoDB takes at most 100 keys a BatchGetItem.
const BATCH_GET_KEYS: usize = 100;

impl PendingStore for SdkPending {
    async fn head(&self, distribution: &str) -> Result<Option<Head>, AwsError> {
        Ok(self
            .get("GetItem", "head", distribution)
            .await?
            .as_ref()
            .and_then(head_from))
    }

    async fn heads(&self) -> Result<Vec<Head>, AwsError> {
        Ok(self
            .query("head", None)
            .await?
            .iter()
            .filter_map(head_from)
            .collect())
    }

    async fn taken(&self, message_keys: &[String]) -> Result<Vec<String>, AwsError> {
        let mut taken = Vec::new();
        for group in message_keys.chunks(BATCH_GET_KEYS) {
            let mut keys: Vec<Item> = group
                .iter()
                .map(|k| key(&format!("msg#{k}"), "msg"))
                .collect();
            // Unprocessed keys come back and are asked for again.
            while !keys.is_empty() {
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut keys)))
                    .consistent_read(true)
                    .build()
                    .map_err(build_error("BatchGetItem"))?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| sdk_error("BatchGetItem", e))?;
                if let Some(found) = out.responses().and_then(|r| r.get(&self.table)) {
                    taken.extend(
                        found
                            .iter()
                            .filter_map(|item| get_s(item, "pk"))
                            .filter_map(|pk| pk.strip_prefix("msg#").map(str::to_string)),
                    );
                }
                if let Some(rest) = out.unprocessed_keys().and_then(|u| u.get(&self.table)) {
                    keys = rest.keys().to_vec();
                }
            }
        }
        taken.sort();
        Ok(taken)
    }

    async fn append(&self, chunk: &Chunk) -> Result<bool, AwsError> {
        let expires = n(chunk.now + RETENTION_SECONDS);
        let mut items = Vec::with_capacity(chunk.message_keys.len() + 2);
        let messages = n(chunk.message_keys.len() as i64);
        if chunk.create {
            let head = head_item(&Head::opened_by(chunk));
            items.push(self.put(head, Some("attribute_not_exists(pk)"))?);
        } else {
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key("head", &chunk.distribution)))
                .update_expression("SET last_at = :now ADD messages :m")
                .condition_expression("flush_id = :f")
                .expression_attribute_values(":now", n(chunk.now))
                .expression_attribute_values(":m", messages)
                .expression_attribute_values(":f", s(&chunk.flush_id))
                .build()
                .map_err(build_error("TransactWriteItems"))?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        if !chunk.paths.is_empty() {
            let mut paths = key(
                &format!("gen#{}", chunk.flush_id),
                &format!("paths#{}", chunk.chunk_id),
            );
            paths.insert("paths".into(), AttributeValue::Ss(chunk.paths.clone()));
            paths.insert("expires".into(), expires.clone());
            items.push(self.put(paths, None)?);
        }
        for k in &chunk.message_keys {
            let mut marker = key(&format!("msg#{k}"), "msg");
            marker.insert("flush_id".into(), s(&chunk.flush_id));
            marker.insert("expires".into(), expires.clone());
            items.push(self.put(marker, Some("attribute_not_exists(pk)"))?);
        }
        self.transact("TransactWriteItems", items).await
    }

    async fn arm(&self, distribution: &str, flush_id: &str) -> Result<(), AwsError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key("head", distribution)))
            .update_expression("SET armed = :t")
            .condition_expression("flush_id = :f")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .expression_attribute_values(":f", s(flush_id))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Sealed meanwhile: the trigger that was sent finds the flush done.
            Err(e) => {
                let err = sdk_error("UpdateItem", e);
                if err.is("ConditionalCheckFailedException") {
                    Ok(())
                } else {
                    Err(err)
                }
            }
        }
    }

    async fn seal(&self, head: &Head, now: i64) -> Result<bool, AwsError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key("head", &head.distribution)))
            .condition_expression("flush_id = :f")
            .expression_attribute_values(":f", s(&head.flush_id))
            .build()
            .map_err(build_error("TransactWriteItems"))?;
        let mut record = record_item(&FlushRecord::sealed(head, now));
        record.insert("expires".into(), n(now + RETENTION_SECONDS));
        let items = vec![
            TransactWriteItem::builder().delete(delete).build(),
            self.put(record, Some("attribute_not_exists(pk)"))?,
        ];
        self.transact("TransactWriteItems", items).await
    }

    async fn flush_record(&self, flush_id: &str) -> Result<Option<FlushRecord>, AwsError> {
        let Some(item) = self
            .get("GetItem", &format!("gen#{flush_id}"), "flush")
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(record_from(flush_id, &item)))
    }

    async fn paths(&self, flush_id: &str) -> Result<Vec<String>, AwsError> {
        Ok(gathered(
            self.query(&format!("gen#{flush_id}"), Some("paths#"))
                .await?
                .iter()
                .filter_map(|item| item.get("paths").and_then(|v| v.as_ss().ok()))
                .flatten()
                .cloned(),
        ))
    }

    async fn finish(
        &self,
        flush_id: &str,
        report: &str,
        month: &str,
        billed: u64,
    ) -> Result<bool, AwsError> {
        let done = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(&format!("gen#{flush_id}"), "flush")))
            .update_expression("SET #state = :done, report = :report")
            .condition_expression("#state = :sealed")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":done", s(FlushState::Done.as_str()))
            .expression_attribute_values(":sealed", s(FlushState::Sealed.as_str()))
            .expression_attribute_values(":report", s(report))
            .build()
            .map_err(build_error("TransactWriteItems"))?;
        let usage = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key("usage", month)))
            .update_expression("ADD billed :b")
            .expression_attribute_values(":b", n(billed as i64))
            .build()
            .map_err(build_error("TransactWriteItems"))?;
        let items = vec![
            TransactWriteItem::builder().update(done).build(),
            TransactWriteItem::builder().update(usage).build(),
        ];
        self.transact("TransactWriteItems", items).await
    }

    async fn count_billed(
        &self,
        reference: &str,
        month: &str,
        billed: u64,
    ) -> Result<bool, AwsError> {
        // Kept a little longer than the month it counts for.
        let expires = n(chrono::Utc::now().timestamp() + 40 * 24 * 3600);
        let mut marker = key(&format!("bill#{reference}"), "bill");
        marker.insert("month".into(), s(month));
        marker.insert("billed".into(), n(billed as i64));
        marker.insert("expires".into(), expires);
        let usage = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key("usage", month)))
            .update_expression("ADD billed :b")
            .expression_attribute_values(":b", n(billed as i64))
            .build()
            .map_err(build_error("TransactWriteItems"))?;
        let items = vec![
            self.put(marker, Some("attribute_not_exists(pk)"))?,
            TransactWriteItem::builder().update(usage).build(),
        ];
        self.transact("TransactWriteItems", items).await
    }

    async fn kept_plan(&self, key: &str) -> Result<Option<Vec<String>>, AwsError> {
        Ok(self
            .get("GetItem", &format!("plan#{key}"), "plan")
            .await?
            .map(|item| {
                item.get("wildcards")
                    .and_then(|v| v.as_l().ok())
                    .into_iter()
                    .flatten()
                    .filter_map(|w| w.as_s().ok().cloned())
                    .collect()
            }))
    }

    async fn keep_plan(
        &self,
        plan_key: &str,
        wildcards: &[String],
        now: i64,
    ) -> Result<bool, AwsError> {
        let mut item = key(&format!("plan#{plan_key}"), "plan");
        // A list, not a string set: a plan may have no wildcard, and a set cannot be empty.
        item.insert(
            "wildcards".into(),
            AttributeValue::L(wildcards.iter().map(s).collect()),
        );
        item.insert("expires".into(), n(now + RETENTION_SECONDS));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) => {
                let err = sdk_error("PutItem", e);
                if err.is("ConditionalCheckFailedException") {
                    Ok(false)
                } else {
                    Err(err)
                }
            }
        }
    }

    async fn usage(&self, month: &str) -> Result<u64, AwsError> {
        Ok(self
            .get("GetItem", "usage", month)
            .await?
            .map(|item| get_n(&item, "billed").max(0) as u64)
            .unwrap_or(0))
    }
}
