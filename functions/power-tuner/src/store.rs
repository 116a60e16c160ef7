//! S3: the `payloadS3` payload, the report, and the run's state and lock (the report
//! bucket). One trait method per S3 operation, so that a model can stand in for S3.

use std::future::Future;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;

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

#[derive(Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
}

impl S3Store {
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        // Path-style addressing works with every endpoint, the local AWS included.
        let conf = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build();
        Self {
            client: aws_sdk_s3::Client::from_conf(conf),
        }
    }
}

fn describe<E, R>(what: &str, l: &S3Location, e: &aws_sdk_s3::error::SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e.code() {
        // A missing key under `If-Match` is a condition that did not hold, too.
        Some("PreconditionFailed" | "ConditionalRequestConflict" | "NoSuchKey") => {
            StoreError::Conflict
        }
        _ => StoreError::Other(format!(
            "{what} s3://{}/{}: {}",
            l.bucket,
            l.key,
            groundcrew::aws::describe_sdk_error(e)
        )),
    }
}

impl ObjectStore for S3Store {
    async fn get(&self, location: &S3Location) -> Result<Option<Object>, StoreError> {
        let out = match self
            .client
            .get_object()
            .bucket(&location.bucket)
            .key(&location.key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.code() == Some("NoSuchKey") => return Ok(None),
            Err(e) => return Err(describe("reading", location, &e)),
        };
        let etag = out.e_tag().unwrap_or_default().to_string();
        let bytes = out.body.collect().await.map_err(|e| {
            StoreError::Other(format!(
                "reading s3://{}/{}: {e}",
                location.bucket, location.key
            ))
        })?;
        Ok(Some(Object {
            body: bytes.into_bytes().to_vec(),
            etag,
        }))
    }

    async fn put(
        &self,
        location: &S3Location,
        body: Vec<u8>,
        content_type: &str,
        condition: Condition,
    ) -> Result<(), StoreError> {
        let mut put = self
            .client
            .put_object()
            .bucket(&location.bucket)
            .key(&location.key)
            .content_type(content_type)
            .body(ByteStream::from(body));
        put = match condition {
            Condition::Always => put,
            Condition::IfAbsent => put.if_none_match("*"),
            Condition::IfMatch(etag) => put.if_match(etag),
        };
        put.send()
            .await
            .map_err(|e| describe("writing", location, &e))?;
        Ok(())
    }
}

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
