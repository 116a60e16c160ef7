//! CodePipeline jobs: the request from the job's `UserParameters` or from the manifest in
//! its input artifact ([`crate::manifest`]), the invalidation, and the job's result
//! reported to CodePipeline whatever happened (a job left unreported waits for its
//! timeout, an hour by default).

use std::time::Duration;

use groundcrew::retry::retry;
use groundcrew::{Deadline, Invocation};

use crate::aws::{CloudFront, FlushTrigger, Pipeline, SiteListing};
use crate::error::Error;
use crate::event::Request;
use crate::handler::Handler;
use crate::invalidate::{call, Outcome};
use crate::manifest::{
    read_manifest, request_from_manifest, ManifestJob, PipelineRequest, MAX_ARTIFACT_BYTES,
};
use crate::store::PendingStore;

/// Time kept back for reporting a CodePipeline job's result.
const REPORT_RESERVE: Duration = Duration::from_secs(3);

impl<C: CloudFront, S: SiteListing, P: Pipeline, D: PendingStore, T: FlushTrigger>
    Handler<C, S, P, D, T>
{
    /// Runs a job and reports its result; a failure reported to CodePipeline is still the
    /// invocation's error (`JobFailed`), so it is in the logs and metrics too.
    pub async fn job(
        &self,
        job_id: &str,
        request: Result<PipelineRequest, String>,
        invocation: &Invocation,
    ) -> Result<Outcome, Error> {
        let deadline = invocation.deadline;
        let work = deadline.less(REPORT_RESERVE);
        let result = match request {
            Err(message) => Err(Error::BadEvent(message)),
            Ok(PipelineRequest::Ready(request)) => Ok(request),
            Ok(PipelineRequest::Manifest(job)) => {
                Box::pin(self.manifest_request(&job, job_id, work)).await
            }
        };
        let result = match result {
            Ok(request) => {
                let outcome = Box::pin(self.invalidate(&request, work, invocation)).await;
                if let Ok(outcome) = &outcome {
                    self.count_billed(outcome, invocation).await;
                }
                outcome
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(outcome) => {
                self.report(job_id, None, deadline).await?;
                Ok(outcome)
            }
            Err(e) => {
                let message = e.to_string();
                self.report(job_id, Some(&message), deadline).await?;
                Err(Error::ReportedToPipeline(message))
            }
        }
    }

    /// The request in the job's manifest: the artifact read with the job's credentials.
    async fn manifest_request(
        &self,
        job: &ManifestJob,
        job_id: &str,
        deadline: Deadline,
    ) -> Result<Request, Error> {
        let zip = call(&self.invalidator.read_retry, deadline, "GetObject", || {
            self.pipeline
                .artifact(&job.artifact, &job.credentials, MAX_ARTIFACT_BYTES)
        })
        .await?;
        let manifest = read_manifest(&zip, &job.file).map_err(Error::BadEvent)?;
        tracing::info!(job = %job_id, file = %job.file, bucket = %job.artifact.bucket, key = %job.artifact.key, "read the manifest from the input artifact");
        request_from_manifest(job, manifest, job_id, &self.invalidator.config)
            .map_err(Error::BadEvent)
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
