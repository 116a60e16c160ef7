//! Index items: one item of the delivery table with an attribute `<prefix><subject>` per
//! subject, so that the sweep (held notices, reminders) and every notice (inhibition
//! sources, silences) read them all with one consistent `GetItem` instead of a scan.
//! Entries are set and removed one at a time with `UpdateItem`, which leaves the item's
//! other entries alone; a write may be conditional on the entry's current value.

use aws_sdk_dynamodb::types::AttributeValue;

use super::dynamo::{s, store_err, DynamoStore};
use crate::error::Error;

/// Where an index lives and how its errors name it.
pub(super) struct Index {
    /// The item's `pk`.
    pub pk: &'static str,
    /// What precedes the subject in each attribute's name (`h:`).
    pub prefix: &'static str,
    /// The failed call, as errors name it (`GetItem (held index)`).
    pub read: &'static str,
    pub write: &'static str,
}

impl Index {
    fn attribute(&self, subject: &str) -> String {
        format!("{}{subject}", self.prefix)
    }
}

impl DynamoStore {
    /// Every entry of the index: the subject (the attribute's name without the prefix) and
    /// its value. Attributes without the prefix (`pk`) are left out.
    pub(super) async fn index_entries(
        &self,
        index: &Index,
    ) -> Result<Vec<(String, AttributeValue)>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(index.pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_err(index.read))?;
        Ok(out
            .item
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(index.prefix)?.to_string(), v)))
            .collect())
    }

    /// Sets the subject's entry to `value`, or removes it (`None`). With `only_if`, only
    /// while the entry holds that value: `Ok(false)` when it does not (someone moved or
    /// removed it first).
    pub(super) async fn set_index_entry(
        &self,
        index: &Index,
        subject: &str,
        value: Option<AttributeValue>,
        only_if: Option<AttributeValue>,
    ) -> Result<bool, Error> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(index.pk))
            .expression_attribute_names("#e", index.attribute(subject));
        update = match value {
            Some(v) => update
                .update_expression("SET #e = :v")
                .expression_attribute_values(":v", v),
            None => update.update_expression("REMOVE #e"),
        };
        if let Some(was) = only_if {
            update = update
                .condition_expression("#e = :was")
                .expression_attribute_values(":was", was);
        }
        match update.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(store_err(index.write)(e)),
        }
    }
}
