//! S3's object notifications as serde types, shared by the direct invoke path
//! ([`crate::event`]) and the deploy queue ([`crate::notice`]). The fields are optional
//! in the types (S3 adds fields, and a record missing one should be refused by name, not
//! by serde's "missing field"); [`S3Record::change`] and [`S3Entity::object`] say which
//! field was missing.

use serde::{Deserialize, Serialize};

/// `{"Records": [...]}` as S3 sends it.
#[derive(Debug, Deserialize)]
pub(crate) struct S3Notification {
    #[serde(rename = "Records")]
    pub records: Vec<S3Record>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct S3Record {
    #[serde(default)]
    event_source: Option<String>,
    #[serde(default)]
    event_name: Option<String>,
    #[serde(default)]
    s3: Option<S3Entity>,
}

/// The bucket and object of a notification record (`s3`) or of an EventBridge S3 event
/// (`detail`).
#[derive(Debug, Default, Deserialize, Serialize)]
pub(crate) struct S3Entity {
    #[serde(default)]
    bucket: Option<Bucket>,
    #[serde(default)]
    object: Option<Object>,
}

#[derive(Debug, Deserialize, Serialize)]
struct Bucket {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
struct Object {
    #[serde(default)]
    key: Option<String>,
    /// Orders the events of one key; part of a batch's identity.
    #[serde(default)]
    sequencer: Option<String>,
}

/// One object created or removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    pub bucket: String,
    /// As S3 notifications encode it (`+` for a space).
    pub key: String,
    pub event_name: String,
    pub sequencer: String,
}

fn present(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.is_empty())
}

impl S3Entity {
    /// (bucket, key); `at` names where the entity sits (`s3` or `detail`) for the error.
    pub fn object(self, at: &str) -> Result<(String, String, String), String> {
        let bucket =
            present(self.bucket.and_then(|b| b.name)).ok_or_else(|| format!("{at}.bucket.name"))?;
        let object = self.object.ok_or_else(|| format!("{at}.object.key"))?;
        let key = present(object.key).ok_or_else(|| format!("{at}.object.key"))?;
        Ok((bucket, key, object.sequencer.unwrap_or_default()))
    }
}

impl S3Record {
    /// The change record `i` is about, or why it is not one (naming the record and field).
    pub fn change(self, i: usize) -> Result<Change, String> {
        let source = self.event_source.unwrap_or_default();
        if source != "aws:s3" {
            return Err(format!(
                "record {i} is not an S3 notification (eventSource is {source:?}, not \"aws:s3\")"
            ));
        }
        let name = self.event_name.unwrap_or_default();
        if !(name.starts_with("ObjectCreated:") || name.starts_with("ObjectRemoved:")) {
            return Err(format!(
                "record {i} is {name:?}, not ObjectCreated or ObjectRemoved"
            ));
        }
        let (bucket, key, sequencer) = self
            .s3
            .unwrap_or_default()
            .object("s3")
            .map_err(|field| format!("record {i} has no {field}"))?;
        Ok(Change {
            bucket,
            key,
            event_name: name,
            sequencer,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(v: serde_json::Value) -> S3Record {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_record_names_what_it_lacks() {
        let ok = record(
            json!({"eventSource": "aws:s3", "eventName": "ObjectRemoved:Delete", "eventTime": "x",
            "s3": {"bucket": {"name": "b"}, "object": {"key": "k", "sequencer": "05"}}}),
        );
        assert_eq!(
            ok.change(0).unwrap(),
            Change {
                bucket: "b".into(),
                key: "k".into(),
                event_name: "ObjectRemoved:Delete".into(),
                sequencer: "05".into()
            }
        );
        let cases = [
            (
                json!({"eventName": "ObjectCreated:Put"}),
                "eventSource is \"\"",
            ),
            (
                json!({"eventSource": "aws:s3", "eventName": "ObjectRestore:Post"}),
                "record 3 is \"ObjectRestore:Post\"",
            ),
            (
                json!({"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}),
                "record 3 has no s3.bucket.name",
            ),
            (
                json!({"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"}, "object": {"key": ""}}}),
                "record 3 has no s3.object.key",
            ),
        ];
        for (v, expected) in cases {
            let err = record(v.clone()).change(3).unwrap_err();
            assert!(err.contains(expected), "{v}: {err}");
        }
    }
}
