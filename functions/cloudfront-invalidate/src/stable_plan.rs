//! Stable plans: a retried invalidation submits the batches of its first attempt.
//!
//! A plan depends on more than the changed paths: on the month's free paths left (every
//! invalidation the function creates lowers them) and on the site bucket's listing. A
//! retry that planned again could therefore send other paths under the same
//! `CallerReference` (CloudFront refuses: `InvalidationBatchAlreadyExists`) or other
//! batches under new references (billed twice). So the first attempt keeps the wildcards
//! its plan chose in the pending store before it submits anything, and every later attempt
//! rebuilds the batches from them alone: the wildcards, then every changed path under none
//! of them. Without a pending table there is nowhere to keep them, and a retry plans again.

use groundcrew::{Deadline, Invocation};

use crate::aws::{CloudFront, FlushTrigger, Pipeline, SiteListing};
use crate::error::Error;
use crate::event::Request;
use crate::handler::Handler;
use crate::invalidate::{call, Outcome};
use crate::store::PendingStore;

/// The key a request's plan is kept under: a flush's id, else its distribution (as the
/// event named it) and deployment id, the two things a retried event repeats.
pub fn plan_key(request: &Request) -> String {
    match &request.caller_reference {
        Some(reference) => reference.clone(),
        None => format!("{}#{}", request.distribution, request.deployment_id),
    }
}

impl<C: CloudFront, S: SiteListing, P: Pipeline, D: PendingStore, T: FlushTrigger>
    Handler<C, S, P, D, T>
{
    /// Plans (or takes the kept plan), keeps it, and submits it, within `deadline`.
    pub async fn invalidate(
        &self,
        request: &Request,
        deadline: Deadline,
        invocation: &Invocation,
    ) -> Result<Outcome, Error> {
        let invalidator = &self.invalidator;
        let free = self.free_paths_left(invocation).await;
        if invalidator.config.pending_table.is_none() {
            return Box::pin(invalidator.run(request, deadline, free)).await;
        }
        let key = plan_key(request);
        let policy = &invalidator.read_retry;
        let kept = call(policy, deadline, "GetItem", || self.store.kept_plan(&key)).await?;
        let prepared = match kept {
            Some(wildcards) => {
                tracing::info!(key = %key, ?wildcards, "a retry: the plan kept by the first attempt");
                invalidator
                    .prepare_kept(request, &wildcards, deadline, free)
                    .await?
            }
            None => {
                let prepared = Box::pin(invalidator.prepare(request, deadline, free)).await?;
                let wildcards = prepared.plan.wildcards.clone();
                let now = invocation.now().timestamp();
                let ours = call(policy, deadline, "PutItem", || {
                    self.store.keep_plan(&key, &wildcards, now)
                })
                .await?;
                let wildcards = if ours {
                    wildcards
                } else {
                    // Another attempt kept its plan first (or this one's answer was lost
                    // and the retry met its own write): that plan is the one.
                    call(policy, deadline, "GetItem", || self.store.kept_plan(&key))
                        .await?
                        .unwrap_or(wildcards)
                };
                prepared.with_wildcards(request, &wildcards, &invalidator.config.plan)?
            }
        };
        Box::pin(invalidator.submit(request, prepared, deadline)).await
    }
}
