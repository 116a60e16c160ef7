//! CloudFront invalidations, as cloudfront-invalidate's `CloudFront` trait sees them.
//!
//! - Several distributions; each has its own limits and invalidations.
//! - Per distribution at most 3,000 file paths and 15 wildcard paths in progress at once;
//!   over either, `TooManyInvalidationsInProgress` (CloudFront Developer Guide,
//!   "Concurrent invalidation request maximum").
//! - `CallerReference`: the same reference with the same paths returns the existing
//!   invalidation; with other paths, `InvalidationBatchAlreadyExists` (API reference,
//!   CreateInvalidation).
//! - How long an invalidation takes: AWS gives no figure. ASSUMPTION: 60 to 300 s, drawn
//!   from the seed.
//! - Faults from the plan: throttling (`Throttling`), 5xx, a timeout before the service
//!   acted, and one after it acted (the invalidation exists, the answer is lost).

pub mod pending_store;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use cloudfront_invalidate::aws::{CloudFront, DistributionInfo, InvalidationInfo};
use cloudfront_invalidate::error::{AwsError, Fault as AwsFault};

use crate::kernel::{lock, Fault, Sim};

pub const MAX_FILE_PATHS: usize = 3000;
pub const MAX_WILDCARDS: usize = 15;

/// One invalidation created.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub id: String,
    pub distribution: String,
    pub reference: String,
    pub paths: Vec<String>,
    pub at: DateTime<Utc>,
    pub completes_at: DateTime<Utc>,
}

pub struct CloudFrontModel {
    sim: Arc<Sim>,
    pub distributions: Vec<DistributionInfo>,
    created: Mutex<Vec<Created>>,
}

fn transient(operation: &'static str, code: &str) -> AwsError {
    AwsError::new(operation, format!("{code} (simulated)"))
        .with_code(code)
        .with_fault(AwsFault::Transient)
}

impl CloudFrontModel {
    pub fn new(sim: Arc<Sim>, id: &str, alias: &str) -> Self {
        Self::with_distributions(sim, &[(id, alias)])
    }

    /// Distributions as (id, alias).
    pub fn with_distributions(sim: Arc<Sim>, distributions: &[(&str, &str)]) -> Self {
        Self {
            sim,
            distributions: distributions
                .iter()
                .map(|(id, alias)| DistributionInfo {
                    id: id.to_string(),
                    arn: format!("arn:aws:cloudfront::123456789012:distribution/{id}"),
                    aliases: vec![alias.to_string()],
                })
                .collect(),
            created: Mutex::new(Vec::new()),
        }
    }

    pub fn created(&self) -> Vec<Created> {
        lock(&self.created).clone()
    }

    /// The invalidations created after the first `from` (the list only grows, and an
    /// invalidation never changes once created): for checks made at every step that
    /// need not copy the whole month each time.
    pub fn created_since(&self, from: usize) -> Vec<Created> {
        lock(&self.created)
            .get(from..)
            .map(<[Created]>::to_vec)
            .unwrap_or_default()
    }

    /// File paths and wildcard paths in progress on a distribution.
    pub fn in_progress(&self, distribution: &str, now: DateTime<Utc>) -> (usize, usize) {
        lock(&self.created)
            .iter()
            .filter(|c| c.distribution == distribution && c.completes_at > now)
            .fold((0, 0), |(files, wild), c| {
                let w = c.paths.iter().filter(|p| p.ends_with('*')).count();
                (files + c.paths.len() - w, wild + w)
            })
    }

    fn create(
        &self,
        distribution: &str,
        paths: &[String],
        reference: &str,
    ) -> Result<InvalidationInfo, AwsError> {
        let now = self.sim.now();
        if !self.distributions.iter().any(|d| d.id == distribution) {
            return Err(AwsError::new("CreateInvalidation", "no such distribution")
                .with_code("NoSuchDistribution"));
        }
        let created = lock(&self.created);
        // A CallerReference is unique per distribution.
        if let Some(c) = created
            .iter()
            .find(|c| c.distribution == distribution && c.reference == reference)
        {
            if c.paths != paths {
                return Err(AwsError::new("CreateInvalidation", "already exists")
                    .with_code("InvalidationBatchAlreadyExists"));
            }
            return Ok(InvalidationInfo {
                id: c.id.clone(),
                status: status(c, now),
            });
        }
        drop(created);
        let (files, wild) = self.in_progress(distribution, now);
        let new_wild = paths.iter().filter(|p| p.ends_with('*')).count();
        if files + paths.len() - new_wild > MAX_FILE_PATHS || wild + new_wild > MAX_WILDCARDS {
            self.sim.trace(format!(
                "CreateInvalidation refused: {files} files and {wild} wildcards in progress"
            ));
            return Err(AwsError::new("CreateInvalidation", "too many in progress")
                .with_code("TooManyInvalidationsInProgress"));
        }
        let seconds = self.sim.rng().between(60, 300) as i64;
        let mut created = lock(&self.created);
        let c = Created {
            id: format!("I{:05}", created.len()),
            distribution: distribution.to_string(),
            reference: reference.to_string(),
            paths: paths.to_vec(),
            at: now,
            completes_at: now + Duration::seconds(seconds),
        };
        self.sim.trace(format!(
            "invalidation {} created: {} paths, reference {}",
            c.id,
            c.paths.len(),
            c.reference
        ));
        let info = InvalidationInfo {
            id: c.id.clone(),
            status: "InProgress".into(),
        };
        created.push(c);
        Ok(info)
    }
}

fn status(c: &Created, now: DateTime<Utc>) -> String {
    if c.completes_at <= now {
        "Completed".into()
    } else {
        "InProgress".into()
    }
}

impl CloudFront for CloudFrontModel {
    async fn list_distributions(&self) -> Result<Vec<DistributionInfo>, AwsError> {
        Ok(self.distributions.clone())
    }

    async fn get_distribution(&self, id: &str) -> Result<Option<DistributionInfo>, AwsError> {
        Ok(self.distributions.iter().find(|d| d.id == id).cloned())
    }

    async fn tags(&self, _: &str) -> Result<Vec<(String, String)>, AwsError> {
        Ok(Vec::new())
    }

    async fn create_invalidation(
        &self,
        distribution: &str,
        paths: &[String],
        reference: &str,
    ) -> Result<InvalidationInfo, AwsError> {
        match self.sim.fault("cloudfront", "CreateInvalidation") {
            Fault::None => self.create(distribution, paths, reference),
            Fault::Throttle => Err(transient("CreateInvalidation", "Throttling")),
            Fault::ServerError | Fault::TimeoutBeforeAction => {
                Err(transient("CreateInvalidation", "ServiceUnavailable"))
            }
            Fault::TimeoutAfterAction => {
                let _ = self.create(distribution, paths, reference);
                Err(transient("CreateInvalidation", "ServiceUnavailable"))
            }
        }
    }

    async fn get_invalidation(&self, _: &str, id: &str) -> Result<InvalidationInfo, AwsError> {
        let now = self.sim.now();
        lock(&self.created)
            .iter()
            .find(|c| c.id == id)
            .map(|c| InvalidationInfo {
                id: c.id.clone(),
                status: status(c, now),
            })
            .ok_or_else(|| {
                AwsError::new("GetInvalidation", "no such invalidation")
                    .with_code("NoSuchInvalidation")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::FaultRates;

    #[test]
    fn limits_and_references_as_cloudfront_has_them() {
        let start: DateTime<Utc> = "2026-12-01T10:00:00Z".parse().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            let sim = Arc::new(Sim::new("cf-model", 1, start, FaultRates::NONE));
            let cf = CloudFrontModel::new(sim, "E1", "a.example");
            let files: Vec<String> = (0..3000).map(|n| format!("/{n}")).collect();
            let first = cf.create_invalidation("E1", &files, "r1").await.unwrap();
            // The same reference and paths: the same invalidation; other paths: refused.
            let again = cf.create_invalidation("E1", &files, "r1").await.unwrap();
            assert_eq!(first.id, again.id);
            let other = cf
                .create_invalidation("E1", &files[..1], "r1")
                .await
                .unwrap_err();
            assert!(other.is("InvalidationBatchAlreadyExists"));
            // 3,000 files in progress: one more is refused until the first completes.
            let busy = cf
                .create_invalidation("E1", &["/x".to_string()], "r2")
                .await
                .unwrap_err();
            assert!(busy.is("TooManyInvalidationsInProgress"));
            tokio::time::advance(std::time::Duration::from_secs(301)).await;
            cf.create_invalidation("E1", &["/x".to_string()], "r2")
                .await
                .unwrap();
        });
    }
}
