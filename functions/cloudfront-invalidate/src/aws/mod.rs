//! The collaborators, one small trait per capability, and their AWS SDK implementations:
//! every SDK call of the crate is in this module, one file per service ([`cloudfront`],
//! [`s3`], [`codepipeline`], [`sqs`], and [`dynamo`]: the pending store).

pub mod cloudfront;
pub mod codepipeline;
pub mod dynamo;
mod dynamo_item;
mod dynamo_table;
pub mod s3;
pub mod sqs;

use std::future::Future;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

pub use cloudfront::SdkCloudFront;
pub use codepipeline::SdkPipeline;
pub use s3::SdkS3;
pub use sqs::SdkQueue;

use crate::error::AwsError;
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

/// The SDK adapters of a deployed function, each over a client built from `sdk` when it is
/// first used (issue 17: each `Client::new` costs a cold start time).
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
            cloudfront: SdkCloudFront::new(sdk),
            listing: SdkS3::new(sdk),
            pipeline: SdkPipeline::new(sdk),
            store: dynamo::SdkPending::new(sdk, table),
            trigger: SdkQueue::new(sdk, queue_url),
        }
    }
}
