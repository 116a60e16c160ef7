//! Submitting a plan: its batches' invalidations with stable `CallerReference`s, within
//! CloudFront's in-progress limits and the deadline, then optionally waiting for them.

use groundcrew::Deadline;

use super::{call, caller_reference, Invalidator, Outcome, Prepared};
use crate::aws::{CloudFront, InvalidationInfo, SiteListing};
use crate::error::{Error, Fault, Incomplete};
use crate::event::Request;
use crate::price::round_usd;

/// CloudFront's answer when a distribution's in-progress limits are full.
const BUSY: &str = "TooManyInvalidationsInProgress";

/// Planned paths shown in the output (all are counted).
const SHOWN_PATHS: usize = 100;

impl<C: CloudFront, S: SiteListing> Invalidator<C, S> {
    /// Submits a prepared plan's batches and optionally waits for them.
    pub async fn submit(
        &self,
        request: &Request,
        prepared: Prepared,
        deadline: Deadline,
    ) -> Result<Outcome, Error> {
        let Prepared {
            dist,
            plan,
            comparison,
            inventory: inventory_source,
        } = prepared;
        let price = self.config.price_per_path_usd;
        let all_paths: Vec<String> = plan
            .wildcards
            .iter()
            .chain(&plan.tags)
            .chain(&plan.exact)
            .cloned()
            .collect();
        let mut outcome = Outcome {
            distribution: request.distribution.clone(),
            distribution_id: dist.id.clone(),
            deployment_id: request.deployment_id.clone(),
            status: "NothingToInvalidate".to_string(),
            waited: false,
            wait_timed_out: false,
            invalidation_ids: Vec::new(),
            caller_references: Vec::new(),
            batch_paths: Vec::new(),
            batches: 0,
            paths_submitted: 0,
            paths_billed: plan.billed(),
            naive_paths: plan.naive_paths,
            immutable_dropped: plan.immutable_dropped,
            wildcards: plan.wildcards.clone(),
            inventory: inventory_source,
            collateral_files: plan.collateral_files,
            estimated_cost_usd: comparison.chosen.cost_usd,
            naive_cost_usd: round_usd(plan.naive_paths as f64 * price),
            comparison,
            paths: all_paths.iter().take(SHOWN_PATHS).cloned().collect(),
        };
        if plan.is_empty() {
            tracing::info!(distribution = %dist.id, dropped = plan.immutable_dropped, "nothing to invalidate");
            return Ok(outcome);
        }
        let batches = plan.batches(&self.config.plan);
        outcome.batches = batches.len();
        let mut created: Vec<InvalidationInfo> = Vec::new();
        for (i, batch) in batches.iter().enumerate() {
            let reference = match &request.caller_reference {
                Some(id) if i == 0 => id.clone(),
                Some(id) => format!("{id}-{}", i + 1),
                None => caller_reference(&dist.id, &request.deployment_id, batch),
            };
            let result =
                Box::pin(self.create(&dist.id, batch, &reference, &mut created, deadline)).await;
            match result {
                Ok(inv) => {
                    tracing::info!(distribution = %dist.id, invalidation = %inv.id, paths = batch.len(), batch = i + 1, of = batches.len(), "invalidation created");
                    outcome.paths_submitted += batch.len();
                    outcome.caller_references.push(reference);
                    outcome.batch_paths.push(batch.len());
                    created.push(inv);
                }
                Err(Error::Aws(e)) if i == 0 && e.is("NoSuchDistribution") => {
                    return Err(Error::UnknownDistribution(dist.id.clone()));
                }
                Err(e) => {
                    let rest = &batches[i..];
                    return Err(Error::Incomplete(Box::new(Incomplete {
                        distribution: dist.id.clone(),
                        submitted: i,
                        total: batches.len(),
                        ids: if created.is_empty() {
                            "none".to_string()
                        } else {
                            created
                                .iter()
                                .map(|c| c.id.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        },
                        remaining: rest.len(),
                        remaining_paths: rest.iter().map(Vec::len).sum(),
                        first: rest[0]
                            .iter()
                            .take(3)
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(" "),
                        cause: e.to_string(),
                    })));
                }
            }
        }
        outcome.invalidation_ids = created.iter().map(|c| c.id.clone()).collect();
        if request.wait {
            outcome.waited = true;
            outcome.wait_timed_out = !self.wait(&dist.id, &mut created, deadline).await?;
        }
        let done = created
            .iter()
            .all(|c| c.status.eq_ignore_ascii_case("completed"));
        outcome.status = if done { "Completed" } else { "InProgress" }.to_string();
        Ok(outcome)
    }

    /// Creates one batch's invalidation. A later batch refused for CloudFront's in-progress
    /// limits is usually held back by this deploy's own earlier batches (a plan of more
    /// than 3,000 files fills the limit): rather than back off blindly, it waits for those
    /// to complete and is submitted the moment they have.
    async fn create(
        &self,
        distribution_id: &str,
        batch: &[String],
        reference: &str,
        earlier: &mut [InvalidationInfo],
        deadline: Deadline,
    ) -> Result<InvalidationInfo, Error> {
        let submit = |busy_stops: bool| {
            call(
                &self.config.submit_retry,
                deadline,
                "CreateInvalidation",
                move || async move {
                    let result = self
                        .cloudfront
                        .create_invalidation(distribution_id, batch, reference)
                        .await;
                    match result {
                        // Not retried here: waiting for the earlier batches is the better wait.
                        Err(e) if busy_stops && e.is(BUSY) => Err(e.with_fault(Fault::Permanent)),
                        other => other,
                    }
                },
            )
        };
        let pending = earlier
            .iter()
            .any(|c| !c.status.eq_ignore_ascii_case("completed"));
        if !pending {
            return submit(false).await;
        }
        match submit(true).await {
            Err(Error::Aws(e)) if e.is(BUSY) => {
                tracing::info!(distribution = %distribution_id, reference, "CloudFront's in-progress limits are full; waiting for this deploy's earlier batches");
                if self.wait(distribution_id, earlier, deadline).await? {
                    submit(false).await
                } else {
                    Err(Error::Aws(e))
                }
            }
            other => other,
        }
    }

    /// Polls until every invalidation is `Completed` (true) or the deadline comes (false).
    async fn wait(
        &self,
        distribution_id: &str,
        created: &mut [InvalidationInfo],
        deadline: Deadline,
    ) -> Result<bool, Error> {
        loop {
            for inv in created
                .iter_mut()
                .filter(|c| !c.status.eq_ignore_ascii_case("completed"))
            {
                match call(&self.read_retry, deadline, "GetInvalidation", || {
                    self.cloudfront.get_invalidation(distribution_id, &inv.id)
                })
                .await
                {
                    Ok(now) => inv.status = now.status,
                    Err(Error::Deadline(_)) => return Ok(false),
                    Err(e) => return Err(e),
                }
            }
            if created
                .iter()
                .all(|c| c.status.eq_ignore_ascii_case("completed"))
            {
                return Ok(true);
            }
            if !deadline.allows(self.config.wait_poll) {
                return Ok(false);
            }
            tokio::time::sleep(self.config.wait_poll).await;
        }
    }
}
