//! Gathering: S3 notifications become paths in the distribution's pending deploy.
//!
//! One SQS batch is not one deploy (Lambda cuts batches at 6 MB and runs several at
//! once), so each message's paths are appended to the distribution's open generation in
//! DynamoDB, and the message is marked as taken by that generation's flush id in the same
//! transaction. A retried or re-composed batch finds its messages taken and adds nothing,
//! so the same change is never billed twice. The first append of a generation sends its
//! flush trigger (a delayed message on the same queue). [`batch`] reads the queue's
//! batches.

mod batch;

use groundcrew::Invocation;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::aws::{CloudFront, FlushTrigger, Pipeline, SiteListing, MAX_DELAY_SECONDS};
use crate::error::Error;
use crate::event::Request;
use crate::handler::Handler;
use crate::invalidate::call;
use crate::notice::{FlushAction, FlushTarget};
use crate::store::{due_at, Chunk, Head, PendingStore};

/// Messages per transaction: DynamoDB takes 100 items, two are the head and the paths.
const CHUNK_MESSAGES: usize = 90;
/// Bytes of paths per chunk item (DynamoDB items are at most 400 KB).
const CHUNK_PATH_BYTES: usize = 300_000;
/// Re-reads when another invocation changed the pending deploy meanwhile.
const APPEND_ATTEMPTS: usize = 5;

pub use batch::TRIGGER_RETRY_SECONDS;

/// One message's changes for one distribution.
#[derive(Debug, Clone)]
pub struct Message {
    /// `<distribution>#<message id>`: the marker's key.
    pub key: String,
    pub paths: Vec<String>,
}

/// What a gather did for one distribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gathered {
    pub distribution: String,
    pub flush_id: String,
    /// Messages appended now; messages an earlier attempt had already taken.
    pub appended: usize,
    pub already_taken: usize,
    /// Whether this call sent the generation's flush trigger.
    pub trigger_sent: bool,
}

/// A generation's flush id: readable, unique per distribution and start, the same on
/// every replay of a simulation.
pub fn new_flush_id(distribution: &str, now: i64, first_key: &str) -> String {
    let digest = hex::encode(Sha256::digest(first_key.as_bytes()));
    format!("gc-{distribution}-{now}-{}", &digest[..8])
}

fn chunks(messages: &[&Message]) -> Vec<Vec<Message>> {
    let mut out: Vec<Vec<Message>> = Vec::new();
    let mut bytes = 0;
    for m in messages {
        let size: usize = m.paths.iter().map(String::len).sum();
        let full = out
            .last()
            .is_none_or(|c| c.len() >= CHUNK_MESSAGES || bytes + size > CHUNK_PATH_BYTES);
        if full {
            out.push(Vec::new());
            bytes = 0;
        }
        bytes += size;
        if let Some(last) = out.last_mut() {
            last.push((*m).clone());
        }
    }
    out
}

impl<C: CloudFront, S: SiteListing, P: Pipeline, D: PendingStore, T: FlushTrigger>
    Handler<C, S, P, D, T>
{
    pub(super) fn require_pending(&self) -> Result<(), Error> {
        let config = &self.invalidator.config;
        if config.pending_table.is_none() {
            return Err(Error::NotConfigured("PENDING_TABLE"));
        }
        if config.flush_queue_url.is_none() {
            return Err(Error::NotConfigured("FLUSH_QUEUE_URL"));
        }
        Ok(())
    }

    /// S3 notifications invoked directly (not through the queue): gathered the same way,
    /// the event's identity standing for the message id.
    pub async fn gather_requests(
        &self,
        requests: &[Request],
        invocation: &Invocation,
    ) -> Result<Vec<Gathered>, Error> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        self.require_pending()?;
        let mut out = Vec::with_capacity(requests.len());
        for request in requests {
            let dist = self.distribution_id(request, invocation).await?;
            let message = Message {
                key: format!("{dist}#{}", request.deployment_id),
                paths: request.paths.iter().map(|p| p.text.clone()).collect(),
            };
            out.push(Box::pin(self.gather(&dist, &[message], invocation)).await?);
        }
        Ok(out)
    }

    pub(super) async fn distribution_id(
        &self,
        request: &Request,
        invocation: &Invocation,
    ) -> Result<String, Error> {
        let dist = self
            .invalidator
            .resolve(&request.distribution, invocation.deadline)
            .await?;
        let allowed = &self.invalidator.config.distributions;
        if !allowed.is_empty() && !allowed.contains(&dist.id) {
            return Err(Error::NotAllowed(dist.id));
        }
        Ok(dist.id)
    }

    /// Appends the messages not yet taken to the distribution's open generation, and
    /// makes sure its flush trigger was sent.
    pub async fn gather(
        &self,
        dist: &str,
        messages: &[Message],
        invocation: &Invocation,
    ) -> Result<Gathered, Error> {
        let deadline = invocation.deadline;
        let policy = &self.invalidator.read_retry;
        let keys: Vec<String> = messages.iter().map(|m| m.key.clone()).collect();
        for _ in 0..APPEND_ATTEMPTS {
            let now = invocation.now().timestamp();
            let head = call(policy, deadline, "GetItem", || self.store.head(dist)).await?;
            let mut taken =
                call(policy, deadline, "BatchGetItem", || self.store.taken(&keys)).await?;
            taken.sort();
            let fresh: Vec<&Message> = messages
                .iter()
                .filter(|m| taken.binary_search(&m.key).is_err())
                .collect();
            let (flush_id, mut create) = match &head {
                Some(h) => (h.flush_id.clone(), false),
                None if fresh.is_empty() => {
                    return Ok(Gathered {
                        distribution: dist.to_string(),
                        flush_id: String::new(),
                        appended: 0,
                        already_taken: messages.len(),
                        trigger_sent: false,
                    })
                }
                None => (new_flush_id(dist, now, &fresh[0].key), true),
            };
            let mut conflict = false;
            for chunk in chunks(&fresh) {
                let mut paths: Vec<String> = chunk.iter().flat_map(|m| m.paths.clone()).collect();
                paths.sort();
                paths.dedup();
                let c = Chunk {
                    distribution: dist.to_string(),
                    flush_id: flush_id.clone(),
                    chunk_id: chunk[0].key.clone(),
                    message_keys: chunk.iter().map(|m| m.key.clone()).collect(),
                    paths,
                    now,
                    create,
                };
                let appended = call(policy, deadline, "TransactWriteItems", || {
                    self.store.append(&c)
                })
                .await?;
                if !appended {
                    conflict = true;
                    break;
                }
                create = false;
            }
            if conflict {
                tracing::info!(distribution = %dist, "the pending deploy changed meanwhile; reading it again");
                continue;
            }
            let head = head.unwrap_or(Head {
                distribution: dist.to_string(),
                flush_id: flush_id.clone(),
                first_at: now,
                last_at: now,
                messages: 0,
                armed: false,
            });
            let trigger_sent = !head.armed;
            if trigger_sent {
                let due = due_at(
                    &Head {
                        last_at: now,
                        ..head.clone()
                    },
                    self.invalidator.config.quiet.as_secs() as i64,
                    self.invalidator.config.max_wait.as_secs() as i64,
                );
                self.schedule(dist, &flush_id, due - now, invocation)
                    .await?;
                call(policy, deadline, "UpdateItem", || {
                    self.store.arm(dist, &flush_id)
                })
                .await?;
            }
            return Ok(Gathered {
                distribution: dist.to_string(),
                flush_id,
                appended: fresh.len(),
                already_taken: messages.len() - fresh.len(),
                trigger_sent,
            });
        }
        Err(Error::Contention(dist.to_string()))
    }

    /// Sends the generation's flush trigger to arrive in `delay` seconds (at most SQS's
    /// 900; a flush that is not due yet sends the next hop).
    pub(crate) async fn schedule(
        &self,
        dist: &str,
        flush_id: &str,
        delay: i64,
        invocation: &Invocation,
    ) -> Result<(), Error> {
        let body = serde_json::to_string(&FlushTarget {
            action: FlushAction::Flush,
            distribution: Some(dist.to_string()),
            flush_id: Some(flush_id.to_string()),
        })
        .map_err(|e| Error::BadEvent(format!("the flush trigger cannot be written: {e}")))?;
        let delay = delay.clamp(0, MAX_DELAY_SECONDS as i64) as u32;
        call(
            &self.invalidator.read_retry,
            invocation.deadline,
            "SendMessage",
            || self.trigger.send(&body, delay),
        )
        .await
    }
}
