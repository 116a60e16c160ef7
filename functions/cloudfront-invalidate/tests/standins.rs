//! HTTP stand-ins for what moto cannot show: CloudFront answering
//! `TooManyInvalidationsInProgress` (the in-progress limits), and CodePipeline's job API.
//! The real SDK clients are pointed at a `wiremock` server (in a deployment the same
//! happens through `AWS_ENDPOINT_URL_CLOUDFRONT` / `AWS_ENDPOINT_URL_CODEPIPELINE`).

mod common;

use std::time::Duration;

use cloudfront_invalidate::aws::{SdkCloudFront, SdkPipeline, SiteListing};
use cloudfront_invalidate::config::Config;
use cloudfront_invalidate::error::AwsError;
use cloudfront_invalidate::handler::Handler;
use cloudfront_invalidate::invalidate::Invalidator;
use cloudfront_invalidate::memory::{MemoryStore, RecordedTrigger};
use common::HandleJson;
use groundcrew::aws::load_sdk_config_for_endpoint;
use groundcrew::retry::RetryPolicy;
use groundcrew::Invocation;
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const DIST: &str = "E2QWRUHAPOMQZL";

struct NoListing;
impl SiteListing for NoListing {
    async fn keys(&self, _: &str, _: &str, _: usize) -> Result<Option<Vec<String>>, AwsError> {
        Ok(None)
    }
}

fn too_many() -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_raw(
        r#"<?xml version="1.0"?><ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Error><Type>Sender</Type><Code>TooManyInvalidationsInProgress</Code><Message>Your request contains too many invalidations in progress.</Message></Error><RequestId>5b8a6f1e-0000-4a3e-9d2c-000000000001</RequestId></ErrorResponse>"#,
        "text/xml",
    )
}

fn created(id: &str) -> ResponseTemplate {
    ResponseTemplate::new(201)
        .insert_header("Location", format!("https://cloudfront.amazonaws.com/2020-05-31/distribution/{DIST}/invalidation/{id}").as_str())
        .set_body_raw(
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Invalidation xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Id>{id}</Id><Status>InProgress</Status><CreateTime>2026-11-21T22:00:00.000Z</CreateTime><InvalidationBatch><Paths><Quantity>1</Quantity><Items><Path>/index.html</Path></Items></Paths><CallerReference>ref</CallerReference></InvalidationBatch></Invalidation>"#
            ),
            "text/xml",
        )
}

async fn mount_distribution(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(format!("/2020-05-31/distribution/{DIST}")))
        .respond_with(ResponseTemplate::new(200).insert_header("ETag", "E1").set_body_raw(
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Distribution xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Id>{DIST}</Id><ARN>arn:aws:cloudfront::123456789012:distribution/{DIST}</ARN><Status>Deployed</Status><LastModifiedTime>2026-11-01T00:00:00Z</LastModifiedTime><InProgressInvalidationBatches>3</InProgressInvalidationBatches><DomainName>d111111abcdef8.cloudfront.net</DomainName></Distribution>"#
            ),
            "text/xml",
        ))
        .mount(server)
        .await;
}

type StandinHandler = Handler<SdkCloudFront, NoListing, SdkPipeline, MemoryStore, RecordedTrigger>;

async fn handler(server: &MockServer) -> StandinHandler {
    let uri = server.uri();
    // The real SDK clients, pointed at the stand-in.
    let sdk = load_sdk_config_for_endpoint(&uri, "us-east-1").await;
    let config = Config {
        submit_retry: RetryPolicy {
            max_attempts: 5,
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(1),
        },
        ..Config::default()
    };
    let mut invalidator = Invalidator::new(SdkCloudFront::new(&sdk), NoListing, config);
    invalidator.read_retry = RetryPolicy {
        min_delay: Duration::from_millis(20),
        ..RetryPolicy::default()
    };
    Handler {
        invalidator,
        pipeline: SdkPipeline::new(&sdk),
        store: MemoryStore::default(),
        trigger: RecordedTrigger::default(),
    }
}

fn invocation(budget: Duration) -> Invocation {
    Invocation::with_budget("req", budget)
}

fn caller_reference(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let start =
        text.find("<CallerReference>").expect("a CallerReference") + "<CallerReference>".len();
    let end = text[start..].find('<').unwrap() + start;
    text[start..end].to_string()
}

#[tokio::test]
async fn too_many_invalidations_in_progress_is_waited_out() {
    let server = MockServer::start().await;
    mount_distribution(&server).await;
    let create = format!("/2020-05-31/distribution/{DIST}/invalidation");
    Mock::given(method("POST"))
        .and(path(create.clone()))
        .respond_with(too_many())
        .up_to_n_times(2)
        .with_priority(1)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(create.clone()))
        .respond_with(created("I2J0I21PCUYOIK"))
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;
    let h = handler(&server).await;
    let event = json!({"distribution": DIST, "paths": ["/index.html"], "deployment_id": "web-1"});
    let out = h
        .handle_json(&event, &invocation(Duration::from_secs(20)))
        .await
        .unwrap();
    assert_eq!(out["invalidation_ids"], json!(["I2J0I21PCUYOIK"]));
    assert_eq!(out["status"], "InProgress");
    // Three attempts, one CallerReference: the retries cannot bill twice.
    let posts: Vec<_> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST")
        .collect();
    assert_eq!(posts.len(), 3);
    let refs: Vec<String> = posts.iter().map(|r| caller_reference(&r.body)).collect();
    assert!(refs.iter().all(|r| r == &refs[0]), "{refs:?}");
    assert_eq!(out["caller_references"][0], refs[0]);
}

#[tokio::test]
async fn batches_left_at_the_deadline_fail_the_invocation_naming_them() {
    let server = MockServer::start().await;
    mount_distribution(&server).await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/2020-05-31/distribution/{DIST}/invalidation"
        )))
        .respond_with(too_many())
        .mount(&server)
        .await;
    let mut h = handler(&server).await;
    h.invalidator.config.submit_retry.max_attempts = 100;
    let event = json!({"distribution": DIST, "paths": ["/index.html", "/about.html"], "deployment_id": "web-2"});
    let err = h
        .handle_json(&event, &invocation(Duration::from_secs(2)))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("submitted 0 of 1"), "{err}");
    assert!(
        err.contains("1 remain (3 paths, first / /about.html /index.html)"),
        "{err}"
    );
    assert!(
        err.contains("TooManyInvalidationsInProgress (HTTP 400)"),
        "{err}"
    );
}

#[tokio::test]
async fn codepipeline_jobs_are_always_reported() {
    let server = MockServer::start().await;
    mount_distribution(&server).await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/2020-05-31/distribution/{DIST}/invalidation"
        )))
        .respond_with(created("IPIPELINE00001"))
        .mount(&server)
        .await;
    for target in ["PutJobSuccessResult", "PutJobFailureResult"] {
        Mock::given(method("POST"))
            .and(header(
                "x-amz-target",
                format!("CodePipeline_20150709.{target}").as_str(),
            ))
            .respond_with(
                ResponseTemplate::new(200).set_body_raw("{}", "application/x-amz-json-1.1"),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    let h = handler(&server).await;
    let job = |id: &str, params: &str| -> Value {
        json!({"CodePipeline.job": {"id": id, "accountId": "123456789012", "data": {
            "actionConfiguration": {"configuration": {"FunctionName": "f", "UserParameters": params}},
            "inputArtifacts": [], "outputArtifacts": [], "artifactCredentials": {}}}})
    };
    let deadline = invocation(Duration::from_secs(20));
    let ok = h
        .handle_json(
            &job(
                "job-ok",
                &json!({"distribution": DIST, "paths": ["/index.html"]}).to_string(),
            ),
            &deadline,
        )
        .await
        .unwrap();
    assert_eq!(ok["reported"], "PutJobSuccessResult");
    assert_eq!(ok["result"]["deployment_id"], "job-ok");
    let err = h
        .handle_json(&job("job-bad", r#"{"distribution": "x"}"#), &deadline)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("reported to CodePipeline as failed"),
        "{err}"
    );
    let requests = server.received_requests().await.unwrap();
    let failure = requests
        .iter()
        .find(|r| {
            r.headers
                .get("x-amz-target")
                .is_some_and(|v| v.as_bytes().ends_with(b"PutJobFailureResult"))
        })
        .expect("the failure was reported");
    let body: Value = serde_json::from_slice(&failure.body).unwrap();
    assert_eq!(body["jobId"], "job-bad");
    assert_eq!(body["failureDetails"]["type"], "JobFailed");
    assert!(
        body["failureDetails"]["message"]
            .as_str()
            .unwrap()
            .contains("no `paths`"),
        "{body}"
    );
}
