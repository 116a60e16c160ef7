//! The function watches itself (issue 16): health findings as metrics, CloudFormation
//! always answered, rollbacks that undo, drift judged against what was registered.

mod common;

use std::time::Duration;

use common::*;
use groundcrew::custom_resource::ResponderSettings;
use groundcrew::Deadline;
use serde_json::{json, Value};
use telegram_webhook::alerts::{Alerts, RecordedAlerts};
use telegram_webhook::register::physical_id;
use telegram_webhook::vault::MemoryVault;
use telegram_webhook::Error;

const PREFIX: &str = "/gc-test/telegram-webhook";

/// The single EMF line a scheduled check emitted, checked for shape.
fn only_metrics<V: telegram_webhook::vault::Vault, A: Alerts>(
    app: &telegram_webhook::App<V, A>,
) -> Value {
    let lines = app.metrics.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = lines[0].clone();
    assert_eq!(
        line["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "groundcrew/telegram-webhook"
    );
    line
}

#[tokio::test]
async fn a_healthy_check_publishes_health_check_ok_1_and_every_finding_0() {
    let (tg, _fake) = telegram_server().await;
    let app = app(config(&tg.uri(), &[]), vault(), RecordedAlerts::default());
    handle(&app, json!({"action": "register"}), inv(long(), NOW))
        .await
        .unwrap();
    let report = handle(&app, scheduled(), inv(long(), NOW)).await.unwrap();
    assert_eq!(report["healthy"], true, "{report}");
    assert_eq!(report["findings"], json!([]));
    let m = only_metrics(&app);
    assert_eq!(m["HealthCheckOk"], 1);
    for name in [
        "TokenRevoked",
        "SecretUnreadable",
        "TelegramUnreachable",
        "Backlog",
    ] {
        assert_eq!(m[name], 0, "{name}: {m}");
    }
}

#[tokio::test]
async fn a_revoked_token_is_a_finding_not_a_silent_error() {
    let (tg, fake) = telegram_server().await;
    let alerts = RecordedAlerts::default();
    let app = app(config(&tg.uri(), &[]), vault(), alerts.clone());
    fake.set(|s| s.revoked = vec![TOKEN.to_string()]);
    let report = handle(&app, scheduled(), inv(long(), NOW)).await.unwrap();
    assert_eq!(report["healthy"], false);
    assert_eq!(report["findings"], json!(["TokenRevoked"]), "{report}");
    let m = only_metrics(&app);
    assert_eq!(m["TokenRevoked"], 1);
    assert_eq!(m["HealthCheckOk"], 0);
    assert_eq!(m["TelegramUnreachable"], 0);
    // Nothing past the 401 was seen: left out, so those alarms keep their state.
    assert!(m.get("Backlog").is_none(), "{m}");
    assert_eq!(
        report["unknown"],
        json!([
            "WebhookDrifted",
            "DeliveryErrors",
            "Backlog",
            "EndpointProbeFailed",
            "EndpointAcceptsUnsigned"
        ])
    );
    assert!(!report.to_string().contains(TOKEN));
    assert!(!m.to_string().contains(TOKEN));
}

#[tokio::test]
async fn an_unreadable_secret_is_a_finding() {
    let (tg, fake) = telegram_server().await;
    // No bot token stored under BOT_TOKEN_SECRET.
    let app = app(
        config(&tg.uri(), &[]),
        MemoryVault::default(),
        RecordedAlerts::default(),
    );
    let report = handle(&app, scheduled(), inv(long(), NOW)).await.unwrap();
    assert_eq!(report["findings"], json!(["SecretUnreadable"]), "{report}");
    assert!(
        report["problems"][0].as_str().unwrap().contains(BOT_SECRET),
        "{report}"
    );
    let m = only_metrics(&app);
    assert_eq!(m["SecretUnreadable"], 1);
    assert_eq!(m["HealthCheckOk"], 0);
    assert!(m.get("TokenRevoked").is_none(), "not seen: {m}");
    assert!(m.get("TelegramUnreachable").is_none(), "not seen: {m}");
    assert_eq!(m["ConfigInvalid"], 0);
    assert!(fake.calls("getWebhookInfo").is_empty());
}

#[tokio::test]
async fn telegram_down_is_a_finding() {
    // Nothing listens on the discard port.
    let app = app(
        config("http://127.0.0.1:9", &[]),
        vault(),
        RecordedAlerts::default(),
    );
    let report = handle(&app, scheduled(), inv(long(), NOW)).await.unwrap();
    assert_eq!(
        report["findings"],
        json!(["TelegramUnreachable"]),
        "{report}"
    );
    assert_eq!(only_metrics(&app)["HealthCheckOk"], 0);
}

struct FailingAlerts;

impl Alerts for FailingAlerts {
    async fn publish(&self, _subject: &str, _message: &str) -> Result<bool, Error> {
        Err(Error::Alert(
            groundcrew::aws_error::AwsError::new("Publish", "not authorized")
                .with_code("AuthorizationError"),
        ))
    }
}

#[tokio::test]
async fn a_failed_alert_publish_is_a_finding_beside_the_problem() {
    let (tg, fake) = telegram_server().await;
    let app = app(
        config(&tg.uri(), &[("PENDING_UPDATES_THRESHOLD", "5")]),
        vault(),
        FailingAlerts,
    );
    handle(&app, json!({"action": "register"}), inv(long(), NOW))
        .await
        .unwrap();
    fake.set(|s| s.pending = 6);
    let report = handle(&app, scheduled(), inv(long(), NOW)).await.unwrap();
    assert_eq!(
        report["findings"],
        json!(["Backlog", "AlertUndelivered"]),
        "{report}"
    );
    let m = only_metrics(&app);
    assert_eq!(
        (m["Backlog"].clone(), m["AlertUndelivered"].clone()),
        (json!(1), json!(1))
    );
}

#[tokio::test]
async fn a_configuration_error_answers_cloudformation_failed_with_the_reason() {
    let (tg, fake) = telegram_server().await;
    let cfn = cfn_server().await;
    let bad = telegram_webhook::Config::from_env(&env(&[("MAX_CONNECTIONS", "0")])).unwrap_err();
    let mut app = app(config(&tg.uri(), &[]), vault(), RecordedAlerts::default());
    app.config_error = Some(bad.to_string());

    let url = format!("{}/cfn/misconfigured", cfn.uri());
    let out = handle(
        &app,
        cr_event("Create", &url, props(json!({})), None),
        inv(long(), NOW),
    )
    .await
    .unwrap();
    assert_eq!(out["Status"], "FAILED");
    let body = &cfn_bodies(&cfn).await[0];
    assert_eq!(body["Status"], "FAILED");
    let reason = body["Reason"].as_str().unwrap();
    assert!(
        reason.contains("misconfigured") && reason.contains("MAX_CONNECTIONS"),
        "{reason}"
    );
    assert!(fake.calls("setWebhook").is_empty(), "nothing acted on");

    // The schedule reports it as a finding; a direct action is refused with it.
    let report = handle(&app, scheduled(), inv(long(), NOW)).await.unwrap();
    assert_eq!(report["findings"], json!(["ConfigInvalid"]));
    assert_eq!(only_metrics(&app)["ConfigInvalid"], 1);
    let err = handle(&app, json!({"action": "info"}), inv(long(), NOW))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("MAX_CONNECTIONS"), "{err}");
}

#[tokio::test]
async fn a_rollback_after_a_timed_out_create_deletes_the_webhook() {
    let (tg, fake) = telegram_server().await;
    let cfn = cfn_server().await;
    // Telegram sets the webhook but its answer comes too late.
    fake.set(|s| s.set_delay = Some(Duration::from_secs(20)));
    let mut app = app(config(&tg.uri(), &[]), vault(), RecordedAlerts::default());
    app.responder = ResponderSettings {
        response_reserve: Duration::from_millis(800),
        ..Default::default()
    };
    let url = format!("{}/cfn/t", cfn.uri());
    let out = handle(
        &app,
        cr_event("Create", &url, props(json!({})), None),
        inv(Deadline::after(Duration::from_secs(2)), NOW),
    )
    .await
    .unwrap();
    assert_eq!(out["Status"], "FAILED", "{out}");
    let id = physical_id("7000000001", URL);
    assert_eq!(cfn_bodies(&cfn).await[0]["PhysicalResourceId"], id);
    assert!(fake.webhook(TOKEN).is_some(), "the webhook was set");

    // CloudFormation's rollback Delete for that id removes it.
    fake.set(|s| s.set_delay = None);
    let out = handle(
        &app,
        cr_event("Delete", &url, props(json!({})), Some(&id)),
        inv(long(), NOW),
    )
    .await
    .unwrap();
    assert_eq!(out["Status"], "SUCCESS", "{out}");
    assert_eq!(fake.calls("deleteWebhook").len(), 1);
    assert!(fake.webhook(TOKEN).is_none());
}

#[tokio::test]
async fn drift_is_judged_and_repaired_against_what_the_custom_resource_registered() {
    let (tg, fake) = telegram_server().await;
    let cfn = cfn_server().await;
    let v = vault();
    // The environment says 10 connections; the resource registers 40.
    let app = app(
        config(
            &tg.uri(),
            &[
                ("MAX_CONNECTIONS", "10"),
                ("REGISTRATION_PARAMETER_PREFIX", PREFIX),
            ],
        ),
        v.clone(),
        RecordedAlerts::default(),
    );
    let url = format!("{}/cfn/r", cfn.uri());
    let out = handle(
        &app,
        cr_event("Create", &url, props(json!({})), None),
        inv(long(), NOW),
    )
    .await
    .unwrap();
    assert_eq!(out["Status"], "SUCCESS", "{out}");
    let record = v
        .record(&format!("{PREFIX}/registered/7000000001"))
        .expect("the registration is recorded");
    let record: Value = serde_json::from_str(&record).unwrap();
    assert_eq!(record["max_connections"], 40);
    assert_eq!(record["webhook_url"], URL);
    assert_eq!(
        record["allowed_updates"],
        json!(["message", "callback_query"])
    );
    let stored_token = v.get(WEBHOOK_SECRET).unwrap();
    assert!(!record.to_string().contains(&stored_token));
    let sets = fake.calls("setWebhook").len();

    // Not drifted, although the environment differs.
    let report = handle(&app, scheduled(), inv(long(), NOW)).await.unwrap();
    assert_eq!(report["drift"], json!([]), "{report}");
    assert_eq!(fake.calls("setWebhook").len(), sets);

    // Changed by hand: repaired to exactly what was registered.
    fake.set(|s| s.webhooks.get_mut(TOKEN).unwrap()["max_connections"] = json!(5));
    let report = handle(&app, scheduled(), inv(long(), NOW)).await.unwrap();
    assert_eq!(report["repaired"], true, "{report}");
    let repair = fake.calls("setWebhook").last().cloned().unwrap();
    assert_eq!(repair["max_connections"], 40);
    assert_eq!(
        repair["allowed_updates"],
        json!(["message", "callback_query"])
    );
    assert_eq!(repair["secret_token"], stored_token.as_str());

    // The Delete removes the record with the webhook.
    let id = physical_id("7000000001", URL);
    let out = handle(
        &app,
        cr_event("Delete", &url, props(json!({})), Some(&id)),
        inv(long(), NOW),
    )
    .await
    .unwrap();
    assert_eq!(out["Status"], "SUCCESS");
    assert!(v
        .record(&format!("{PREFIX}/registered/7000000001"))
        .is_none());

    // Registered again, then the webhook removed by hand: the Delete still removes the
    // record, so that no later repair brings the webhook back.
    handle(
        &app,
        cr_event("Create", &url, props(json!({})), None),
        inv(long(), NOW),
    )
    .await
    .unwrap();
    assert!(v
        .record(&format!("{PREFIX}/registered/7000000001"))
        .is_some());
    fake.set(|s| {
        s.webhooks.remove(TOKEN);
    });
    let out = handle(
        &app,
        cr_event("Delete", &url, props(json!({})), Some(&id)),
        inv(long(), NOW),
    )
    .await
    .unwrap();
    assert_eq!(out["Reason"], "the bot already has no webhook", "{out}");
    assert!(v
        .record(&format!("{PREFIX}/registered/7000000001"))
        .is_none());
}

/// A bot endpoint: `checks` decides whether it refuses a wrong secret token.
async fn endpoint(token: &str, checks: bool, mode: &str) -> wiremock::MockServer {
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .and(header("X-Telegram-Bot-Api-Secret-Token", token))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(if checks { 401 } else { 200 }))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/health"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"status": "healthy", "mode": mode})),
        )
        .mount(&server)
        .await;
    server
}

/// Registers (so that the secret token exists), then runs one scheduled check with the
/// endpoint probe against `server`.
async fn probed(
    tg: &str,
    v: &MemoryVault,
    server: Option<&wiremock::MockServer>,
) -> (Value, Value) {
    let base = server.map_or("http://127.0.0.1:9".to_string(), |s| s.uri());
    let probe_url = format!("{base}/hook");
    let health_url = format!("{base}/health");
    let app = app(
        config(
            tg,
            &[
                ("PROBE_ENDPOINT", "true"),
                ("PROBE_URL", &probe_url),
                ("HEALTH_URL", &health_url),
            ],
        ),
        v.clone(),
        RecordedAlerts::default(),
    );
    handle(&app, json!({"action": "register"}), inv(long(), NOW))
        .await
        .unwrap();
    let report = handle(&app, scheduled(), inv(long(), NOW)).await.unwrap();
    (report, only_metrics(&app))
}

#[tokio::test]
async fn the_endpoint_probe_signs_a_harmless_update_and_expects_a_refusal_without_the_token() {
    let (tg, _fake) = telegram_server().await;
    let v = vault();
    // The secret token the register will create, known in advance for the endpoint.
    let v = v.with(WEBHOOK_SECRET, "probe-secret-token_0123456789");
    let good = endpoint("probe-secret-token_0123456789", true, "webhook").await;
    let (report, m) = probed(&tg.uri(), &v, Some(&good)).await;
    assert_eq!(report["findings"], json!([]), "{report}");
    assert_eq!(m["EndpointProbeFailed"], 0);
    assert_eq!(m["EndpointAcceptsUnsigned"], 0);
    let posts: Vec<_> = good
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST")
        .collect();
    assert_eq!(posts.len(), 2);
    for p in &posts {
        let body: Value = serde_json::from_slice(&p.body).unwrap();
        assert_eq!(body, json!({"update_id": 0}));
    }
    assert_eq!(
        posts[0]
            .headers
            .get("X-Telegram-Bot-Api-Secret-Token")
            .unwrap(),
        "probe-secret-token_0123456789"
    );
    assert_ne!(
        posts[1]
            .headers
            .get("X-Telegram-Bot-Api-Secret-Token")
            .unwrap(),
        "probe-secret-token_0123456789"
    );

    // An endpoint that takes anything, and an application in polling mode.
    let open = endpoint("probe-secret-token_0123456789", false, "polling").await;
    let (report, m) = probed(&tg.uri(), &v, Some(&open)).await;
    assert_eq!(
        report["findings"],
        json!(["EndpointProbeFailed", "EndpointAcceptsUnsigned"]),
        "{report}"
    );
    assert_eq!(m["EndpointAcceptsUnsigned"], 1);
    assert_eq!(m["HealthCheckOk"], 0);
    assert!(!report.to_string().contains("probe-secret-token"));

    // Nothing listening.
    let (report, m) = probed(&tg.uri(), &v, None).await;
    assert_eq!(
        report["findings"],
        json!(["EndpointProbeFailed"]),
        "{report}"
    );
    assert_eq!(m["EndpointProbeFailed"], 1);
}
