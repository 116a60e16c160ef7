//! Execution: resolve the distribution, plan, submit the batches idempotently within
//! CloudFront's limits and the deadline, and optionally wait for completion.
//!
//! This file resolves and plans; [`inventory`] reads the site's files, [`submit`] creates
//! the batches' invalidations and waits, [`call`] runs one AWS call within the deadline.

mod call;
mod inventory;
mod submit;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use groundcrew::retry::RetryPolicy;
use groundcrew::Deadline;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::aws::{CloudFront, DistributionInfo, SiteListing};
use crate::config::Config;
use crate::error::Error;
use crate::event::Request;
use crate::planner::{plan, plan_with_wildcards, Plan, PlanInput, PlanOptions};
use crate::price::{choose, Comparison, Pricing};

pub(crate) use call::call;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// The distribution as the event named it.
    pub distribution: String,
    pub distribution_id: String,
    pub deployment_id: String,
    /// `Completed`, `InProgress` or `NothingToInvalidate`.
    pub status: String,
    /// Whether the function waited for completion (and whether the deadline cut it short).
    pub waited: bool,
    pub wait_timed_out: bool,
    pub invalidation_ids: Vec<String>,
    pub caller_references: Vec<String>,
    /// Paths of each created invalidation, in the order of `caller_references`.
    pub batch_paths: Vec<usize>,
    pub batches: usize,
    pub paths_submitted: usize,
    pub paths_billed: usize,
    pub naive_paths: usize,
    pub immutable_dropped: usize,
    pub wildcards: Vec<String>,
    /// Where the site's file list came from: `event`, `bucket` or `none`.
    pub inventory: &'static str,
    /// With an inventory: unchanged files the wildcards also invalidate.
    pub collateral_files: Option<usize>,
    /// What the chosen paths cost past the month's free paths.
    pub estimated_cost_usd: f64,
    /// Every changed path at the path price (free paths not counted).
    pub naive_cost_usd: f64,
    /// The chosen plan against the exact list and `/*`: paths billed, cost, evictions.
    pub comparison: Comparison,
    /// The first planned paths (all when few).
    pub paths: Vec<String>,
}

/// The stable `CallerReference` of one batch: a retried event with the same deployment
/// id plans the same paths and gets the same reference, so CloudFront returns the
/// existing invalidation instead of billing a second one.
pub fn caller_reference(distribution_id: &str, deployment_id: &str, paths: &[String]) -> String {
    let mut h = Sha256::new();
    h.update(distribution_id.as_bytes());
    h.update(b"\n");
    h.update(deployment_id.as_bytes());
    for p in paths {
        h.update(b"\n");
        h.update(p.as_bytes());
    }
    format!("groundcrew-{}", &hex::encode(h.finalize())[..40])
}

/// A resolved distribution and the plan for it, not yet submitted.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub dist: DistributionInfo,
    pub plan: Plan,
    pub comparison: Comparison,
    /// Where the site's file list came from.
    pub inventory: &'static str,
}

impl Prepared {
    /// The same batches as `plan_with_wildcards(.., wildcards, ..)` gives a retry: the
    /// exact paths under none of them. Pricing figures stay as planned.
    pub fn with_wildcards(
        mut self,
        request: &Request,
        wildcards: &[String],
        options: &PlanOptions,
    ) -> Result<Self, Error> {
        let input = PlanInput {
            paths: request.paths.clone(),
            tags: request.tags.clone(),
            inventory: None,
        };
        let kept = plan_with_wildcards(&input, wildcards, options)?;
        self.plan.exact = kept.exact;
        self.plan.wildcards = kept.wildcards;
        self.plan.tags = kept.tags;
        Ok(self)
    }
}

pub struct Invalidator<C, S> {
    pub cloudfront: C,
    pub listing: S,
    pub config: Config,
    /// Retries of reads (resolution, listing, polling).
    pub read_retry: RetryPolicy,
    pub(crate) resolved: Mutex<HashMap<String, (Instant, DistributionInfo)>>,
}

impl<C: CloudFront, S: SiteListing> Invalidator<C, S> {
    pub fn new(cloudfront: C, listing: S, config: Config) -> Self {
        Self {
            cloudfront,
            listing,
            config,
            read_retry: RetryPolicy::default(),
            resolved: Mutex::new(HashMap::new()),
        }
    }

    /// The pricing of a request: the configured defaults, its overrides, the free paths.
    pub fn pricing(&self, request: &Request, free_paths_left: u64) -> Pricing {
        Pricing {
            price_per_path_usd: self.config.price_per_path_usd,
            free_paths_left,
            eviction_weight: request
                .overrides
                .eviction_weight
                .unwrap_or(self.config.eviction_weight),
            max_share: request
                .overrides
                .max_share
                .unwrap_or(self.config.plan.max_share),
        }
    }

    /// Plans and prices without calling CloudFront (tests, dry runs).
    pub fn plan_for(
        &self,
        request: &Request,
        inventory: Option<Vec<String>>,
        pricing: &Pricing,
    ) -> Result<(Plan, Comparison), Error> {
        let input = PlanInput {
            paths: request.paths.clone(),
            tags: request.tags.clone(),
            inventory,
        };
        let options = PlanOptions {
            max_share: pricing.max_share,
            ..self.config.plan.clone()
        };
        Ok(choose(plan(&input, &options)?, pricing))
    }

    /// Plans, prices and submits; `free_paths_left` is this month's free paths (a lower
    /// bound).
    pub async fn run(
        &self,
        request: &Request,
        deadline: Deadline,
        free_paths_left: u64,
    ) -> Result<Outcome, Error> {
        let prepared = self.prepare(request, deadline, free_paths_left).await?;
        self.submit(request, prepared, deadline).await
    }

    /// The distribution, checked against the allowed ones.
    async fn allowed(
        &self,
        request: &Request,
        deadline: Deadline,
    ) -> Result<DistributionInfo, Error> {
        let dist = self.resolve(&request.distribution, deadline).await?;
        if !self.config.distributions.is_empty() && !self.config.distributions.contains(&dist.id) {
            return Err(Error::NotAllowed(dist.id));
        }
        Ok(dist)
    }

    /// Resolves and plans. The bucket is listed only when a wildcard could be worth it:
    /// when even the whole changed list is free, the exact list is the plan.
    pub async fn prepare(
        &self,
        request: &Request,
        deadline: Deadline,
        free_paths_left: u64,
    ) -> Result<Prepared, Error> {
        let dist = self.allowed(request, deadline).await?;
        let pricing = self.pricing(request, free_paths_left);
        let naive = (request.paths.len() + request.tags.len()) as u64;
        let (inventory, inventory_source) = if naive <= free_paths_left {
            (None, "not needed")
        } else {
            self.inventory(request, &dist, deadline).await?
        };
        let (plan, comparison) = self.plan_for(request, inventory, &pricing)?;
        Ok(Prepared {
            dist,
            plan,
            comparison,
            inventory: inventory_source,
        })
    }

    /// The plan of an earlier attempt, rebuilt from the wildcards it chose (see
    /// [`plan_with_wildcards`]); the bucket is not listed.
    pub async fn prepare_kept(
        &self,
        request: &Request,
        wildcards: &[String],
        deadline: Deadline,
        free_paths_left: u64,
    ) -> Result<Prepared, Error> {
        let dist = self.allowed(request, deadline).await?;
        let input = PlanInput {
            paths: request.paths.clone(),
            tags: request.tags.clone(),
            inventory: None,
        };
        let plan = plan_with_wildcards(&input, wildcards, &self.config.plan)?;
        let (plan, comparison) = choose(plan, &self.pricing(request, free_paths_left));
        Ok(Prepared {
            dist,
            plan,
            comparison,
            inventory: "kept plan",
        })
    }
}

#[cfg(test)]
mod tests;
