//! The Lambda handler: an event in, invalidations out. A deploy that arrives whole (direct
//! invoke, deploy event, CodePipeline job) is invalidated at once; S3 notifications are
//! gathered per distribution ([`crate::gather`]) and flushed as one invalidation when the
//! deploy is quiet ([`crate::flush`]). CodePipeline jobs always get their result reported.

use aws_lambda_events::event::sqs::SqsBatchResponse;
use groundcrew::Invocation;
use serde::Serialize;
use serde_json::Value;

use crate::aws::{CloudFront, FlushTrigger, Pipeline, SiteListing};
use crate::error::Error;
use crate::event::{parse, Parsed};
use crate::flush::FlushReport;
use crate::gather::Gathered;
use crate::invalidate::{call, Invalidator, Outcome};
use crate::store::PendingStore;

/// What an invocation did: its answer to Lambda (and to the deploy queue's poller).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Report {
    /// A direct invoke or a deploy event: the invalidation.
    Invalidated(Box<Outcome>),
    /// S3 notifications invoked directly: what joined which pending deploy.
    Gathered { gathered: Vec<Gathered> },
    /// A deploy-queue batch: the messages that go back to the queue.
    Batch(SqsBatchResponse),
    /// A direct flush.
    Flushed { flushed: Vec<FlushReport> },
    /// A CodePipeline job, reported as succeeded.
    Job {
        codepipeline_job_id: String,
        reported: &'static str,
        result: Box<Outcome>,
    },
}

pub struct Handler<C, S, P, D, T> {
    pub invalidator: Invalidator<C, S>,
    pub pipeline: P,
    /// Pending deploys (S3 notifications gathered until quiet).
    pub store: D,
    /// Sends the delayed flush trigger through the deploy queue.
    pub trigger: T,
}

impl<C: CloudFront, S: SiteListing, P: Pipeline, D: PendingStore, T: FlushTrigger>
    Handler<C, S, P, D, T>
{
    pub async fn handle(&self, event: &Value, invocation: &Invocation) -> Result<Report, Error> {
        let deadline = invocation.deadline;
        match parse(event, &invocation.request_id, &self.invalidator.config)? {
            Parsed::Single(request) => {
                let outcome = Box::pin(self.invalidate(&request, deadline, invocation)).await?;
                self.count_billed(&outcome, invocation).await;
                Ok(Report::Invalidated(Box::new(outcome)))
            }
            Parsed::S3(requests) => {
                // Boxed: the SDK's futures are large, and nested ones would fill a thread's stack.
                let gathered = Box::pin(self.gather_requests(&requests, invocation)).await?;
                Ok(Report::Gathered { gathered })
            }
            Parsed::Sqs(batch) => {
                let response = Box::pin(self.handle_batch(&batch, invocation)).await?;
                Ok(Report::Batch(response))
            }
            Parsed::Flush(target) => {
                let flushed = Box::pin(self.flush(&target, true, invocation)).await?;
                Ok(Report::Flushed { flushed })
            }
            Parsed::CodePipeline { job_id, request } => {
                let result = Box::pin(self.job(&job_id, request, invocation)).await?;
                Ok(Report::Job {
                    codepipeline_job_id: job_id,
                    reported: "PutJobSuccessResult",
                    result: Box::new(result),
                })
            }
        }
    }

    /// This month's free invalidation paths left: the 1,000 a month, less what this
    /// function's flushes billed (the counter in the pending table) and what the
    /// configuration says other tools use. Unknown counts as none left.
    pub async fn free_paths_left(&self, invocation: &Invocation) -> u64 {
        let config = &self.invalidator.config;
        let allowance = config
            .free_paths_per_month
            .saturating_sub(config.paths_used_elsewhere);
        if config.pending_table.is_none() {
            return allowance;
        }
        let month = invocation.now().format("%Y-%m").to_string();
        let used = call(
            &self.invalidator.read_retry,
            invocation.deadline,
            "GetItem",
            || self.store.usage(&month),
        )
        .await;
        match used {
            Ok(used) => allowance.saturating_sub(used),
            Err(e) => {
                tracing::warn!(error = %e, "the month's billed paths cannot be read; planning as if no free path were left");
                0
            }
        }
    }

    /// Adds the paths of an invalidation created outside a flush to the month's counter,
    /// once per `CallerReference` (a retried event is neither billed nor counted twice).
    /// A counter that cannot be written is logged, not failed: the invalidation exists,
    /// and the counter is a lower bound anyway.
    pub(crate) async fn count_billed(&self, outcome: &Outcome, invocation: &Invocation) {
        if self.invalidator.config.pending_table.is_none() || outcome.paths_submitted == 0 {
            return;
        }
        let month = invocation.now().format("%Y-%m").to_string();
        for (reference, paths) in outcome.caller_references.iter().zip(&outcome.batch_paths) {
            let counted = call(
                &self.invalidator.read_retry,
                invocation.deadline,
                "TransactWriteItems",
                || self.store.count_billed(reference, &month, *paths as u64),
            )
            .await;
            if let Err(e) = counted {
                tracing::warn!(error = %e, reference = %reference, paths, "the month's counter of billed paths was not updated; it undercounts");
            }
        }
    }
}
