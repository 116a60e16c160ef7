//! A batch from the deploy queue: each message read (S3 notifications, directly, through
//! SNS or EventBridge, and flush triggers), its paths gathered per distribution, its
//! flushes run, and every message that failed returned to the queue early.

use std::collections::BTreeMap;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use groundcrew::Invocation;

use super::Message;
use crate::aws::{CloudFront, FlushTrigger, Pipeline, SiteListing};
use crate::error::Error;
use crate::event::s3_requests;
use crate::handler::Handler;
use crate::invalidate::call;
use crate::notice::{parse_body, FlushTarget, Notice};
use crate::store::PendingStore;

/// A failed message (a flush trigger, or a notification that could not be read, mapped or
/// stored) comes back after this many seconds times its receive count (60, 120, 180,
/// 240 s: with the template's maxReceiveCount of 5 it is tried for about ten minutes
/// besides its own retries, long enough for CloudFront's in-progress invalidations to
/// complete or a throttled table to recover, then it goes to the dead-letter queue, which
/// alarms). The queue's own visibility timeout (1,800 s) would bring it back half an hour
/// late, past the deploy's `MAX_WAIT_SECONDS`.
pub const TRIGGER_RETRY_SECONDS: u32 = 60;
/// Invocation time kept back from flushes for returning a failed trigger early.
const RETURN_RESERVE: std::time::Duration = std::time::Duration::from_secs(5);

impl<C: CloudFront, S: SiteListing, P: Pipeline, D: PendingStore, T: FlushTrigger>
    Handler<C, S, P, D, T>
{
    /// A batch from the deploy queue. Messages that cannot be read, mapped or stored
    /// are returned to the queue (partial batch response); the rest are done.
    pub async fn handle_batch(
        &self,
        batch: &SqsEvent,
        invocation: &Invocation,
    ) -> Result<SqsBatchResponse, Error> {
        self.require_pending()?;
        let mut ids = Vec::with_capacity(batch.records.len());
        for (i, record) in batch.records.iter().enumerate() {
            match record.message_id.as_deref().filter(|id| !id.is_empty()) {
                Some(id) => ids.push(id.to_string()),
                None => {
                    return Err(Error::BadEvent(format!(
                        "SQS record {i} has no messageId (nothing was done)"
                    )))
                }
            }
        }
        let mut failed: Vec<String> = Vec::new();
        // message id -> (receipt handle, receive count), to return a failed one early
        let mut receipts: BTreeMap<String, (Option<String>, u32)> = BTreeMap::new();
        let mut per_distribution: BTreeMap<String, Vec<Message>> = BTreeMap::new();
        let mut owners: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut flushes: Vec<(String, FlushTarget)> = Vec::new();
        for (record, id) in batch.records.iter().zip(&ids) {
            let receives = record
                .attributes
                .get("ApproximateReceiveCount")
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            receipts.insert(id.clone(), (record.receipt_handle.clone(), receives));
            let body = record.body.as_deref().unwrap_or_default();
            let objects = match parse_body(body) {
                Ok(Notice::Objects(objects)) => objects,
                Ok(Notice::Nothing(why)) => {
                    tracing::info!(message = %id, why, "nothing to do");
                    continue;
                }
                Ok(Notice::Flush(target)) => {
                    flushes.push((id.clone(), target));
                    continue;
                }
                Err(e) => {
                    tracing::error!(message = %id, error = %e, "a message on the deploy queue cannot be read; it goes back to the queue (and to the dead-letter queue after maxReceiveCount)");
                    failed.push(id.clone());
                    continue;
                }
            };
            let pairs: Vec<(&str, &str)> = objects
                .iter()
                .map(|(b, k)| (b.as_str(), k.as_str()))
                .collect();
            let requests = match s3_requests(&pairs, id, &self.invalidator.config) {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(message = %id, error = %e, "a notification cannot be mapped to a distribution");
                    failed.push(id.clone());
                    continue;
                }
            };
            for request in requests {
                match self.distribution_id(&request, invocation).await {
                    Ok(dist) => {
                        owners.entry(dist.clone()).or_default().push(id.clone());
                        per_distribution
                            .entry(dist.clone())
                            .or_default()
                            .push(Message {
                                key: format!("{dist}#{id}"),
                                paths: request.paths.iter().map(|p| p.text.clone()).collect(),
                            });
                    }
                    Err(e) => {
                        tracing::error!(message = %id, error = %e, "the distribution of a notification cannot be resolved");
                        failed.push(id.clone());
                    }
                }
            }
        }
        for (dist, messages) in &per_distribution {
            match Box::pin(self.gather(dist, messages, invocation)).await {
                Ok(g) => {
                    tracing::info!(distribution = %dist, flush_id = %g.flush_id, appended = g.appended, already_taken = g.already_taken, "gathered")
                }
                Err(e) => {
                    tracing::error!(distribution = %dist, error = %e, "could not gather; the messages go back to the queue");
                    failed.extend(owners.get(dist).into_iter().flatten().cloned());
                }
            }
        }
        let flushing = Invocation::new(
            invocation.request_id.clone(),
            invocation.deadline.less(RETURN_RESERVE),
            invocation.clock(),
        );
        for (id, target) in &flushes {
            match Box::pin(self.flush(target, false, &flushing)).await {
                Ok(reports) => {
                    for r in reports {
                        tracing::info!(distribution = %r.distribution, flush_id = %r.flush_id, status = r.status, "flush trigger");
                    }
                }
                Err(e) => {
                    tracing::error!(message = %id, error = %e, "the flush failed; its trigger goes back to the queue");
                    failed.push(id.clone());
                }
            }
        }
        failed.sort();
        failed.dedup();
        for id in &failed {
            let (receipt, receives) = receipts.get(id).cloned().unwrap_or((None, 1));
            self.return_early(id, receipt.as_deref(), receives, invocation)
                .await;
        }
        let mut response = SqsBatchResponse::default();
        response.set_failures(failed);
        Ok(response)
    }

    /// Makes a failed message visible again in `TRIGGER_RETRY_SECONDS` times its receive
    /// count rather than after the queue's visibility timeout. If that call fails too, the
    /// message still comes back, only later: it is logged, never lost.
    async fn return_early(
        &self,
        id: &str,
        receipt: Option<&str>,
        receives: u32,
        invocation: &Invocation,
    ) {
        let seconds = TRIGGER_RETRY_SECONDS.saturating_mul(receives.max(1));
        let returned = match receipt {
            Some(r) => call(
                &self.invalidator.read_retry,
                invocation.deadline,
                "ChangeMessageVisibility",
                || self.trigger.return_in(r, seconds),
            )
            .await
            .map_err(|e| e.to_string()),
            None => Err("the record has no receiptHandle".to_string()),
        };
        match returned {
            Ok(()) => {
                tracing::warn!(message = %id, seconds, receives, "the message comes back soon (the dead-letter queue after maxReceiveCount)")
            }
            Err(why) => {
                tracing::error!(message = %id, why, "the message comes back after the queue's visibility timeout")
            }
        }
    }
}
