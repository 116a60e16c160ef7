//! SQS: the follow-up queue.

use std::time::Duration;

use aws_sdk_sqs as sqs;
use groundcrew::lazy_client::LazyClient;

use crate::cloud;
use crate::Error;

use super::{err, Aws};

/// The follow-up queue on SQS. Without a queue URL nothing is handed on (the report says so).
#[derive(Clone, Debug)]
pub struct SqsQueue {
    pub client: LazyClient<sqs::Client>,
    pub url: Option<String>,
}

impl SqsQueue {
    fn url(&self, op: &'static str) -> Result<&str, Error> {
        self.url
            .as_deref()
            .ok_or_else(|| Error::aws(op, "no follow-up queue configured (FOLLOW_UP_QUEUE_URL)"))
    }
}

impl cloud::Queue for Aws {
    async fn send_later(&self, body: &str, delay: Duration) -> Result<(), Error> {
        let url = self.queue.url("SendMessage")?;
        self.count("SendMessage");
        self.queue
            .client
            .send_message()
            .queue_url(url)
            .message_body(body)
            // SQS delays a message by at most 15 minutes.
            .delay_seconds(delay.as_secs().min(900) as i32)
            .send()
            .await
            .map_err(|e| err("SendMessage", e))?;
        Ok(())
    }

    async fn retry_later(&self, receipt_handle: &str, after: Duration) -> Result<(), Error> {
        let url = self.queue.url("ChangeMessageVisibility")?;
        self.count("ChangeMessageVisibility");
        self.queue
            .client
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(receipt_handle)
            // SQS's longest visibility timeout is 12 hours.
            .visibility_timeout(after.as_secs().min(43_200) as i32)
            .send()
            .await
            .map_err(|e| err("ChangeMessageVisibility", e))?;
        Ok(())
    }
}
