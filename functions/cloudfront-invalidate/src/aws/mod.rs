//! The collaborators, one small trait per capability, and their AWS SDK implementations:
//! every SDK call of the crate is in this module ([`dynamo`]: the pending store).

pub mod dynamo;
mod dynamo_item;

use std::future::Future;

use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
use aws_sdk_codepipeline::types::{FailureDetails, FailureType};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::{AwsError, Fault};
use crate::manifest::{ArtifactCredentials, ArtifactLocation};

/// A distribution as resolution needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistributionInfo {
    pub id: String,
    pub arn: String,
    pub aliases: Vec<String>,
}

/// An invalidation as CloudFront reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidationInfo {
    pub id: String,
    /// `InProgress` or `Completed`.
    pub status: String,
}

pub trait CloudFront: Send + Sync {
    fn list_distributions(
        &self,
    ) -> impl Future<Output = Result<Vec<DistributionInfo>, AwsError>> + Send;
    /// `None` when there is no such distribution.
    fn get_distribution(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<DistributionInfo>, AwsError>> + Send;
    fn tags(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, AwsError>> + Send;
    fn create_invalidation(
        &self,
        distribution_id: &str,
        paths: &[String],
        caller_reference: &str,
    ) -> impl Future<Output = Result<InvalidationInfo, AwsError>> + Send;
    fn get_invalidation(
        &self,
        distribution_id: &str,
        id: &str,
    ) -> impl Future<Output = Result<InvalidationInfo, AwsError>> + Send;
}

/// Lists a site bucket's keys (the site inventory).
pub trait SiteListing: Send + Sync {
    /// Keys under `prefix`; `None` when there are more than `max_keys`.
    fn keys(
        &self,
        bucket: &str,
        prefix: &str,
        max_keys: usize,
    ) -> impl Future<Output = Result<Option<Vec<String>>, AwsError>> + Send;
}

/// A CodePipeline job: its result, and its input artifact.
pub trait Pipeline: Send + Sync {
    /// GetObject of the job's input artifact with the job's artifact credentials; an
    /// artifact of more than `max_bytes` is refused before it is read.
    fn artifact(
        &self,
        location: &ArtifactLocation,
        credentials: &ArtifactCredentials,
        max_bytes: u64,
    ) -> impl Future<Output = Result<Vec<u8>, AwsError>> + Send;
    fn succeed(&self, job_id: &str) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn fail(
        &self,
        job_id: &str,
        message: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// An SDK error as an [`AwsError`], classified by `groundcrew::aws_error`.
pub fn sdk_error<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    AwsError::from_sdk(operation, &err)
}

pub struct SdkCloudFront(pub aws_sdk_cloudfront::Client);

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

pub struct SdkS3(pub aws_sdk_s3::Client);

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

pub struct SdkPipeline {
    pub client: aws_sdk_codepipeline::Client,
    /// For the S3 client of each job's artifact credentials (endpoint, region, retries).
    pub sdk: aws_config::SdkConfig,
}

impl Pipeline for SdkPipeline {
    async fn artifact(
        &self,
        location: &ArtifactLocation,
        credentials: &ArtifactCredentials,
        max_bytes: u64,
    ) -> Result<Vec<u8>, AwsError> {
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&self.sdk)
                .credentials_provider(aws_sdk_s3::config::Credentials::new(
                    &credentials.access_key_id,
                    &credentials.secret_access_key,
                    Some(credentials.session_token.clone()),
                    None,
                    "codepipeline-artifact-credentials",
                ))
                .force_path_style(true)
                .build(),
        );
        let out = s3
            .get_object()
            .bucket(&location.bucket)
            .key(&location.key)
            .send()
            .await
            .map_err(|e| sdk_error("GetObject", e))?;
        let size = out.content_length().unwrap_or(0).max(0) as u64;
        if size > max_bytes {
            return Err(AwsError::new(
                "GetObject",
                format!("the input artifact is {size} bytes, more than the {max_bytes} read"),
            ));
        }
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| {
                AwsError::new(
                    "GetObject",
                    format!("the artifact's body was cut short: {e}"),
                )
                .with_fault(Fault::Transient)
            })?
            .into_bytes();
        Ok(bytes.to_vec())
    }

    async fn succeed(&self, job_id: &str) -> Result<(), AwsError> {
        self.client
            .put_job_success_result()
            .job_id(job_id)
            .send()
            .await
            .map_err(|e| sdk_error("PutJobSuccessResult", e))?;
        Ok(())
    }

    async fn fail(&self, job_id: &str, message: &str) -> Result<(), AwsError> {
        // CodePipeline takes at most 5,000 characters.
        let message: String = message.chars().take(5000).collect();
        let details = FailureDetails::builder()
            .r#type(FailureType::JobFailed)
            .message(message)
            .build()
            .map_err(|e| AwsError::new("PutJobFailureResult", e.to_string()))?;
        self.client
            .put_job_failure_result()
            .job_id(job_id)
            .failure_details(details)
            .send()
            .await
            .map_err(|e| sdk_error("PutJobFailureResult", e))?;
        Ok(())
    }
}

/// Sends the flush trigger of a pending deploy: a message that comes back through the
/// deploy queue after `delay_seconds` (SQS delays a message at most 900 s; a longer wait
/// is several hops).
pub trait FlushTrigger: Send + Sync {
    fn send(
        &self,
        body: &str,
        delay_seconds: u32,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// ChangeMessageVisibility: a received message that failed comes back after
    /// `seconds` rather than after the queue's visibility timeout. The same message, not
    /// a new one: its receive count still leads it to the dead-letter queue, and no chain
    /// of re-sent messages grows towards Lambda's recursive-loop detection.
    fn return_in(
        &self,
        receipt_handle: &str,
        seconds: u32,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// SQS's longest message delay.
pub const MAX_DELAY_SECONDS: u32 = 900;

pub struct SdkQueue {
    pub client: aws_sdk_sqs::Client,
    pub queue_url: String,
}

impl FlushTrigger for SdkQueue {
    async fn send(&self, body: &str, delay_seconds: u32) -> Result<(), AwsError> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .delay_seconds(delay_seconds.min(MAX_DELAY_SECONDS) as i32)
            .send()
            .await
            .map_err(|e| sdk_error("SendMessage", e))?;
        Ok(())
    }

    async fn return_in(&self, receipt_handle: &str, seconds: u32) -> Result<(), AwsError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds as i32)
            .send()
            .await
            .map_err(|e| sdk_error("ChangeMessageVisibility", e))?;
        Ok(())
    }
}

/// The SDK adapters of a deployed function, each over its client built from `sdk`.
pub struct Adapters {
    pub cloudfront: SdkCloudFront,
    pub listing: SdkS3,
    pub pipeline: SdkPipeline,
    pub store: dynamo::SdkPending,
    pub trigger: SdkQueue,
}

impl Adapters {
    /// `table` and `queue_url` may be empty: S3 notifications and flushes are then refused
    /// before either is called (`PENDING_TABLE`, `FLUSH_QUEUE_URL`).
    pub fn new(sdk: &aws_config::SdkConfig, table: String, queue_url: String) -> Self {
        Self {
            cloudfront: SdkCloudFront(aws_sdk_cloudfront::Client::new(sdk)),
            // Path-style, so that local endpoints (moto) serve any bucket name.
            listing: SdkS3(aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(sdk)
                    .force_path_style(true)
                    .build(),
            )),
            pipeline: SdkPipeline {
                client: aws_sdk_codepipeline::Client::new(sdk),
                sdk: sdk.clone(),
            },
            store: dynamo::SdkPending {
                client: aws_sdk_dynamodb::Client::new(sdk),
                table,
            },
            trigger: SdkQueue {
                client: aws_sdk_sqs::Client::new(sdk),
                queue_url,
            },
        }
    }
}
