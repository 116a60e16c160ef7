//! One receiver's delivery of one state change: its message made, sent from the first part
//! not yet delivered, progress recorded after each part of a multi-part message, an
//! uncertain send (a timeout after the receiver may have acted) recorded so that its
//! re-send counts as a possible duplicate, and the delivery recorded the moment it
//! succeeds. Every record is fenced by the lease; losing it stops the other sends.

use std::sync::atomic::{AtomicBool, Ordering};

use groundcrew::Invocation;

use crate::error::Error;
use crate::format;
use crate::handler::App;
use crate::notice::Notice;
use crate::pace::{PaceStore, Pacer};
use crate::receivers::{Deliver, SendError, To};
use crate::redrive::DeadLetters;
use crate::routing::{Receiver, Routing};
use crate::severity::{Severity, TagLookup};
use crate::store::{Change, Lease, Progress, Store};

/// How one receiver's delivery ended.
pub(crate) enum Sending {
    Sent {
        duplicates: u32,
        migrated: Option<i64>,
    },
    /// Rate limited: folded into the receiver's pending digest (and recorded as given).
    Folded,
    Failed(String),
    LeaseLost,
}

impl<St: Store + PaceStore, D: Deliver, T: TagLookup + 'static, Q: DeadLetters> App<St, D, T, Q> {
    /// Sends the receiver's message from its first undelivered part, recording progress
    /// after each part of a multi-part message and the delivery at the end.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn deliver_one(
        &self,
        routing: &Routing,
        name: &str,
        notice: &Notice,
        severity: Severity,
        change: Change,
        progress: Option<Progress>,
        lease: &Lease,
        invocation: &Invocation,
        stop: &AtomicBool,
    ) -> Sending {
        let deadline = invocation.deadline;
        let Some(receiver) = routing.receivers.get(name) else {
            return Sending::Failed(format!("{name}: not in the routing document any more"));
        };
        let message = format::message(receiver, notice, severity, self.policy.telegram_max_parts);
        let idempotent = matches!(receiver, Receiver::Pagerduty { .. });
        let paced = !crate::budget::limits(receiver).is_empty();
        let start = progress
            .filter(|p| p.at_ms == change.at_ms)
            .unwrap_or(Progress {
                at_ms: change.at_ms,
                ..Progress::default()
            });
        let mut uncertain = start.uncertain;
        let mut duplicates = 0;
        let mut migrated = None;
        let pacer = Pacer {
            store: &self.store,
            clock: invocation.clock(),
            digest: false,
        };
        let to = To {
            name,
            receiver,
            pace: &pacer,
        };
        for part in start.parts as usize..message.parts() {
            if stop.load(Ordering::SeqCst) {
                return Sending::LeaseLost;
            }
            let (failure, maybe_arrived) = match deadline
                .run(self.deliver.send(to, &message, part, deadline))
                .await
            {
                Ok(Ok(sent)) => {
                    duplicates += sent.possible_duplicates;
                    if uncertain && !idempotent {
                        duplicates += 1;
                    }
                    uncertain = false;
                    migrated = sent.migrated_to.or(migrated);
                    if part + 1 < message.parts() {
                        let done = Progress {
                            at_ms: change.at_ms,
                            parts: part as u32 + 1,
                            uncertain: false,
                        };
                        if let Err(e) = self.store.record_progress(lease, name, done).await {
                            return self.lost_or_failed(name, e, stop);
                        }
                    }
                    continue;
                }
                // Only a paced receiver folds: while its digest is pending every later
                // notice folds behind it, so a line waiting there is never shown after a
                // newer state. An unpaced receiver's 429 (Google Chat, PagerDuty, a
                // webhook) has no digest to queue behind: it fails and is retried.
                Ok(Err(failed)) if failed.error.rate_limited() && paced => {
                    let chat = crate::budget::budget_key(name, receiver);
                    return self
                        .fold(name, &chat, notice, change, lease, invocation, stop)
                        .await;
                }
                Ok(Err(failed)) => (failed.error.to_string(), failed.uncertain),
                Err(_) => (SendError::Deadline.to_string(), true),
            };
            if maybe_arrived {
                // The next attempt of this part (here or in a retry) may be a second copy.
                let at = Progress {
                    at_ms: change.at_ms,
                    parts: part as u32,
                    uncertain: true,
                };
                if let Err(e) = self.store.record_progress(lease, name, at).await {
                    tracing::warn!(receiver = name, error = %e, "could not record an uncertain send");
                }
            }
            return Sending::Failed(failure);
        }
        match self.store.record_delivery(lease, name, change).await {
            Ok(()) => Sending::Sent {
                duplicates,
                migrated,
            },
            Err(e) => self.lost_or_failed(name, e, stop),
        }
    }

    /// Folds the change into the receiver's digest, then records it as given: the digest
    /// record is durable and a flush will show it. The digest is the chat's (`chat`, its
    /// budget key), shared by every receiver posting there.
    #[allow(clippy::too_many_arguments)]
    async fn fold(
        &self,
        name: &str,
        chat: &str,
        notice: &Notice,
        change: Change,
        lease: &Lease,
        invocation: &Invocation,
        stop: &AtomicBool,
    ) -> Sending {
        let expires_at = invocation.now().timestamp() + self.policy.record_ttl.as_secs() as i64;
        let entry = crate::digest::entry(notice);
        if let Err(e) = self
            .store
            .fold(chat, &lease.subject, &entry, expires_at)
            .await
        {
            return Sending::Failed(format!("{name}: rate limited, and its digest: {e}"));
        }
        tracing::info!(receiver = name, id = %notice.id, "rate limited: folded into the digest");
        match self.store.record_delivery(lease, name, change).await {
            Ok(()) => Sending::Folded,
            Err(e) => self.lost_or_failed(name, e, stop),
        }
    }

    fn lost_or_failed(&self, name: &str, err: Error, stop: &AtomicBool) -> Sending {
        match err {
            Error::LeaseLost { .. } => {
                stop.store(true, Ordering::SeqCst);
                Sending::LeaseLost
            }
            other => Sending::Failed(format!("{name}: delivered, but not recorded: {other}")),
        }
    }
}
