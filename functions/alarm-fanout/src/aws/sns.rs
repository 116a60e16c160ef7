//! [`Publisher`] over SNS.

use groundcrew::aws_error::AwsError;

use super::Shared;
use crate::receivers::{Publisher, SendError};

/// SNS `Publish` over a client built on first use ([`super::Clients`]).
#[derive(Debug, Clone)]
pub struct SnsPublisher(Shared<aws_sdk_sns::Client>);

impl SnsPublisher {
    pub fn shared(client: Shared<aws_sdk_sns::Client>) -> Self {
        Self(client)
    }
}

impl Publisher for SnsPublisher {
    async fn publish(
        &self,
        topic_arn: &str,
        subject: &str,
        message: &str,
    ) -> Result<(), SendError> {
        Publisher::publish(self.0.get(), topic_arn, subject, message).await
    }
}

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
