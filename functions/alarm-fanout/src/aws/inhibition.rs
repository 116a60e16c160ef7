//! [`crate::inhibition::SourceStore`] over DynamoDB, in the delivery table: one item
//! `inhibit` with an attribute `i:<subject>` per firing source alarm, whose value is the
//! JSON list of the rules it is a source of and their label values. One `GetItem` reads
//! them all (no scan); the source's own lease orders its writes.

use super::dynamo::{s, store_err, DynamoStore};
use crate::error::Error;
use crate::inhibition::{Source, SourceStore};

const INDEX: &str = "inhibit";

impl SourceStore for DynamoStore {
    async fn set_sources(&self, subject: &str, sources: &[Source]) -> Result<(), Error> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(INDEX))
            .expression_attribute_names("#i", format!("i:{subject}"));
        let update = if sources.is_empty() {
            update.update_expression("REMOVE #i")
        } else {
            let json = serde_json::to_string(sources)
                .map_err(|e| Error::Store(format!("inhibition sources of {subject}: {e}")))?;
            update
                .update_expression("SET #i = :s")
                .expression_attribute_values(":s", s(&json))
        };
        update
            .send()
            .await
            .map(|_| ())
            .map_err(store_err("UpdateItem (inhibition sources)"))
    }

    async fn firing(&self) -> Result<Vec<Source>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(INDEX))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_err("GetItem (inhibition sources)"))?;
        let mut firing = Vec::new();
        for (key, value) in out.item.unwrap_or_default() {
            let (Some(subject), Ok(text)) = (key.strip_prefix("i:"), value.as_s()) else {
                continue;
            };
            let sources: Vec<Source> = serde_json::from_str(text)
                .map_err(|e| Error::Store(format!("inhibit {subject}: {e}")))?;
            firing.extend(sources);
        }
        Ok(firing)
    }
}
