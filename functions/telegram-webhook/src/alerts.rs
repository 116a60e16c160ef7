//! Alerts to the alarm SNS topic, which `alarm-fanout` routes to people.

use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::error::Error;

pub trait Alerts: Send + Sync {
    /// Publishes; `Ok(false)` when no topic is configured (the alert is only logged).
    fn publish(
        &self,
        subject: &str,
        message: &str,
    ) -> impl Future<Output = Result<bool, Error>> + Send;
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
