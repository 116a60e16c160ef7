//! The responder's tests: every path answers CloudFormation.

use std::future::Future;
use std::time::Duration;

use super::*;
use crate::http::{client, HttpSettings};
use crate::Deadline;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request as WireRequest, ResponseTemplate};

fn event(kind: &str, url: &str) -> Value {
    let mut e = json!({
        "RequestType": kind,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/guid",
        "RequestId": "req-1",
        "ResourceType": "Custom::Thing",
        "LogicalResourceId": "Thing",
        "ResourceProperties": {"Name": "x"}
    });
    if kind != "Create" {
        e["PhysicalResourceId"] = json!("thing-1");
    }
    if kind == "Update" {
        e["OldResourceProperties"] = json!({"Name": "old"});
    }
    e
}

/// A ResponseURL that accepts every PUT: the server (to read what was PUT) and the URL.
async fn cfn() -> (MockServer, String) {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/cfn/r"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let url = format!("{}/cfn/r", server.uri());
    (server, url)
}

async fn bodies(server: &MockServer) -> Vec<(Value, WireRequest)> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| (serde_json::from_slice(&r.body).unwrap(), r))
        .collect()
}

fn http() -> reqwest::Client {
    client(HttpSettings::default()).unwrap()
}

fn long() -> Deadline {
    Deadline::after(Duration::from_secs(30))
}

/// [`respond_always`] with a deadline no test reaches and the default settings.
async fn respond<F, Fut>(event: Value, handler: F) -> Result<Answered, CustomResourceError>
where
    F: FnOnce(Request, Deadline) -> Fut,
    Fut: Future<Output = Result<Outcome, Failure>>,
{
    respond_always(&http(), event, long(), &Default::default(), handler).await
}

#[tokio::test]
async fn success_is_put_with_an_empty_content_type() {
    let (server, url) = cfn().await;
    let answered = respond(event("Create", &url), |req, _| async move {
        assert_eq!(request_type(&req), "Create");
        Ok(Outcome::new("thing-1").with_data("Url", "https://x"))
    })
    .await
    .unwrap();
    assert_eq!(answered.status, "SUCCESS");
    let got = bodies(&server).await;
    assert_eq!(got.len(), 1);
    let (body, req) = &got[0];
    assert_eq!(
        req.headers.get("content-type").map(|v| v.as_bytes()),
        Some(&b""[..])
    );
    assert_eq!(body["Status"], "SUCCESS");
    assert_eq!(body["PhysicalResourceId"], "thing-1");
    assert_eq!(body["RequestId"], "req-1");
    assert_eq!(body["LogicalResourceId"], "Thing");
    assert_eq!(
        body["StackId"],
        "arn:aws:cloudformation:us-east-1:123456789012:stack/s/guid"
    );
    assert_eq!(body["Data"]["Url"], "https://x");
    assert!(body["Reason"].is_string());
}

#[tokio::test]
async fn handler_error_answers_failed_with_the_reason_and_the_old_physical_id() {
    let (server, url) = cfn().await;
    let answered = respond(event("Update", &url), |_, _| async {
        Err(Failure::new("WebhookUrl: port 1234 is not allowed"))
    })
    .await
    .unwrap();
    assert_eq!(answered.status, "FAILED");
    let (body, _) = &bodies(&server).await[0];
    assert_eq!(body["Status"], "FAILED");
    assert_eq!(body["Reason"], "WebhookUrl: port 1234 is not allowed");
    assert_eq!(body["PhysicalResourceId"], "thing-1");
}

#[tokio::test]
async fn failed_create_gets_a_minted_id_and_its_rollback_delete_succeeds_untouched() {
    let (server, url) = cfn().await;
    respond(event("Create", &url), |_, _| async {
        Err(Failure::new("nope"))
    })
    .await
    .unwrap();
    let (body, _) = &bodies(&server).await[0];
    let minted = body["PhysicalResourceId"].as_str().unwrap().to_string();
    assert_eq!(minted, failed_create_id("req-1"));

    let mut delete = event("Delete", &url);
    delete["PhysicalResourceId"] = json!(minted);
    let answered = respond(delete, |_, _| async {
        panic!("the handler must not run for the rollback of a failed Create")
    })
    .await
    .unwrap();
    assert_eq!(answered.status, "SUCCESS");
}

#[tokio::test]
async fn a_create_that_claimed_its_id_reports_it_after_a_timeout_or_a_panic() {
    let (server, url) = cfn().await;
    let settings = ResponderSettings {
        response_reserve: Duration::from_millis(300),
        ..Default::default()
    };
    let answered = respond_always_claiming(
        &http(),
        event("Create", &url),
        Deadline::after(Duration::from_millis(800)),
        &settings,
        |_, _, claim| async move {
            claim.set("webhook-1");
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(Outcome::new("never"))
        },
    )
    .await
    .unwrap();
    assert_eq!(answered.status, "FAILED");
    assert_eq!(answered.physical_resource_id, "webhook-1");
    assert_eq!(
        bodies(&server).await[0].0["PhysicalResourceId"],
        "webhook-1"
    );

    let answered = respond_always_claiming(
        &http(),
        event("Create", &url),
        long(),
        &Default::default(),
        |_, _, claim| async move {
            claim.set("webhook-2");
            if true {
                panic!("after acting");
            }
            Ok(Outcome::new("x"))
        },
    )
    .await
    .unwrap();
    assert_eq!(answered.status, "FAILED");
    assert_eq!(answered.physical_resource_id, "webhook-2");

    // An Update keeps the request's id whatever was claimed.
    let mut update = event("Update", &url);
    update["PhysicalResourceId"] = json!("old-id");
    let answered = respond_always_claiming(
        &http(),
        update,
        long(),
        &Default::default(),
        |_, _, claim| async move {
            claim.set("new-id");
            Err(Failure::new("no"))
        },
    )
    .await
    .unwrap();
    assert_eq!(answered.physical_resource_id, "old-id");
}

#[tokio::test]
async fn a_panicking_handler_still_answers_failed() {
    let (server, url) = cfn().await;
    let answered = respond(event("Delete", &url), |_, _| async {
        if true {
            panic!("boom");
        }
        Ok(Outcome::new("x"))
    })
    .await
    .unwrap();
    assert_eq!(answered.status, "FAILED");
    assert_eq!(bodies(&server).await[0].0["Status"], "FAILED");
}

#[tokio::test]
async fn an_approaching_deadline_answers_failed_before_it() {
    let (server, url) = cfn().await;
    let settings = ResponderSettings {
        response_reserve: Duration::from_millis(500),
        ..Default::default()
    };
    let deadline = Deadline::after(Duration::from_millis(1200));
    let started = std::time::Instant::now();
    let answered = respond_always(
        &http(),
        event("Create", &url),
        deadline,
        &settings,
        |_, work| async move {
            assert!(work.remaining() <= Duration::from_millis(700));
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(Outcome::new("never"))
        },
    )
    .await
    .unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(1200),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(answered.status, "FAILED");
    let (body, _) = &bodies(&server).await[0];
    assert!(
        body["Reason"].as_str().unwrap().contains("ran out of time"),
        "{body}"
    );
}

#[tokio::test]
async fn a_malformed_event_with_a_response_url_is_answered_failed_and_reported() {
    let (server, url) = cfn().await;
    let mut bad = event("Create", &url);
    bad["RequestType"] = json!("Replace");
    let err = respond(bad, |_, _| async { panic!("must not run") })
        .await
        .unwrap_err();
    assert!(matches!(err, CustomResourceError::Malformed(_)), "{err}");
    assert!(err.to_string().contains("Replace"), "{err}");
    let (body, _) = &bodies(&server).await[0];
    assert_eq!(body["Status"], "FAILED");
    assert_eq!(body["RequestId"], "req-1");
    assert!(
        body["Reason"].as_str().unwrap().contains("malformed"),
        "{body}"
    );

    let mut missing = event("Update", &url);
    missing.as_object_mut().unwrap().remove("StackId");
    let err = respond(missing, |_, _| async { Ok(Outcome::new("x")) })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("StackId"), "{err}");
    assert_eq!(bodies(&server).await.len(), 2);
}

#[tokio::test]
async fn an_event_without_a_usable_response_url_is_unanswerable() {
    for bad in [
        json!({"RequestType": "Create"}),
        json!([1, 2]),
        event("Create", "file:///etc/passwd"),
        event("Create", "not a url"),
    ] {
        let err = respond(bad.clone(), |_, _| async { Ok(Outcome::new("x")) })
            .await
            .unwrap_err();
        assert!(
            matches!(err, CustomResourceError::Unanswerable(_)),
            "{bad}: {err}"
        );
    }
}

#[tokio::test]
async fn transient_put_failures_are_retried_and_a_dead_url_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let url = format!("{}/cfn/r", server.uri());
    respond(event("Create", &url), |_, _| async {
        Ok(Outcome::new("a"))
    })
    .await
    .unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 2);

    let forbidden = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(
            ResponseTemplate::new(403).set_body_string("<Error>SignatureDoesNotMatch</Error>"),
        )
        .expect(1)
        .mount(&forbidden)
        .await;
    let url = format!("{}/cfn/r?X-Amz-Signature=SECRETSIG", forbidden.uri());
    let err = respond(event("Create", &url), |_, _| async {
        Ok(Outcome::new("a"))
    })
    .await
    .unwrap_err();
    assert!(
        matches!(err, CustomResourceError::Undelivered { .. }),
        "{err}"
    );
    assert!(!err.to_string().contains("SECRETSIG"), "{err}");
}

#[tokio::test]
async fn unusable_physical_ids_become_failed() {
    let (_server, url) = cfn().await;
    let answered = respond(event("Create", &url), |_, _| async { Ok(Outcome::new("")) })
        .await
        .unwrap();
    assert_eq!(answered.status, "FAILED");
    assert!(answered.reason.contains("PhysicalResourceId"));
}

fn big_response(reason: &str, data: &[(&str, String)]) -> Response {
    let mut r = Response::default();
    r.status = Status::Failed;
    r.physical_resource_id = "p".into();
    r.stack_id = "arn:aws:cloudformation:us-east-1:123456789012:stack/s/guid".into();
    r.request_id = "req".into();
    r.logical_resource_id = "L".into();
    r.reason = Some(reason.to_string());
    r.data = data
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    r
}

#[test]
fn long_reasons_are_cut_on_character_boundaries_to_fit() {
    // Multi-byte characters and characters JSON escapes (quotes, control characters).
    let reason: String = "é\"\u{1}€".repeat(2000);
    let mut r = big_response(&reason, &[]);
    let (body, truncated) = fit_body(&mut r);
    assert!(truncated);
    assert!(body.len() <= MAX_BODY_BYTES, "{}", body.len());
    assert!(
        body.len() > MAX_BODY_BYTES - 16,
        "cut no more than needed: {}",
        body.len()
    );
    let parsed: Value = serde_json::from_str(&body).unwrap();
    assert!(parsed["Reason"].as_str().unwrap().ends_with('…'));
    assert_eq!(parsed["PhysicalResourceId"], "p");
}

#[test]
fn oversized_data_is_cut_longest_first() {
    let data = [
        ("Small", "keep me".to_string()),
        ("Huge", "x".repeat(10_000)),
        ("Mid", "y".repeat(500)),
    ];
    let mut r = big_response("ok", &data);
    let (body, truncated) = fit_body(&mut r);
    assert!(truncated && body.len() <= MAX_BODY_BYTES, "{}", body.len());
    let parsed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(parsed["Data"]["Small"], "keep me");
    assert_eq!(parsed["Data"]["Mid"].as_str().unwrap().len(), 500);
    assert!(parsed["Data"]["Huge"].as_str().unwrap().ends_with('…'));
    assert!(parsed["Reason"].as_str().unwrap().contains("cut"));

    // Too many keys to fit even empty: keys are dropped.
    let many: Vec<(String, String)> = (0..600)
        .map(|i| (format!("Key{i:04}"), String::new()))
        .collect();
    let many: Vec<(&str, String)> = many.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let mut r = big_response("ok", &many);
    let (body, _) = fit_body(&mut r);
    assert!(body.len() <= MAX_BODY_BYTES);
    assert!(serde_json::from_str::<Value>(&body).is_ok());
}

#[test]
fn small_bodies_are_untouched() {
    let mut r = big_response("fine", &[("A", "b".to_string())]);
    let (body, truncated) = fit_body(&mut r);
    assert!(!truncated);
    let parsed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(parsed["Reason"], "fine");
    assert_eq!(parsed["Status"], "FAILED");
}
