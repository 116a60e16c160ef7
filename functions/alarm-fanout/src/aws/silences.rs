//! [`crate::silences::SilenceStore`] over DynamoDB: one item `silences` in the delivery
//! table, one attribute `s:<id>` per silence holding its JSON, so a notice reads them all
//! with one `GetItem`.

use super::dynamo::{s, store_err, DynamoStore};
use crate::error::Error;
use crate::silences::{Silence, SilenceStore};

const ITEM: &str = "silences";

fn attribute(id: &str) -> String {
    format!("s:{id}")
}

impl SilenceStore for DynamoStore {
    async fn silences(&self) -> Result<Vec<Silence>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(ITEM))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_err("GetItem (silences)"))?;
        out.item
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| k.starts_with("s:"))
            .map(|(k, v)| {
                let text = v
                    .as_s()
                    .map_err(|_| Error::Store(format!("silences.{k}: not a string")))?;
                serde_json::from_str(text).map_err(|e| Error::Store(format!("silences.{k}: {e}")))
            })
            .collect()
    }

    async fn put_silence(&self, silence: &Silence) -> Result<(), Error> {
        let text = serde_json::to_string(silence)
            .map_err(|e| Error::Store(format!("silence {}: {e}", silence.id)))?;
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(ITEM))
            .update_expression("SET #s = :v")
            .expression_attribute_names("#s", attribute(&silence.id))
            .expression_attribute_values(":v", s(&text))
            .send()
            .await
            .map(|_| ())
            .map_err(store_err("UpdateItem (silences)"))
    }

    async fn remove_silence(&self, id: &str) -> Result<(), Error> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(ITEM))
            .update_expression("REMOVE #s")
            .expression_attribute_names("#s", attribute(id))
            .send()
            .await
            .map(|_| ())
            .map_err(store_err("UpdateItem (silences)"))
    }
}
