//! Local-AWS tests: the real SDK clients against moto (CloudFront, tags, S3).
//! moto has no CodePipeline job API; those calls are covered in `standins.rs`.

mod common;

use std::time::Duration;

use aws_sdk_cloudfront::types::{
    Aliases, DefaultCacheBehavior, DistributionConfig, DistributionConfigWithTags, Origin, Origins,
    S3OriginConfig, Tag, Tags, ViewerProtocolPolicy,
};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use cloudfront_invalidate::aws::dynamo::SdkPending;
use cloudfront_invalidate::aws::{
    FlushTrigger, Pipeline, SdkCloudFront, SdkPipeline, SdkQueue, SdkS3,
};
use cloudfront_invalidate::config::{Config, SiteBucket};
use cloudfront_invalidate::error::AwsError;
use cloudfront_invalidate::handler::Handler;
use cloudfront_invalidate::invalidate::Invalidator;
use cloudfront_invalidate::manifest::{ArtifactCredentials, ArtifactLocation};
use cloudfront_invalidate::memory::MemoryStore;
use cloudfront_invalidate::store::{Chunk, Head, PendingStore};
use common::HandleJson;
use groundcrew::testing::{new_bucket, unique_name};
use groundcrew::Invocation;
use serde_json::{json, Value};

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

async fn create_distribution(
    cf: &aws_sdk_cloudfront::Client,
    alias: &str,
    tag: (&str, &str),
) -> String {
    let config = DistributionConfig::builder()
        .caller_reference(unique_name("ref"))
        .aliases(Aliases::builder().quantity(1).items(alias).build().unwrap())
        .origins(
            Origins::builder()
                .quantity(1)
                .items(
                    Origin::builder()
                        .id("site")
                        .domain_name("site.s3.amazonaws.com")
                        .s3_origin_config(
                            S3OriginConfig::builder().origin_access_identity("").build(),
                        )
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .default_cache_behavior(
            DefaultCacheBehavior::builder()
                .target_origin_id("site")
                .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
                .cache_policy_id("658327ea-f89d-4fab-a63d-7e88639e58f6")
                .build()
                .unwrap(),
        )
        .comment("cloudfront-invalidate test")
        .enabled(true)
        .build()
        .unwrap();
    let out = cf
        .create_distribution_with_tags()
        .distribution_config_with_tags(
            DistributionConfigWithTags::builder()
                .distribution_config(config)
                .tags(
                    Tags::builder()
                        .items(Tag::builder().key(tag.0).value(tag.1).build().unwrap())
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("moto creates the distribution");
    out.distribution().unwrap().id().to_string()
}

type LocalHandler = Handler<SdkCloudFront, SdkS3, NoPipeline, SdkPending, SdkQueue>;

/// A pending-deploy table and a deploy queue of this test's own in the local AWS.
async fn pending_resources(sdk: &aws_config::SdkConfig) -> (String, String) {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    let table = unique_name("pending");
    ddb.create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("sk")
                .key_type(KeyType::Range)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("sk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("moto creates the table");
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let queue = sqs
        .create_queue()
        .queue_name(unique_name("deploys"))
        .send()
        .await
        .expect("moto creates the queue");
    (table, queue.queue_url().unwrap().to_string())
}

async fn handler(sdk: &aws_config::SdkConfig, config: Config) -> LocalHandler {
    handler_with(sdk, config, NoPipeline).await
}

async fn handler_with<P: Pipeline>(
    sdk: &aws_config::SdkConfig,
    config: Config,
    pipeline: P,
) -> Handler<SdkCloudFront, SdkS3, P, SdkPending, SdkQueue> {
    let (table, queue_url) = pending_resources(sdk).await;
    let config = Config {
        pending_table: Some(table.clone()),
        flush_queue_url: Some(queue_url.clone()),
        ..config
    };
    Handler {
        invalidator: Invalidator::new(SdkCloudFront::new(sdk), SdkS3::new(sdk), config),
        pipeline,
        store: SdkPending::new(sdk, table),
        trigger: SdkQueue::new(sdk, queue_url),
    }
}

fn invocation(id: &str) -> Invocation {
    Invocation::with_budget(id, Duration::from_secs(60))
}

async fn caller_reference_of(
    cf: &aws_sdk_cloudfront::Client,
    dist: &str,
    id: &str,
) -> (String, Vec<String>) {
    let out = cf
        .get_invalidation()
        .distribution_id(dist)
        .id(id)
        .send()
        .await
        .unwrap();
    let batch = out.invalidation().unwrap().invalidation_batch().unwrap();
    (
        batch.caller_reference().to_string(),
        batch.paths().unwrap().items().to_vec(),
    )
}

#[tokio::test]
async fn resolves_by_alias_and_tag_and_invalidates_a_small_deploy() {
    let sdk = groundcrew::require_local_aws!();
    let cf = aws_sdk_cloudfront::Client::new(&sdk);
    let alias = format!("{}.example.test", unique_name("app"));
    let tag_value = unique_name("site");
    let id = create_distribution(&cf, &alias, ("groundcrew:site", &tag_value)).await;
    let h = handler(&sdk, Config::default()).await;

    let event = json!({"distribution": alias, "paths": ["/index.html", "/blog/post.html", "/_next/static/chunks/a.js"], "deployment_id": "d1", "wait": true});
    let out = h.handle_json(&event, &invocation("req-1")).await.unwrap();
    assert_eq!(out["distribution_id"], id);
    assert_eq!(out["status"], "Completed");
    assert_eq!(out["paths_billed"], 3, "{out}");
    assert_eq!(out["immutable_dropped"], 1);
    let inv = out["invalidation_ids"][0].as_str().unwrap();
    let (reference, paths) = caller_reference_of(&cf, &id, inv).await;
    assert_eq!(reference, out["caller_references"][0]);
    let mut paths = paths;
    paths.sort();
    assert_eq!(paths, vec!["/", "/blog/post.html", "/index.html"]);

    let by_tag =
        json!({"distribution": format!("tag:groundcrew:site={tag_value}"), "paths": ["/a.html"]});
    let out = h.handle_json(&by_tag, &invocation("req-2")).await.unwrap();
    assert_eq!(out["distribution_id"], id);
}

#[tokio::test]
async fn a_retried_event_sends_the_same_caller_reference() {
    let sdk = groundcrew::require_local_aws!();
    let cf = aws_sdk_cloudfront::Client::new(&sdk);
    let alias = format!("{}.example.test", unique_name("retry"));
    let id = create_distribution(&cf, &alias, ("k", "v")).await;
    let h = handler(&sdk, Config::default()).await;
    let event = json!({
        "id": "ev-1", "source": "groundcrew.deploy", "detail-type": "Deploy Completed",
        "detail": {"distribution": alias, "deployment_id": "web-7", "paths": ["/index.html", "/about.html"]}
    });
    let first = h.handle_json(&event, &invocation("req-a")).await.unwrap();
    let second = h.handle_json(&event, &invocation("req-b")).await.unwrap();
    assert_eq!(first["caller_references"], second["caller_references"]);
    // What CloudFront received both times carries the same reference, so real CloudFront
    // answers the retry with the first invalidation (moto does not implement that and
    // creates a second one: see the README).
    for out in [&first, &second] {
        let inv = out["invalidation_ids"][0].as_str().unwrap();
        let (reference, _) = caller_reference_of(&cf, &id, inv).await;
        assert_eq!(reference, first["caller_references"][0]);
    }
}

#[tokio::test]
async fn a_ten_thousand_file_deploy_fits_the_limits() {
    let sdk = groundcrew::require_local_aws!();
    let cf = aws_sdk_cloudfront::Client::new(&sdk);
    let alias = format!("{}.example.test", unique_name("big"));
    let id = create_distribution(&cf, &alias, ("k", "v")).await;
    let h = handler(&sdk, Config::default()).await;
    let mut paths: Vec<String> = Vec::new();
    for n in 0..4000 {
        paths.push(format!("/_next/static/chunks/{n}-abc.js"));
    }
    for n in 0..3000 {
        paths.push(format!("/blog/post-{n}/index.html"));
        paths.push(format!("/_next/data/build-9/blog/post-{n}.json"));
    }
    assert_eq!(paths.len(), 10_000);
    let out = h
        .handle_json(
            &json!({"distribution": alias, "paths": paths, "deployment_id": "big-1"}),
            &invocation("req"),
        )
        .await
        .unwrap();
    let billed = out["paths_billed"].as_u64().unwrap();
    assert!(billed <= 15, "{out}");
    assert_eq!(out["immutable_dropped"], 4000);
    assert!(out["naive_paths"].as_u64().unwrap() >= 10_000);
    let inv = out["invalidation_ids"][0].as_str().unwrap();
    let (_, sent) = caller_reference_of(&cf, &id, inv).await;
    assert_eq!(sent.len() as u64, billed);
    assert!(sent
        .iter()
        .all(|p| p.starts_with('/') && !p.starts_with("/_next/static/")));
}

#[tokio::test]
async fn bucket_inventory_from_s3_shapes_the_plan() {
    let sdk = groundcrew::require_local_aws!();
    let cf = aws_sdk_cloudfront::Client::new(&sdk);
    let (s3, bucket) = new_bucket(&sdk, "site").await;
    let alias = format!("{}.example.test", unique_name("inv"));
    create_distribution(&cf, &alias, ("k", "v")).await;
    for key in [
        "www/index.html",
        "www/docs/a.html",
        "www/docs/b.html",
        "www/shop/x.html",
        "www/shop/y.html",
        "other/z.html",
    ] {
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .body(b"x".to_vec().into())
            .send()
            .await
            .unwrap();
    }
    let config = Config {
        site_buckets: vec![SiteBucket {
            bucket: bucket.clone(),
            prefix: "www".into(),
            distribution: alias.clone(),
        }],
        // No free paths left: a wildcard that evicts nothing unchanged is worth it.
        free_paths_per_month: 0,
        ..Config::default()
    };
    let h = handler(&sdk, config).await;
    let event = json!({"Records": [
        {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": bucket}, "object": {"key": "www/docs/a.html", "sequencer": "1"}}},
        {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": bucket}, "object": {"key": "www/docs/b.html", "sequencer": "2"}}},
        {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": bucket}, "object": {"key": "www/shop/x.html", "sequencer": "3"}}}
    ]});
    // Notifications invoked directly are gathered like the queue's, then flushed.
    let out = h.handle_json(&event, &invocation("req")).await.unwrap();
    assert_eq!(out["gathered"][0]["appended"], 1, "{out}");
    let out = h
        .handle_json(
            &json!({"action": "flush", "distribution": alias}),
            &invocation("flush"),
        )
        .await
        .unwrap();
    assert_eq!(out["flushed"][0]["status"], "flushed", "{out}");
    let result = &out["flushed"][0]["outcome"];
    assert_eq!(result["inventory"], "bucket");
    // Every file in /docs/ changed: one wildcard; /shop/ only partly: exact path.
    assert_eq!(result["wildcards"], json!(["/docs/*"]), "{out}");
    assert_eq!(result["paths"], json!(["/docs/*", "/shop/x.html"]));
    assert_eq!(result["collateral_files"], 0);
}

#[tokio::test]
async fn malformed_and_unknown_inputs_act_on_nothing() {
    let sdk = groundcrew::require_local_aws!();
    let cf = aws_sdk_cloudfront::Client::new(&sdk);
    let alias = format!("{}.example.test", unique_name("bad"));
    let id = create_distribution(&cf, &alias, ("k", "v")).await;
    let h = handler(&sdk, Config::default()).await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({"distribution": alias, "paths": ["/a*b"]}), "`*`"),
        (
            json!({"distribution": alias, "paths": "/a"}),
            "invalid type",
        ),
        (
            json!({"distribution": format!("nope-{alias}"), "paths": ["/a"]}),
            "unknown distribution",
        ),
        (
            json!({"distribution": "EZZZZZZZZZZZZ", "paths": ["/a"]}),
            "unknown distribution",
        ),
        (
            json!({"source": "aws.ec2", "detail-type": "x", "detail": {}}),
            "not handled",
        ),
    ];
    for (event, expected) in cases {
        let err = h
            .handle_json(&event, &invocation("req"))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{event}: {err}");
    }
    let list = cf
        .list_invalidations()
        .distribution_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(list.invalidation_list().unwrap().quantity(), 0);
    // Outside the configured distributions: refused before anything is sent.
    let restricted = handler(
        &sdk,
        Config {
            distributions: vec!["EOTHER1234567".into()],
            ..Config::default()
        },
    )
    .await;
    let err = restricted
        .handle_json(
            &json!({"distribution": id, "paths": ["/a"]}),
            &invocation("req"),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("not among the configured DISTRIBUTIONS"),
        "{err}"
    );
}

fn s3_body(bucket: &str, key: &str) -> String {
    json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-12-01T10:00:00.000Z", "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
               "object": {"key": key, "size": 12, "sequencer": "0065"}}}]})
    .to_string()
}

/// Receives what the queue holds now as the SQS event Lambda would deliver.
async fn receive(sqs: &aws_sdk_sqs::Client, queue_url: &str, wait: i32) -> Value {
    let mut records = Vec::new();
    loop {
        let out = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(if records.is_empty() { wait } else { 0 })
            .send()
            .await
            .unwrap();
        let messages = out.messages();
        if messages.is_empty() {
            break;
        }
        for m in messages {
            records.push(
                json!({"messageId": m.message_id(), "receiptHandle": m.receipt_handle(),
                "body": m.body(), "attributes": {}, "messageAttributes": {}, "md5OfBody": "",
                "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
                "awsRegion": "us-east-1"}),
            );
        }
    }
    json!({ "Records": records })
}

#[tokio::test]
async fn an_s3_sync_through_the_queue_is_one_invalidation_billed_once() {
    let sdk = groundcrew::require_local_aws!();
    let cf = aws_sdk_cloudfront::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let alias = format!("{}.example.test", unique_name("sync"));
    let id = create_distribution(&cf, &alias, ("k", "v")).await;
    let bucket = unique_name("sync").to_lowercase();
    let config = Config {
        site_buckets: vec![SiteBucket {
            bucket: bucket.clone(),
            prefix: String::new(),
            distribution: alias.clone(),
        }],
        bucket_inventory: false,
        quiet: Duration::from_secs(1),
        max_wait: Duration::from_secs(2),
        ..Config::default()
    };
    let h = handler(&sdk, config).await;
    let queue_url = h.trigger.queue_url.clone();
    // An `aws s3 sync` of 25 objects: 25 notifications on the queue, two of them for
    // immutable assets.
    let mut keys: Vec<String> = (0..23).map(|n| format!("blog/post-{n}.html")).collect();
    keys.push("_next/static/chunks/a-1.js".into());
    keys.push("_next/static/chunks/b-2.js".into());
    for key in &keys {
        sqs.send_message()
            .queue_url(&queue_url)
            .message_body(s3_body(&bucket, key))
            .send()
            .await
            .unwrap();
    }
    let batch = receive(&sqs, &queue_url, 1).await;
    assert_eq!(batch["Records"].as_array().unwrap().len(), 25);
    let out = h.handle_json(&batch, &invocation("batch-1")).await.unwrap();
    assert_eq!(out["batchItemFailures"], json!([]), "{out}");
    // Lambda timed out before deleting the batch: it comes again; nothing is added.
    let again = h
        .handle_json(&batch, &invocation("batch-1b"))
        .await
        .unwrap();
    assert_eq!(again["batchItemFailures"], json!([]), "{again}");

    // The flush trigger comes back through the queue once the deploy is quiet.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let trigger = receive(&sqs, &queue_url, 3).await;
    let triggers = trigger["Records"].as_array().unwrap().len();
    assert_eq!(triggers, 1, "{trigger}");
    let flushed = h
        .handle_json(&trigger, &invocation("trigger"))
        .await
        .unwrap();
    assert_eq!(flushed["batchItemFailures"], json!([]), "{flushed}");
    // The trigger delivered twice (SQS is at least once) changes nothing.
    let twice = h
        .handle_json(&trigger, &invocation("trigger-2"))
        .await
        .unwrap();
    assert_eq!(twice["batchItemFailures"], json!([]), "{twice}");

    let list = cf
        .list_invalidations()
        .distribution_id(&id)
        .send()
        .await
        .unwrap();
    let items = list.invalidation_list().unwrap().items().to_vec();
    assert_eq!(items.len(), 1, "one invalidation for the whole sync");
    let (reference, mut paths) = caller_reference_of(&cf, &id, items[0].id()).await;
    assert!(reference.starts_with(&format!("gc-{id}-")), "{reference}");
    paths.sort();
    let mut expected: Vec<String> = keys[..23].iter().map(|k| format!("/{k}")).collect();
    expected.sort();
    // The month's free paths are not used up: the exact list costs nothing and evicts
    // nothing (no bucket listing either), so it is the plan.
    assert_eq!(paths, expected);
    // A later re-delivery of the same batch (a new generation would bill it again).
    let late = h.handle_json(&batch, &invocation("late")).await.unwrap();
    assert_eq!(late["batchItemFailures"], json!([]));
    let flush_all = h
        .handle_json(&json!({"action": "flush"}), &invocation("op"))
        .await
        .unwrap();
    assert_eq!(flush_all["flushed"], json!([]), "{flush_all}");
    let after = cf
        .list_invalidations()
        .distribution_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(after.invalidation_list().unwrap().items().len(), 1);
}

/// The same sequence against the DynamoDB adapter (moto) and the in-memory store: both
/// keep the store's contract (conditions, sealing, finishing once, the month's counter).
async fn store_contract<S: PendingStore>(store: &S) -> Vec<String> {
    let mut seen = Vec::new();
    let chunk = |keys: &[&str], paths: &[&str], now: i64, create: bool| Chunk {
        distribution: "E1".into(),
        flush_id: "f1".into(),
        chunk_id: keys[0].to_string(),
        message_keys: keys.iter().map(|k| k.to_string()).collect(),
        paths: paths.iter().map(|p| p.to_string()).collect(),
        now,
        create,
    };
    let mut note = |what: &str, v: String| seen.push(format!("{what}: {v}"));
    note(
        "head before",
        format!("{:?}", store.head("E1").await.unwrap()),
    );
    let c1 = chunk(&["E1#m1", "E1#m2"], &["/a", "/b"], 100, true);
    note(
        "append creating",
        format!("{}", store.append(&c1).await.unwrap()),
    );
    note(
        "append creating again",
        format!(
            "{}",
            store
                .append(&chunk(&["E1#m3"], &["/c"], 101, true))
                .await
                .unwrap()
        ),
    );
    note(
        "append a taken message",
        format!(
            "{}",
            store
                .append(&chunk(&["E1#m2", "E1#m4"], &["/d"], 102, false))
                .await
                .unwrap()
        ),
    );
    note(
        "append",
        format!(
            "{}",
            store
                .append(&chunk(&["E1#m4"], &["/d", "/a"], 110, false))
                .await
                .unwrap()
        ),
    );
    let keys: Vec<String> = ["E1#m1", "E1#m2", "E1#m4", "E1#m9"]
        .iter()
        .map(|k| k.to_string())
        .collect();
    note("taken", format!("{:?}", store.taken(&keys).await.unwrap()));
    store.arm("E1", "f1").await.unwrap();
    let head = store.head("E1").await.unwrap().unwrap();
    note(
        "head",
        format!(
            "{} {} {} {} {}",
            head.flush_id, head.first_at, head.last_at, head.messages, head.armed
        ),
    );
    note("heads", format!("{}", store.heads().await.unwrap().len()));
    let stale = Head {
        flush_id: "f0".into(),
        ..head.clone()
    };
    note(
        "seal a stale head",
        format!("{}", store.seal(&stale, 200).await.unwrap()),
    );
    note("seal", format!("{}", store.seal(&head, 200).await.unwrap()));
    note(
        "seal again",
        format!("{}", store.seal(&head, 201).await.unwrap()),
    );
    note(
        "append after sealing",
        format!(
            "{}",
            store
                .append(&chunk(&["E1#m5"], &["/e"], 202, false))
                .await
                .unwrap()
        ),
    );
    note("paths", format!("{:?}", store.paths("f1").await.unwrap()));
    let record = store.flush_record("f1").await.unwrap().unwrap();
    note(
        "record",
        format!(
            "{:?} {} {}",
            record.state, record.first_at, record.sealed_at
        ),
    );
    note(
        "finish",
        format!("{}", store.finish("f1", "{}", "2026-12", 3).await.unwrap()),
    );
    note(
        "finish again",
        format!("{}", store.finish("f1", "{}", "2026-12", 3).await.unwrap()),
    );
    note(
        "usage",
        format!("{}", store.usage("2026-12").await.unwrap()),
    );
    note(
        "state",
        format!(
            "{:?}",
            store.flush_record("f1").await.unwrap().unwrap().state
        ),
    );
    // A plan's wildcards, kept once: the first writer wins, none at all is kept too.
    note(
        "kept plan before",
        format!("{:?}", store.kept_plan("f1").await.unwrap()),
    );
    let wildcards = vec!["/blog/*".to_string(), "/docs/*".to_string()];
    note(
        "keep plan",
        format!("{}", store.keep_plan("f1", &wildcards, 300).await.unwrap()),
    );
    note(
        "keep another plan",
        format!("{}", store.keep_plan("f1", &[], 301).await.unwrap()),
    );
    note(
        "kept plan",
        format!("{:?}", store.kept_plan("f1").await.unwrap()),
    );
    note(
        "keep an empty plan",
        format!("{}", store.keep_plan("E1#d1", &[], 302).await.unwrap()),
    );
    note(
        "kept empty plan",
        format!("{:?}", store.kept_plan("E1#d1").await.unwrap()),
    );
    seen
}

#[tokio::test]
async fn the_dynamodb_store_keeps_the_same_contract_as_the_memory_store() {
    let sdk = groundcrew::require_local_aws!();
    let (table, _) = pending_resources(&sdk).await;
    let dynamo = SdkPending::new(&sdk, table);
    let on_moto = store_contract(&dynamo).await;
    let in_memory = store_contract(&MemoryStore::default()).await;
    assert_eq!(on_moto, in_memory);
    // And the answers are the contract's (not merely equal).
    let expected_false = [
        "append creating again",
        "append a taken message",
        "seal a stale head",
        "seal again",
        "append after sealing",
        "finish again",
        "keep another plan",
    ];
    for line in &on_moto {
        let (what, value) = line.split_once(": ").unwrap();
        if expected_false.contains(&what) {
            assert_eq!(value, "false", "{line}");
        }
    }
    assert!(
        on_moto.contains(&"paths: [\"/a\", \"/b\", \"/d\"]".to_string()),
        "{on_moto:?}"
    );
    assert!(on_moto.contains(&"usage: 3".to_string()), "{on_moto:?}");
    assert!(
        on_moto.contains(&"kept plan: Some([\"/blog/*\", \"/docs/*\"])".to_string()),
        "{on_moto:?}"
    );
    assert!(
        on_moto.contains(&"kept empty plan: Some([])".to_string()),
        "{on_moto:?}"
    );
}

/// A failed flush trigger is returned to the queue early (ChangeMessageVisibility on its
/// receipt handle), not after the queue's visibility timeout.
#[tokio::test]
async fn a_failed_trigger_comes_back_early_not_after_the_visibility_timeout() {
    let sdk = groundcrew::require_local_aws!();
    let (_, queue_url) = pending_resources(&sdk).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = SdkQueue::new(&sdk, queue_url.clone());
    queue.send("{\"action\": \"flush\"}", 0).await.unwrap();
    let first = sqs
        .receive_message()
        .queue_url(&queue_url)
        .visibility_timeout(1800)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap();
    let receipt = first.messages()[0].receipt_handle().unwrap().to_string();
    queue.return_in(&receipt, 1).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let again = sqs
        .receive_message()
        .queue_url(&queue_url)
        .wait_time_seconds(2)
        .send()
        .await
        .unwrap();
    assert_eq!(again.messages().len(), 1, "back after 1 s, not 1,800");
}

/// The job's artifact from moto's S3 through the real adapter (with the job's artifact
/// credentials); the job's result is recorded here: moto has no CodePipeline job API.
struct ArtifactsFromS3 {
    sdk: SdkPipeline,
    reported: std::sync::Mutex<Vec<String>>,
}

impl Pipeline for ArtifactsFromS3 {
    async fn artifact(
        &self,
        location: &ArtifactLocation,
        credentials: &ArtifactCredentials,
        max_bytes: u64,
    ) -> Result<Vec<u8>, AwsError> {
        self.sdk.artifact(location, credentials, max_bytes).await
    }
    async fn succeed(&self, job_id: &str) -> Result<(), AwsError> {
        self.reported
            .lock()
            .unwrap()
            .push(format!("{job_id} succeeded"));
        Ok(())
    }
    async fn fail(&self, job_id: &str, message: &str) -> Result<(), AwsError> {
        self.reported
            .lock()
            .unwrap()
            .push(format!("{job_id} failed: {message}"));
        Ok(())
    }
}

fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut out);
        for (name, body) in files {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(body.as_bytes()).unwrap();
        }
        w.finish().unwrap();
    }
    out.into_inner()
}

#[tokio::test]
async fn a_codepipeline_job_reads_its_paths_from_the_manifest_in_its_artifact() {
    let sdk = groundcrew::require_local_aws!();
    let cf = aws_sdk_cloudfront::Client::new(&sdk);
    let (s3, bucket) = new_bucket(&sdk, "artifacts").await;
    let alias = format!("{}.example.test", unique_name("pipe"));
    let id = create_distribution(&cf, &alias, ("k", "v")).await;
    let zip = zip_of(&[
        ("index.html", "<html>"),
        ("invalidate.json", r#"["/index.html", "/pricing.html"]"#),
    ]);
    s3.put_object()
        .bucket(&bucket)
        .key("web/BuildArtif/abc123")
        .body(zip.into())
        .send()
        .await
        .unwrap();
    let pipeline = ArtifactsFromS3 {
        sdk: SdkPipeline::new(&sdk),
        reported: Default::default(),
    };
    let h = handler_with(&sdk, Config::default(), pipeline).await;
    let params = json!({"distribution": alias, "manifest": true}).to_string();
    let job = |key: &str| {
        json!({"CodePipeline.job": {"id": "job-manifest", "accountId": "123456789012", "data": {
            "actionConfiguration": {"configuration": {"FunctionName": "f", "UserParameters": params}},
            "inputArtifacts": [{"name": "BuildArtifact", "revision": null, "location": {"type": "S3",
                "s3Location": {"bucketName": bucket, "objectKey": key}}}],
            "outputArtifacts": [],
            "artifactCredentials": {"accessKeyId": "AKIDJOB", "secretAccessKey": "job-secret", "sessionToken": "job-token"},
            "continuationToken": null}}})
    };
    let out = h
        .handle_json(&job("web/BuildArtif/abc123"), &invocation("req-pipe"))
        .await
        .unwrap();
    assert_eq!(out["reported"], "PutJobSuccessResult", "{out}");
    let inv = out["result"]["invalidation_ids"][0].as_str().unwrap();
    let (_, mut paths) = caller_reference_of(&cf, &id, inv).await;
    paths.sort();
    assert_eq!(paths, vec!["/", "/index.html", "/pricing.html"]);
    // No such artifact: the job fails, reported to CodePipeline with what S3 said.
    let err = h
        .handle_json(&job("web/BuildArtif/missing"), &invocation("req-pipe-2"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("reported to CodePipeline as failed"), "{err}");
    let reported = h.pipeline.reported.lock().unwrap().clone();
    assert_eq!(reported[0], "job-manifest succeeded");
    assert!(reported[1].contains("GetObject"), "{reported:?}");
    assert!(!reported[1].contains("job-secret"), "{reported:?}");
}
