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

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, KeysAndAttributes, Put, TransactWriteItem, Update,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use groundcrew::lazy_client::LazyClient;

use crate::aws::dynamo_item::{build_error, get_n, get_s, head_from, key, n, s, Item};
use crate::aws::sdk_error;
use crate::error::{AwsError, Fault};
use crate::store::{Chunk, FlushRecord, FlushState, Head, PendingStore, RETENTION_SECONDS};

/// DynamoDB takes at most 100 keys a BatchGetItem.
const BATCH_GET_KEYS: usize = 100;

pub struct SdkPending {
    /// Built on first use (direct invokes without a pending table never call it).
    pub client: LazyClient<aws_sdk_dynamodb::Client>,
    pub table: String,
}

impl SdkPending {
    pub fn new(sdk: &aws_config::SdkConfig, table: String) -> Self {
        Self {
            client: LazyClient::new(sdk, aws_sdk_dynamodb::Client::new),
            table,
        }
    }
}

/// A cancelled transaction whose reasons include a failed condition is an answer
/// (`false`); a conflict with another transaction is transient.
fn transact_outcome(
    operation: &'static str,
    result: Result<(), SdkError<TransactWriteItemsError, HttpResponse>>,
) -> Result<bool, AwsError> {
    match result {
        Ok(()) => Ok(true),
        Err(e) => {
            let cancelled = match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancel)) => Some(
                    cancel
                        .cancellation_reasons()
                        .iter()
                        .any(|r| r.code() == Some("ConditionalCheckFailed")),
                ),
                _ => None,
            };
            match cancelled {
                Some(true) => Ok(false),
                Some(false) => Err(sdk_error(operation, e).with_fault(Fault::Transient)),
                None => Err(sdk_error(operation, e)),
            }
        }
    }
}

impl SdkPending {
    async fn transact(
        &self,
        operation: &'static str,
        items: Vec<TransactWriteItem>,
    ) -> Result<bool, AwsError> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map(|_| ());
        transact_outcome(operation, result)
    }

    async fn get(
        &self,
        operation: &'static str,
        pk: &str,
        sk: &str,
    ) -> Result<Option<Item>, AwsError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(operation, e))?;
        Ok(out.item().cloned())
    }

    fn put(&self, item: Item, condition: Option<&str>) -> Result<TransactWriteItem, AwsError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_string))
            .build()
            .map_err(build_error("TransactWriteItems"))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Every item of a partition (whose sort key starts with `prefix`), consistently.
    async fn query(&self, pk: &str, prefix: Option<&str>) -> Result<Vec<Item>, AwsError> {
        let condition = match prefix {
            Some(_) => "pk = :pk AND begins_with(sk, :prefix)",
            None => "pk = :pk",
        };
        let mut values = HashMap::from([(":pk".to_string(), s(pk))]);
        if let Some(p) = prefix {
            values.insert(":prefix".to_string(), s(p));
        }
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(condition)
                .set_expression_attribute_values(Some(values.clone()))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error("Query", e))?;
            items.extend(out.items().iter().cloned());
            match out.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(items),
            }
        }
    }
}

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
            let mut head = key("head", &chunk.distribution);
            head.insert("flush_id".into(), s(&chunk.flush_id));
            head.insert("first_at".into(), n(chunk.now));
            head.insert("last_at".into(), n(chunk.now));
            head.insert("messages".into(), messages);
            head.insert("armed".into(), AttributeValue::Bool(false));
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
        let mut record = key(&format!("gen#{}", head.flush_id), "flush");
        record.insert("distribution".into(), s(&head.distribution));
        record.insert("state".into(), s("sealed"));
        record.insert("first_at".into(), n(head.first_at));
        record.insert("sealed_at".into(), n(now));
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
        let state = match get_s(&item, "state").as_deref() {
            Some("done") => FlushState::Done,
            _ => FlushState::Sealed,
        };
        Ok(Some(FlushRecord {
            flush_id: flush_id.to_string(),
            distribution: get_s(&item, "distribution").unwrap_or_default(),
            state,
            first_at: get_n(&item, "first_at"),
            sealed_at: get_n(&item, "sealed_at"),
            report: get_s(&item, "report"),
        }))
    }

    async fn paths(&self, flush_id: &str) -> Result<Vec<String>, AwsError> {
        let mut paths: Vec<String> = self
            .query(&format!("gen#{flush_id}"), Some("paths#"))
            .await?
            .iter()
            .filter_map(|item| item.get("paths").and_then(|v| v.as_ss().ok()))
            .flatten()
            .cloned()
            .collect();
        paths.sort();
        paths.dedup();
        Ok(paths)
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
            .expression_attribute_values(":done", s("done"))
            .expression_attribute_values(":sealed", s("sealed"))
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
