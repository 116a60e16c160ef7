//! Settings, read once from the environment.

use std::time::Duration;

use groundcrew::config::{ConfigError, Env, EnvSource};
use groundcrew::retry::RetryPolicy;

use crate::paths::normalize_prefix;
use crate::planner::{PlanOptions, CLOUDFRONT_MAX_FILE_PATHS, CLOUDFRONT_MAX_WILDCARDS};

/// A static-site bucket (optionally a prefix in it, the origin path) served by a distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteBucket {
    pub bucket: String,
    pub prefix: String,
    /// The distribution, as any selector (id, alias or `tag:Key=Value`).
    pub distribution: String,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Distribution ids this function may invalidate; empty means any in the account.
    pub distributions: Vec<String>,
    pub plan: PlanOptions,
    /// `index.html`: `/dir/index.html` also invalidates `/dir/`. Empty: off.
    pub index_document: String,
    pub site_buckets: Vec<SiteBucket>,
    /// List a mapped site bucket to learn the site's files (enables the share rule).
    pub bucket_inventory: bool,
    /// Listings larger than this are not used (blind planning instead).
    pub inventory_max_keys: usize,
    pub price_per_path_usd: f64,
    pub deploy_source: String,
    pub deploy_detail_type: String,
    pub wait_default: bool,
    pub wait_poll: Duration,
    /// Retries of `CreateInvalidation` (TooManyInvalidationsInProgress, Throttling).
    pub submit_retry: RetryPolicy,
    /// The DynamoDB table holding pending deploys (S3 notifications gathered per
    /// distribution); `None` refuses S3 notifications with an error naming the variable.
    pub pending_table: Option<String>,
    /// The SQS queue the S3 notifications arrive on; flush triggers are sent to it with a
    /// delay (at most 15 minutes a hop).
    pub flush_queue_url: Option<String>,
    /// A deploy is flushed once it has been quiet this long...
    pub quiet: Duration,
    /// ...or once its first change is this old.
    pub max_wait: Duration,
    /// Dollars charged, in planning, per unchanged object a wildcard evicts.
    pub eviction_weight: f64,
    /// CloudFront's free invalidation paths a month (per account).
    pub free_paths_per_month: u64,
    /// Of those, paths other tools use each month (the function counts only its own).
    pub paths_used_elsewhere: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            distributions: Vec::new(),
            plan: PlanOptions::default(),
            index_document: "index.html".to_string(),
            site_buckets: Vec::new(),
            bucket_inventory: true,
            inventory_max_keys: 200_000,
            price_per_path_usd: 0.005,
            deploy_source: "groundcrew.deploy".to_string(),
            deploy_detail_type: "Deploy Completed".to_string(),
            wait_default: false,
            wait_poll: Duration::from_secs(10),
            submit_retry: RetryPolicy {
                max_attempts: 8,
                min_delay: Duration::from_secs(2),
                max_delay: Duration::from_secs(30),
                max_retry_after: Duration::from_secs(60),
            },
            pending_table: None,
            flush_queue_url: None,
            quiet: Duration::from_secs(60),
            max_wait: Duration::from_secs(300),
            // An evicted object costs an origin fetch, not a billed path: 50 of them weigh
            // as much as one path at $0.005 (an assumption; set per deploy or in the
            // template).
            eviction_weight: 0.0001,
            free_paths_per_month: 1000,
            paths_used_elsewhere: 0,
        }
    }
}

fn malformed(name: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Malformed {
        name: name.to_string(),
        reason: reason.into(),
    }
}

impl Config {
    pub fn from_env<S: EnvSource>(env: &Env<S>) -> Result<Self, ConfigError> {
        let d = Config::default();
        let mut immutable = Vec::new();
        let raw_prefixes = match env.optional("IMMUTABLE_PREFIXES") {
            None => d.plan.immutable_prefixes.clone(),
            Some(v) if v.eq_ignore_ascii_case("none") => Vec::new(),
            Some(_) => env.list("IMMUTABLE_PREFIXES"),
        };
        for p in raw_prefixes {
            immutable.push(normalize_prefix(&p).map_err(|e| malformed("IMMUTABLE_PREFIXES", e))?);
        }
        let max_wildcards: usize = env.parse_or("MAX_WILDCARDS", d.plan.max_wildcards)?;
        if max_wildcards > CLOUDFRONT_MAX_WILDCARDS {
            return Err(malformed(
                "MAX_WILDCARDS",
                format!("at most {CLOUDFRONT_MAX_WILDCARDS}"),
            ));
        }
        let max_paths: usize = env.parse_or("MAX_PATHS_PER_BATCH", d.plan.max_paths_per_batch)?;
        if max_paths == 0 || max_paths > CLOUDFRONT_MAX_FILE_PATHS {
            return Err(malformed(
                "MAX_PATHS_PER_BATCH",
                format!("1 to {CLOUDFRONT_MAX_FILE_PATHS}"),
            ));
        }
        let max_share: f64 = env.parse_or("MAX_SHARE", d.plan.max_share)?;
        if !(0.0..=1.0).contains(&max_share) {
            return Err(malformed("MAX_SHARE", "a fraction from 0 to 1"));
        }
        let index_document = match env.optional("INDEX_DOCUMENT") {
            None => d.index_document.clone(),
            Some(v) if v.eq_ignore_ascii_case("none") => String::new(),
            Some(v) if v.contains('/') => {
                return Err(malformed("INDEX_DOCUMENT", "a file name, without `/`"))
            }
            Some(v) => v,
        };
        let mut site_buckets = Vec::new();
        for item in env.list("SITE_BUCKETS") {
            let (left, dist) = item.split_once('=').ok_or_else(|| {
                malformed(
                    "SITE_BUCKETS",
                    "expected bucket[/prefix]=distribution items",
                )
            })?;
            let (bucket, prefix) = left.split_once('/').unwrap_or((left, ""));
            if bucket.trim().is_empty() || dist.trim().is_empty() {
                return Err(malformed(
                    "SITE_BUCKETS",
                    "expected bucket[/prefix]=distribution items",
                ));
            }
            site_buckets.push(SiteBucket {
                bucket: bucket.trim().to_string(),
                prefix: prefix.trim().trim_matches('/').to_string(),
                distribution: dist.trim().to_string(),
            });
        }
        let wait_poll = env.seconds_or("WAIT_POLL_SECONDS", d.wait_poll)?;
        if wait_poll.is_zero() {
            return Err(malformed("WAIT_POLL_SECONDS", "at least 1"));
        }
        let attempts: usize = env.parse_or("SUBMIT_MAX_ATTEMPTS", d.submit_retry.max_attempts)?;
        if attempts == 0 {
            return Err(malformed("SUBMIT_MAX_ATTEMPTS", "at least 1"));
        }
        let quiet = env.seconds_or("QUIET_SECONDS", d.quiet)?;
        let max_wait = env.seconds_or("MAX_WAIT_SECONDS", d.max_wait)?;
        if quiet.is_zero() {
            return Err(malformed("QUIET_SECONDS", "at least 1"));
        }
        if max_wait < quiet {
            return Err(malformed("MAX_WAIT_SECONDS", "at least QUIET_SECONDS"));
        }
        let eviction_weight: f64 = env.parse_or("EVICTION_WEIGHT", d.eviction_weight)?;
        if !(eviction_weight.is_finite() && eviction_weight >= 0.0) {
            return Err(malformed(
                "EVICTION_WEIGHT",
                "dollars per evicted object, 0 or more",
            ));
        }
        Ok(Self {
            eviction_weight,
            free_paths_per_month: env.parse_or("FREE_PATHS_PER_MONTH", d.free_paths_per_month)?,
            paths_used_elsewhere: env.parse_or("PATHS_USED_ELSEWHERE", d.paths_used_elsewhere)?,
            pending_table: env
                .optional("PENDING_TABLE")
                .filter(|v| !v.trim().is_empty()),
            flush_queue_url: env
                .optional("FLUSH_QUEUE_URL")
                .filter(|v| !v.trim().is_empty()),
            quiet,
            max_wait,
            distributions: env.list("DISTRIBUTIONS"),
            plan: PlanOptions {
                max_wildcards,
                max_paths_per_batch: max_paths,
                max_share,
                blind_min_files: env
                    .parse_or("BLIND_WILDCARD_MIN_FILES", d.plan.blind_min_files)?,
                immutable_prefixes: immutable,
            },
            index_document,
            site_buckets,
            bucket_inventory: env.bool_or("BUCKET_INVENTORY", d.bucket_inventory)?,
            inventory_max_keys: env.parse_or("INVENTORY_MAX_KEYS", d.inventory_max_keys)?,
            price_per_path_usd: env.parse_or("PRICE_PER_PATH_USD", d.price_per_path_usd)?,
            deploy_source: env
                .optional("DEPLOY_EVENT_SOURCE")
                .unwrap_or(d.deploy_source),
            deploy_detail_type: env
                .optional("DEPLOY_EVENT_DETAIL_TYPE")
                .unwrap_or(d.deploy_detail_type),
            wait_default: env.bool_or("WAIT_DEFAULT", d.wait_default)?,
            wait_poll,
            submit_retry: RetryPolicy {
                max_attempts: attempts,
                ..d.submit_retry
            },
        })
    }

    pub fn bucket(&self, name: &str) -> Option<&SiteBucket> {
        self.site_buckets.iter().find(|b| b.bucket == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use groundcrew::testing::env;

    #[test]
    fn defaults() {
        let c = Config::from_env(&env(&[])).unwrap();
        assert_eq!(c.plan.immutable_prefixes, vec!["/_next/static/"]);
        assert_eq!(c.plan.max_wildcards, 15);
        assert_eq!(c.plan.max_paths_per_batch, 3000);
        assert_eq!(c.index_document, "index.html");
        assert!(c.distributions.is_empty());
    }

    #[test]
    fn parses_and_rejects_naming_the_variable() {
        let c = Config::from_env(&env(&[
            ("IMMUTABLE_PREFIXES", "_next/static, /assets/*"),
            (
                "SITE_BUCKETS",
                "site-bucket=app.example.com, other/www=E123ABC",
            ),
            ("INDEX_DOCUMENT", "none"),
            ("DISTRIBUTIONS", "E1,E2"),
        ]))
        .unwrap();
        assert_eq!(c.plan.immutable_prefixes, vec!["/_next/static", "/assets/"]);
        assert_eq!(c.site_buckets[1].prefix, "www");
        assert_eq!(
            c.bucket("site-bucket").unwrap().distribution,
            "app.example.com"
        );
        assert_eq!(c.index_document, "");
        assert_eq!(c.distributions, vec!["E1", "E2"]);
        for (name, value) in [
            ("MAX_WILDCARDS", "16"),
            ("MAX_PATHS_PER_BATCH", "3001"),
            ("MAX_SHARE", "1.5"),
            ("SITE_BUCKETS", "nodistribution"),
            ("WAIT_POLL_SECONDS", "0"),
            ("QUIET_SECONDS", "0"),
            ("MAX_WAIT_SECONDS", "30"),
            ("EVICTION_WEIGHT", "-1"),
            ("PATHS_USED_ELSEWHERE", "many"),
        ] {
            let err = Config::from_env(&env(&[(name, value)])).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }
}
