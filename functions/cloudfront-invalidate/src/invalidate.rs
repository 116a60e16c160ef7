//! Execution: resolve the distribution, plan, submit the batches idempotently within
//! CloudFront's limits and the deadline, and optionally wait for completion.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Instant;

use groundcrew::retry::{retry, RetryPolicy};
use groundcrew::Deadline;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::aws::{CloudFront, DistributionInfo, InvalidationInfo, SiteListing};
use crate::config::Config;
use crate::error::{AwsError, Error, Fault, Incomplete};
use crate::event::Request;
use crate::paths::{index_directory, key_to_path, normalize, Encoding};
use crate::planner::{plan, plan_with_wildcards, Plan, PlanInput, PlanOptions};
use crate::price::{choose, round_usd, Comparison, Pricing};

/// CloudFront's answer when a distribution's in-progress limits are full.
const BUSY: &str = "TooManyInvalidationsInProgress";

/// Planned paths shown in the output (all are counted).
const SHOWN_PATHS: usize = 100;

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

/// Runs one AWS call with retries, never past the deadline.
pub(crate) async fn call<T, F, Fut>(
    policy: &RetryPolicy,
    deadline: Deadline,
    what: &'static str,
    op: F,
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    // When the deadline cuts an attempt short, the error still says what the service
    // last answered (for example TooManyInvalidationsInProgress), not only "deadline".
    let last_error: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
    let mut op = op;
    let attempt = || {
        // Boxed: SDK futures are large, and nested in the handler's they would fill the
        // stack of a thread (debug builds especially).
        let pending = Box::pin(op());
        let last_error = &last_error;
        async move {
            let result = pending.await;
            if let (Err(e), Ok(mut slot)) = (&result, last_error.lock()) {
                *slot = Some(e.to_string());
            }
            result
        }
    };
    match Box::pin(deadline.run(retry(policy, deadline, what, attempt))).await {
        Ok(result) => result.map_err(Error::from),
        Err(_) => {
            let last = last_error.lock().ok().and_then(|slot| slot.clone());
            Err(Error::Deadline(match last {
                Some(e) => format!("calling {what} (last error: {e})"),
                None => format!("calling {what}"),
            }))
        }
    }
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

    /// The site's files: from the event, else from a mapped site bucket's listing.
    async fn inventory(
        &self,
        request: &Request,
        dist: &DistributionInfo,
        deadline: Deadline,
    ) -> Result<(Option<Vec<String>>, &'static str), Error> {
        if let Some(site) = &request.site_paths {
            return Ok((Some(site.clone()), "event"));
        }
        if !self.config.bucket_inventory {
            return Ok((None, "none"));
        }
        let serves = |selector: &str| {
            selector == request.distribution
                || selector == dist.id
                || dist
                    .aliases
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(selector))
        };
        let Some(site) = self
            .config
            .site_buckets
            .iter()
            .find(|b| serves(&b.distribution))
        else {
            return Ok((None, "none"));
        };
        let max = self.config.inventory_max_keys;
        let keys = call(&self.read_retry, deadline, "ListObjectsV2", || {
            self.listing.keys(&site.bucket, &site.prefix, max)
        })
        .await?;
        let Some(keys) = keys else {
            tracing::warn!(bucket = %site.bucket, max, "the site bucket holds too many objects to use as inventory");
            return Ok((None, "none"));
        };
        let mut files = Vec::with_capacity(keys.len());
        for key in &keys {
            let Some(rel) = key_to_path(key, &site.prefix) else {
                continue;
            };
            if rel.is_empty() || rel.ends_with('/') {
                continue;
            }
            if let Ok(p) = normalize(rel, Encoding::Raw) {
                if let Some(dir) = index_directory(&p, &self.config.index_document) {
                    files.push(dir.text);
                }
                files.push(p.text);
            }
        }
        Ok((Some(files), "bucket"))
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[derive(Default)]
    struct FakeCf {
        dists: Vec<DistributionInfo>,
        tags: HashMap<String, Vec<(String, String)>>,
        created: Mutex<Vec<(String, Vec<String>, String)>>,
        busy_answers: AtomicUsize,
        create_limit: Option<usize>,
        /// The limit counts in-progress invalidations only: polled `Completed` frees room.
        frees_on_completion: bool,
        completed: std::sync::atomic::AtomicBool,
        polls: AtomicUsize,
    }

    impl CloudFront for FakeCf {
        async fn list_distributions(&self) -> Result<Vec<DistributionInfo>, AwsError> {
            Ok(self.dists.clone())
        }
        async fn get_distribution(&self, id: &str) -> Result<Option<DistributionInfo>, AwsError> {
            Ok(self.dists.iter().find(|d| d.id == id).cloned())
        }
        async fn tags(&self, arn: &str) -> Result<Vec<(String, String)>, AwsError> {
            Ok(self.tags.get(arn).cloned().unwrap_or_default())
        }
        async fn create_invalidation(
            &self,
            id: &str,
            paths: &[String],
            reference: &str,
        ) -> Result<InvalidationInfo, AwsError> {
            if self.busy_answers.load(Ordering::SeqCst) > 0 {
                self.busy_answers.fetch_sub(1, Ordering::SeqCst);
                return Err(AwsError::new(
                    "CreateInvalidation",
                    "TooManyInvalidationsInProgress: busy",
                )
                .with_code("TooManyInvalidationsInProgress"));
            }
            let mut created = self.created.lock().unwrap();
            let freed = self.frees_on_completion && self.completed.load(Ordering::SeqCst);
            if !freed
                && self
                    .create_limit
                    .is_some_and(|limit| created.len() >= limit)
            {
                return Err(AwsError::new(
                    "CreateInvalidation",
                    "TooManyInvalidationsInProgress: busy",
                )
                .with_code("TooManyInvalidationsInProgress"));
            }
            // CloudFront's idempotency: the same reference returns the same invalidation.
            if let Some(n) = created.iter().position(|(_, _, r)| r == reference) {
                return Ok(InvalidationInfo {
                    id: format!("I{n}"),
                    status: "InProgress".into(),
                });
            }
            created.push((id.to_string(), paths.to_vec(), reference.to_string()));
            Ok(InvalidationInfo {
                id: format!("I{}", created.len() - 1),
                status: "InProgress".into(),
            })
        }
        async fn get_invalidation(&self, _: &str, id: &str) -> Result<InvalidationInfo, AwsError> {
            let n = self.polls.fetch_add(1, Ordering::SeqCst);
            if n >= 2 {
                self.completed.store(true, Ordering::SeqCst);
            }
            Ok(InvalidationInfo {
                id: id.into(),
                status: if n >= 2 { "Completed" } else { "InProgress" }.into(),
            })
        }
    }

    struct NoListing;
    impl SiteListing for NoListing {
        async fn keys(&self, _: &str, _: &str, _: usize) -> Result<Option<Vec<String>>, AwsError> {
            Ok(Some(vec![
                "index.html".into(),
                "blog/a.html".into(),
                "blog/b.html".into(),
                "about.html".into(),
            ]))
        }
    }

    fn dist(id: &str, aliases: &[&str]) -> DistributionInfo {
        DistributionInfo {
            id: id.into(),
            arn: format!("arn:aws:cloudfront::123456789012:distribution/{id}"),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn invalidator(config: Config) -> Invalidator<FakeCf, NoListing> {
        let mut cf = FakeCf {
            dists: vec![
                dist("EAAAAAAAAAAAA", &["app.example.com"]),
                dist("EBBBBBBBBBBBB", &["*.example.org"]),
            ],
            ..FakeCf::default()
        };
        cf.tags.insert(
            cf.dists[1].arn.clone(),
            vec![("site".into(), "docs".into())],
        );
        let mut inv = Invalidator::new(cf, NoListing, config);
        inv.read_retry = RetryPolicy {
            min_delay: Duration::from_millis(1),
            ..RetryPolicy::default()
        };
        inv.config.submit_retry = RetryPolicy {
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            ..inv.config.submit_retry
        };
        inv.config.wait_poll = Duration::from_millis(10);
        inv
    }

    fn request(dist: &str, paths: &[&str]) -> Request {
        Request {
            distribution: dist.into(),
            paths: paths
                .iter()
                .map(|p| normalize(p, Encoding::Url).unwrap())
                .collect(),
            tags: vec![],
            deployment_id: "deploy-1".into(),
            wait: false,
            site_paths: None,
            caller_reference: None,
            overrides: Default::default(),
        }
    }

    fn deadline() -> Deadline {
        Deadline::after(Duration::from_secs(30))
    }

    #[tokio::test]
    async fn resolves_by_id_alias_wildcard_alias_and_tag() {
        let inv = invalidator(Config::default());
        assert_eq!(
            inv.resolve("EAAAAAAAAAAAA", deadline()).await.unwrap().id,
            "EAAAAAAAAAAAA"
        );
        assert_eq!(
            inv.resolve("APP.example.com", deadline()).await.unwrap().id,
            "EAAAAAAAAAAAA"
        );
        assert_eq!(
            inv.resolve("docs.example.org", deadline())
                .await
                .unwrap()
                .id,
            "EBBBBBBBBBBBB"
        );
        assert_eq!(
            inv.resolve("tag:site=docs", deadline()).await.unwrap().id,
            "EBBBBBBBBBBBB"
        );
        assert!(matches!(
            inv.resolve("a.b.example.org", deadline()).await,
            Err(Error::UnknownDistribution(_))
        ));
        assert!(matches!(
            inv.resolve("EZZZZZZZZZZZZ", deadline()).await,
            Err(Error::UnknownDistribution(_))
        ));
        assert!(matches!(
            inv.resolve("tag:site", deadline()).await,
            Err(Error::BadEvent(_))
        ));
        let only_a = invalidator(Config {
            distributions: vec!["EAAAAAAAAAAAA".into()],
            ..Config::default()
        });
        assert!(matches!(
            only_a.resolve("EBBBBBBBBBBBB", deadline()).await,
            Err(Error::NotAllowed(_))
        ));
        assert!(matches!(
            only_a.resolve("docs.example.org", deadline()).await,
            Err(Error::UnknownDistribution(_))
        ));
    }

    #[tokio::test]
    async fn a_retried_event_reuses_the_invalidation() {
        let inv = invalidator(Config::default());
        let req = request(
            "app.example.com",
            &["/index.html", "/about.html", "/_next/static/x.js"],
        );
        let first = inv.run(&req, deadline(), 0).await.unwrap();
        let second = inv.run(&req, deadline(), 0).await.unwrap();
        assert_eq!(first.invalidation_ids, second.invalidation_ids);
        assert_eq!(first.caller_references, second.caller_references);
        assert_eq!(inv.cloudfront.created.lock().unwrap().len(), 1);
        assert_eq!(first.paths_billed, 2);
        assert_eq!(first.naive_paths, 3);
        assert_eq!(first.immutable_dropped, 1);
        // A different deployment is a different invalidation.
        let other = Request {
            deployment_id: "deploy-2".into(),
            ..req
        };
        let third = inv.run(&other, deadline(), 0).await.unwrap();
        assert_ne!(third.caller_references, first.caller_references);
    }

    #[tokio::test]
    async fn bucket_inventory_allows_a_whole_directory_wildcard() {
        let config = Config {
            site_buckets: vec![crate::config::SiteBucket {
                bucket: "b".into(),
                prefix: String::new(),
                distribution: "app.example.com".into(),
            }],
            plan: crate::planner::PlanOptions {
                max_share: 0.0,
                ..Default::default()
            },
            ..Config::default()
        };
        let inv = invalidator(config);
        let out = inv
            .run(
                &request("EAAAAAAAAAAAA", &["/blog/a.html", "/blog/b.html"]),
                deadline(),
                0,
            )
            .await
            .unwrap();
        assert_eq!(out.inventory, "bucket");
        assert_eq!(out.wildcards, vec!["/blog/*"]);
        assert_eq!(out.paths_billed, 1);
        assert_eq!(out.collateral_files, Some(0));
    }

    #[tokio::test]
    async fn busy_distributions_are_waited_out_and_completion_awaited() {
        let inv = invalidator(Config::default());
        inv.cloudfront.busy_answers.store(2, Ordering::SeqCst);
        let req = Request {
            wait: true,
            ..request("app.example.com", &["/a.html"])
        };
        let out = inv.run(&req, deadline(), 0).await.unwrap();
        assert_eq!(out.status, "Completed");
        assert!(out.waited && !out.wait_timed_out);
        assert_eq!(inv.cloudfront.polls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn batches_that_cannot_be_submitted_are_named() {
        let mut config = Config::default();
        config.plan.max_paths_per_batch = 2;
        config.plan.max_wildcards = 0;
        let mut inv = invalidator(config);
        inv.config.submit_retry.max_attempts = 2;
        // The first batch goes through, then CloudFront stays busy.
        inv.cloudfront.create_limit = Some(1);
        let req = request("app.example.com", &["/a", "/b", "/c", "/d", "/e"]);
        let err = inv.run(&req, deadline(), 0).await.unwrap_err().to_string();
        assert!(err.contains("submitted 1 of 3"), "{err}");
        assert!(
            err.contains("(I0); 2 remain (3 paths, first /c /d)"),
            "{err}"
        );
        assert!(err.contains("TooManyInvalidationsInProgress"), "{err}");
    }

    #[tokio::test]
    async fn a_later_batch_waits_for_the_earlier_ones_to_complete() {
        let mut config = Config::default();
        config.plan.max_paths_per_batch = 2;
        config.plan.max_wildcards = 0;
        let mut inv = invalidator(config);
        // One attempt each: without waiting for the first batch, the second one fails.
        inv.config.submit_retry.max_attempts = 1;
        inv.cloudfront.create_limit = Some(1);
        inv.cloudfront.frees_on_completion = true;
        let req = request("app.example.com", &["/a", "/b", "/c"]);
        let out = inv.run(&req, deadline(), 0).await.unwrap();
        assert_eq!(out.batches, 2);
        assert_eq!(out.invalidation_ids, vec!["I0", "I1"]);
        assert_eq!(inv.cloudfront.polls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn nothing_to_invalidate_when_only_immutable_assets_changed() {
        let inv = invalidator(Config::default());
        let out = inv
            .run(
                &request("app.example.com", &["/_next/static/a.js"]),
                deadline(),
                0,
            )
            .await
            .unwrap();
        assert_eq!(out.status, "NothingToInvalidate");
        assert!(inv.cloudfront.created.lock().unwrap().is_empty());
    }

    #[test]
    fn caller_references_are_stable_and_distinct() {
        let a = caller_reference("E1", "d1", &["/a".into()]);
        assert_eq!(a, caller_reference("E1", "d1", &["/a".into()]));
        assert_ne!(a, caller_reference("E2", "d1", &["/a".into()]));
        assert_ne!(a, caller_reference("E1", "d2", &["/a".into()]));
        assert_ne!(a, caller_reference("E1", "d1", &["/b".into()]));
        assert!(a.len() <= 128);
    }
}
