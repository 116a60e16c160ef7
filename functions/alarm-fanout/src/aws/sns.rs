//! [`Publisher`] over SNS.

use groundcrew::aws_error::AwsError;

use crate::receivers::{Publisher, SendError};

impl Publisher for aws_sdk_sns::Client {
    async fn publish(
        &self,
        topic_arn: &str,
        subject: &str,
        message: &str,
    ) -> Result<(), SendError> {
        aws_sdk_sns::Client::publish(self)
            .topic_arn(topic_arn)
            .subject(subject)
            .message(message)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                // The SDK already retried; what is left and transient may still pass later.
                let error = AwsError::from_sdk("sns:Publish", &e);
                SendError::Sns {
                    retryable: error.is_transient(),
                    reason: error.to_string(),
                }
            })
    }
}
