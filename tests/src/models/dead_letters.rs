//! A dead-letter queue behind alarm-fanout's `DeadLetters` seam: Lambda puts an event there
//! after its asynchronous retries; the `redrive` action receives and deletes. A received
//! message is hidden for the visibility the caller asks (SQS allows at most 12 hours,
//! SQS Developer Guide), then comes back unless deleted. At most 10 messages a receive.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alarm_fanout::redrive::{DeadLetter, DeadLetters};
use alarm_fanout::Error;
use chrono::{DateTime, Utc};

use crate::kernel::{lock, Sim};

#[derive(Debug, Default)]
struct Queue {
    /// By message id: body, visible from, receipt handle of the last receive.
    messages: BTreeMap<String, (String, DateTime<Utc>, String)>,
    next: u64,
}

#[derive(Clone)]
pub struct DeadLetterModel {
    sim: Arc<Sim>,
    queue: Arc<Mutex<Queue>>,
}

impl DeadLetterModel {
    pub fn new(sim: Arc<Sim>) -> Self {
        Self {
            sim,
            queue: Arc::new(Mutex::new(Queue::default())),
        }
    }

    /// Lambda's dead-letter delivery of a failed event.
    pub fn put(&self, body: String) {
        let now = self.sim.now();
        let mut q = lock(&self.queue);
        q.next += 1;
        let id = format!("dlq-{:06}", q.next);
        q.messages.insert(id, (body, now, String::new()));
    }

    pub fn len(&self) -> usize {
        lock(&self.queue).messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl DeadLetters for DeadLetterModel {
    async fn receive(&self, max: u32, visibility: Duration) -> Result<Vec<DeadLetter>, Error> {
        let now = self.sim.now();
        let hidden = chrono::Duration::from_std(visibility.min(Duration::from_secs(43_200)))
            .unwrap_or_default();
        let mut q = lock(&self.queue);
        let mut next = q.next;
        let mut out = Vec::new();
        for (id, (body, visible, receipt)) in q.messages.iter_mut() {
            if out.len() >= max.min(10) as usize {
                break;
            }
            if *visible > now {
                continue;
            }
            next += 1;
            *receipt = format!("rh-{id}-{next}");
            *visible = now + hidden;
            out.push(DeadLetter {
                message_id: id.clone(),
                receipt_handle: receipt.clone(),
                body: body.clone(),
            });
        }
        q.next = next;
        Ok(out)
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), Error> {
        lock(&self.queue)
            .messages
            .retain(|_, (_, _, r)| r != receipt_handle);
        Ok(())
    }
}
