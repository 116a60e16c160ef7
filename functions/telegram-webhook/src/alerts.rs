//! Alerts to the alarm SNS topic, which `alarm-fanout` routes to people.

use std::future::Future;
use std::sync::{Arc, Mutex};

use groundcrew::aws::describe_sdk_error;

use crate::error::Error;

pub trait Alerts: Send + Sync {
    /// Publishes; `Ok(false)` when no topic is configured (the alert is only logged).
    fn publish(
        &self,
        subject: &str,
        message: &str,
    ) -> impl Future<Output = Result<bool, Error>> + Send;
}

#[derive(Clone)]
pub struct SnsAlerts {
    client: aws_sdk_sns::Client,
    topic_arn: Option<String>,
}

impl SnsAlerts {
    pub fn new(config: &aws_config::SdkConfig, topic_arn: Option<String>) -> Self {
        Self {
            client: aws_sdk_sns::Client::new(config),
            topic_arn,
        }
    }
}

/// SNS subjects: at most 100 printable ASCII characters, no line breaks.
pub fn sns_subject(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                ' '
            }
        })
        .collect();
    clean.chars().take(100).collect()
}

impl Alerts for SnsAlerts {
    async fn publish(&self, subject: &str, message: &str) -> Result<bool, Error> {
        let Some(topic) = &self.topic_arn else {
            tracing::warn!(
                subject,
                "no ALARM_TOPIC_ARN configured; the alert is only logged"
            );
            return Ok(false);
        };
        self.client
            .publish()
            .topic_arn(topic)
            .subject(sns_subject(subject))
            .message(message)
            .send()
            .await
            .map_err(|e| Error::Alert(describe_sdk_error(&e)))?;
        Ok(true)
    }
}

/// Records alerts, for unit tests.
#[derive(Clone, Default)]
pub struct RecordedAlerts {
    pub sent: Arc<Mutex<Vec<(String, String)>>>,
}

impl Alerts for RecordedAlerts {
    async fn publish(&self, subject: &str, message: &str) -> Result<bool, Error> {
        if let Ok(mut sent) = self.sent.lock() {
            sent.push((subject.to_string(), message.to_string()));
        }
        Ok(true)
    }
}
