//! The dead-letter queue ([`crate::redrive::DeadLetters`]) over SQS.

use groundcrew::aws::describe_sdk_error;

use super::Shared;
use crate::error::Error;

/// The dead-letter queue over SQS; without a queue URL, `redrive` says so.
#[derive(Debug, Clone)]
pub struct SqsDeadLetters {
    client: Shared<aws_sdk_sqs::Client>,
    queue_url: Option<String>,
}

impl SqsDeadLetters {
    /// Over a client built on first use ([`super::Clients`]).
    pub fn shared(client: Shared<aws_sdk_sqs::Client>, queue_url: Option<String>) -> Self {
        Self { client, queue_url }
    }

    fn url(&self) -> Result<&str, Error> {
        self.queue_url.as_deref().ok_or_else(|| {
            Error::DeadLetters(
                "DEAD_LETTER_QUEUE_URL is not set, so there is nothing to redrive".into(),
            )
        })
    }
}

impl crate::redrive::DeadLetters for SqsDeadLetters {
    async fn receive(
        &self,
        max: u32,
        visibility: std::time::Duration,
    ) -> Result<Vec<crate::redrive::DeadLetter>, Error> {
        let out = self
            .client
            .receive_message()
            .queue_url(self.url()?)
            .max_number_of_messages(max.clamp(1, 10) as i32)
            .visibility_timeout(visibility.as_secs().min(43_200) as i32)
            .wait_time_seconds(1)
            .send()
            .await
            .map_err(|e| {
                Error::DeadLetters(format!("ReceiveMessage: {}", describe_sdk_error(&e)))
            })?;
        Ok(out
            .messages()
            .iter()
            .filter_map(|m| {
                Some(crate::redrive::DeadLetter {
                    message_id: m.message_id()?.to_string(),
                    receipt_handle: m.receipt_handle()?.to_string(),
                    body: m.body().unwrap_or_default().to_string(),
                })
            })
            .collect())
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), Error> {
        self.client
            .delete_message()
            .queue_url(self.url()?)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| Error::DeadLetters(format!("DeleteMessage: {}", describe_sdk_error(&e))))
    }
}
