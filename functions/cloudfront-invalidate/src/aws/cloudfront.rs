//! [`CloudFront`] on the SDK: distributions, their tags, invalidations.

use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
use groundcrew::lazy_client::LazyClient;

use super::{sdk_error, CloudFront, DistributionInfo, InvalidationInfo};
use crate::error::AwsError;

/// Over a client built on first use (most invocations never call CloudFront's API twice,
/// some not at all: a cold start need not build it).
pub struct SdkCloudFront(pub LazyClient<aws_sdk_cloudfront::Client>);

impl SdkCloudFront {
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self(LazyClient::new(sdk, aws_sdk_cloudfront::Client::new))
    }
}

impl CloudFront for SdkCloudFront {
    async fn list_distributions(&self) -> Result<Vec<DistributionInfo>, AwsError> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .0
                .list_distributions()
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| sdk_error("ListDistributions", e))?;
            let Some(list) = page.distribution_list() else {
                break;
            };
            out.extend(list.items().iter().map(|d| DistributionInfo {
                id: d.id().to_string(),
                arn: d.arn().to_string(),
                aliases: d.aliases().map(|a| a.items().to_vec()).unwrap_or_default(),
            }));
            match list.next_marker() {
                Some(next) if list.is_truncated() && !next.is_empty() => {
                    marker = Some(next.to_string())
                }
                _ => break,
            }
        }
        Ok(out)
    }

    async fn get_distribution(&self, id: &str) -> Result<Option<DistributionInfo>, AwsError> {
        match self.0.get_distribution().id(id).send().await {
            Ok(out) => Ok(out.distribution().map(|d| DistributionInfo {
                id: d.id().to_string(),
                arn: d.arn().to_string(),
                aliases: d
                    .distribution_config()
                    .and_then(|c| c.aliases())
                    .map(|a| a.items().to_vec())
                    .unwrap_or_default(),
            })),
            Err(e) => {
                let err = sdk_error("GetDistribution", e);
                if err.is("NoSuchDistribution") {
                    Ok(None)
                } else {
                    Err(err)
                }
            }
        }
    }

    async fn tags(&self, arn: &str) -> Result<Vec<(String, String)>, AwsError> {
        let out = self
            .0
            .list_tags_for_resource()
            .resource(arn)
            .send()
            .await
            .map_err(|e| sdk_error("ListTagsForResource", e))?;
        Ok(out
            .tags()
            .map(|t| {
                t.items()
                    .iter()
                    .map(|tag| {
                        (
                            tag.key().to_string(),
                            tag.value().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn create_invalidation(
        &self,
        distribution_id: &str,
        paths: &[String],
        caller_reference: &str,
    ) -> Result<InvalidationInfo, AwsError> {
        let build = |e: aws_smithy_types::error::operation::BuildError| {
            AwsError::new("CreateInvalidation", e.to_string())
        };
        let batch = InvalidationBatch::builder()
            .paths(
                Paths::builder()
                    .quantity(paths.len() as i32)
                    .set_items(Some(paths.to_vec()))
                    .build()
                    .map_err(build)?,
            )
            .caller_reference(caller_reference)
            .build()
            .map_err(build)?;
        let out = self
            .0
            .create_invalidation()
            .distribution_id(distribution_id)
            .invalidation_batch(batch)
            .send()
            .await
            .map_err(|e| sdk_error("CreateInvalidation", e))?;
        let inv = out
            .invalidation()
            .ok_or_else(|| AwsError::new("CreateInvalidation", "the answer has no Invalidation"))?;
        Ok(InvalidationInfo {
            id: inv.id().to_string(),
            status: inv.status().to_string(),
        })
    }

    async fn get_invalidation(
        &self,
        distribution_id: &str,
        id: &str,
    ) -> Result<InvalidationInfo, AwsError> {
        let out = self
            .0
            .get_invalidation()
            .distribution_id(distribution_id)
            .id(id)
            .send()
            .await
            .map_err(|e| sdk_error("GetInvalidation", e))?;
        let inv = out
            .invalidation()
            .ok_or_else(|| AwsError::new("GetInvalidation", "the answer has no Invalidation"))?;
        Ok(InvalidationInfo {
            id: inv.id().to_string(),
            status: inv.status().to_string(),
        })
    }
}
