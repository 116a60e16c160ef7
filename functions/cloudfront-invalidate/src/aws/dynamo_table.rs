//! The pending table's calls as [`super::dynamo`] uses them: the client, consistent
//! reads, queries of a partition, and transactions whose cancellation for a failed
//! condition is an answer rather than an error.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use groundcrew::lazy_client::LazyClient;

use crate::aws::dynamo_item::{build_error, key, s, Item};
use crate::aws::sdk_error;
use crate::error::{AwsError, Fault};

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
    pub(super) async fn transact(
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

    pub(super) async fn get(
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

    pub(super) fn put(
        &self,
        item: Item,
        condition: Option<&str>,
    ) -> Result<TransactWriteItem, AwsError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_string))
            .build()
            .map_err(build_error("TransactWriteItems"))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Every item of a partition (whose sort key starts with `prefix`), consistently.
    pub(super) async fn query(
        &self,
        pk: &str,
        prefix: Option<&str>,
    ) -> Result<Vec<Item>, AwsError> {
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
