//! Against the local AWS (moto): Secrets Manager and SSM through the real SDK clients
//! (the secret token created when absent; the registration records in SSM), SNS alerts,
//! and a Create end to end with wiremock as Telegram and as the ResponseURL.

mod common;

use std::time::Duration;

use common::*;
use groundcrew::secrets::{reveal, SecretRef};
use groundcrew::testing::{topic_into_queue, unique_name};
use groundcrew::Deadline;
use serde_json::json;
use telegram_webhook::alerts::Alerts;
use telegram_webhook::aws::AwsVault;
use telegram_webhook::aws::SnsAlerts;
use telegram_webhook::validate::valid_secret_token;
use telegram_webhook::vault::{secret_token, Vault};

fn long() -> Deadline {
    Deadline::after(Duration::from_secs(30))
}

#[tokio::test]
async fn the_secret_token_is_created_once_in_secrets_manager_and_ssm() {
    let sdk = groundcrew::require_local_aws!();
    let vault = AwsVault::new(&sdk);
    let sm = aws_sdk_secretsmanager::Client::new(&sdk);
    for reference in [
        unique_name("tw/secret"),
        format!("{}#token", unique_name("tw/json")),
        format!("/{}", unique_name("tw/ssm")),
    ] {
        let (first, created) = secret_token(&vault, &reference).await.unwrap();
        assert!(created, "{reference}");
        assert!(valid_secret_token(reveal(&first)));
        let (again, created) = secret_token(&vault, &reference).await.unwrap();
        assert!(!created, "{reference}");
        assert_eq!(reveal(&first), reveal(&again));
        // A fresh vault (no cache) reads the stored value.
        let (cold, _) = secret_token(&AwsVault::new(&sdk), &reference)
            .await
            .unwrap();
        assert_eq!(reveal(&first), reveal(&cold));
        if let Some((name, _)) = reference.split_once('#') {
            let stored = sm.get_secret_value().secret_id(name).send().await.unwrap();
            let v: serde_json::Value =
                serde_json::from_str(stored.secret_string().unwrap()).unwrap();
            assert_eq!(v["token"], reveal(&first));
        }
    }
    // Creating over an existing secret reports it, never overwrites.
    let name = unique_name("tw/exists");
    sm.create_secret()
        .name(&name)
        .secret_string("keep-me")
        .send()
        .await
        .unwrap();
    let parsed = SecretRef::parse(&name).unwrap();
    let stored = vault
        .create(&parsed, &secrecy::SecretString::from("new".to_string()))
        .await
        .unwrap();
    assert_eq!(stored, telegram_webhook::vault::Stored::AlreadyExists);
    assert_eq!(reveal(&vault.read(&parsed).await.unwrap()), "keep-me");
}

#[tokio::test]
async fn alerts_reach_the_alarm_topic() {
    let sdk = groundcrew::require_local_aws!();
    let (topic, queue) = topic_into_queue(&sdk, "tw-alarms", false).await;

    // A backlog, end to end: bot token in Secrets Manager, Telegram in wiremock.
    let (tg, fake) = telegram_server().await;
    let bot_secret = unique_name("tw/bot");
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(&bot_secret)
        .secret_string(TOKEN)
        .send()
        .await
        .unwrap();
    let webhook_secret = unique_name("tw/hook");
    let cfg = config(
        &tg.uri(),
        &[
            ("BOT_TOKEN_SECRET", &bot_secret),
            ("SECRET_TOKEN_SECRET", &webhook_secret),
            ("PENDING_UPDATES_THRESHOLD", "10"),
            ("ALARM_TOPIC_ARN", &topic),
        ],
    );
    let app = app(
        cfg,
        AwsVault::new(&sdk),
        SnsAlerts::new(&sdk, Some(topic.clone())),
    );
    fake.set(|s| s.pending = 11);
    let scheduled = json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
    let report = handle(&app, scheduled, inv(long(), 1_800_000_000))
        .await
        .unwrap();
    assert_eq!(report["alert_published"], true, "{report}");
    assert_eq!(report["repaired"], true);

    let got = aws_sdk_sqs::Client::new(&sdk)
        .receive_message()
        .queue_url(&queue)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    let bodies: Vec<String> = got
        .messages()
        .iter()
        .filter_map(|m| m.body().map(str::to_string))
        .collect();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let envelope: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert!(
        envelope["Subject"].as_str().unwrap().contains("7000000001"),
        "{envelope}"
    );
    let message = envelope["Message"].as_str().unwrap();
    assert!(message.contains("11 updates are waiting"), "{message}");
    assert!(!message.contains(TOKEN.split_once(':').unwrap().1));

    // No topic configured: logged only.
    assert!(!SnsAlerts::new(&sdk, None).publish("s", "m").await.unwrap());
}

#[tokio::test]
async fn create_and_delete_end_to_end_with_secrets_in_the_local_aws() {
    let sdk = groundcrew::require_local_aws!();
    let (tg, fake) = telegram_server().await;
    let cfn = cfn_server().await;
    let bot_secret = unique_name("tw/bot");
    let ssm_secret = format!("/{}", unique_name("tw/hook"));
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(&bot_secret)
        .secret_string(TOKEN)
        .send()
        .await
        .unwrap();
    let app = app(
        config(&tg.uri(), &[]),
        AwsVault::new(&sdk),
        SnsAlerts::new(&sdk, None),
    );
    let p = props(json!({"BotTokenSecret": bot_secret, "SecretTokenSecret": ssm_secret}));
    let url = format!("{}/cfn/e2e", cfn.uri());
    let out = handle(
        &app,
        cr_event("Create", &url, p.clone(), None),
        inv(long(), 0),
    )
    .await
    .unwrap();
    assert_eq!(out["Status"], "SUCCESS", "{out}");
    let stored = aws_sdk_ssm::Client::new(&sdk)
        .get_parameter()
        .name(&ssm_secret)
        .with_decryption(true)
        .send()
        .await
        .unwrap();
    let value = stored.parameter().unwrap().value().unwrap().to_string();
    assert_eq!(fake.calls("setWebhook")[0]["secret_token"], value.as_str());
    let id = out["PhysicalResourceId"].as_str().unwrap().to_string();
    let out = handle(&app, cr_event("Delete", &url, p, Some(&id)), inv(long(), 0))
        .await
        .unwrap();
    assert_eq!(out["Status"], "SUCCESS");
    assert_eq!(fake.calls("deleteWebhook").len(), 1);
    assert_eq!(cfn_bodies(&cfn).await.len(), 2);
}

#[tokio::test]
async fn registration_records_are_stored_replaced_and_removed_in_ssm() {
    let sdk = groundcrew::require_local_aws!();
    let vault = AwsVault::new(&sdk);
    let name = format!("/{}/registered/7000000001", unique_name("tw-records"));
    assert_eq!(vault.load_record(&name).await.unwrap(), None);
    vault.store_record(&name, r#"{"a":1}"#).await.unwrap();
    vault.store_record(&name, r#"{"a":2}"#).await.unwrap();
    assert_eq!(
        vault.load_record(&name).await.unwrap().as_deref(),
        Some(r#"{"a":2}"#)
    );
    vault.delete_record(&name).await.unwrap();
    assert_eq!(vault.load_record(&name).await.unwrap(), None);
    // Deleting what is not there is not an error (a second Delete, a record never made).
    vault.delete_record(&name).await.unwrap();
}
