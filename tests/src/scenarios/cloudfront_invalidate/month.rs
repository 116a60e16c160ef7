//! cloudfront-invalidate over a month (`cloudfront-month`): mixed deploys of three sites on
//! the virtual clock, across a month boundary, with faults on CloudFront, the pending
//! store (DynamoDB) and the deploy queue (SQS).
//!
//! - Sites: `app` (a Next.js export of 100,000 objects, a quarter of them hashed assets
//!   under the immutable `/_next/static/`), `docs` (5,000 pages) and `www` (800 pages).
//! - Deploys, each site's at least 40 minutes apart (so each invalidation belongs to one
//!   deploy): S3 syncs of 10 to 5,000 objects at 100 a second through the deploy queue
//!   (`app`, `docs`), direct invokes (`www`, `app` hot-fixes), EventBridge deploy events
//!   (`docs`, `www`) and CodePipeline jobs (`app`; half with the paths in a manifest in the
//!   job's input artifact). Builds add new hashed assets and change pages and build data.
//! - The queue and Lambda's SQS poller as in `cloudfront-sync`, plus concurrency: up to 5
//!   batches at once (Lambda starts an SQS event source at 5 concurrent batches, Lambda
//!   Developer Guide, "Scaling"), and SQS's at-least-once delivery: 1 % of notifications
//!   arrive twice (ASSUMPTION: the rate; SQS Developer Guide, "At-least-once delivery").
//! - Retries of whole invocations: Lambda's asynchronous invoke retries twice, 1 and 2
//!   minutes apart (Lambda Developer Guide, "Asynchronous invocation"); EventBridge retries
//!   a failed target with backoff (ASSUMPTION: 4 retries a minute apart); a CodePipeline
//!   job that fails is a failed stage a person sees (counted, and not a violation).
//!
//! Invariants, checked after each deploy settles: every changed mutable path is covered
//! by exactly one invalidation of its deploy (covered: invalidated, or under one of its
//! wildcards; exactly one: no deploy billed twice), in time (a sync's within
//! `MAX_WAIT_SECONDS` plus a minute of its end; a batch CloudFront's in-progress limits
//! held back, within a minute of there being room for it: a plan of more than 3,000 files
//! cannot be in progress at once), unless the deploy's failure reached a person; at every
//! step, nothing under `/_next/static/` was ever invalidated and no
//! distribution is over CloudFront's in-progress limits; per month, the paths billed are
//! at most what the exact lists would have billed, and the function's month counter is
//! exactly the paths of the invalidations it created.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use cloudfront_invalidate::aws::{Pipeline, SiteListing};
use cloudfront_invalidate::config::{Config, SiteBucket};
use cloudfront_invalidate::error::AwsError;
use cloudfront_invalidate::handler::{Handler, Report};
use cloudfront_invalidate::invalidate::Invalidator;
use cloudfront_invalidate::manifest::{ArtifactCredentials, ArtifactLocation};
use futures::future::join_all;
use groundcrew::retry::RetryPolicy;
use serde_json::{json, Value};

use crate::kernel::{self, lock, FaultRates, Sim, Summary};
use crate::models::cloudfront::pending_store::{FaultyQueue, FaultyStore};
use crate::models::cloudfront::{CloudFrontModel, Created, MAX_FILE_PATHS, MAX_WILDCARDS};

const IMMUTABLE: &str = "/_next/static/";
const DAYS: i64 = 30;
const BATCH_SIZE: usize = 1000;
const BATCH_WINDOW: i64 = 10;
const CONCURRENT_BATCHES: usize = 5;
const VISIBILITY: i64 = 1800;
const MAX_RECEIVES: u32 = 5;
const BUDGET: Duration = Duration::from_secs(300);
const PRICE_PER_PATH: f64 = 0.005;
const FREE_PATHS: u64 = 1000;

/// (site, distribution id, alias, bucket, objects).
const SITES: [(&str, &str, &str, &str, usize); 3] = [
    (
        "app",
        "EAPPMONTHSIM01",
        "app.example.com",
        "app-site",
        100_000,
    ),
    (
        "docs",
        "EDOCSMONTHSIM1",
        "docs.example.com",
        "docs-site",
        5_000,
    ),
    ("www", "EWWWMONTHSIM01", "www.example.com", "www-site", 800),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sync,
    Direct,
    DeployEvent,
    Pipeline,
}

struct Deploy {
    site: usize,
    kind: Kind,
    keys: Vec<String>,
    at: DateTime<Utc>,
    /// When its last change was made (syncs: the last object) or its last attempt ended.
    settled: DateTime<Utc>,
    failed_visibly: bool,
}

/// The site buckets as they are now.
struct Buckets {
    keys: std::sync::Mutex<BTreeMap<String, Vec<String>>>,
}

impl SiteListing for Buckets {
    async fn keys(
        &self,
        bucket: &str,
        _: &str,
        max_keys: usize,
    ) -> Result<Option<Vec<String>>, AwsError> {
        let keys = lock(&self.keys).get(bucket).cloned().unwrap_or_default();
        Ok((keys.len() <= max_keys).then_some(keys))
    }
}

/// CodePipeline's job API: results recorded, input artifacts served (zips).
#[derive(Default)]
struct PipelineModel {
    artifacts: std::sync::Mutex<BTreeMap<String, Vec<u8>>>,
    results: std::sync::Mutex<BTreeMap<String, bool>>,
}

impl Pipeline for PipelineModel {
    async fn artifact(
        &self,
        location: &ArtifactLocation,
        _: &ArtifactCredentials,
        _: u64,
    ) -> Result<Vec<u8>, AwsError> {
        lock(&self.artifacts)
            .get(&location.key)
            .cloned()
            .ok_or_else(|| AwsError::new("GetObject", "NoSuchKey").with_code("NoSuchKey"))
    }
    async fn succeed(&self, job_id: &str) -> Result<(), AwsError> {
        lock(&self.results).insert(job_id.to_string(), true);
        Ok(())
    }
    async fn fail(&self, job_id: &str, _: &str) -> Result<(), AwsError> {
        lock(&self.results).insert(job_id.to_string(), false);
        Ok(())
    }
}

type App = Handler<CloudFrontModel, Buckets, PipelineModel, FaultyStore, FaultyQueue>;

struct Message {
    id: String,
    body: String,
    visible_at: DateTime<Utc>,
    receives: u32,
}

/// What a month of one seed did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Figures {
    pub deploys: BTreeMap<&'static str, u64>,
    pub invalidations: usize,
    pub max_invalidations_per_deploy: usize,
    /// Per month (`YYYY-MM`): paths billed, paths the exact lists would have billed.
    pub billed: BTreeMap<String, (u64, u64)>,
    pub objects_evicted: usize,
    pub batches: u64,
    pub returned_messages: u64,
    pub dead_letters: u64,
    pub conditional_failures: u64,
    pub failed_visibly: u64,
}

impl Figures {
    pub fn cost_usd(billed: u64) -> f64 {
        billed.saturating_sub(FREE_PATHS) as f64 * PRICE_PER_PATH
    }
}

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn app(sim: &Arc<Sim>, buckets: BTreeMap<String, Vec<String>>) -> App {
    let config = Config {
        site_buckets: SITES
            .iter()
            .map(|(_, _, alias, bucket, _)| SiteBucket {
                bucket: bucket.to_string(),
                prefix: String::new(),
                distribution: alias.to_string(),
            })
            .collect(),
        bucket_inventory: true,
        inventory_max_keys: 200_000,
        pending_table: Some("pending".into()),
        flush_queue_url: Some("deploys".into()),
        ..Config::default()
    };
    let distributions: Vec<(&str, &str)> = SITES.iter().map(|s| (s.1, s.2)).collect();
    let mut invalidator = Invalidator::new(
        CloudFrontModel::with_distributions(sim.clone(), &distributions),
        Buckets {
            keys: std::sync::Mutex::new(buckets),
        },
        config,
    );
    invalidator.read_retry = RetryPolicy::default();
    Handler {
        invalidator,
        pipeline: PipelineModel::default(),
        store: FaultyStore::new(sim.clone()),
        trigger: FaultyQueue::new(sim.clone()),
    }
}

/// A site's first objects.
fn initial_keys(site: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| match (site, i % 4) {
            ("app", 0) => format!("_next/static/chunks/b0-{i}.js"),
            ("app", 1) => format!("_next/data/b0/p{i}.json"),
            ("app", 2) => format!("blog/p{i}/index.html"),
            (_, 3) => format!("guide/s{}/p{i}.html", i % 40),
            _ => format!("pages/s{}/p{i}.html", i % 25),
        })
        .collect()
}

/// The keys one deploy changes: a new build (hashed assets, build data, pages), a content
/// change (pages), or a hot-fix (one file).
fn changed_keys(
    sim: &Sim,
    site: &str,
    build: u64,
    size: usize,
    existing: &[String],
) -> Vec<String> {
    let mut rng = sim.rng();
    let mut out = BTreeSet::new();
    while out.len() < size {
        let fresh = rng.chance(0.3);
        let key = if site == "app" && fresh {
            match rng.below(2) {
                0 => format!(
                    "_next/static/chunks/b{build}-{}.js",
                    rng.next_u64() % 1_000_000
                ),
                _ => format!("_next/data/b{build}/p{}.json", rng.below(30_000)),
            }
        } else {
            let i = rng.below(existing.len() as u64) as usize;
            existing[i].clone()
        };
        out.insert(key);
    }
    out.into_iter().collect()
}

fn s3_body(bucket: &str, key: &str) -> String {
    json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]})
    .to_string()
}

fn covers(path: &str, item: &str) -> bool {
    match item.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => path == item,
    }
}

/// The exact list of a deploy: its mutable paths, and the directory of each index page.
fn exact_paths(keys: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for k in keys {
        let p = format!("/{k}");
        if p.starts_with(IMMUTABLE) {
            continue;
        }
        if let Some(dir) = p.strip_suffix("index.html") {
            out.insert(dir.to_string());
        }
        out.insert(p);
    }
    out
}

fn zip_manifest(paths: &[String]) -> Vec<u8> {
    use std::io::Write;
    let body = serde_json::to_string(paths).unwrap_or_default();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let started = w
        .start_file("invalidate.json", zip::write::SimpleFileOptions::default())
        .is_ok()
        && w.write_all(body.as_bytes()).is_ok();
    match w.finish() {
        Ok(out) if started => out.into_inner(),
        _ => Vec::new(),
    }
}

struct Month {
    sim: Arc<Sim>,
    app: App,
    queue: Vec<Message>,
    next_message: u64,
    figures: Figures,
}

impl Month {
    /// Runs Lambda's poller until `until`: batches of up to 1,000 visible messages once
    /// 1,000 are visible or the oldest waited 10 s, up to 5 at once.
    async fn poll_until(&mut self, until: DateTime<Utc>) {
        loop {
            let now = self.sim.now();
            let mut visible: Vec<usize> = (0..self.queue.len())
                .filter(|&i| self.queue[i].visible_at <= now)
                .collect();
            visible.sort_by_key(|&i| self.queue[i].visible_at);
            let oldest = visible
                .first()
                .map(|&i| (now - self.queue[i].visible_at).num_seconds())
                .unwrap_or(0);
            if visible.len() >= BATCH_SIZE || (!visible.is_empty() && oldest >= BATCH_WINDOW) {
                self.run_batches(visible).await;
                continue;
            }
            // The next moment a batch is due: when the 1,000th message is visible, or the
            // oldest message's batching window closes (whichever comes first). Nothing
            // else changes the queue until then, so the poller sleeps straight to it
            // rather than waking at every message of a sync (a wake scanned the queue:
            // quadratic in a 5,000-object sync).
            let mut times: Vec<DateTime<Utc>> = self.queue.iter().map(|m| m.visible_at).collect();
            times.sort();
            let due = [
                times.get(BATCH_SIZE - 1).copied(),
                times
                    .first()
                    .map(|&t| t + chrono::Duration::seconds(BATCH_WINDOW)),
            ]
            .into_iter()
            .flatten()
            .min();
            let next = due.map_or(until, |d| d.min(until));
            if next >= until {
                self.sim.sleep_until(until).await;
                return;
            }
            self.sim.sleep_until(next).await;
        }
    }

    async fn run_batches(&mut self, visible: Vec<usize>) {
        let batches: Vec<Vec<usize>> = visible
            .chunks(BATCH_SIZE)
            .take(CONCURRENT_BATCHES)
            .map(<[usize]>::to_vec)
            .collect();
        let mut events = Vec::with_capacity(batches.len());
        for batch in &batches {
            let records: Vec<Value> = batch
                .iter()
                .map(|&i| {
                    let m = &mut self.queue[i];
                    m.receives += 1;
                    json!({"messageId": m.id, "receiptHandle": format!("{}#{}", m.id, m.receives),
                        "body": m.body, "attributes": {"ApproximateReceiveCount": m.receives.to_string()},
                        "eventSource": "aws:sqs"})
                })
                .collect();
            events.push(json!({ "Records": records }));
            self.sim.step();
            self.figures.batches += 1;
        }
        let app = &self.app;
        let sim = &self.sim;
        let answers = join_all(
            events
                .iter()
                .map(|e| async move { app.handle(e, &sim.invocation(BUDGET)).await }),
        )
        .await;
        let after = self.sim.now();
        let mut done: BTreeSet<usize> = BTreeSet::new();
        let mut back: BTreeSet<usize> = BTreeSet::new();
        for (batch, answer) in batches.iter().zip(&answers) {
            let failed: BTreeSet<String> = match answer {
                Ok(Report::Batch(r)) => r
                    .batch_item_failures
                    .iter()
                    .map(|f| f.item_identifier.clone())
                    .collect(),
                Ok(other) => {
                    self.sim.trace(format!("a batch answered {other:?}"));
                    Default::default()
                }
                Err(e) => {
                    self.sim.trace(format!("batch failed: {e}"));
                    batch.iter().map(|&i| self.queue[i].id.clone()).collect()
                }
            };
            for &i in batch {
                if failed.contains(&self.queue[i].id) {
                    back.insert(i);
                } else {
                    done.insert(i);
                }
            }
        }
        self.figures.returned_messages += back.len() as u64;
        // Messages the function returned early (by the receipt handle of this receive).
        let early: BTreeMap<String, DateTime<Utc>> = self
            .app
            .trigger
            .take_returned()
            .into_iter()
            .map(|r| {
                let visible = r.at + chrono::Duration::seconds(i64::from(r.seconds));
                (r.receipt_handle, visible)
            })
            .collect();
        let mut kept = Vec::with_capacity(self.queue.len());
        for (i, mut m) in self.queue.drain(..).enumerate() {
            if done.contains(&i) {
                continue;
            }
            if back.contains(&i) {
                if m.receives >= MAX_RECEIVES {
                    self.figures.dead_letters += 1;
                    self.sim.trace(format!("{} to the dead-letter queue", m.id));
                    continue;
                }
                m.visible_at = early
                    .get(&format!("{}#{}", m.id, m.receives))
                    .copied()
                    .unwrap_or(after + chrono::Duration::seconds(VISIBILITY));
            }
            kept.push(m);
        }
        self.queue = kept;
        for sent in self.app.trigger.take() {
            self.push(
                sent.body,
                sent.at + chrono::Duration::seconds(i64::from(sent.delay_seconds)),
            );
        }
    }

    fn push(&mut self, body: String, visible_at: DateTime<Utc>) {
        self.next_message += 1;
        self.queue.push(Message {
            id: format!("m{:07}", self.next_message),
            body,
            visible_at,
            receives: 0,
        });
    }

    /// A deploy that arrives whole, with the retries of its delivery.
    async fn invoke(&mut self, event: Value, kind: Kind) -> (bool, DateTime<Utc>) {
        let (attempts, gap) = match kind {
            Kind::Direct => (3, 60),
            Kind::DeployEvent => (5, 60),
            _ => (1, 0),
        };
        for attempt in 1..=attempts {
            self.sim.step();
            match self.app.handle(&event, &self.sim.invocation(BUDGET)).await {
                Ok(_) => return (true, self.sim.now()),
                Err(e) => {
                    self.sim
                        .trace(format!("{kind:?} attempt {attempt} failed: {e}"));
                    if attempt < attempts {
                        let at = self.sim.now() + chrono::Duration::seconds(gap * attempt);
                        self.poll_until(at).await;
                    }
                }
            }
        }
        (false, self.sim.now())
    }
}

/// One month of one seed.
pub async fn month(sim: Arc<Sim>) -> Figures {
    let mut buckets: BTreeMap<String, Vec<String>> = SITES
        .iter()
        .map(|(site, _, _, bucket, n)| (bucket.to_string(), initial_keys(site, *n)))
        .collect();
    let mut m = Month {
        app: app(&sim, buckets.clone()),
        sim: sim.clone(),
        queue: Vec::new(),
        next_message: 0,
        figures: Figures::default(),
    };
    let t0 = sim.now();
    let end = t0 + chrono::Duration::days(DAYS);
    // Each site's deploys: 40 minutes to 14 hours apart, in working hours or not.
    let mut schedule: Vec<(DateTime<Utc>, usize)> = Vec::new();
    for (site, _) in SITES.iter().enumerate() {
        let mut at = t0 + chrono::Duration::minutes(sim.rng().between(5, 600) as i64);
        while at < end {
            schedule.push((at, site));
            at += chrono::Duration::minutes(sim.rng().between(40, 14 * 60) as i64);
        }
    }
    schedule.sort();
    let mut deploys: Vec<Deploy> = Vec::new();
    // Each bucket's keys as a set, kept beside the lists (a deploy's new keys are found
    // without building a set of 100,000 keys per deploy).
    let mut known: HashMap<String, HashSet<String>> = buckets
        .iter()
        .map(|(b, keys)| (b.clone(), keys.iter().cloned().collect()))
        .collect();
    // Invalidations already checked by `check_always` (they never change once created).
    let mut checked = 0;
    for (n, (at, site)) in schedule.into_iter().enumerate() {
        m.poll_until(at).await;
        let (name, dist, alias, bucket, _) = SITES[site];
        let kind = {
            let mut rng = sim.rng();
            match (name, rng.below(10)) {
                ("app", 0..=5) | ("docs", 0..=6) => Kind::Sync,
                ("app", 6..=7) | ("www", 0..=4) => Kind::Direct,
                ("app", _) => Kind::Pipeline,
                _ => Kind::DeployEvent,
            }
        };
        let size = {
            let mut rng = sim.rng();
            match (kind, rng.below(10)) {
                (_, 0) => 1,
                (Kind::Sync, 1..=3) => rng.between(10, 100) as usize,
                (Kind::Sync, 4..=7) => rng.between(100, 1000) as usize,
                (Kind::Sync, 8) => rng.between(1000, 3000) as usize,
                (Kind::Sync, _) => 5000,
                _ => rng.between(2, 60) as usize,
            }
        };
        let existing = buckets.get(bucket).map(Vec::as_slice).unwrap_or_default();
        let keys = changed_keys(&sim, name, n as u64 + 1, size, existing);
        {
            let seen = known.entry(bucket.to_string()).or_default();
            let fresh: Vec<String> = keys
                .iter()
                .filter(|k| seen.insert((*k).clone()))
                .cloned()
                .collect();
            // The bucket as the function lists it: the same keys in the same order.
            lock(&m.app.invalidator.listing.keys)
                .entry(bucket.to_string())
                .or_default()
                .extend(fresh.iter().cloned());
            buckets.entry(bucket.to_string()).or_default().extend(fresh);
        }
        let paths: Vec<String> = keys.iter().map(|k| format!("/{k}")).collect();
        *m.figures
            .deploys
            .entry(match kind {
                Kind::Sync => "S3 sync",
                Kind::Direct => "direct invoke",
                Kind::DeployEvent => "deploy event",
                Kind::Pipeline => "CodePipeline",
            })
            .or_default() += 1;
        sim.trace(format!(
            "deploy {n}: {kind:?} of {} objects to {name}",
            keys.len()
        ));
        let (ok, settled) = match kind {
            Kind::Sync => {
                for (i, key) in keys.iter().enumerate() {
                    let visible = at + chrono::Duration::milliseconds(i as i64 * 10);
                    m.push(s3_body(bucket, key), visible);
                    if sim.rng().chance(0.01) {
                        m.push(s3_body(bucket, key), visible + chrono::Duration::seconds(2));
                    }
                }
                (
                    true,
                    at + chrono::Duration::milliseconds(keys.len() as i64 * 10),
                )
            }
            Kind::Direct => {
                let event = json!({"distribution": alias, "paths": paths, "deployment_id": format!("deploy-{n}")});
                m.invoke(event, kind).await
            }
            Kind::DeployEvent => {
                let event = json!({"source": "groundcrew.deploy", "detail-type": "Deploy Completed",
                    "id": format!("ev-{n}"), "detail": {"distribution": dist, "paths": paths}});
                m.invoke(event, kind).await
            }
            Kind::Pipeline => {
                let job = format!("job-{n}");
                let manifest = sim.rng().chance(0.5);
                let params = if manifest {
                    let key = format!("web/Build/{n}");
                    lock(&m.app.pipeline.artifacts).insert(key, zip_manifest(&paths));
                    json!({"distribution": alias, "manifest": true})
                } else {
                    json!({"distribution": alias, "paths": paths})
                };
                let event = json!({"CodePipeline.job": {"id": job, "accountId": "123456789012", "data": {
                    "actionConfiguration": {"configuration": {"FunctionName": "f", "UserParameters": params.to_string()}},
                    "inputArtifacts": [{"name": "Build", "revision": null, "location": {"type": "S3",
                        "s3Location": {"bucketName": "artifacts", "objectKey": format!("web/Build/{n}")}}}],
                    "outputArtifacts": [],
                    "artifactCredentials": {"accessKeyId": "AKID", "secretAccessKey": "secret", "sessionToken": "token"},
                    "continuationToken": null}}});
                let (_, settled) = m.invoke(event, kind).await;
                let succeeded = lock(&m.app.pipeline.results).get(&job).copied();
                sim.check(
                    "every CodePipeline job gets its result",
                    succeeded.is_some(),
                    || format!("{job} has no result"),
                );
                (succeeded == Some(true), settled)
            }
        };
        deploys.push(Deploy {
            site,
            kind,
            keys,
            at,
            settled,
            failed_visibly: !ok,
        });
        checked = check_always(&sim, &m.app, checked);
    }
    // Everything settles: the last flushes, and no new deploy.
    let last = sim.now() + chrono::Duration::hours(2);
    m.poll_until(last).await;
    check_always(&sim, &m.app, checked);
    let mut figures = check_month(&sim, &m, &deploys, &buckets);
    figures.conditional_failures = m
        .app
        .store
        .conditional_failures
        .load(std::sync::atomic::Ordering::Relaxed);
    figures
}

/// At every step: nothing immutable invalidated, no distribution over its limits. The
/// invalidations from the `checked`-th on are new since the last step (the earlier ones
/// were checked then and cannot change); returns how many are checked now.
fn check_always(sim: &Sim, app: &App, checked: usize) -> usize {
    let cf = &app.invalidator.cloudfront;
    let new = cf.created_since(checked);
    let checked = checked + new.len();
    for c in new {
        sim.check(
            "nothing under an immutable prefix is invalidated",
            c.paths
                .iter()
                .all(|item| !covers(IMMUTABLE, item) && !item.starts_with(IMMUTABLE)),
            || format!("{} has {:?}", c.id, c.paths),
        );
    }
    for d in &cf.distributions {
        let (files, wild) = cf.in_progress(&d.id, sim.now());
        sim.check(
            "never more than CloudFront's in-progress limits",
            files <= MAX_FILE_PATHS && wild <= MAX_WILDCARDS,
            || format!("{}: {files} files and {wild} wildcards in progress", d.id),
        );
    }
    checked
}

/// The first moment at or after `from` when `c` fits CloudFront's in-progress limits
/// beside the invalidations of its distribution created before it (CloudFront Developer
/// Guide, "Concurrent invalidation request maximum": 3,000 files and 15 wildcards).
fn room_for(created: &[Created], c: &Created, from: DateTime<Utc>) -> DateTime<Utc> {
    let wild = |x: &Created| x.paths.iter().filter(|p| p.ends_with('*')).count();
    let before: Vec<&Created> = created
        .iter()
        .filter(|o| o.distribution == c.distribution && o.at < c.at)
        .collect();
    let mut at = from;
    loop {
        let busy: Vec<&&Created> = before.iter().filter(|o| o.completes_at > at).collect();
        let files: usize = busy.iter().map(|o| o.paths.len() - wild(o)).sum();
        let wildcards: usize = busy.iter().map(|o| wild(o)).sum();
        let fits = files + c.paths.len() - wild(c) <= MAX_FILE_PATHS
            && wildcards + wild(c) <= MAX_WILDCARDS;
        match busy.iter().map(|o| o.completes_at).min() {
            Some(next) if !fits => at = next,
            _ => return at,
        }
    }
}

fn check_month(
    sim: &Sim,
    m: &Month,
    deploys: &[Deploy],
    buckets: &BTreeMap<String, Vec<String>>,
) -> Figures {
    let created = m.app.invalidator.cloudfront.created();
    let max_wait = m.app.invalidator.config.max_wait.as_secs() as i64;
    let mut figures = m.figures.clone();
    figures.invalidations = created.len();
    let mut exact_by_month: BTreeMap<String, u64> = BTreeMap::new();
    for (n, d) in deploys.iter().enumerate() {
        let dist = SITES[d.site].1;
        // The deploy's invalidations: on its distribution, from its start to the next
        // deploy of the same site.
        let until = deploys[n + 1..]
            .iter()
            .find(|o| o.site == d.site)
            .map(|o| o.at);
        let own: Vec<&Created> = created
            .iter()
            .filter(|c| c.distribution == dist && c.at >= d.at && until.is_none_or(|u| c.at < u))
            .collect();
        figures.max_invalidations_per_deploy = figures.max_invalidations_per_deploy.max(own.len());
        let exact = exact_paths(&d.keys);
        let month = d.at.format("%Y-%m").to_string();
        *exact_by_month.entry(month).or_default() += exact.len() as u64;
        if d.failed_visibly {
            figures.failed_visibly += 1;
            continue;
        }
        // Each invalidation's items, to be asked per path: its exact paths as a set, its
        // wildcards' prefixes (the same test as `covers`, without a scan per path).
        let items: Vec<(HashSet<&str>, Vec<&str>)> = own
            .iter()
            .map(|c| {
                let exact = c
                    .paths
                    .iter()
                    .map(String::as_str)
                    .filter(|p| !p.ends_with('*'));
                let wild = c.paths.iter().filter_map(|p| p.strip_suffix('*'));
                (exact.collect(), wild.collect())
            })
            .collect();
        // Whether each invalidation of the deploy came in time; the same for every path
        // it covers, so it is worked out once per invalidation.
        let mut timely: HashMap<usize, bool> = HashMap::new();
        for path in &exact {
            let by: Vec<usize> = (0..own.len())
                .filter(|&i| {
                    let (exact_items, prefixes) = &items[i];
                    exact_items.contains(path.as_str())
                        || prefixes.iter().any(|w| path.starts_with(w))
                })
                .collect();
            let in_time = by.first().is_some_and(|&i| {
                *timely.entry(i).or_insert_with(|| {
                    let c = own[i];
                    let limit = if d.kind == Kind::Sync {
                        max_wait + 60
                    } else {
                        0
                    };
                    let due = d.settled + chrono::Duration::seconds(limit);
                    // CloudFront's in-progress limits may hold a batch back (a plan of
                    // more than 3,000 files waits for its first batch): then within a
                    // minute of there being room for it.
                    let room = room_for(&created, c, due);
                    let by = if room > due {
                        room + chrono::Duration::seconds(60)
                    } else {
                        due
                    };
                    c.at <= by
                })
            });
            sim.check(
                "every changed path is invalidated by exactly one invalidation of its deploy, in time",
                by.len() == 1 && in_time,
                || {
                    format!(
                        "deploy {n} ({:?} to {dist} at {}, settled {}): {path} covered by {:?}",
                        d.kind,
                        d.at,
                        d.settled,
                        by.iter().map(|&i| (&own[i].id, own[i].at)).collect::<Vec<_>>()
                    )
                },
            );
        }
    }
    // Unchanged objects the wildcards evicted (the site as it is at the end).
    let changed: BTreeSet<String> = deploys
        .iter()
        .flat_map(|d| d.keys.iter().map(|k| format!("/{k}")))
        .collect();
    for (_, dist, _, bucket, _) in SITES {
        // Each wildcard once: a prefix invalidated twice in a month evicts the same objects.
        let wildcards: BTreeSet<&str> = created
            .iter()
            .filter(|c| c.distribution == dist)
            .flat_map(|c| c.paths.iter())
            .filter_map(|p| p.strip_suffix('*'))
            .collect();
        if wildcards.is_empty() {
            continue;
        }
        figures.objects_evicted += buckets
            .get(bucket)
            .into_iter()
            .flatten()
            .map(|k| format!("/{k}"))
            .filter(|p| !changed.contains(p) && wildcards.iter().any(|w| p.starts_with(w)))
            .count();
    }
    let months: BTreeSet<String> = created
        .iter()
        .map(|c| c.at.format("%Y-%m").to_string())
        .collect();
    for month in months {
        let billed: u64 = created
            .iter()
            .filter(|c| c.at.format("%Y-%m").to_string() == month)
            .map(|c| c.paths.len() as u64)
            .sum();
        let exact = exact_by_month.get(&month).copied().unwrap_or(0);
        sim.check(
            "paths billed in a month are at most what the exact lists would have billed",
            billed <= exact,
            || format!("{month}: {billed} billed, exact lists {exact}"),
        );
        let counted = m
            .app
            .store
            .inner
            .state()
            .usage
            .get(&month)
            .copied()
            .unwrap_or(0);
        sim.check(
            "the month's counter counts every invalidation created, once",
            counted == billed,
            || format!("{month}: counter {counted}, invalidations created {billed}"),
        );
        figures.billed.insert(month, (billed, exact));
    }
    figures
}

/// Months of mixed deploys, one per seed, with `rates` of faults on CloudFront, DynamoDB
/// and SQS.
pub fn run(seeds: u64, rates: FaultRates) -> (Summary, Vec<Figures>) {
    let all = Arc::new(std::sync::Mutex::new(Vec::new()));
    let collected = all.clone();
    let summary = kernel::run("cloudfront-month", seeds, start(), rates, move |sim| {
        let collected = collected.clone();
        async move {
            let f = month(sim).await;
            lock(&collected).push(f);
        }
    });
    let figures = lock(&all).clone();
    (summary, figures)
}
