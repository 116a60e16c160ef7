//! cloudfront-invalidate: an `aws s3 sync` through the deploy queue, on the virtual clock.
//!
//! A sync of N objects of a Next.js export at 100 objects a second makes N S3
//! notifications on the deploy queue. The queue and Lambda's SQS poller are modelled
//! here, simplified: a batch is taken when 1,000 messages are visible or the oldest
//! visible one has waited the 10 s batching window (the template's settings); batches run
//! one at a time (no concurrency: an ASSUMPTION that makes interleavings fewer than
//! Lambda's); a message returned by the partial batch response becomes visible again
//! after the queue's 1,800 s visibility timeout, or sooner when the function returned it
//! early (ChangeMessageVisibility); delayed messages (the flush triggers)
//! become visible after their delay. The site bucket holds the synced objects and 15,000
//! unchanged ones (a quarter of them old hashed assets). The pending store is the crate's in-memory store
//! (the same contract as the DynamoDB adapter); CloudFront is [`CloudFrontModel`] with
//! its in-progress limits and faults.
//!
//! Invariants: every changed mutable path is covered by an invalidation created within
//! `MAX_WAIT_SECONDS` plus one minute of the end of the sync; nothing under an immutable
//! prefix ever is; no changed path is covered by two invalidations (no batch, retried or
//! not, billed twice); no message ends in the dead-letter queue.

pub mod month;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use cloudfront_invalidate::aws::{Pipeline, SiteListing};
use cloudfront_invalidate::config::{Config, SiteBucket};
use cloudfront_invalidate::error::AwsError;
use cloudfront_invalidate::handler::{Handler, Report};
use cloudfront_invalidate::invalidate::Invalidator;
use cloudfront_invalidate::memory::{MemoryStore, RecordedTrigger};
use groundcrew::retry::RetryPolicy;
use serde_json::{json, Value};

use crate::kernel::{self, FaultRates, Sim, Summary};
use crate::models::cloudfront::CloudFrontModel;

const DIST: &str = "EAPPSIMSIMSIM1";
const ALIAS: &str = "app.example.com";
const IMMUTABLE: &str = "/_next/static/";
const BATCH_SIZE: usize = 1000;
const BATCH_WINDOW: i64 = 10;
const VISIBILITY: i64 = 1800;
const MAX_RECEIVES: u32 = 5;
/// The function's timeout (template): each batch's invocation budget.
const BUDGET: Duration = Duration::from_secs(300);

/// The site bucket: the synced keys and the unchanged rest of the site.
struct SiteModel {
    keys: Vec<String>,
}

impl SiteListing for SiteModel {
    async fn keys(
        &self,
        _: &str,
        _: &str,
        max_keys: usize,
    ) -> Result<Option<Vec<String>>, AwsError> {
        Ok((self.keys.len() <= max_keys).then(|| self.keys.clone()))
    }
}

struct NoPipeline;
impl Pipeline for NoPipeline {
    async fn artifact(
        &self,
        _: &cloudfront_invalidate::manifest::ArtifactLocation,
        _: &cloudfront_invalidate::manifest::ArtifactCredentials,
        _: u64,
    ) -> Result<Vec<u8>, AwsError> {
        Err(AwsError::new("GetObject", "no pipeline in this scenario"))
    }
    async fn succeed(&self, _: &str) -> Result<(), AwsError> {
        Err(AwsError::new(
            "PutJobSuccessResult",
            "no pipeline in this scenario",
        ))
    }
    async fn fail(&self, _: &str, _: &str) -> Result<(), AwsError> {
        Err(AwsError::new(
            "PutJobFailureResult",
            "no pipeline in this scenario",
        ))
    }
}

type App = Handler<CloudFrontModel, SiteModel, NoPipeline, MemoryStore, RecordedTrigger>;

struct Message {
    id: String,
    body: String,
    visible_at: DateTime<Utc>,
    sent_at: DateTime<Utc>,
    receives: u32,
}

/// What one sync did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Figures {
    pub objects: usize,
    pub mutable_paths: usize,
    pub invalidations: usize,
    pub paths_billed: usize,
    /// Unchanged objects of the site the invalidations also evicted.
    pub objects_evicted: usize,
    pub site_objects: usize,
    pub batches: u64,
    pub failed_items: u64,
    pub dead_letters: u64,
    pub seconds_after_sync: i64,
    /// Wall-clock time spent in the handler (planning included), in milliseconds.
    pub handler_ms: u128,
}

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn app(sim: &Arc<Sim>, site: Vec<String>) -> App {
    let config = Config {
        site_buckets: vec![SiteBucket {
            bucket: "site".into(),
            prefix: String::new(),
            distribution: ALIAS.into(),
        }],
        bucket_inventory: true,
        pending_table: Some("pending".into()),
        flush_queue_url: Some("deploys".into()),
        ..Config::default()
    };
    let mut invalidator = Invalidator::new(
        CloudFrontModel::new(sim.clone(), DIST, ALIAS),
        SiteModel { keys: site },
        config,
    );
    invalidator.read_retry = RetryPolicy::default();
    Handler {
        invalidator,
        pipeline: NoPipeline,
        store: MemoryStore::default(),
        trigger: RecordedTrigger::default(),
    }
}

/// The keys of an export: hashed assets, build data and pages.
fn keys(sim: &Sim, n: usize) -> Vec<String> {
    let mut rng = sim.rng();
    (0..n)
        .map(|i| match rng.below(20) {
            0..=7 => format!("_next/static/chunks/{i}-{:x}.js", rng.next_u64() % 0xfffff),
            8..=12 => format!("_next/data/build-7/blog/p{i}.json"),
            13..=16 => format!("blog/{}/p{i}/index.html", 2020 + rng.below(6)),
            _ => format!(
                "docs/{}/p{i}.html",
                ["api", "guide", "cli"][rng.below(3) as usize]
            ),
        })
        .collect()
}

fn s3_body(key: &str) -> String {
    json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "site"}, "object": {"key": key}}}]})
    .to_string()
}

/// One sync of `n` objects, run to the end.
pub async fn sync(sim: Arc<Sim>, n: usize, unchanged: usize) -> Figures {
    let keys = keys(&sim, n);
    // The rest of the site: pages beside the synced ones, and older hashed assets.
    let mut site = keys.clone();
    site.extend((0..unchanged).map(|i| match i % 4 {
        0 => format!("_next/static/chunks/old-{i}.js"),
        1 => format!("blog/2019/old{i}/index.html"),
        2 => format!("docs/api/old{i}.html"),
        _ => format!("products/p{i}.html"),
    }));
    let app = app(&sim, site.clone());
    let t0 = sim.now();
    let mut queue: Vec<Message> = Vec::new();
    let mut figures = Figures {
        objects: n,
        ..Figures::default()
    };
    // 100 objects a second.
    for (i, key) in keys.iter().enumerate() {
        let at = t0 + chrono::Duration::milliseconds(i as i64 * 10);
        queue.push(Message {
            id: format!("m{i:05}"),
            body: s3_body(key),
            visible_at: at,
            sent_at: at,
            receives: 0,
        });
    }
    let sync_end = t0 + chrono::Duration::milliseconds(n as i64 * 10);
    let mut triggers = 0u64;
    let horizon = t0 + chrono::Duration::hours(3);
    while sim.now() < horizon && !queue.is_empty() {
        let now = sim.now();
        let mut visible: Vec<usize> = (0..queue.len())
            .filter(|&i| queue[i].visible_at <= now)
            .collect();
        visible.sort_by_key(|&i| (queue[i].visible_at, queue[i].sent_at));
        let oldest_waited = visible
            .first()
            .map(|&i| (now - queue[i].visible_at).num_seconds())
            .unwrap_or(0);
        if visible.len() >= BATCH_SIZE || (!visible.is_empty() && oldest_waited >= BATCH_WINDOW) {
            let taken: Vec<usize> = visible.into_iter().take(BATCH_SIZE).collect();
            let records: Vec<Value> = taken
                .iter()
                .map(|&i| json!({"messageId": queue[i].id, "receiptHandle": queue[i].id,
                    "body": queue[i].body, "attributes": {"ApproximateReceiveCount": (queue[i].receives + 1).to_string()},
                    "eventSource": "aws:sqs"}))
                .collect();
            for &i in &taken {
                queue[i].receives += 1;
            }
            sim.step();
            figures.batches += 1;
            let wall = std::time::Instant::now();
            let answer = app
                .handle(&json!({ "Records": records }), &sim.invocation(BUDGET))
                .await;
            figures.handler_ms += wall.elapsed().as_millis();
            let failed: Vec<String> = match &answer {
                Ok(Report::Batch(r)) => r
                    .batch_item_failures
                    .iter()
                    .map(|f| f.item_identifier.clone())
                    .collect(),
                Ok(other) => {
                    sim.trace(format!("a batch answered {other:?}"));
                    Default::default()
                }
                // The whole batch failed: every message comes back.
                Err(e) => {
                    sim.trace(format!("batch failed: {e}"));
                    taken.iter().map(|&i| queue[i].id.clone()).collect()
                }
            };
            figures.failed_items += failed.len() as u64;
            let after = sim.now();
            // Messages the function returned early (ChangeMessageVisibility).
            let early = app.trigger.take_returned();
            let mut kept = Vec::with_capacity(queue.len());
            for (i, mut m) in queue.drain(..).enumerate() {
                if !taken.contains(&i) {
                    kept.push(m);
                } else if failed.contains(&m.id) {
                    if m.receives >= MAX_RECEIVES {
                        figures.dead_letters += 1;
                        sim.trace(format!("{} to the dead-letter queue", m.id));
                    } else {
                        let seconds = early
                            .iter()
                            .find(|(receipt, _)| *receipt == m.id)
                            .map_or(VISIBILITY, |(_, s)| i64::from(*s));
                        m.visible_at = after + chrono::Duration::seconds(seconds);
                        kept.push(m);
                    }
                }
            }
            queue = kept;
            for (body, delay) in app.trigger.take() {
                triggers += 1;
                queue.push(Message {
                    id: format!("t{triggers:04}"),
                    body,
                    visible_at: after + chrono::Duration::seconds(delay as i64),
                    sent_at: after,
                    receives: 0,
                });
            }
        } else {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    check(&sim, &app, &keys, sync_end, &mut figures);
    let changed: std::collections::BTreeSet<String> =
        keys.iter().map(|k| format!("/{k}")).collect();
    figures.site_objects = site.len();
    figures.objects_evicted = site
        .iter()
        .map(|k| format!("/{k}"))
        .filter(|p| !changed.contains(p))
        .filter(|p| {
            app.invalidator.cloudfront.created().iter().any(|c| {
                c.paths
                    .iter()
                    .any(|item| item.strip_suffix('*').is_some_and(|w| p.starts_with(w)))
            })
        })
        .count();
    figures
}

fn check(sim: &Sim, app: &App, keys: &[String], sync_end: DateTime<Utc>, figures: &mut Figures) {
    let created = app.invalidator.cloudfront.created();
    figures.invalidations = created.len();
    figures.paths_billed = created.iter().map(|c| c.paths.len()).sum();
    let max_wait = app.invalidator.config.max_wait.as_secs() as i64;
    let covers = |p: &str, item: &str| match item.strip_suffix('*') {
        Some(prefix) => p.starts_with(prefix),
        None => p == item,
    };
    for c in &created {
        sim.check(
            "nothing under an immutable prefix is invalidated",
            c.paths
                .iter()
                .all(|item| !covers(IMMUTABLE, item) && !item.starts_with(IMMUTABLE)),
            || format!("{} has {:?}", c.id, c.paths),
        );
    }
    let mut mutable = 0;
    for key in keys {
        let path = format!("/{key}");
        if path.starts_with(IMMUTABLE) {
            continue;
        }
        mutable += 1;
        let by: Vec<_> = created
            .iter()
            .filter(|c| c.paths.iter().any(|item| covers(&path, item)))
            .collect();
        sim.check(
            "every changed path is invalidated once, in time",
            by.len() == 1 && (by[0].at - sync_end).num_seconds() <= max_wait + 60,
            || {
                format!(
                    "{path}: covered by {:?}",
                    by.iter().map(|c| (&c.id, c.at)).collect::<Vec<_>>()
                )
            },
        );
    }
    figures.mutable_paths = mutable;
    figures.seconds_after_sync = created
        .iter()
        .map(|c| (c.at - sync_end).num_seconds())
        .max()
        .unwrap_or(0);
    sim.check(
        "no message is dead-lettered",
        figures.dead_letters == 0,
        || format!("{} dead letters", figures.dead_letters),
    );
}

/// Syncs of 5,000 objects, one per seed.
pub fn run(seeds: u64, rates: FaultRates) -> (Summary, Vec<Figures>) {
    let all = Arc::new(std::sync::Mutex::new(Vec::new()));
    let collected = all.clone();
    let summary = kernel::run("cloudfront-sync", seeds, start(), rates, move |sim| {
        let collected = collected.clone();
        async move {
            let f = sync(sim, 5000, 15_000).await;
            crate::kernel::lock(&collected).push(f);
        }
    });
    let figures = crate::kernel::lock(&all).clone();
    (summary, figures)
}
