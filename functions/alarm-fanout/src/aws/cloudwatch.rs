//! Alarm tags ([`TagLookup`]) over CloudWatch.

use crate::severity::TagLookup;

/// CloudWatch `ListTagsForResource`.
#[derive(Debug, Clone)]
pub struct CloudWatchTags(pub aws_sdk_cloudwatch::Client);

impl TagLookup for CloudWatchTags {
    async fn tag(&self, alarm_arn: &str, key: &str) -> Result<Option<String>, String> {
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
            .find(|t| t.key().is_some_and(|k| k.eq_ignore_ascii_case(key)))
            .and_then(|t| t.value().map(str::to_string)))
    }
}
