//! The pending table's items: attribute values built and read (one place for the
//! attribute names the table's layout in [`super::dynamo`] describes).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::AwsError;
use crate::store::{FlushRecord, FlushState, Head};

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

/// The head item of a generation (`head`, distribution id).
pub(super) fn head_item(head: &Head) -> Item {
    let mut item = key("head", &head.distribution);
    item.insert("flush_id".into(), s(&head.flush_id));
    item.insert("first_at".into(), n(head.first_at));
    item.insert("last_at".into(), n(head.last_at));
    item.insert("messages".into(), n(head.messages as i64));
    item.insert("armed".into(), AttributeValue::Bool(head.armed));
    item
}

/// A flush record's item (`gen#<flush>`, `flush`), without its report.
pub(super) fn record_item(record: &FlushRecord) -> Item {
    let mut item = key(&format!("gen#{}", record.flush_id), "flush");
    item.insert("distribution".into(), s(&record.distribution));
    item.insert("state".into(), s(record.state.as_str()));
    item.insert("first_at".into(), n(record.first_at));
    item.insert("sealed_at".into(), n(record.sealed_at));
    item
}

pub(super) fn record_from(flush_id: &str, item: &Item) -> FlushRecord {
    FlushRecord {
        flush_id: flush_id.to_string(),
        distribution: get_s(item, "distribution").unwrap_or_default(),
        state: FlushState::from_stored(get_s(item, "state").as_deref()),
        first_at: get_n(item, "first_at"),
        sealed_at: get_n(item, "sealed_at"),
        report: get_s(item, "report"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_read_back_as_written() {
        let head = Head {
            distribution: "E1".into(),
            flush_id: "f-1".into(),
            first_at: 10,
            last_at: 20,
            messages: 3,
            armed: true,
        };
        assert_eq!(head_from(&head_item(&head)), Some(head.clone()));
        let record = FlushRecord::sealed(&head, 30);
        assert_eq!(record_from("f-1", &record_item(&record)), record);
    }
}
