//! The Lambda handler: an event in, invalidations out. A deploy that arrives whole (direct
//! invoke, deploy event, CodePipeline job) is invalidated at once; S3 notifications are
//! gathered per distribution ([`crate::gather`]) and flushed as one invalidation when the
//! deploy is quiet ([`crate::flush`]). CodePipeline jobs always get their result reported.

use std::time::Duration;

use groundcrew::retry::retry;
use groundcrew::{Deadline, Invocation};
use serde_json::{json, Value};

use crate::aws::{CloudFront, FlushTrigger, Pipeline, SiteListing};
use crate::error::Error;
use crate::event::{parse, Parsed};
use crate::invalidate::{call, Invalidator};
use crate::store::PendingStore;

/// Time kept back for reporting a CodePipeline job's result.
const REPORT_RESERVE: Duration = Duration::from_secs(3);

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
    pub async fn handle(&self, event: &Value, invocation: &Invocation) -> Result<Value, Error> {
        let deadline = invocation.deadline;
        match parse(event, &invocation.request_id, &self.invalidator.config)? {
            Parsed::Single(request) => {
                let free = self.free_paths_left(invocation).await;
                let outcome = self.invalidator.run(&request, deadline, free).await?;
                Ok(json!(outcome))
            }
            Parsed::S3(requests) => {
                // Boxed: the SDK's futures are large, and nested ones would fill a thread's stack.
                let gathered = Box::pin(self.gather_requests(&requests, invocation)).await?;
                Ok(json!({ "gathered": gathered }))
            }
            Parsed::Sqs(batch) => {
                let response = Box::pin(self.handle_batch(&batch, invocation)).await?;
                Ok(json!(response))
            }
            Parsed::Flush(target) => {
                let flushed = Box::pin(self.flush(&target, true, invocation)).await?;
                Ok(json!({ "flushed": flushed }))
            }
            Parsed::CodePipeline { job_id, request } => {
                let work = deadline.less(REPORT_RESERVE);
                let result = match request {
                    Ok(request) => {
                        let free = self.free_paths_left(invocation).await;
                        self.invalidator.run(&request, work, free).await
                    }
                    Err(message) => Err(Error::BadEvent(message)),
                };
                match result {
                    Ok(outcome) => {
                        self.report(&job_id, None, deadline).await?;
                        Ok(
                            json!({ "codepipeline_job_id": job_id, "reported": "PutJobSuccessResult", "result": outcome }),
                        )
                    }
                    Err(e) => {
                        let message = e.to_string();
                        self.report(&job_id, Some(&message), deadline).await?;
                        Err(Error::ReportedToPipeline(message))
                    }
                }
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

    /// Reports the job's result, retried within the deadline. A job already settled
    /// (a retried invocation) counts as reported.
    async fn report(
        &self,
        job_id: &str,
        failure: Option<&str>,
        deadline: Deadline,
    ) -> Result<(), Error> {
        let policy = &self.invalidator.read_retry;
        let what = if failure.is_some() {
            "PutJobFailureResult"
        } else {
            "PutJobSuccessResult"
        };
        let attempt = retry(policy, deadline, what, || async {
            match failure {
                None => self.pipeline.succeed(job_id).await,
                Some(message) => self.pipeline.fail(job_id, message).await,
            }
        });
        match deadline.run(attempt).await {
            Ok(Ok(())) => {
                tracing::info!(job = %job_id, call = what, "reported the job's result to CodePipeline");
                Ok(())
            }
            Ok(Err(e)) if e.is("InvalidJobStateException") => {
                tracing::warn!(job = %job_id, error = %e, "the job was already settled");
                Ok(())
            }
            Ok(Err(e)) => Err(Error::PipelineReport(e.to_string())),
            Err(_) => Err(Error::PipelineReport(format!(
                "the deadline passed before {what}"
            ))),
        }
    }
}
