//! Alarm tags ([`TagLookup`]) over CloudWatch.

use super::{ready, Shared};
use crate::severity::TagLookup;

/// CloudWatch `ListTagsForResource`.
#[derive(Debug, Clone)]
pub struct CloudWatchTags(Shared<aws_sdk_cloudwatch::Client>);

impl CloudWatchTags {
    /// Over a client built already.
    pub fn new(client: aws_sdk_cloudwatch::Client) -> Self {
        Self::shared(ready(client, aws_sdk_cloudwatch::Client::new))
    }

    /// Over a client built on first use ([`super::Clients`]).
    pub fn shared(client: Shared<aws_sdk_cloudwatch::Client>) -> Self {
        Self(client)
    }
}

impl TagLookup for CloudWatchTags {
    async fn tag(&self, alarm_arn: &str, key: &str) -> Result<Option<String>, String> {
        Ok(self
            .tags(alarm_arn, key)
            .await?
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v))
    }

    /// Every tag in one `ListTagsForResource` call.
    async fn tags(
        &self,
        alarm_arn: &str,
        _key: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, String> {
        let out = self
            .0
            .list_tags_for_resource()
            .resource_arn(alarm_arn)
            .send()
            .await
            .map_err(|e| groundcrew::aws::describe_sdk_error(&e))?;
        Ok(out
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
            .collect())
    }
}
