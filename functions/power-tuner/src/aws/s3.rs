//! S3 through the AWS SDK: [`ObjectStore`] for real.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use groundcrew::lazy_client::LazyClient;

use crate::input::S3Location;
use crate::store::{Condition, Object, ObjectStore, StoreError};

/// The S3 client, built on its first call (issue 17).
#[derive(Clone)]
pub struct S3Store {
    client: LazyClient<aws_sdk_s3::Client>,
}

/// Path-style addressing works with every endpoint, the local AWS included.
fn s3_client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

impl S3Store {
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self {
            client: LazyClient::new(sdk, s3_client),
        }
    }

    /// Whether the SDK client has been built (it is not before the first call).
    pub fn is_built(&self) -> bool {
        self.client.is_built()
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
