//! [`crate::inhibition::SourceStore`] over DynamoDB, in the delivery table: one item
//! `inhibit` with an attribute `i:<subject>` per firing source alarm, whose value is the
//! JSON list of the rules it is a source of and their label values. One `GetItem` reads
//! them all (no scan); the source's own lease orders its writes.

use super::dynamo::{s, DynamoStore};
use super::index::Index;
use crate::error::Error;
use crate::inhibition::{Source, SourceStore};

const INDEX: Index = Index {
    pk: "inhibit",
    prefix: "i:",
    read: "GetItem (inhibition sources)",
    write: "UpdateItem (inhibition sources)",
};

impl SourceStore for DynamoStore {
    async fn set_sources(&self, subject: &str, sources: &[Source]) -> Result<(), Error> {
        let value = if sources.is_empty() {
            None
        } else {
            let json = serde_json::to_string(sources)
                .map_err(|e| Error::Store(format!("inhibition sources of {subject}: {e}")))?;
            Some(s(&json))
        };
        self.set_index_entry(&INDEX, subject, value, None)
            .await
            .map(|_| ())
    }

    async fn firing(&self) -> Result<Vec<Source>, Error> {
        let mut firing = Vec::new();
        for (subject, value) in self.index_entries(&INDEX).await? {
            let Ok(text) = value.as_s() else {
                continue;
            };
            let sources: Vec<Source> = serde_json::from_str(text)
                .map_err(|e| Error::Store(format!("inhibit {subject}: {e}")))?;
            firing.extend(sources);
        }
        Ok(firing)
    }
}
