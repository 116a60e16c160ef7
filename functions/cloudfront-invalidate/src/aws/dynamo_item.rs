//! The pending table's items: attribute values built and read (one place for the
//! attribute names the table's layout in [`super::dynamo`] describes).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::AwsError;
use crate::store::Head;

pub(super) type Item = HashMap<String, AttributeValue>;

pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(super) fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(super) fn key(pk: &str, sk: &str) -> Item {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

pub(super) fn get_s(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

pub(super) fn get_n(item: &Item, name: &str) -> i64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub(super) fn build_error(
    operation: &'static str,
) -> impl Fn(aws_smithy_types::error::operation::BuildError) -> AwsError {
    move |e| AwsError::new(operation, e.to_string())
}

pub(super) fn head_from(item: &Item) -> Option<Head> {
    Some(Head {
        distribution: get_s(item, "sk")?,
        flush_id: get_s(item, "flush_id")?,
        first_at: get_n(item, "first_at"),
        last_at: get_n(item, "last_at"),
        messages: get_n(item, "messages").max(0) as u64,
        armed: item
            .get("armed")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
    })
}
