//! The Lambda handler: an event in, invalidations out; CodePipeline jobs always get
//! their result reported.

use std::time::Duration;

use groundcrew::retry::retry;
use groundcrew::Deadline;
use serde_json::{json, Value};

use crate::aws::{CloudFront, Pipeline, SiteListing};
use crate::error::Error;
use crate::event::{parse, Parsed};
use crate::invalidate::Invalidator;

/// Time kept back for reporting a CodePipeline job's result.
const REPORT_RESERVE: Duration = Duration::from_secs(3);

pub struct Handler<C, S, P> {
    pub invalidator: Invalidator<C, S>,
    pub pipeline: P,
}

impl<C: CloudFront, S: SiteListing, P: Pipeline> Handler<C, S, P> {
    pub async fn handle(
        &self,
        event: &Value,
        request_id: &str,
        deadline: Deadline,
    ) -> Result<Value, Error> {
        match parse(event, request_id, &self.invalidator.config)? {
            Parsed::Single(request) => {
                let outcome = self.invalidator.run(&request, deadline).await?;
                Ok(json!(outcome))
            }
            Parsed::S3(requests) => {
                let mut results = Vec::with_capacity(requests.len());
                for request in &requests {
                    results.push(self.invalidator.run(request, deadline).await?);
                }
                Ok(json!({ "results": results }))
            }
            Parsed::CodePipeline { job_id, request } => {
                let work = deadline.less(REPORT_RESERVE);
                let result = match request {
                    Ok(request) => self.invalidator.run(&request, work).await,
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
