//! S3: the `payloadS3` payload, the report, and the run's state and lock (the report
//! bucket). One trait method per S3 operation, so that a model can stand in for S3.

use std::future::Future;

use crate::input::S3Location;

/// An object as read, with its ETag (for a conditional overwrite).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub body: Vec<u8>,
    pub etag: String,
}

/// When a write may happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Always,
    /// `If-None-Match: *`: only when no object has the key.
    IfAbsent,
    /// `If-Match: <etag>`: only when the object is still the one read.
    IfMatch(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The write's condition did not hold (`412 PreconditionFailed`, or `409
    /// ConditionalRequestConflict` when another conditional write raced it).
    #[error("the object changed (conditional write refused)")]
    Conflict,
    #[error("{0}")]
    Other(String),
}

pub trait ObjectStore: Send + Sync {
    /// `GetObject`; `Ok(None)` when there is no such key.
    fn get(
        &self,
        location: &S3Location,
    ) -> impl Future<Output = Result<Option<Object>, StoreError>> + Send;
    /// `PutObject`, with the condition as `If-None-Match` / `If-Match`.
    fn put(
        &self,
        location: &S3Location,
        body: Vec<u8>,
        content_type: &str,
        condition: Condition,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

pub use crate::aws::s3::S3Store;

/// An in-memory store with S3's conditional-write semantics, for tests and the
/// simulation.
#[derive(Debug, Clone, Default)]
pub struct MemStore {
    objects: std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<(String, String), Object>>>,
    counter: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl MemStore {
    fn objects(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<(String, String), Object>> {
        self.objects.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every key under `bucket`, in order.
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        self.objects()
            .keys()
            .filter(|(b, _)| b == bucket)
            .map(|(_, k)| k.clone())
            .collect()
    }

    /// The body at `bucket`/`key`.
    pub fn body(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        self.objects()
            .get(&(bucket.to_string(), key.to_string()))
            .map(|o| o.body.clone())
    }

    /// Writes without a condition (test set-up).
    pub fn insert(&self, bucket: &str, key: &str, body: Vec<u8>) {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.objects().insert(
            (bucket.to_string(), key.to_string()),
            Object {
                body,
                etag: format!("\"e{n}\""),
            },
        );
    }
}

impl ObjectStore for MemStore {
    async fn get(&self, l: &S3Location) -> Result<Option<Object>, StoreError> {
        Ok(self
            .objects()
            .get(&(l.bucket.clone(), l.key.clone()))
            .cloned())
    }

    async fn put(
        &self,
        l: &S3Location,
        body: Vec<u8>,
        _content_type: &str,
        condition: Condition,
    ) -> Result<(), StoreError> {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut objects = self.objects();
        let key = (l.bucket.clone(), l.key.clone());
        let ok = match (&condition, objects.get(&key)) {
            (Condition::Always, _) => true,
            (Condition::IfAbsent, existing) => existing.is_none(),
            (Condition::IfMatch(etag), Some(o)) => {
                o.etag.trim_matches('"') == etag.trim_matches('"')
            }
            (Condition::IfMatch(_), None) => false,
        };
        if !ok {
            return Err(StoreError::Conflict);
        }
        objects.insert(
            key,
            Object {
                body,
                etag: format!("\"e{n}\""),
            },
        );
        Ok(())
    }
}
