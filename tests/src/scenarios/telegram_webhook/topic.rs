//! The SNS topic the function publishes its per-run notices to (`ALARM_TOPIC_ARN`, which an
//! operator may set beside the template's alarms), with an outage window in which every
//! `Publish` is refused and faults drawn per call. The SDK's standard retry mode makes up to
//! 3 attempts, so outside the window a publish fails only when 3 draws in a row do.

use std::sync::{Arc, Mutex};

use groundcrew::aws_error::AwsError;
use telegram_webhook::alerts::Alerts;
use telegram_webhook::Error;

use super::endpoint::Window;
use crate::kernel::{lock, Sim};

#[derive(Clone)]
pub struct SimTopic {
    sim: Arc<Sim>,
    down: Arc<Mutex<Vec<Window>>>,
    /// Publishes that failed (reset per check by the scenario).
    pub failed: Arc<Mutex<u64>>,
    /// Notices delivered, in all.
    pub delivered: Arc<Mutex<u64>>,
}

impl SimTopic {
    pub fn new(sim: Arc<Sim>) -> Self {
        Self {
            sim,
            down: Arc::default(),
            failed: Arc::default(),
            delivered: Arc::default(),
        }
    }

    pub fn down_during(&self, window: Window) {
        lock(&self.down).push(window);
    }

    pub fn is_down(&self) -> bool {
        let now = self.sim.now();
        lock(&self.down).iter().any(|(a, b)| *a <= now && now < *b)
    }
}

impl Alerts for SimTopic {
    async fn publish(&self, _subject: &str, _message: &str) -> Result<bool, Error> {
        let refused = if self.is_down() {
            Some(
                AwsError::new("Publish", "SNS is unavailable (outage window)")
                    .with_code("InternalError"),
            )
        } else if (0..3).all(|_| self.sim.fault("alarm-topic", "Publish").is_fault()) {
            Some(
                AwsError::new("Publish", "failed 3 times (throttling, 5xx or timeouts)")
                    .with_code("Throttling"),
            )
        } else {
            None
        };
        match refused {
            Some(e) => {
                *lock(&self.failed) += 1;
                Err(Error::Alert(e))
            }
            None => {
                *lock(&self.delivered) += 1;
                Ok(true)
            }
        }
    }
}
