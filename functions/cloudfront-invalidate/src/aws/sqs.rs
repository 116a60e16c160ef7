//! [`FlushTrigger`] on the SDK: the deploy queue (SendMessage, ChangeMessageVisibility).

use groundcrew::lazy_client::LazyClient;

use super::{sdk_error, FlushTrigger, MAX_DELAY_SECONDS};
use crate::error::AwsError;

pub struct SdkQueue {
    /// Built on first use (only S3 notifications and failed flushes send or return one).
    pub client: LazyClient<aws_sdk_sqs::Client>,
    pub queue_url: String,
}

impl SdkQueue {
    pub fn new(sdk: &aws_config::SdkConfig, queue_url: String) -> Self {
        Self {
            client: LazyClient::new(sdk, aws_sdk_sqs::Client::new),
            queue_url,
        }
    }
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
