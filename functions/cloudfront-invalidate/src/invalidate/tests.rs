use super::*;
use crate::aws::InvalidationInfo;
use crate::error::AwsError;
use crate::paths::{normalize, Encoding};
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
