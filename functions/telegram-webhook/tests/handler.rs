//! The three modes end to end in-process: wiremock plays Telegram and the CloudFormation
//! ResponseURL, secrets and alerts are in-memory fakes (see local_aws.rs for moto).

mod common;

use std::time::Duration;

use common::*;
use groundcrew::custom_resource::{failed_create_id, ResponderSettings};
use groundcrew::Deadline;
use serde_json::{json, Value};
use telegram_webhook::alerts::RecordedAlerts;
use telegram_webhook::register::physical_id;
use telegram_webhook::vault::MemoryVault;
use telegram_webhook::App;

fn expected_id() -> String {
    physical_id("7000000001", URL)
}

#[tokio::test]
async fn create_registers_verifies_and_answers_success_with_a_stable_id() {
    let (tg, fake) = telegram_server().await;
    let cfn = cfn_server().await;
    let v = vault();
    let app = app(config(&tg.uri(), &[]), v.clone(), RecordedAlerts::default());
    let url = format!("{}/cfn/create", cfn.uri());
    let out = handle(
        &app,
        cr_event("Create", &url, props(json!({})), None),
        inv(long(), NOW),
    )
    .await
    .unwrap();
    assert_eq!(out["Status"], "SUCCESS", "{out}");
    let bodies = cfn_bodies(&cfn).await;
    let body = &bodies[0];
    assert_eq!(body["Status"], "SUCCESS");
    assert_eq!(body["PhysicalResourceId"], expected_id());
    assert_eq!(body["Data"]["Url"], URL);
    assert_eq!(body["Data"]["PendingUpdateCount"], "0");
    assert_eq!(body["Data"]["MaxConnections"], "40");
    // The secret token was created, stored, and sent to Telegram.
    let stored = v.get(WEBHOOK_SECRET).expect("secret token stored");
    let set = fake.calls("setWebhook");
    assert_eq!(set[0]["secret_token"], stored.as_str());
    assert_eq!(
        set[0]["allowed_updates"],
        json!(["message", "callback_query"])
    );
    assert_eq!(set[0]["max_connections"], 40);
    assert!(set[0].get("drop_pending_updates").is_none());
    assert_eq!(fake.calls("getWebhookInfo").len(), 1, "verified");

    // A second Create (a retry) gives the same id and reuses the stored token.
    handle(
        &app,
        cr_event("Create", &url, props(json!({})), None),
        inv(long(), NOW),
    )
    .await
    .unwrap();
    let bodies = cfn_bodies(&cfn).await;
    assert_eq!(bodies[1]["PhysicalResourceId"], expected_id());
    assert_eq!(fake.calls("setWebhook")[1]["secret_token"], stored.as_str());
}

#[tokio::test]
async fn update_keeps_the_id_for_the_same_url_and_changes_it_for_a_new_url() {
    let (tg, fake) = telegram_server().await;
    let cfn = cfn_server().await;
    let app = app(config(&tg.uri(), &[]), vault(), RecordedAlerts::default());
    let url = format!("{}/cfn/u", cfn.uri());
    let id = expected_id();
    handle(
        &app,
        cr_event(
            "Update",
            &url,
            props(json!({"MaxConnections": "20", "DropPendingUpdates": "true"})),
            Some(&id),
        ),
        inv(long(), NOW),
    )
    .await
    .unwrap();
    let body = &cfn_bodies(&cfn).await[0];
    assert_eq!(body["Status"], "SUCCESS", "{body}");
    assert_eq!(body["PhysicalResourceId"], id);
    assert_eq!(fake.calls("setWebhook")[0]["max_connections"], 20);
    assert_eq!(fake.calls("setWebhook")[0]["drop_pending_updates"], true);

    let new_url = "https://bot.example.com:8443/v2";
    handle(
        &app,
        cr_event(
            "Update",
            &url,
            props(json!({"WebhookUrl": new_url})),
            Some(&id),
        ),
        inv(long(), NOW),
    )
    .await
    .unwrap();
    let body = &cfn_bodies(&cfn).await[1];
    assert_eq!(body["Status"], "SUCCESS");
    assert_ne!(body["PhysicalResourceId"], id);
    assert_eq!(
        body["PhysicalResourceId"],
        physical_id("7000000001", new_url)
    );
}

#[tokio::test]
async fn delete_removes_only_its_own_webhook_and_always_lets_the_stack_go() {
    let (tg, fake) = telegram_server().await;
    let cfn = cfn_server().await;
    let app = app(config(&tg.uri(), &[]), vault(), RecordedAlerts::default());
    let url = format!("{}/cfn/d", cfn.uri());
    let id = expected_id();
    // Registered first.
    handle(
        &app,
        cr_event("Create", &url, props(json!({})), None),
        inv(long(), NOW),
    )
    .await
    .unwrap();
    handle(
        &app,
        cr_event("Delete", &url, props(json!({})), Some(&id)),
        inv(long(), NOW),
    )
    .await
    .unwrap();
    assert_eq!(cfn_bodies(&cfn).await[1]["Status"], "SUCCESS");
    assert_eq!(fake.calls("deleteWebhook").len(), 1);
    assert!(fake.webhook(TOKEN).is_none());

    // Already without a webhook: SUCCESS, no deleteWebhook.
    handle(
        &app,
        cr_event("Delete", &url, props(json!({})), Some(&id)),
        inv(long(), NOW),
    )
    .await
    .unwrap();
    let body = &cfn_bodies(&cfn).await[2];
    assert_eq!(body["Status"], "SUCCESS");
    assert!(
        body["Reason"].as_str().unwrap().contains("no webhook"),
        "{body}"
    );
    assert_eq!(fake.calls("deleteWebhook").len(), 1);

    // The old resource of a URL change: the webhook now points at the new URL; left alone.
    let new_url = "https://bot.example.com/v2";
    handle(
        &app,
        cr_event("Create", &url, props(json!({"WebhookUrl": new_url})), None),
        inv(long(), NOW),
    )
    .await
    .unwrap();
    handle(
        &app,
        cr_event("Delete", &url, props(json!({})), Some(&id)),
        inv(long(), NOW),
    )
    .await
    .unwrap();
    let body = &cfn_bodies(&cfn).await[4];
    assert_eq!(body["Status"], "SUCCESS");
    assert_eq!(
        fake.calls("deleteWebhook").len(),
        1,
        "the new webhook was not deleted"
    );
    assert_eq!(fake.webhook(TOKEN).unwrap()["url"], new_url);

    // The token secret is gone: SUCCESS.
    let gone = telegram_webhook::vault::MemoryVault::default();
    let app2 = common::app(config(&tg.uri(), &[]), gone, RecordedAlerts::default());
    handle(
        &app2,
        cr_event("Delete", &url, props(json!({})), Some(&id)),
        inv(long(), NOW),
    )
    .await
    .unwrap();
    let body = &cfn_bodies(&cfn).await[5];
    assert_eq!(body["Status"], "SUCCESS");
    assert!(
        body["Reason"]
            .as_str()
            .unwrap()
            .contains("no longer exists"),
        "{body}"
    );

    // Telegram no longer knows the token (revoked): SUCCESS.
    fake.set(|s| s.revoked.push(TOKEN.to_string()));
    handle(
        &app,
        cr_event(
            "Delete",
            &url,
            props(json!({"WebhookUrl": new_url})),
            Some(&physical_id("7000000001", new_url)),
        ),
        inv(long(), NOW),
    )
    .await
    .unwrap();
    assert_eq!(cfn_bodies(&cfn).await[6]["Status"], "SUCCESS");
}

#[tokio::test]
async fn verification_failure_answers_failed_with_the_id_so_rollback_can_delete() {
    let (tg, fake) = telegram_server().await;
    let cfn = cfn_server().await;
    fake.set(|s| s.report_url = Some("https://other.example.com/hook".into()));
    let app = app(config(&tg.uri(), &[]), vault(), RecordedAlerts::default());
    let url = format!("{}/cfn/v", cfn.uri());
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
        reason.contains("https://other.example.com/hook") && reason.contains("verification"),
        "{reason}"
    );
    assert_eq!(body["PhysicalResourceId"], expected_id());
}

#[tokio::test]
async fn telegram_errors_bad_properties_and_missing_secrets_answer_failed() {
    let (tg, fake) = telegram_server().await;
    let cfn = cfn_server().await;
    let url = format!("{}/cfn/e", cfn.uri());
    let app = app(config(&tg.uri(), &[]), vault(), RecordedAlerts::default());

    fake.set(|s| {
        s.fail.push(("setWebhook".into(), 400, json!({"ok": false, "error_code": 400, "description": "Bad Request: bad webhook: Failed to resolve host: Name or service not known"})))
    });
    handle(
        &app,
        cr_event("Create", &url, props(json!({})), None),
        inv(long(), NOW),
    )
    .await
    .unwrap();
    let body = &cfn_bodies(&cfn).await[0];
    assert_eq!(body["Status"], "FAILED");
    assert!(
        body["Reason"]
            .as_str()
            .unwrap()
            .contains("Failed to resolve host"),
        "{body}"
    );

    let before = fake.0.lock().unwrap().calls.len();
    for (bad, property) in [
        (
            json!({"WebhookUrl": "https://bot.example.com:9999/x"}),
            "WebhookUrl",
        ),
        (
            json!({"WebhookUrl": "http://bot.example.com/x"}),
            "WebhookUrl",
        ),
        (json!({"MaxConnections": "101"}), "MaxConnections"),
        (
            json!({"AllowedUpdates": ["message", "everything"]}),
            "AllowedUpdates",
        ),
        (json!({"SecretTokenSecret": ""}), "SecretTokenSecret"),
    ] {
        let out = handle(
            &app,
            cr_event("Create", &url, props(bad.clone()), None),
            inv(long(), NOW),
        )
        .await
        .unwrap();
        assert_eq!(out["Status"], "FAILED", "{bad}");
        assert!(
            out["Reason"].as_str().unwrap().starts_with(property),
            "{bad}: {out}"
        );
        assert_eq!(out["PhysicalResourceId"], failed_create_id("req-Create"));
    }
    assert_eq!(
        fake.0.lock().unwrap().calls.len(),
        before,
        "nothing reached Telegram"
    );

    let app_without_token = common::app(
        config(&tg.uri(), &[]),
        MemoryVault::default(),
        RecordedAlerts::default(),
    );
    let out = handle(
        &app_without_token,
        cr_event("Create", &url, props(json!({})), None),
        inv(long(), NOW),
    )
    .await
    .unwrap();
    assert_eq!(out["Status"], "FAILED");
    assert!(
        out["Reason"].as_str().unwrap().contains(BOT_SECRET),
        "{out}"
    );
    let not_a_token = common::app(
        config(&tg.uri(), &[]),
        MemoryVault::default().with(BOT_SECRET, "hello"),
        RecordedAlerts::default(),
    );
    let out = handle(
        &not_a_token,
        cr_event("Create", &url, props(json!({})), None),
        inv(long(), NOW),
    )
    .await
    .unwrap();
    assert!(
        out["Reason"]
            .as_str()
            .unwrap()
            .contains("does not hold a Telegram bot token"),
        "{out}"
    );
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried_within_the_deadline() {
    let (tg, fake) = telegram_server().await;
    let cfn = cfn_server().await;
    fake.set(|s| {
        s.fail.push(("setWebhook".into(), 429, json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}})));
        s.fail.push(("getWebhookInfo".into(), 502, json!({"ok": false, "error_code": 502, "description": "Bad Gateway"})));
    });
    let app = app(config(&tg.uri(), &[]), vault(), RecordedAlerts::default());
    let started = std::time::Instant::now();
    let out = handle(
        &app,
        cr_event(
            "Create",
            &format!("{}/cfn/r", cfn.uri()),
            props(json!({})),
            None,
        ),
        inv(long(), NOW),
    )
    .await
    .unwrap();
    assert_eq!(out["Status"], "SUCCESS", "{out}");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(fake.calls("setWebhook").len(), 2);
    assert_eq!(fake.calls("getWebhookInfo").len(), 2);
}

#[tokio::test]
async fn an_approaching_deadline_answers_failed_before_lambda_stops() {
    let (tg, fake) = telegram_server().await;
    let cfn = cfn_server().await;
    fake.set(|s| s.set_delay = Some(Duration::from_secs(20)));
    let mut app = app(config(&tg.uri(), &[]), vault(), RecordedAlerts::default());
    app.responder = ResponderSettings {
        response_reserve: Duration::from_millis(800),
        ..Default::default()
    };
    let started = std::time::Instant::now();
    let out = handle(
        &app,
        cr_event(
            "Create",
            &format!("{}/cfn/t", cfn.uri()),
            props(json!({})),
            None,
        ),
        inv(Deadline::after(Duration::from_secs(2)), NOW),
    )
    .await
    .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(out["Status"], "FAILED");
    let body = &cfn_bodies(&cfn).await[0];
    assert_eq!(body["Status"], "FAILED");
    let reason = body["Reason"].as_str().unwrap();
    assert!(
        reason.contains("deadline") || reason.contains("out of time"),
        "{reason}"
    );
}

#[tokio::test]
async fn malformed_events_are_errors_and_custom_resources_still_get_failed() {
    let (tg, _fake) = telegram_server().await;
    let cfn = cfn_server().await;
    let app = app(config(&tg.uri(), &[]), vault(), RecordedAlerts::default());
    let mut bad = cr_event(
        "Create",
        &format!("{}/cfn/m", cfn.uri()),
        props(json!({})),
        None,
    );
    bad["RequestType"] = json!("Replace");
    let err = handle(&app, bad, inv(long(), NOW))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("Replace"), "{err}");
    assert_eq!(cfn_bodies(&cfn).await[0]["Status"], "FAILED");

    for (event, needle) in [
        (json!({"hello": "world"}), "expected a CloudFormation"),
        (json!({"action": "explode"}), "action"),
        (json!({"action": 3}), "action"),
        (
            json!({"action": "register", "webhook_url": "https://bot.example.com:9999/x"}),
            "webhook_url",
        ),
        (json!({"RequestType": "Create"}), "ResponseURL"),
        (json!([1, 2, 3]), "expected a CloudFormation"),
    ] {
        let err = handle(&app, event.clone(), inv(long(), NOW))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{event}: {err}");
    }
    // A schedule without the function's settings names them, as a finding.
    let bare = common::app(
        telegram_webhook::Config::from_env(&env(&[])).unwrap(),
        vault(),
        RecordedAlerts::default(),
    );
    let report = handle(
        &bare,
        json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}),
        inv(long(), NOW),
    )
    .await
    .unwrap();
    assert_eq!(report["findings"], json!(["ConfigInvalid"]), "{report}");
    let problem = report["problems"][0].as_str().unwrap();
    assert!(problem.contains("BOT_TOKEN_SECRET"), "{problem}");
    let metrics = bare.metrics.lines();
    assert_eq!(metrics[0]["ConfigInvalid"], 1);
    assert_eq!(metrics[0]["HealthCheckOk"], 0);
}

#[tokio::test]
async fn health_check_repairs_drift_without_alerting_when_healthy() {
    let (tg, fake) = telegram_server().await;
    let alerts = RecordedAlerts::default();
    let app = app(
        config(&tg.uri(), &[("MAX_CONNECTIONS", "40")]),
        vault(),
        alerts.clone(),
    );
    // No webhook at all: drift.
    let report = handle(&app, scheduled(), inv(long(), NOW)).await.unwrap();
    assert_eq!(report["repaired"], true, "{report}");
    assert_eq!(report["healthy"], true);
    assert_eq!(report["webhook_url"], URL);
    assert!(report["drift"][0].as_str().unwrap().contains("no webhook"));
    assert_eq!(fake.calls("setWebhook").len(), 1);
    assert!(
        fake.calls("setWebhook")[0]
            .get("drop_pending_updates")
            .is_none(),
        "repair never drops updates"
    );
    assert!(alerts.sent.lock().unwrap().is_empty());

    // In order now: nothing to do.
    let report = handle(&app, scheduled(), inv(long(), NOW)).await.unwrap();
    assert_eq!(report["repaired"], false);
    assert_eq!(report["drift"], json!([]));
    assert_eq!(fake.calls("setWebhook").len(), 1);

    // Someone changed max_connections by hand: repaired.
    fake.set(|s| {
        s.webhooks.get_mut(TOKEN).unwrap()["max_connections"] = json!(5);
    });
    let report = handle(&app, scheduled(), inv(long(), NOW)).await.unwrap();
    assert_eq!(report["repaired"], true);
    assert!(
        report["drift"][0]
            .as_str()
            .unwrap()
            .contains("max_connections is 5"),
        "{report}"
    );
}

#[tokio::test]
async fn health_check_alerts_on_a_backlog_and_on_recent_errors() {
    let (tg, fake) = telegram_server().await;
    let alerts = RecordedAlerts::default();
    let app = app(
        config(&tg.uri(), &[("PENDING_UPDATES_THRESHOLD", "50")]),
        vault(),
        alerts.clone(),
    );
    handle(&app, json!({"action": "register"}), inv(long(), NOW))
        .await
        .unwrap();
    fake.set(|s| s.pending = 51);
    let report = handle(&app, scheduled(), inv(long(), NOW)).await.unwrap();
    assert_eq!(report["healthy"], false);
    assert_eq!(report["alert_published"], true);
    assert_eq!(report["pending_update_count"], 51);
    {
        let sent = alerts.sent.lock().unwrap();
        assert_eq!(sent.len(), 1);
        assert!(sent[0].0.contains("7000000001"), "{:?}", sent[0]);
        assert!(
            sent[0].1.contains("51 updates are waiting"),
            "{:?}",
            sent[0]
        );
    }
    fake.set(|s| {
        s.pending = 0;
        s.last_error_date = Some(NOW - 60);
    });
    let report = handle(&app, scheduled(), inv(long(), NOW)).await.unwrap();
    assert_eq!(report["healthy"], false);
    assert!(
        report["problems"][0]
            .as_str()
            .unwrap()
            .contains("502 Bad Gateway"),
        "{report}"
    );
    assert_eq!(alerts.sent.lock().unwrap().len(), 2);
    // An old error is not news.
    fake.set(|s| s.last_error_date = Some(NOW - 7200));
    let report = handle(&app, scheduled(), inv(long(), NOW)).await.unwrap();
    assert_eq!(report["healthy"], true, "{report}");
    assert_eq!(alerts.sent.lock().unwrap().len(), 2);
}

/// A direct action's answer (it must succeed), as its caller reads it.
async fn act(app: &App<MemoryVault, RecordedAlerts>, event: Value) -> Value {
    handle(app, event, inv(long(), NOW)).await.unwrap()
}

#[tokio::test]
async fn direct_actions_answer_without_secrets() {
    let (tg, fake) = telegram_server().await;
    let v = vault();
    let app = app(config(&tg.uri(), &[]), v.clone(), RecordedAlerts::default());
    let out = act(&app, json!({"action": "register", "max_connections": 7})).await;
    assert_eq!(out["registered"], true);
    assert_eq!(out["result"]["webhook"]["max_connections"], 7);
    let out = act(&app, json!({"action": "info"})).await;
    assert_eq!(out["webhook"]["url"], URL);
    let out = act(&app, json!({"action": "check"})).await;
    assert_eq!(out["report"]["healthy"], true, "{out}");
    let out = act(
        &app,
        json!({"action": "delete", "drop_pending_updates": true}),
    )
    .await;
    assert_eq!(out["deleted"], true);
    assert_eq!(fake.calls("deleteWebhook")[0]["drop_pending_updates"], true);
    let secret = v.get(WEBHOOK_SECRET).unwrap();
    for call in ["register", "info", "check", "delete"] {
        let out = act(&app, json!({"action": call})).await.to_string();
        assert!(
            !out.contains(TOKEN) && !out.contains(&secret),
            "{call}: {out}"
        );
    }
}

/// The direct actions' answers, whole: the wire their callers read (pinned from the answers
/// before they were typed). Telegram echoing the token in the webhook's URL or its last error
/// gets it masked, not passed on.
#[tokio::test]
async fn direct_actions_keep_their_wire() {
    let (tg, fake) = telegram_server().await;
    let app = app(config(&tg.uri(), &[]), vault(), RecordedAlerts::default());
    let out = act(&app, json!({"action": "register", "max_connections": 7})).await;
    let webhook = json!({"url": URL, "has_custom_certificate": false,
        "pending_update_count": 0, "max_connections": 7});
    assert_eq!(
        out,
        json!({"action": "register", "registered": true, "result": {
            "bot_id": "7000000001", "physical_resource_id": physical_id("7000000001", URL),
            "secret_token_created": true, "webhook": webhook}})
    );
    fake.set(|s| {
        s.report_url = Some(format!("https://bot.example.com/bot{TOKEN}/hook"));
        s.pending = 3;
        let info = s.webhooks.get_mut(TOKEN).unwrap();
        info["ip_address"] = json!("203.0.113.9");
        info["last_error_date"] = json!(NOW - 60);
        info["last_error_message"] = json!(format!("bot{TOKEN} answered 502"));
        info["allowed_updates"] = json!(["message"]);
    });
    let out = act(&app, json!({"action": "info"})).await;
    assert_eq!(
        out,
        json!({"action": "info", "bot_id": "7000000001", "webhook": {
            "url": "https://bot.example.com/bot[REDACTED]/hook",
            "has_custom_certificate": false, "pending_update_count": 3,
            "ip_address": "203.0.113.9", "last_error_date": NOW - 60,
            "last_error_message": "bot[REDACTED] answered 502",
            "max_connections": 7, "allowed_updates": ["message"]}})
    );
    let out = act(&app, json!({"action": "delete"})).await;
    assert_eq!(
        out,
        json!({"action": "delete", "bot_id": "7000000001", "deleted": true})
    );
    let out = act(&app, json!({"action": "check"})).await;
    assert_eq!(out["action"], "check");
    assert_eq!(out.as_object().unwrap().len(), 2, "{out}");
    assert!(out["report"].is_object(), "{out}");
}

/// The token must not appear in any log line, error, Reason or Data, on any path; nor the
/// webhook's secret token. Telegram here echoes the token in its error descriptions.
#[tokio::test(flavor = "current_thread")]
async fn the_token_never_leaks_into_logs_errors_or_responses() {
    let capture = groundcrew::testing::LogCapture::default();
    let _guard = tracing::subscriber::set_default(capture.subscriber("trace"));
    let (tg, fake) = telegram_server().await;
    let cfn = cfn_server().await;
    let alerts = RecordedAlerts::default();
    let v = vault();
    let app = app(
        config(&tg.uri(), &[("PENDING_UPDATES_THRESHOLD", "1")]),
        v.clone(),
        alerts.clone(),
    );
    let url = format!("{}/cfn/leak", cfn.uri());
    let echo = format!("Bad Request: token {TOKEN} rejected at /bot{TOKEN}/setWebhook");
    let mut outputs: Vec<String> = Vec::new();
    let mut run = |r: Result<Value, telegram_webhook::Error>| {
        outputs.push(match r {
            Ok(v) => v.to_string(),
            Err(e) => e.to_string(),
        })
    };
    run(handle(
        &app,
        cr_event("Create", &url, props(json!({})), None),
        inv(long(), NOW),
    )
    .await);
    fake.set(|s| {
        s.fail.push((
            "setWebhook".into(),
            400,
            json!({"ok": false, "error_code": 400, "description": echo}),
        ))
    });
    run(handle(
        &app,
        cr_event("Update", &url, props(json!({})), Some(&expected_id())),
        inv(long(), NOW),
    )
    .await);
    fake.set(|s| {
        s.fail.push((
            "setWebhook".into(),
            400,
            json!({"ok": false, "error_code": 400, "description": echo}),
        ))
    });
    run(handle(&app, json!({"action": "register"}), inv(long(), NOW)).await);
    fake.set(|s| {
        s.fail.push((
            "getWebhookInfo".into(),
            500,
            json!({"ok": false, "error_code": 500, "description": echo}),
        ))
    });
    fake.set(|s| {
        s.fail.push((
            "getWebhookInfo".into(),
            500,
            json!({"ok": false, "error_code": 500, "description": echo}),
        ))
    });
    fake.set(|s| {
        s.fail.push((
            "getWebhookInfo".into(),
            500,
            json!({"ok": false, "error_code": 500, "description": echo}),
        ))
    });
    fake.set(|s| {
        s.fail.push((
            "getWebhookInfo".into(),
            500,
            json!({"ok": false, "error_code": 500, "description": echo}),
        ))
    });
    run(handle(&app, json!({"action": "info"}), inv(long(), NOW)).await);
    fake.set(|s| {
        s.pending = 9;
        s.report_url = Some("https://elsewhere.example/h".into());
    });
    run(handle(&app, scheduled(), inv(long(), NOW)).await);
    fake.set(|s| s.report_url = None);
    run(handle(&app, json!({"action": "check"}), inv(long(), NOW)).await);
    run(handle(
        &app,
        cr_event("Delete", &url, props(json!({})), Some(&expected_id())),
        inv(long(), NOW),
    )
    .await);
    run(handle(&app, json!({"action": "delete"}), inv(long(), NOW)).await);
    // Transport errors (nothing listens on port 9) carry no URL either.
    let dead = common::app(config("http://127.0.0.1:9", &[]), v.clone(), alerts.clone());
    run(handle(&dead, json!({"action": "info"}), inv(long(), NOW)).await);
    run(handle(
        &dead,
        cr_event("Create", &url, props(json!({})), None),
        inv(long(), NOW),
    )
    .await);

    let secret = v.get(WEBHOOK_SECRET).unwrap();
    let token_secret_part = TOKEN.split_once(':').unwrap().1;
    let logs = capture.text();
    assert!(
        logs.contains("webhook registered"),
        "logs were captured: {logs}"
    );
    let cfn_text: Vec<String> = cfn_bodies(&cfn)
        .await
        .iter()
        .map(Value::to_string)
        .collect();
    assert!(
        cfn_text.iter().any(|b| b.contains("[REDACTED]")),
        "Telegram's echo was redacted: {cfn_text:?}"
    );
    let alert_text: Vec<String> = alerts
        .sent
        .lock()
        .unwrap()
        .iter()
        .map(|(s, m)| format!("{s} {m}"))
        .collect();
    assert!(!alert_text.is_empty());
    for (what, text) in [
        ("logs", logs.clone()),
        ("outputs", outputs.join("\n")),
        ("cfn", cfn_text.join("\n")),
        ("alerts", alert_text.join("\n")),
    ] {
        assert!(
            !text.contains(token_secret_part),
            "the bot token leaked into {what}: {text}"
        );
        assert!(
            !text.contains(&secret),
            "the secret token leaked into {what}: {text}"
        );
    }
}
