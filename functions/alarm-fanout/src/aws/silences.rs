//! [`crate::silences::SilenceStore`] over DynamoDB: one item `silences` in the delivery
//! table, one attribute `s:<id>` per silence holding its JSON, so a notice reads them all
//! with one `GetItem`.

use super::dynamo::{s, DynamoStore};
use super::index::Index;
use crate::error::Error;
use crate::silences::{Silence, SilenceStore};

const INDEX: Index = Index {
    pk: "silences",
    prefix: "s:",
    read: "GetItem (silences)",
    write: "UpdateItem (silences)",
};

impl SilenceStore for DynamoStore {
    async fn silences(&self) -> Result<Vec<Silence>, Error> {
        self.index_entries(&INDEX)
            .await?
            .into_iter()
            .map(|(id, v)| {
                let text = v
                    .as_s()
                    .map_err(|_| Error::Store(format!("silences.s:{id}: not a string")))?;
                serde_json::from_str(text)
                    .map_err(|e| Error::Store(format!("silences.s:{id}: {e}")))
            })
            .collect()
    }

    async fn put_silence(&self, silence: &Silence) -> Result<(), Error> {
        let text = serde_json::to_string(silence)
            .map_err(|e| Error::Store(format!("silence {}: {e}", silence.id)))?;
        self.set_index_entry(&INDEX, &silence.id, Some(s(&text)), None)
            .await
            .map(|_| ())
    }

    async fn remove_silence(&self, id: &str) -> Result<(), Error> {
        self.set_index_entry(&INDEX, id, None, None)
            .await
            .map(|_| ())
    }
}
