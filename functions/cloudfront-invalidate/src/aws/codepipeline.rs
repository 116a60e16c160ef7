//! [`Pipeline`] on the SDK: a job's input artifact (S3, with the job's own artifact
//! credentials) and its result (CodePipeline).

use aws_sdk_codepipeline::types::{FailureDetails, FailureType};
use groundcrew::lazy_client::LazyClient;

use super::{sdk_error, Pipeline};
use crate::error::{AwsError, Fault};
use crate::manifest::{ArtifactCredentials, ArtifactLocation};

pub struct SdkPipeline {
    /// Built on first use (only CodePipeline jobs report to it).
    pub client: LazyClient<aws_sdk_codepipeline::Client>,
    /// For the S3 client of each job's artifact credentials (endpoint, region, retries).
    pub sdk: aws_config::SdkConfig,
}

impl SdkPipeline {
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self {
            client: LazyClient::new(sdk, aws_sdk_codepipeline::Client::new),
            sdk: sdk.clone(),
        }
    }
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
