//! [`SiteListing`] on the SDK: a site bucket's keys (ListObjectsV2).

use groundcrew::lazy_client::LazyClient;

use super::{sdk_error, SiteListing};
use crate::error::AwsError;

/// Over a client built on first use (the bucket is listed only when a plan needs it).
pub struct SdkS3(pub LazyClient<aws_sdk_s3::Client>);

impl SdkS3 {
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self(LazyClient::new(sdk, path_style))
    }
}

/// Path-style, so that local endpoints (moto) serve any bucket name.
fn path_style(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build(),
    )
}

impl SiteListing for SdkS3 {
    async fn keys(
        &self,
        bucket: &str,
        prefix: &str,
        max_keys: usize,
    ) -> Result<Option<Vec<String>>, AwsError> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        let prefix = if prefix.is_empty() {
            None
        } else {
            Some(format!("{prefix}/"))
        };
        loop {
            let page = self
                .0
                .list_objects_v2()
                .bucket(bucket)
                .set_prefix(prefix.clone())
                .set_continuation_token(token.clone())
                .send()
                .await
                .map_err(|e| sdk_error("ListObjectsV2", e))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
            if keys.len() > max_keys {
                return Ok(None);
            }
            match page.next_continuation_token() {
                Some(next) if page.is_truncated().unwrap_or(false) => {
                    token = Some(next.to_string())
                }
                _ => break,
            }
        }
        Ok(Some(keys))
    }
}
