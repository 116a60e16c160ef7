//! Sending pending digests: by the invocation that folded a notice (when the digest is
//! already due), and by the `flush` action, which the template's schedule invokes every
//! minute so that a folded notice goes out even when no other notice follows it.
//!
//! A digest is due when the receiver's last digest went at least
//! [`crate::handler::Policy::digest_interval`] ago; it takes a token of the receiver's
//! budget like any message. One invocation at a time sends a receiver's digest (a claim
//! with the deadline in view); lines folded while it is sent stay for the next one.

use std::collections::BTreeSet;
use std::time::Duration;

use groundcrew::Invocation;
use serde::Serialize;

use crate::budget;
use crate::digest;
use crate::error::Error;
use crate::handler::{App, NoticeReport};
use crate::pace::{PaceStore, Pacer};
use crate::receivers::{Deliver, To};
use crate::redrive::DeadLetters;
use crate::routing::Routing;
use crate::severity::TagLookup;
use crate::store::Store;

/// A claim on a digest outlives the deadline by this much.
const CLAIM_MARGIN: Duration = Duration::from_secs(5);

/// One digest sent.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DigestReport {
    pub receiver: String,
    /// Alarms (and other notices) given a line.
    pub lines: usize,
    /// State changes the digest accounts for, on a line or in its count.
    pub changes: u64,
}

impl<St: Store + PaceStore, D: Deliver, T: TagLookup + 'static, Q: DeadLetters> App<St, D, T, Q> {
    /// Sends the digests of the receivers this invocation folded notices into, when due.
    /// A failure is logged, not returned: the notices themselves were handled, and the
    /// digest stays pending for the scheduled flush.
    pub async fn flush_folded(
        &self,
        notices: &[NoticeReport],
        routing: &Routing,
        invocation: &Invocation,
    ) -> Vec<DigestReport> {
        // One digest per chat: the first receiver folded into it sends it.
        let mut chats = BTreeSet::new();
        let folded: Vec<&String> = notices
            .iter()
            .flat_map(|n| &n.folded)
            .filter(|name| {
                routing
                    .receivers
                    .get(name.as_str())
                    .is_some_and(|r| chats.insert(budget::budget_key(name, r)))
            })
            .collect();
        let mut sent = Vec::new();
        for name in folded {
            match self.flush_digest(name, routing, invocation).await {
                Ok(Some(report)) => sent.push(report),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(receiver = %name, error = %e, "digest not sent; it stays pending")
                }
            }
        }
        sent
    }

    /// The `flush` action: every paced receiver's digest that is due.
    pub async fn flush_all(
        &self,
        routing: &Routing,
        invocation: &Invocation,
    ) -> (Vec<DigestReport>, Vec<Error>) {
        let mut sent = Vec::new();
        let mut errors = Vec::new();
        // One digest per chat, sent through the first of its receivers.
        let mut chats = BTreeSet::new();
        let paced: Vec<String> = routing
            .receivers
            .iter()
            .filter(|(name, r)| {
                !budget::limits(r).is_empty() && chats.insert(budget::budget_key(name, r))
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in paced {
            match self.flush_digest(&name, routing, invocation).await {
                Ok(Some(report)) => sent.push(report),
                Ok(None) => {}
                Err(e) => errors.push(e),
            }
        }
        (sent, errors)
    }

    /// Sends `name`'s pending digest if it is due and nobody else is sending it.
    pub async fn flush_digest(
        &self,
        name: &str,
        routing: &Routing,
        invocation: &Invocation,
    ) -> Result<Option<DigestReport>, Error> {
        let Some(receiver) = routing.receivers.get(name) else {
            return Ok(None);
        };
        let chat = budget::budget_key(name, receiver);
        let deadline = invocation.deadline;
        let now_ms = invocation.now().timestamp_millis();
        let holder = format!(
            "{}/digest/{}",
            invocation.request_id,
            self.holders
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        let until_ms = now_ms + (deadline.remaining() + CLAIM_MARGIN).as_millis() as i64;
        let Some(claimed) = self
            .store
            .claim_digest(
                &chat,
                &holder,
                now_ms,
                until_ms,
                self.policy.digest_interval,
            )
            .await?
        else {
            return Ok(None);
        };
        let message = digest::message(receiver, &claimed.pending);
        let pacer = Pacer {
            store: &self.store,
            clock: invocation.clock(),
            digest: true,
        };
        let to = To {
            name,
            receiver,
            pace: &pacer,
        };
        let result = deadline
            .run(self.deliver.send(to, &message, 0, deadline))
            .await;
        match result {
            Ok(Ok(_)) => {
                let sent_at = invocation.now().timestamp_millis();
                self.store
                    .finish_digest(&chat, &holder, &claimed.pending, sent_at)
                    .await?;
                let report = DigestReport {
                    receiver: name.to_string(),
                    lines: claimed.pending.entries.len(),
                    changes: claimed.pending.changes(),
                };
                tracing::info!(
                    receiver = name,
                    lines = report.lines,
                    changes = report.changes,
                    "digest sent"
                );
                Ok(Some(report))
            }
            Ok(Err(failed)) => {
                self.store.release_digest(&chat, &holder).await?;
                if failed.error.rate_limited() {
                    // Its budget is spent: the next flush sends it.
                    Ok(None)
                } else {
                    Err(Error::Delivery {
                        id: format!("digest for {name}"),
                        failed: vec![name.to_string()],
                        reasons: vec![failed.error.to_string()],
                    })
                }
            }
            Err(_) => {
                self.store.release_digest(&chat, &holder).await?;
                Err(Error::Delivery {
                    id: format!("digest for {name}"),
                    failed: vec![name.to_string()],
                    reasons: vec!["the invocation deadline passed while sending the digest".into()],
                })
            }
        }
    }
}
