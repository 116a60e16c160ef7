//! S3: the `payloadS3` payload and the `reportS3` report.

use std::future::Future;

use aws_sdk_s3::primitives::ByteStream;

use crate::input::S3Location;

pub trait ObjectStore: Send + Sync {
    fn get(&self, location: &S3Location) -> impl Future<Output = Result<Vec<u8>, String>> + Send;
    fn put(
        &self,
        location: &S3Location,
        body: Vec<u8>,
        content_type: &str,
    ) -> impl Future<Output = Result<(), String>> + Send;
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

impl ObjectStore for S3Store {
    async fn get(&self, location: &S3Location) -> Result<Vec<u8>, String> {
        let out = self
            .client
            .get_object()
            .bucket(&location.bucket)
            .key(&location.key)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "reading s3://{}/{}: {}",
                    location.bucket,
                    location.key,
                    groundcrew::aws::describe_sdk_error(&e)
                )
            })?;
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| format!("reading s3://{}/{}: {e}", location.bucket, location.key))?;
        Ok(bytes.into_bytes().to_vec())
    }

    async fn put(
        &self,
        location: &S3Location,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), String> {
        self.client
            .put_object()
            .bucket(&location.bucket)
            .key(&location.key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| {
                format!(
                    "writing s3://{}/{}: {}",
                    location.bucket,
                    location.key,
                    groundcrew::aws::describe_sdk_error(&e)
                )
            })?;
        Ok(())
    }
}
