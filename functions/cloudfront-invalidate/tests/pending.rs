//! Deploys, not objects, on a virtual clock: S3 notifications through the deploy queue are
//! gathered in the (in-memory) pending store and flushed as one invalidation when quiet or
//! old; retried and re-composed batches and repeated triggers are never billed twice.
//! CloudFront is a fake with CloudFront's CallerReference rules.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use cloudfront_invalidate::aws::{
    CloudFront, DistributionInfo, InvalidationInfo, Pipeline, SiteListing,
};
use cloudfront_invalidate::config::{Config, SiteBucket};
use cloudfront_invalidate::error::AwsError;
use cloudfront_invalidate::handler::Handler;
use cloudfront_invalidate::invalidate::Invalidator;
use cloudfront_invalidate::memory::{MemoryStore, RecordedTrigger};
use cloudfront_invalidate::store::FlushState;
use common::HandleJson;
use groundcrew::invocation::TokioClock;
use groundcrew::retry::RetryPolicy;
use groundcrew::{Deadline, Invocation};
use serde_json::{json, Value};

const DIST: &str = "EAPPAPPAPPAPP1";

#[derive(Default)]
struct FakeCloudFront {
    /// (paths, CallerReference) of every invalidation created.
    created: Mutex<Vec<(Vec<String>, String)>>,
    /// Answers of TooManyInvalidationsInProgress still to give.
    busy: AtomicUsize,
    /// Invalidations CloudFront takes before it answers TooManyInvalidationsInProgress
    /// (the in-progress limit, as a count).
    room: Mutex<Option<usize>>,
}

impl CloudFront for FakeCloudFront {
    async fn list_distributions(&self) -> Result<Vec<DistributionInfo>, AwsError> {
        Ok(vec![DistributionInfo {
            id: DIST.into(),
            arn: format!("arn:aws:cloudfront::123456789012:distribution/{DIST}"),
            aliases: vec!["app.example.com".into()],
        }])
    }
    async fn get_distribution(&self, id: &str) -> Result<Option<DistributionInfo>, AwsError> {
        Ok(self
            .list_distributions()
            .await?
            .into_iter()
            .find(|d| d.id == id))
    }
    async fn tags(&self, _: &str) -> Result<Vec<(String, String)>, AwsError> {
        Ok(Vec::new())
    }
    async fn create_invalidation(
        &self,
        _: &str,
        paths: &[String],
        reference: &str,
    ) -> Result<InvalidationInfo, AwsError> {
        if self.busy.load(Ordering::SeqCst) > 0 {
            self.busy.fetch_sub(1, Ordering::SeqCst);
            return Err(AwsError::new("CreateInvalidation", "busy")
                .with_code("TooManyInvalidationsInProgress"));
        }
        let mut created = self.created.lock().unwrap();
        let full = self
            .room
            .lock()
            .unwrap()
            .is_some_and(|room| created.len() >= room);
        if full && !created.iter().any(|(_, r)| r == reference) {
            return Err(AwsError::new("CreateInvalidation", "busy")
                .with_code("TooManyInvalidationsInProgress"));
        }
        // CloudFront: the same reference with the same paths is the same invalidation.
        if let Some(n) = created.iter().position(|(_, r)| r == reference) {
            if created[n].0 != paths {
                return Err(AwsError::new("CreateInvalidation", "exists")
                    .with_code("InvalidationBatchAlreadyExists"));
            }
            return Ok(InvalidationInfo {
                id: format!("I{n}"),
                status: "InProgress".into(),
            });
        }
        created.push((paths.to_vec(), reference.to_string()));
        Ok(InvalidationInfo {
            id: format!("I{}", created.len() - 1),
            status: "InProgress".into(),
        })
    }
    async fn get_invalidation(&self, _: &str, id: &str) -> Result<InvalidationInfo, AwsError> {
        Ok(InvalidationInfo {
            id: id.into(),
            status: "Completed".into(),
        })
    }
}

struct NoListing;
impl SiteListing for NoListing {
    async fn keys(&self, _: &str, _: &str, _: usize) -> Result<Option<Vec<String>>, AwsError> {
        Ok(None)
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
        Err(AwsError::new("GetObject", "not in this test"))
    }
    async fn succeed(&self, _: &str) -> Result<(), AwsError> {
        Err(AwsError::new("PutJobSuccessResult", "not in this test"))
    }
    async fn fail(&self, _: &str, _: &str) -> Result<(), AwsError> {
        Err(AwsError::new("PutJobFailureResult", "not in this test"))
    }
}

type TestHandler = Handler<FakeCloudFront, NoListing, NoPipeline, MemoryStore, RecordedTrigger>;

fn handler() -> TestHandler {
    let config = Config {
        site_buckets: vec![SiteBucket {
            bucket: "site".into(),
            prefix: "www".into(),
            distribution: "app.example.com".into(),
        }],
        bucket_inventory: false,
        pending_table: Some("pending".into()),
        flush_queue_url: Some("http://queue".into()),
        submit_retry: RetryPolicy {
            max_attempts: 3,
            min_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(2),
        },
        ..Config::default()
    };
    Handler {
        invalidator: Invalidator::new(FakeCloudFront::default(), NoListing, config),
        pipeline: NoPipeline,
        store: MemoryStore::default(),
        trigger: RecordedTrigger::default(),
    }
}

struct Clock {
    clock: Arc<TokioClock>,
}

impl Clock {
    fn start() -> Self {
        let t0: DateTime<Utc> = "2026-12-01T10:00:00Z".parse().unwrap();
        Self {
            clock: Arc::new(TokioClock::starting_at(t0)),
        }
    }
    fn invocation(&self, budget_secs: u64) -> Invocation {
        Invocation::new(
            "req",
            Deadline::after(Duration::from_secs(budget_secs)),
            self.clock.clone(),
        )
    }
}

fn s3_body(key: &str) -> String {
    json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "site"}, "object": {"key": key}}}]})
    .to_string()
}

fn batch(messages: &[(&str, String)]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body)| {
            json!({"messageId": id, "receiptHandle": format!("rh-{id}"), "body": body,
                "attributes": {"ApproximateReceiveCount": "1"}, "eventSource": "aws:sqs"})
        })
        .collect();
    json!({ "Records": records })
}

fn failures(out: &Value) -> Vec<String> {
    out["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_string())
        .collect()
}

/// The triggers sent so far, as the queue would deliver them.
fn delivered(h: &TestHandler) -> Vec<(Value, u32)> {
    h.trigger
        .take()
        .into_iter()
        .enumerate()
        .map(|(n, (body, delay))| (batch(&[(&format!("trigger-{n}"), body)]), delay))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_sync_in_batches_is_one_invalidation_after_the_quiet_time() {
    let h = handler();
    let clock = Clock::start();
    let first = batch(&[
        ("m1", s3_body("www/index.html")),
        ("m2", s3_body("www/blog/a.html")),
        ("m3", s3_body("www/_next/static/x.js")),
    ]);
    let out = h.handle_json(&first, &clock.invocation(60)).await.unwrap();
    assert!(failures(&out).is_empty(), "{out}");
    let triggers = delivered(&h);
    assert_eq!(triggers.len(), 1);
    assert_eq!(triggers[0].1, 60, "the trigger waits for the quiet time");

    tokio::time::advance(Duration::from_secs(30)).await;
    let second = batch(&[("m4", s3_body("www/blog/b.html"))]);
    h.handle_json(&second, &clock.invocation(60)).await.unwrap();
    assert!(delivered(&h).is_empty(), "one trigger per generation");

    // The trigger arrives at 60 s; the last change was at 30 s: not quiet yet.
    tokio::time::advance(Duration::from_secs(30)).await;
    let out = h
        .handle_json(&triggers[0].0, &clock.invocation(60))
        .await
        .unwrap();
    assert!(failures(&out).is_empty());
    assert!(h.invalidator.cloudfront.created.lock().unwrap().is_empty());
    let next = delivered(&h);
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].1, 30, "sent again for the due time");

    tokio::time::advance(Duration::from_secs(30)).await;
    let out = h
        .handle_json(&next[0].0, &clock.invocation(60))
        .await
        .unwrap();
    assert!(failures(&out).is_empty(), "{out}");
    let created = h.invalidator.cloudfront.created.lock().unwrap().clone();
    assert_eq!(created.len(), 1);
    let (paths, reference) = &created[0];
    assert_eq!(
        paths,
        &vec!["/", "/blog/a.html", "/blog/b.html", "/index.html"]
    );
    assert!(reference.starts_with(&format!("gc-{DIST}-")), "{reference}");
    let state = h.store.state();
    let record = &state.records[reference];
    assert_eq!(record.state, FlushState::Done);
    assert_eq!(
        state.usage["2026-12"], 4,
        "the month's counter has the paths billed"
    );
    assert!(state.heads.is_empty());
}

#[tokio::test(start_paused = true)]
async fn retried_and_recomposed_batches_and_repeated_triggers_are_billed_once() {
    let h = handler();
    let clock = Clock::start();
    let first = batch(&[("m1", s3_body("www/a.html")), ("m2", s3_body("www/b.html"))]);
    h.handle_json(&first, &clock.invocation(60)).await.unwrap();
    // Lambda timed out before deleting the batch: the same batch again.
    let again = h.handle_json(&first, &clock.invocation(60)).await.unwrap();
    assert!(failures(&again).is_empty());
    let triggers = delivered(&h);
    assert_eq!(triggers.len(), 1);
    tokio::time::advance(Duration::from_secs(61)).await;
    h.handle_json(&triggers[0].0, &clock.invocation(60))
        .await
        .unwrap();
    // SQS delivers the trigger twice: nothing more.
    h.handle_json(&triggers[0].0, &clock.invocation(60))
        .await
        .unwrap();
    assert_eq!(h.invalidator.cloudfront.created.lock().unwrap().len(), 1);

    // After the flush, a re-composed batch: m2 again beside a new m3. Only m3 is new.
    let recomposed = batch(&[("m2", s3_body("www/b.html")), ("m3", s3_body("www/c.html"))]);
    let out = h
        .handle_json(&recomposed, &clock.invocation(60))
        .await
        .unwrap();
    assert!(failures(&out).is_empty());
    let triggers = delivered(&h);
    tokio::time::advance(Duration::from_secs(61)).await;
    h.handle_json(&triggers[0].0, &clock.invocation(60))
        .await
        .unwrap();
    let created = h.invalidator.cloudfront.created.lock().unwrap().clone();
    assert_eq!(created.len(), 2);
    assert_eq!(created[1].0, vec!["/c.html"], "m2 was billed once, before");
    assert_eq!(h.store.state().usage["2026-12"], 3);
}

#[tokio::test(start_paused = true)]
async fn a_deploy_that_never_goes_quiet_is_flushed_at_the_maximum_wait() {
    let h = handler();
    let clock = Clock::start();
    let mut flushed_at = None;
    // A change every 40 s for 10 minutes; triggers delivered when their delay is up.
    let mut due: Vec<(u64, Value)> = Vec::new();
    for second in 0..600u64 {
        if second % 40 == 0 {
            let b = batch(&[(
                &format!("m{second}"),
                s3_body(&format!("www/p{second}.html")),
            )]);
            h.handle_json(&b, &clock.invocation(60)).await.unwrap();
        }
        loop {
            due.extend(
                delivered(&h)
                    .into_iter()
                    .map(|(body, delay)| (second + delay as u64, body)),
            );
            let Some(n) = due.iter().position(|(at, _)| *at <= second) else {
                break;
            };
            let (_, body) = due.remove(n);
            h.handle_json(&body, &clock.invocation(60)).await.unwrap();
            if flushed_at.is_none() && !h.invalidator.cloudfront.created.lock().unwrap().is_empty()
            {
                flushed_at = Some(second);
            }
        }
        tokio::time::advance(Duration::from_secs(1)).await;
    }
    assert_eq!(
        flushed_at,
        Some(300),
        "flushed when the first change was 300 s old"
    );
    let created = h.invalidator.cloudfront.created.lock().unwrap().clone();
    assert_eq!(created[0].0.len(), 8, "changes at 0, 40, ..., 280 s");
}

#[tokio::test(start_paused = true)]
async fn a_flush_cut_short_by_cloudfront_limits_resumes_with_the_same_reference() {
    let h = handler();
    let clock = Clock::start();
    h.handle_json(
        &batch(&[("m1", s3_body("www/a.html"))]),
        &clock.invocation(60),
    )
    .await
    .unwrap();
    let triggers = delivered(&h);
    tokio::time::advance(Duration::from_secs(61)).await;
    // CloudFront stays busy longer than this invocation may wait.
    h.invalidator.cloudfront.busy.store(100, Ordering::SeqCst);
    let out = h
        .handle_json(&triggers[0].0, &clock.invocation(5))
        .await
        .unwrap();
    assert_eq!(
        failures(&out),
        vec!["trigger-0"],
        "the trigger goes back to the queue"
    );
    assert_eq!(
        h.trigger.take_returned(),
        vec![("rh-trigger-0".to_string(), 60)],
        "and comes back in a minute, not after the queue's 1,800 s visibility timeout"
    );
    let flush_id = {
        let state = h.store.state();
        let (id, record) = state.records.iter().next().unwrap();
        assert_eq!(record.state, FlushState::Sealed);
        id.clone()
    };
    // New changes meanwhile start a new generation; they do not join the sealed one.
    h.handle_json(
        &batch(&[("m2", s3_body("www/b.html"))]),
        &clock.invocation(60),
    )
    .await
    .unwrap();
    h.invalidator.cloudfront.busy.store(0, Ordering::SeqCst);
    // SQS delivers the trigger again a minute later.
    tokio::time::advance(Duration::from_secs(60)).await;
    let out = h
        .handle_json(&triggers[0].0, &clock.invocation(60))
        .await
        .unwrap();
    assert!(failures(&out).is_empty(), "{out}");
    let created = h.invalidator.cloudfront.created.lock().unwrap().clone();
    assert_eq!(created, vec![(vec!["/a.html".to_string()], flush_id)]);
}

#[tokio::test(start_paused = true)]
async fn bad_messages_go_back_alone_and_a_direct_flush_flushes_now() {
    let h = handler();
    let clock = Clock::start();
    let mixed = batch(&[
        ("good", s3_body("www/a.html")),
        ("garbled", "not json".to_string()),
        (
            "unmapped",
            json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": "elsewhere"}, "object": {"key": "a"}}}]})
            .to_string(),
        ),
        (
            "test-event",
            json!({"Service": "Amazon S3", "Event": "s3:TestEvent"}).to_string(),
        ),
    ]);
    let out = h.handle_json(&mixed, &clock.invocation(60)).await.unwrap();
    assert_eq!(failures(&out), vec!["garbled", "unmapped"]);
    // An operator flushes every pending deploy at once, quiet or not.
    let out = h
        .handle_json(&json!({"action": "flush"}), &clock.invocation(60))
        .await
        .unwrap();
    assert_eq!(out["flushed"][0]["status"], "flushed", "{out}");
    assert_eq!(out["flushed"][0]["paths_gathered"], 1);
    let out = h
        .handle_json(
            &json!({"action": "flush", "distribution": "app.example.com"}),
            &clock.invocation(60),
        )
        .await
        .unwrap();
    assert_eq!(out["flushed"][0]["status"], "nothing-pending");
    // A record without a messageId cannot be returned alone: nothing is done.
    let err = h
        .handle_json(
            &json!({"Records": [{"eventSource": "aws:sqs", "body": s3_body("www/z.html")}]}),
            &clock.invocation(60),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("messageId"), "{err}");
    assert!(h.store.state().heads.is_empty());
}

#[tokio::test(start_paused = true)]
async fn direct_invokes_and_deploy_events_count_against_the_month_once_each() {
    let h = handler();
    let clock = Clock::start();
    let direct = json!({"distribution": "app.example.com", "paths": ["/a.html", "/b.html"], "deployment_id": "d1"});
    h.handle_json(&direct, &clock.invocation(60)).await.unwrap();
    assert_eq!(h.store.state().usage["2026-12"], 2);
    // Lambda retries the same event: the same invalidation, counted once.
    h.handle_json(&direct, &clock.invocation(60)).await.unwrap();
    assert_eq!(h.invalidator.cloudfront.created.lock().unwrap().len(), 1);
    assert_eq!(h.store.state().usage["2026-12"], 2);
    // A deploy event is another invalidation, counted too; and the free paths left shrink.
    let deploy = json!({"source": "groundcrew.deploy", "detail-type": "Deploy Completed", "id": "ev-1",
        "detail": {"distribution": "app.example.com", "paths": ["/c.html"]}});
    h.handle_json(&deploy, &clock.invocation(60)).await.unwrap();
    assert_eq!(h.store.state().usage["2026-12"], 3);
    assert_eq!(
        h.free_paths_left(&clock.invocation(60)).await,
        h.invalidator.config.free_paths_per_month - 3
    );
}

#[tokio::test(start_paused = true)]
async fn a_retried_flush_submits_the_batches_of_its_first_plan() {
    let mut h = handler();
    h.invalidator.config.plan.max_paths_per_batch = 10;
    let clock = Clock::start();
    // 25 pages under /blog/: a wildcard's worth blind (BLIND_WILDCARD_MIN_FILES 20), but
    // while the month's free paths last the exact list costs nothing: 3 batches.
    let messages: Vec<(String, String)> = (0..25)
        .map(|n| (format!("m{n}"), s3_body(&format!("www/blog/p{n:02}.html"))))
        .collect();
    let refs: Vec<(&str, String)> = messages
        .iter()
        .map(|(id, body)| (id.as_str(), body.clone()))
        .collect();
    h.handle_json(&batch(&refs), &clock.invocation(60))
        .await
        .unwrap();
    let triggers = delivered(&h);
    tokio::time::advance(Duration::from_secs(61)).await;
    // The first batch goes through; CloudFront's in-progress limit refuses the second.
    *h.invalidator.cloudfront.room.lock().unwrap() = Some(1);
    let out = h
        .handle_json(&triggers[0].0, &clock.invocation(30))
        .await
        .unwrap();
    assert_eq!(failures(&out), vec!["trigger-0"], "{out}");
    assert_eq!(h.invalidator.cloudfront.created.lock().unwrap().len(), 1);
    // Meanwhile other invalidations used up the month's free paths: planned again now,
    // /blog/* would be cheaper, and the first batch's reference would name other paths.
    h.store.state().usage.insert("2026-12".into(), 990);
    *h.invalidator.cloudfront.room.lock().unwrap() = None;
    tokio::time::advance(Duration::from_secs(60)).await;
    let out = h
        .handle_json(&triggers[0].0, &clock.invocation(60))
        .await
        .unwrap();
    assert!(failures(&out).is_empty(), "{out}");
    let created = h.invalidator.cloudfront.created.lock().unwrap().clone();
    let sizes: Vec<usize> = created.iter().map(|(paths, _)| paths.len()).collect();
    assert_eq!(
        sizes,
        vec![10, 10, 5],
        "the first plan's batches, each once"
    );
    assert_eq!(h.store.state().usage["2026-12"], 990 + 25);
}

#[tokio::test(start_paused = true)]
async fn a_retried_direct_invoke_submits_the_batches_of_its_first_plan() {
    let mut h = handler();
    h.invalidator.config.plan.max_paths_per_batch = 10;
    let clock = Clock::start();
    let paths: Vec<String> = (0..25).map(|n| format!("/blog/p{n:02}.html")).collect();
    let direct = json!({"distribution": "app.example.com", "paths": paths, "deployment_id": "d1"});
    *h.invalidator.cloudfront.room.lock().unwrap() = Some(1);
    h.handle_json(&direct, &clock.invocation(20))
        .await
        .unwrap_err();
    h.store.state().usage.insert("2026-12".into(), 990);
    *h.invalidator.cloudfront.room.lock().unwrap() = None;
    // Lambda's asynchronous retry, a minute later: the same event.
    tokio::time::advance(Duration::from_secs(60)).await;
    h.handle_json(&direct, &clock.invocation(60)).await.unwrap();
    let created = h.invalidator.cloudfront.created.lock().unwrap().clone();
    let sizes: Vec<usize> = created.iter().map(|(paths, _)| paths.len()).collect();
    assert_eq!(
        sizes,
        vec![10, 10, 5],
        "no second invalidation of the first batch"
    );
}

#[tokio::test(start_paused = true)]
async fn a_notification_that_fails_comes_back_in_a_minute_not_half_an_hour() {
    let h = handler();
    let clock = Clock::start();
    let mut event = batch(&[
        ("good", s3_body("www/a.html")),
        ("bad", "not a notification".to_string()),
    ]);
    // The unreadable one has been received twice already.
    event["Records"][1]["attributes"]["ApproximateReceiveCount"] = json!("3");
    let out = h.handle_json(&event, &clock.invocation(60)).await.unwrap();
    assert_eq!(failures(&out), vec!["bad"], "only the bad message fails");
    assert_eq!(
        h.trigger.take_returned(),
        vec![("rh-bad".to_string(), 180)],
        "it comes back in 60 s times its receive count (then the dead-letter queue), \
         not after the queue's 1,800 s visibility timeout"
    );
}
