//! Local-AWS tests: the production wiring (DynamoDB, Secrets Manager, SSM, SNS, CloudWatch
//! tags in moto) with every HTTP receiver played by `wiremock`.

use std::time::{Duration, Instant};

use alarm_fanout::config::Config;
use alarm_fanout::handler::Outcome;
use alarm_fanout::severity::{CloudWatchTags, Severity, SeverityResolver};
use alarm_fanout::{build, Error, ProdApp};
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};

use groundcrew::testing::{env, topic_into_queue, unique_name};
use groundcrew::Invocation;
use serde_json::{json, Value};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ACCOUNT: &str = "123456789012";

struct Estate {
    sdk: SdkConfig,
    table: String,
    server: MockServer,
    /// Secret names by receiver kind.
    telegram: String,
    slack: String,
    chat: String,
    pagerduty: String,
    webhook: String,
}

async fn estate(sdk: SdkConfig) -> Estate {
    let table = unique_name("af-table");
    aws_sdk_dynamodb::Client::new(&sdk)
        .create_table()
        .table_name(&table)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create table");
    let server = MockServer::start().await;
    let sm = aws_sdk_secretsmanager::Client::new(&sdk);
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let secret = |value: String| {
        let sm = sm.clone();
        async move {
            let name = unique_name("groundcrew/test/af");
            sm.create_secret()
                .name(&name)
                .secret_string(value)
                .send()
                .await
                .expect("create secret");
            name
        }
    };
    let telegram = secret(json!({"bot_token": "123:TOKEN-SECRET"}).to_string()).await;
    let slack = secret(format!("{}/slack/T1/B1/SLACK-SECRET", server.uri())).await;
    let webhook = secret(format!("{}/hook/WEBHOOK-SECRET", server.uri())).await;
    let chat = format!("/{}", unique_name("groundcrew/test/af-chat"));
    ssm.put_parameter()
        .name(&chat)
        .value(format!(
            "{}/chat/v1/spaces/S/messages?key=k&token=CHAT-SECRET",
            server.uri()
        ))
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .expect("put parameter");
    let pagerduty = format!("/{}", unique_name("groundcrew/test/af-pd"));
    ssm.put_parameter()
        .name(&pagerduty)
        .value("PD-ROUTING-KEY-SECRET")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .expect("put parameter");
    Estate {
        sdk,
        table,
        server,
        telegram: format!("{telegram}#bot_token"),
        slack,
        chat,
        pagerduty,
        webhook,
    }
}

impl Estate {
    fn receivers_yaml(&self, topic_arn: &str) -> String {
        format!(
            r#"receivers:
  tg: {{type: telegram, chat_id: -100, thread_id: 9, bot_token_secret: "{}"}}
  slack: {{type: slack, webhook_url_secret: "{}"}}
  chat: {{type: google_chat, webhook_url_secret: "ssm:{}"}}
  pd: {{type: pagerduty, routing_key_secret: "{}"}}
  hook: {{type: webhook, url_secret: "{}"}}
  mail: {{type: sns, topic_arn: "{topic_arn}"}}
"#,
            self.telegram, self.slack, self.chat, self.pagerduty, self.webhook
        )
    }

    async fn app(&self, document: &str, extra: &[(&str, &str)]) -> ProdApp {
        let uri = self.server.uri();
        // A test's extras come last: a later pair overrides an earlier one.
        let mut vars = vec![
            ("ROUTING_DOCUMENT", document),
            ("DELIVERY_TABLE", self.table.as_str()),
            ("TELEGRAM_API_URL", uri.as_str()),
            ("PAGERDUTY_EVENTS_URL", uri.as_str()),
            ("RECEIVER_MAX_ATTEMPTS", "3"),
            ("HTTP_TIMEOUT_SECONDS", "5"),
        ];
        vars.extend_from_slice(extra);
        let config = Config::from_env(&env(&vars)).expect("config");
        build(&config, &self.sdk).await.expect("app")
    }

    async fn mount_all_ok(&self) {
        Mock::given(method("POST"))
            .and(path_regex("^/bot.*/sendMessage$"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"ok": true, "result": {"message_id": 1}})),
            )
            .mount(&self.server)
            .await;
        Mock::given(method("POST"))
            .and(path("/slack/T1/B1/SLACK-SECRET"))
            .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
            .mount(&self.server)
            .await;
        Mock::given(method("POST"))
            .and(path("/chat/v1/spaces/S/messages"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"name": "spaces/S/messages/1"})),
            )
            .mount(&self.server)
            .await;
        Mock::given(method("POST"))
            .and(path("/v2/enqueue"))
            .respond_with(ResponseTemplate::new(202).set_body_json(json!({"status": "success"})))
            .mount(&self.server)
            .await;
        Mock::given(method("POST"))
            .and(path("/hook/WEBHOOK-SECRET"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&self.server)
            .await;
    }

    async fn requests_to(&self, prefix: &str) -> Vec<Value> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path().starts_with(prefix))
            .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
            .collect()
    }
}

fn alarm_message(name: &str, state: &str) -> Value {
    alarm_at(name, state, "2026-11-21T21:30:42.236+0000")
}

/// An alarm's state change at `time` (`2026-11-21T21:30:42.236+0000`).
fn alarm_at(name: &str, state: &str, time: &str) -> Value {
    json!({
        "AlarmName": name, "AlarmDescription": null, "AWSAccountId": ACCOUNT,
        "NewStateValue": state, "NewStateReason": "Threshold Crossed: 1 datapoint [93.0] was greater than the threshold (80.0).",
        "StateChangeTime": time, "Region": "US East (N. Virginia)",
        "AlarmArn": format!("arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{name}"), "OldStateValue": "OK",
        "Trigger": {"MetricName": "CPUUtilization", "Namespace": "AWS/EC2", "Statistic": "AVERAGE", "Unit": null,
            "Dimensions": [{"name": "InstanceId", "value": "i-1"}], "Period": 300, "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanThreshold", "Threshold": 80.0, "TreatMissingData": "missing"}
    })
}

fn sns_event(message_id: &str, message: &Value) -> Value {
    json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "Sns": {
        "Type": "Notification", "MessageId": message_id, "TopicArn": format!("arn:aws:sns:us-east-1:{ACCOUNT}:alarms"),
        "Subject": "ALARM", "Message": message.to_string(), "Timestamp": "2026-11-21T21:30:43.317Z"}}]})
}

fn deadline() -> Invocation {
    Invocation::with_budget(unique_name("req"), Duration::from_secs(25))
}

#[tokio::test]
async fn delivers_to_every_receiver_type() {
    let sdk = groundcrew::require_local_aws!();
    let e = estate(sdk).await;
    e.mount_all_ok().await;
    let (topic, queue) = topic_into_queue(&e.sdk, "groundcrew-af-mail", true).await;
    let doc = format!(
        "{}default: [tg, slack, chat, pd, hook, mail]\n",
        e.receivers_yaml(&topic)
    );
    let app = e.app(&doc, &[]).await;
    let id = unique_name("msg");
    let report = app
        .handle(
            &sns_event(&id, &alarm_message("web-cpu", "ALARM")),
            deadline(),
        )
        .await
        .expect("delivered");
    assert_eq!(report.notices[0].outcome, Outcome::Delivered);
    assert_eq!(report.notices[0].sent.len(), 6);

    let tg = e.requests_to("/bot").await;
    assert_eq!(tg.len(), 1);
    assert_eq!(tg[0]["chat_id"], -100);
    assert_eq!(tg[0]["message_thread_id"], 9);
    assert_eq!(tg[0]["parse_mode"], "HTML");
    assert!(tg[0]["text"]
        .as_str()
        .unwrap()
        .starts_with("🔴 <b>ALARM</b> · <b>web-cpu</b>"));
    let slack = e.requests_to("/slack/").await;
    assert_eq!(slack.len(), 1);
    assert!(
        slack[0]["blocks"].is_array()
            && slack[0]["text"]
                .as_str()
                .unwrap()
                .contains("ALARM: web-cpu")
    );
    let chat = e.requests_to("/chat/").await;
    assert_eq!(chat.len(), 1);
    assert!(chat[0]["thread"]["threadKey"]
        .as_str()
        .unwrap()
        .starts_with("alarm-"));
    let pd = e.requests_to("/v2/enqueue").await;
    assert_eq!(pd.len(), 1);
    assert_eq!(pd[0]["event_action"], "trigger");
    assert_eq!(pd[0]["routing_key"], "PD-ROUTING-KEY-SECRET");
    assert_eq!(
        pd[0]["dedup_key"],
        format!("arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:web-cpu")
    );
    let hook = e.requests_to("/hook/").await;
    assert_eq!(hook[0]["notice"]["body"]["name"], "web-cpu");
    // Google Chat threads replies in the alarm's thread.
    let chat_url = e
        .server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.url.path().starts_with("/chat/"))
        .unwrap()
        .url;
    assert!(chat_url
        .query()
        .unwrap()
        .contains("messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"));
    // Email: through the SNS topic to a subscribed queue.
    let got = aws_sdk_sqs::Client::new(&e.sdk)
        .receive_message()
        .queue_url(&queue)
        .wait_time_seconds(2)
        .send()
        .await
        .unwrap();
    let body = got.messages()[0].body().unwrap().to_string();
    assert!(body.starts_with("🔴 ALARM: web-cpu"), "{body}");
}

/// CBOR text string (short).
fn cbor_text(s: &str) -> Vec<u8> {
    assert!(s.len() < 24);
    let mut out = vec![0x60 + s.len() as u8];
    out.extend_from_slice(s.as_bytes());
    out
}

/// A CloudWatch stand-in answering ListTagsForResource in Smithy RPC v2 CBOR, which the
/// current SDK speaks and moto 5.2 does not.
async fn cloudwatch_with_severity_tag(value: &str) -> MockServer {
    let mut body = vec![0xa1];
    body.extend(cbor_text("Tags"));
    body.extend([0x81, 0xa2]);
    body.extend(cbor_text("Key"));
    body.extend(cbor_text("severity"));
    body.extend(cbor_text("Value"));
    body.extend(cbor_text(value));
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(
            "/service/GraniteServiceVersion20100801/operation/ListTagsForResource",
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("smithy-protocol", "rpc-v2-cbor")
                .insert_header("content-type", "application/cbor")
                .set_body_raw(body, "application/cbor"),
        )
        .expect(1) // cached: one read for two alarms of the same ARN
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn routes_by_tagged_severity_with_continue() {
    let sdk = groundcrew::require_local_aws!();
    let cloudwatch = cloudwatch_with_severity_tag("critical").await;
    let e = estate(sdk).await;
    e.mount_all_ok().await;
    let name = unique_name("db-cpu");
    let doc = format!(
        "{}routes:\n  - match: {{severity: critical}}\n    receivers: [pd]\n    continue: true\n  - match: {{alarm_name: \"db-*\"}}\n    receivers: [slack]\n  - match: {{alarm_name: \"*\"}}\n    receivers: [tg]\ndefault: [hook]\n",
        e.receivers_yaml("arn:aws:sns:us-east-1:123456789012:unused")
    );
    let mut app = e.app(&doc, &[]).await;
    let cw_config = aws_sdk_cloudwatch::config::Builder::from(&e.sdk)
        .endpoint_url(cloudwatch.uri())
        .build();
    app.severity = SeverityResolver::new(
        CloudWatchTags::new(aws_sdk_cloudwatch::Client::from_conf(cw_config)),
        "severity",
        Severity::Warning,
        Duration::from_secs(600),
    );
    let report = app
        .handle(
            &sns_event(&unique_name("msg"), &alarm_message(&name, "ALARM")),
            deadline(),
        )
        .await
        .unwrap();
    assert_eq!(report.notices[0].sent, vec!["pd", "slack"]);
    assert_eq!(
        report.notices[0].severity.map(|s| s.as_str()),
        Some("critical")
    );
    assert_eq!(
        e.requests_to("/v2/enqueue").await[0]["payload"]["severity"],
        "critical"
    );
    assert!(
        e.requests_to("/bot").await.is_empty(),
        "the route without continue stops the walk"
    );
    // The OK reads the cached tag (the stand-in expects one call).
    let ok = app
        .handle(
            &sns_event(&unique_name("msg"), &alarm_message(&name, "OK")),
            deadline(),
        )
        .await
        .unwrap();
    assert_eq!(ok.notices[0].severity.map(|s| s.as_str()), Some("critical"));
    // Plain text takes the default route.
    let text = json!({"Records": [{"EventSource": "aws:sns", "Sns": {"MessageId": unique_name("msg"), "Message": "hello <world>"}}]});
    let report = app.handle(&text, deadline()).await.unwrap();
    assert_eq!(report.notices[0].sent, vec!["hook"]);
    cloudwatch.verify().await;
}

#[tokio::test]
async fn retries_a_500_then_succeeds() {
    let sdk = groundcrew::require_local_aws!();
    let e = estate(sdk).await;
    Mock::given(method("POST"))
        .and(path("/slack/T1/B1/SLACK-SECRET"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&e.server)
        .await;
    e.mount_all_ok().await;
    let doc = format!(
        "{}default: [slack]\n",
        e.receivers_yaml("arn:aws:sns:us-east-1:123456789012:unused")
    );
    let app = e.app(&doc, &[]).await;
    let report = app
        .handle(
            &sns_event(&unique_name("msg"), &alarm_message("api", "ALARM")),
            deadline(),
        )
        .await
        .unwrap();
    assert_eq!(report.notices[0].sent, vec!["slack"]);
    assert_eq!(e.requests_to("/slack/").await.len(), 2);
}

#[tokio::test]
async fn honours_telegrams_retry_after() {
    let sdk = groundcrew::require_local_aws!();
    let e = estate(sdk).await;
    let too_many = json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}});
    Mock::given(method("POST"))
        .and(path_regex("^/bot.*/sendMessage$"))
        .respond_with(ResponseTemplate::new(429).set_body_json(too_many))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&e.server)
        .await;
    e.mount_all_ok().await;
    let doc = format!(
        "{}default: [tg]\n",
        e.receivers_yaml("arn:aws:sns:us-east-1:123456789012:unused")
    );
    let app = e.app(&doc, &[]).await;
    let started = Instant::now();
    app.handle(
        &sns_event(&unique_name("msg"), &alarm_message("api", "ALARM")),
        deadline(),
    )
    .await
    .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(e.requests_to("/bot").await.len(), 2);
}

#[tokio::test]
async fn a_receiver_down_for_good_fails_the_invocation_and_only_it_is_resent() {
    let sdk = groundcrew::require_local_aws!();
    let e = estate(sdk).await;
    let down = Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .respond_with(ResponseTemplate::new(503))
        .with_priority(1)
        .mount_as_scoped(&e.server)
        .await;
    e.mount_all_ok().await;
    let doc = format!(
        "{}default: [tg, slack, pd]\n",
        e.receivers_yaml("arn:aws:sns:us-east-1:123456789012:unused")
    );
    let app = e.app(&doc, &[("RECEIVER_MAX_ATTEMPTS", "2")]).await;
    let event = sns_event(&unique_name("msg"), &alarm_message("api", "ALARM"));
    let err = app.handle(&event, deadline()).await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, Error::Delivery { ref failed, .. } if failed == &vec!["pd".to_string()]),
        "{text}"
    );
    assert!(text.contains("pagerduty receiver pd: HTTP 503"), "{text}");
    assert!(
        !text.contains("SECRET") && !text.contains(&e.server.uri()),
        "{text}"
    );
    assert_eq!(
        e.requests_to("/bot").await.len(),
        1,
        "the others still got theirs"
    );
    assert_eq!(e.requests_to("/slack/").await.len(), 1);
    assert_eq!(e.requests_to("/v2/enqueue").await.len(), 2);
    // Lambda retries the event once PagerDuty is back: only PagerDuty is sent again.
    drop(down);
    let report = app
        .handle(&event, deadline())
        .await
        .expect("retry succeeds");
    assert_eq!(report.notices[0].sent, vec!["pd"]);
    assert_eq!(report.notices[0].already_delivered, vec!["tg", "slack"]);
    assert_eq!(e.requests_to("/bot").await.len(), 1);
    assert_eq!(e.requests_to("/slack/").await.len(), 1);
    assert_eq!(e.requests_to("/v2/enqueue").await.len(), 3);
}

#[tokio::test]
async fn a_duplicate_sns_delivery_is_sent_once() {
    let sdk = groundcrew::require_local_aws!();
    let e = estate(sdk).await;
    e.mount_all_ok().await;
    let doc = format!(
        "{}default: [tg, hook]\n",
        e.receivers_yaml("arn:aws:sns:us-east-1:123456789012:unused")
    );
    let app = e.app(&doc, &[]).await;
    let event = sns_event(&unique_name("msg"), &alarm_message("api", "ALARM"));
    let first = app.handle(&event, deadline()).await.unwrap();
    let second = app.handle(&event, deadline()).await.unwrap();
    assert_eq!(first.notices[0].outcome, Outcome::Delivered);
    assert_eq!(second.notices[0].outcome, Outcome::Duplicate);
    assert_eq!(e.requests_to("/bot").await.len(), 1);
    assert_eq!(e.requests_to("/hook/").await.len(), 1);
}

#[tokio::test]
async fn duplicate_states_are_suppressed_and_recoveries_follow_the_alarm() {
    let sdk = groundcrew::require_local_aws!();
    let e = estate(sdk).await;
    e.mount_all_ok().await;
    let name = unique_name("queue");
    // ALARMs go to the pager and chat; OKs by route only to chat, but follow the ALARM.
    let doc = format!(
        "{}routes:\n  - match: {{state: ALARM}}\n    receivers: [pd, tg]\ndefault: [tg]\n",
        e.receivers_yaml("arn:aws:sns:us-east-1:123456789012:unused")
    );
    let app = e.app(&doc, &[]).await;
    let send =
        |state: &str, time: &str| sns_event(&unique_name("msg"), &alarm_at(&name, state, time));
    let alarm = app
        .handle(&send("ALARM", "2026-11-21T21:30:00.000+0000"), deadline())
        .await
        .unwrap();
    // The same state change again under another message id (a second topic, EventBridge).
    let again = app
        .handle(&send("ALARM", "2026-11-21T21:30:00.000+0000"), deadline())
        .await
        .unwrap();
    let ok = app
        .handle(&send("OK", "2026-11-21T21:35:00.000+0000"), deadline())
        .await
        .unwrap();
    assert_eq!(alarm.notices[0].outcome, Outcome::Delivered);
    assert_eq!(again.notices[0].outcome, Outcome::Suppressed);
    assert!(again.notices[0].sent.is_empty());
    assert_eq!(ok.notices[0].sent, vec!["tg", "pd"]);
    let pd = e.requests_to("/v2/enqueue").await;
    assert_eq!(
        pd.iter()
            .map(|p| p["event_action"].as_str().unwrap())
            .collect::<Vec<_>>(),
        vec!["trigger", "resolve"]
    );
    assert_eq!(e.requests_to("/bot").await.len(), 2);
    // A new ALARM right after the OK is never suppressed.
    let back = app
        .handle(&send("ALARM", "2026-11-21T21:36:00.000+0000"), deadline())
        .await
        .unwrap();
    assert_eq!(back.notices[0].outcome, Outcome::Delivered);
    // The first ALARM's notice, re-delivered late, is stale: recorded, never sent.
    let late = app
        .handle(&send("ALARM", "2026-11-21T21:30:00.000+0000"), deadline())
        .await
        .unwrap();
    assert_eq!(late.notices[0].outcome, Outcome::Stale);
    assert_eq!(e.requests_to("/v2/enqueue").await.len(), 3);
}

#[tokio::test]
async fn malformed_events_are_rejected_before_anything_is_sent() {
    let sdk = groundcrew::require_local_aws!();
    let e = estate(sdk).await;
    e.mount_all_ok().await;
    let doc = format!(
        "{}default: [tg]\n",
        e.receivers_yaml("arn:aws:sns:us-east-1:123456789012:unused")
    );
    let app = e.app(&doc, &[]).await;
    // One good record and one without a message: nothing is acted on.
    let event = json!({"Records": [
        {"EventSource": "aws:sns", "Sns": {"MessageId": unique_name("msg"), "Message": "fine"}},
        {"EventSource": "aws:sns", "Sns": {"MessageId": unique_name("msg")}}
    ]});
    let err = app
        .handle(&event, deadline())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("Records[1]: Sns.Message is missing"), "{err}");
    let err = app
        .handle(&json!([1, 2]), deadline())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a JSON object"), "{err}");
    assert!(e.server.received_requests().await.unwrap().is_empty());
    // A message that is not JSON at all is still delivered, as text.
    let text = json!({"Records": [{"EventSource": "aws:sns", "Sns": {"MessageId": unique_name("msg"), "Message": "{not json"}}]});
    app.handle(&text, deadline()).await.unwrap();
    assert!(e.requests_to("/bot").await[0]["text"]
        .as_str()
        .unwrap()
        .contains("{not json"));
}

#[tokio::test]
async fn routing_comes_from_ssm_and_bad_documents_name_the_field() {
    let sdk = groundcrew::require_local_aws!();
    let e = estate(sdk).await;
    let ssm = aws_sdk_ssm::Client::new(&e.sdk);
    let good = format!("/{}", unique_name("groundcrew/test/af-routing"));
    let doc = format!(
        "{}default: [tg]\n",
        e.receivers_yaml("arn:aws:sns:us-east-1:123456789012:unused")
    );
    ssm.put_parameter()
        .name(&good)
        .value(&doc)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    let bad = format!("/{}", unique_name("groundcrew/test/af-routing"));
    ssm.put_parameter()
        .name(&bad)
        .value(doc.replace("default: [tg]", "default: [telegram]"))
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    let config_for = |param: &str| {
        Config::from_env(&env(&[
            ("ROUTING_SSM_PARAMETER", param),
            ("DELIVERY_TABLE", e.table.as_str()),
        ]))
        .unwrap()
    };
    // Read on first use, not at start-up.
    let app = build(&config_for(&good), &e.sdk).await.expect("built");
    assert_eq!(app.routing.current().await.unwrap().default, vec!["tg"]);
    let app = build(&config_for(&bad), &e.sdk).await.expect("built");
    let err = app
        .routing
        .current()
        .await
        .expect_err("invalid document")
        .to_string();
    assert!(
        err.contains("default: unknown receiver \"telegram\""),
        "{err}"
    );
    let app = build(&config_for("/groundcrew/test/af-missing"), &e.sdk)
        .await
        .expect("built");
    let err = app
        .routing
        .current()
        .await
        .expect_err("missing parameter")
        .to_string();
    assert!(err.contains("ParameterNotFound"), "{err}");
}

#[tokio::test]
async fn a_missing_secret_fails_that_receiver_only() {
    let sdk = groundcrew::require_local_aws!();
    let e = estate(sdk).await;
    e.mount_all_ok().await;
    let doc = format!(
        "{}default: [tg, hook]\n",
        e.receivers_yaml("arn:aws:sns:us-east-1:123456789012:unused")
    )
    .replace(&e.webhook, "groundcrew/test/af-no-such-secret");
    let app = e.app(&doc, &[]).await;
    let err = app
        .handle(
            &sns_event(&unique_name("msg"), &alarm_message("api", "ALARM")),
            deadline(),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("could not be delivered to hook"), "{err}");
    assert_eq!(e.requests_to("/bot").await.len(), 1);
}

/// Starts `work` 150 ms late. moto's conditional writes are not atomic when two arrive at
/// the same moment (a Python probe with two threads released together saw both
/// `attribute_not_exists(lease_until) OR lease_until < :now` updates succeed in 2 to 12 of
/// 40 tries; DynamoDB evaluates a condition and writes atomically), so the racing
/// invocations start apart, the second while the first holds the lease and delivers.
async fn later<F: std::future::Future>(work: F) -> F::Output {
    tokio::time::sleep(Duration::from_millis(150)).await;
    work.await
}

#[tokio::test]
async fn two_invocations_racing_for_one_message_deliver_it_once() {
    let sdk = groundcrew::require_local_aws!();
    let e = estate(sdk).await;
    // Slow receivers, so that the second invocation arrives while the first holds the lease.
    Mock::given(method("POST"))
        .and(path("/hook/WEBHOOK-SECRET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(700)))
        .with_priority(1)
        .mount(&e.server)
        .await;
    e.mount_all_ok().await;
    let doc = format!(
        "{}default: [tg, hook]\n",
        e.receivers_yaml("arn:aws:sns:us-east-1:123456789012:unused")
    );
    // Two apps: two Lambda execution environments sharing the table.
    let first = e.app(&doc, &[]).await;
    let second = e.app(&doc, &[]).await;
    let event = sns_event(
        &unique_name("msg"),
        &alarm_message(&unique_name("race"), "ALARM"),
    );
    let (a, b) = tokio::join!(
        first.handle(&event, deadline()),
        later(second.handle(&event, deadline()))
    );
    let mut outcomes = vec![
        a.unwrap().notices[0].outcome.clone(),
        b.unwrap().notices[0].outcome.clone(),
    ];
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(outcomes, vec![Outcome::Delivered, Outcome::Duplicate]);
    assert_eq!(e.requests_to("/hook/").await.len(), 1);
    assert_eq!(e.requests_to("/bot").await.len(), 1);
}

#[tokio::test]
async fn an_alarm_and_its_ok_racing_end_on_the_ok_at_every_receiver() {
    let sdk = groundcrew::require_local_aws!();
    let e = estate(sdk).await;
    Mock::given(method("POST"))
        .and(path("/hook/WEBHOOK-SECRET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(500)))
        .with_priority(1)
        .mount(&e.server)
        .await;
    e.mount_all_ok().await;
    let doc = format!(
        "{}default: [hook]\n",
        e.receivers_yaml("arn:aws:sns:us-east-1:123456789012:unused")
    );
    let first = e.app(&doc, &[]).await;
    let second = e.app(&doc, &[]).await;
    let name = unique_name("flap");
    let alarm = sns_event(
        &unique_name("msg"),
        &alarm_at(&name, "ALARM", "2026-11-21T21:30:00.000+0000"),
    );
    let ok = sns_event(
        &unique_name("msg"),
        &alarm_at(&name, "OK", "2026-11-21T21:31:00.000+0000"),
    );
    let (a, b) = tokio::join!(
        first.handle(&alarm, deadline()),
        later(second.handle(&ok, deadline()))
    );
    a.unwrap();
    b.unwrap();
    let states: Vec<String> = e
        .requests_to("/hook/")
        .await
        .iter()
        .map(|h| {
            h["notice"]["body"]["state"]
                .as_str()
                .unwrap_or("?")
                .to_string()
        })
        .collect();
    // Either both in order, or the ALARM was stale by the time it got the lease.
    assert!(
        states == vec!["ALARM", "OK"] || states == vec!["OK"],
        "{states:?}"
    );
}

#[tokio::test]
async fn dynamodb_leases_fence_every_write() {
    use alarm_fanout::aws::DynamoStore;
    use alarm_fanout::notice::State;
    use alarm_fanout::store::{Acquired, Change, Lease, Store};
    let sdk = groundcrew::require_local_aws!();
    let e = estate(sdk).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&e.sdk), &e.table);
    let lease = |holder: &str, until_ms: i64| Lease {
        subject: "alarm#fenced".into(),
        holder: holder.into(),
        until_ms,
    };
    let first = lease("one", 10_000);
    assert!(matches!(
        store.acquire(&first, 1_000, 0).await.unwrap(),
        Acquired::Held(_)
    ));
    assert_eq!(
        store
            .acquire(&lease("two", 20_000), 2_000, 0)
            .await
            .unwrap(),
        Acquired::Busy { until_ms: 10_000 }
    );
    let change = Change {
        state: Some(State::Alarm),
        at_ms: 5,
    };
    store.record_delivery(&first, "tg", change).await.unwrap();
    // The first lease ends; a second holder takes over and the first one's writes fail.
    let second = lease("two", 30_000);
    let Acquired::Held(found) = store.acquire(&second, 10_001, 0).await.unwrap() else {
        panic!("an expired lease is free");
    };
    assert_eq!(found.delivered.get("tg"), Some(&change));
    let err = store
        .record_delivery(&first, "pd", change)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::LeaseLost { .. }), "{err}");
    store.release(&first).await.unwrap();
    assert!(matches!(
        store
            .acquire(&lease("three", 40_000), 10_002, 0)
            .await
            .unwrap(),
        Acquired::Busy { until_ms: 30_000 }
    ));
    store.release(&second).await.unwrap();
    let Acquired::Held(found) = store
        .acquire(&lease("three", 40_000), 10_003, 0)
        .await
        .unwrap()
    else {
        panic!("a released lease is free");
    };
    assert!(!found.delivered.contains_key("pd"));
}

#[tokio::test]
async fn redrive_redelivers_the_dead_letters_once_and_keeps_what_fails() {
    let sdk = groundcrew::require_local_aws!();
    let e = estate(sdk).await;
    e.mount_all_ok().await;
    let sqs = aws_sdk_sqs::Client::new(&e.sdk);
    let queue = sqs
        .create_queue()
        .queue_name(unique_name("af-dlq"))
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    let doc = format!(
        "{}default: [hook]\n",
        e.receivers_yaml("arn:aws:sns:us-east-1:123456789012:unused")
    );
    let app = e
        .app(&doc, &[("DEAD_LETTER_QUEUE_URL", queue.as_str())])
        .await;
    let name = unique_name("dead");
    let delivered_before = sns_event(
        &unique_name("msg"),
        &alarm_at(&name, "OK", "2026-11-21T21:40:00.000+0000"),
    );
    app.handle(&delivered_before, deadline()).await.unwrap();
    // Lambda put two events in the queue: an older ALARM (stale now) and a new one; two
    // scheduled flushes that failed; plus junk.
    let stale = sns_event(
        &unique_name("msg"),
        &alarm_at(&name, "ALARM", "2026-11-21T21:30:00.000+0000"),
    );
    let fresh = sns_event(
        &unique_name("msg"),
        &alarm_at(&name, "ALARM", "2026-11-21T21:50:00.000+0000"),
    );
    for body in [
        stale.to_string(),
        fresh.to_string(),
        json!({"action": "flush"}).to_string(),
        json!({"action": "flush"}).to_string(),
        "not an event".to_string(),
    ] {
        sqs.send_message()
            .queue_url(&queue)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    let report = app
        .handle(&json!({"action": "redrive"}), deadline())
        .await
        .unwrap();
    let redrive = report.redrive.expect("a redrive report");
    // The flushes are done (nothing is pending, so no digest) and deleted.
    assert_eq!(redrive.received, 5);
    assert_eq!(redrive.redelivered, 4);
    assert_eq!(redrive.left.len(), 1);
    assert!(
        redrive.left[0].reason.contains("not JSON"),
        "{:?}",
        redrive.left
    );
    let mut outcomes: Vec<String> = report
        .notices
        .iter()
        .map(|n| format!("{:?}", n.outcome))
        .collect();
    outcomes.sort();
    assert_eq!(outcomes, vec!["Delivered", "Stale"]);
    let states: Vec<String> = e
        .requests_to("/hook/")
        .await
        .iter()
        .map(|h| {
            h["notice"]["body"]["state"]
                .as_str()
                .unwrap_or("?")
                .to_string()
        })
        .collect();
    assert_eq!(states, vec!["OK", "ALARM"]);
    // A second redrive finds only the junk (hidden for now) and re-sends nothing.
    let again = app
        .handle(&json!({"action": "redrive"}), deadline())
        .await
        .unwrap();
    assert_eq!(again.redrive.unwrap().redelivered, 0);
    assert_eq!(e.requests_to("/hook/").await.len(), 2);
}

#[tokio::test]
async fn an_ok_replies_to_its_alarm_through_the_thread_kept_in_dynamodb() {
    let sdk = groundcrew::require_local_aws!();
    let e = estate(sdk).await;
    Mock::given(method("POST"))
        .and(path_regex("^/bot.*/sendMessage$"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "result": {"message_id": 4242}})),
        )
        .mount(&e.server)
        .await;
    let doc = format!(
        "{}default: [tg]\n",
        e.receivers_yaml("arn:aws:sns:us-east-1:1:x")
    );
    let app = e.app(&doc, &[]).await;
    let name = unique_name("threaded");
    let alarm = alarm_at(&name, "ALARM", "2026-11-21T21:30:00.000+0000");
    app.handle(&sns_event("t-1", &alarm), deadline())
        .await
        .expect("ALARM");
    // The anchor is in the table, keyed by chat and alarm.
    let arn = format!("arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{name}");
    let item = aws_sdk_dynamodb::Client::new(&e.sdk)
        .get_item()
        .table_name(&e.table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("thread#telegram:-100#{arn}")),
        )
        .send()
        .await
        .unwrap();
    let item = item.item().expect("the ALARM's message id is kept");
    assert_eq!(item["msg"].as_s().unwrap(), "4242");
    assert!(item.contains_key("expires_at"));
    // A second app (another cold start) reads it back for the OK.
    let app = e.app(&doc, &[]).await;
    let ok = alarm_at(&name, "OK", "2026-11-21T21:40:00.000+0000");
    app.handle(&sns_event("t-2", &ok), deadline())
        .await
        .expect("OK");
    let sent = e.requests_to("/bot").await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[0].get("reply_parameters").is_none(), "{}", sent[0]);
    assert_eq!(
        sent[1]["reply_parameters"]["message_id"], 4242,
        "{}",
        sent[1]
    );
    assert_eq!(sent[1]["disable_notification"], true);
}

/// The digest's record in DynamoDB between invocations: folds from many invocations all
/// land, of two flushes claiming only the first gets the claim, lines folded while a digest is out stay for the next one, a
/// holder whose claim expired and was taken over cannot finish, and the next digest waits
/// for its interval.
#[tokio::test]
async fn the_digest_claim_and_finish_race_in_dynamodb() {
    use alarm_fanout::aws::DynamoStore;
    use alarm_fanout::digest::{Entry, Pending};
    use alarm_fanout::pace::PaceStore;

    let sdk = groundcrew::require_local_aws!();
    let e = estate(sdk).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&e.sdk), &e.table);
    let line = |name: &str, at_ms: i64| Entry {
        line: format!("🔴 {name} · ALARM · {at_ms}"),
        at_ms,
        changes: 1,
    };
    let interval = Duration::from_secs(60);
    let t0 = 1_800_000_000_000i64;
    // Twenty invocations' folds, one after another: moto's server runs requests on threads
    // without locking the item, so there a conditional write is not atomic with a
    // concurrent one (twenty folds at once lost one to three lines in moto); DynamoDB
    // applies the condition and the write of one UpdateItem atomically.
    for i in 0..20 {
        store
            .fold(
                "tg",
                &format!("alarm#a{i:02}"),
                &line(&format!("a{i:02}"), t0 + i),
                0,
            )
            .await
            .expect("fold");
    }
    // Two flushes claim (one after the other, for the same reason): one claim, holding
    // all twenty lines.
    let c1 = store
        .claim_digest("tg", "f1", t0 + 100, t0 + 60_000, interval)
        .await
        .expect("claim 1");
    let c2 = store
        .claim_digest("tg", "f2", t0 + 100, t0 + 60_000, interval)
        .await
        .expect("claim 2");
    assert!(c1.is_some() && c2.is_none(), "{c1:?} / {c2:?}");
    let (holder, other, claimed) = ("f1", "f2", c1.unwrap());
    assert_eq!(claimed.pending.entries.len(), 20);
    // While it is out: a newer state of a00 and a new alarm are folded.
    store
        .fold("tg", "alarm#a00", &line("a00", t0 + 500), 0)
        .await
        .unwrap();
    store
        .fold("tg", "alarm#b", &line("b", t0 + 600), 0)
        .await
        .unwrap();
    // The other flush cannot finish what it does not hold.
    let lost = store
        .finish_digest("tg", other, &claimed.pending, t0 + 1_000)
        .await;
    assert!(matches!(lost, Err(Error::LeaseLost { .. })), "{lost:?}");
    store
        .finish_digest("tg", holder, &claimed.pending, t0 + 1_000)
        .await
        .expect("finish");
    // Left: what changed or came while the digest was out, nothing it showed.
    let too_soon = store
        .claim_digest("tg", "f3", t0 + 2_000, t0 + 62_000, interval)
        .await
        .unwrap();
    assert!(too_soon.is_none(), "the next digest waits for its interval");
    let next = store
        .claim_digest("tg", "f3", t0 + 61_000, t0 + 62_000, interval)
        .await
        .unwrap()
        .expect("the rest is claimable after the interval");
    let left: Vec<(&String, i64)> = next
        .pending
        .entries
        .iter()
        .map(|(k, e)| (k, e.at_ms))
        .collect();
    assert_eq!(
        left,
        vec![
            (&"alarm#a00".to_string(), t0 + 500),
            (&"alarm#b".to_string(), t0 + 600)
        ]
    );
    assert_eq!(next.pending.entries["alarm#a00"].changes, 2);
    // f3 stalls past its claim; f4 takes over, and f3 can no longer finish.
    let taken = store
        .claim_digest("tg", "f4", t0 + 62_001, t0 + 120_000, interval)
        .await
        .unwrap()
        .expect("an expired claim is taken over");
    assert_eq!(taken.pending, next.pending);
    let stale = store
        .finish_digest("tg", "f3", &next.pending, t0 + 62_002)
        .await;
    assert!(matches!(stale, Err(Error::LeaseLost { .. })), "{stale:?}");
    store
        .finish_digest("tg", "f4", &taken.pending, t0 + 62_003)
        .await
        .unwrap();
    let empty = store
        .claim_digest("tg", "f5", t0 + 200_000, t0 + 260_000, interval)
        .await
        .unwrap();
    assert_eq!(empty.map(|c| c.pending), None::<Pending>);
}

#[tokio::test]
async fn an_alarm_picture_comes_from_get_metric_widget_image() {
    use alarm_fanout::aws::CloudWatchPictures;
    use alarm_fanout::picture::Pictures;
    use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic};
    let sdk = groundcrew::require_local_aws!();
    // moto has no GetMetricWidgetImage: the stand-in's CloudWatch translator draws one.
    let sdk = groundcrew::testing::with_endpoint(&sdk, &groundcrew::testing::standin_endpoint());
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&sdk);
    let name = unique_name("pictured");
    cloudwatch
        .put_metric_alarm()
        .alarm_name(&name)
        .namespace("AWS/EC2")
        .metric_name("CPUUtilization")
        .dimensions(Dimension::builder().name("InstanceId").value("i-1").build())
        .statistic(Statistic::Average)
        .period(300)
        .evaluation_periods(1)
        .threshold(80.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .expect("put alarm");
    let pictures = CloudWatchPictures::new(cloudwatch);
    let png = pictures
        .picture(&name)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "{e}\n(a 500 here: the stand-in on 4580 predates its GetMetricWidgetImage \
                 answer; restart it: scripts/local-aws.sh stop && scripts/local-aws.sh start)"
            )
        })
        .expect("a metric alarm is drawn");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{:?}", &png[..8]);
    assert_eq!(pictures.picture(&unique_name("gone")).await.unwrap(), None);
}

#[tokio::test]
async fn dynamodb_keeps_held_notices_until_released() {
    use alarm_fanout::aws::DynamoStore;
    use alarm_fanout::held::{Held, HeldStore};
    let sdk = groundcrew::require_local_aws!();
    let e = estate(sdk).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&e.sdk), &e.table);
    assert!(store.held().await.unwrap().is_empty());
    let notice = |id: &str| {
        alarm_fanout::notice::parse_event(&sns_event(id, &alarm_message("prod-db-cpu", "ALARM")))
            .unwrap()
            .remove(0)
    };
    let held = |id: &str, subject: &str| Held {
        subject: subject.into(),
        notice: notice(id),
        receivers: vec!["chat".into(), "tg".into()],
    };
    store
        .hold(&held("m1", "alarm#a"), 4_000_000_000)
        .await
        .unwrap();
    store
        .hold(&held("m2", "alarm#b"), 4_000_000_000)
        .await
        .unwrap();
    let mut found = store.held().await.unwrap();
    found.sort_by(|x, y| x.subject.cmp(&y.subject));
    assert_eq!(found, vec![held("m1", "alarm#a"), held("m2", "alarm#b")]);
    // A later notice of the same subject replaces the held one; releasing the older id
    // then leaves the newer one held.
    store
        .hold(&held("m3", "alarm#a"), 4_000_000_000)
        .await
        .unwrap();
    store.release_held("alarm#a", "m1").await.unwrap();
    let ids: Vec<String> = store
        .held()
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.notice.id)
        .collect();
    assert!(ids.contains(&"m3".to_string()) && ids.len() == 2, "{ids:?}");
    store.release_held("alarm#a", "m3").await.unwrap();
    store.release_held("alarm#b", "m2").await.unwrap();
    assert!(store.held().await.unwrap().is_empty());
}

#[tokio::test]
async fn dynamodb_keeps_silences() {
    use alarm_fanout::aws::DynamoStore;
    use alarm_fanout::silences::{SilenceRequest, SilenceStore};
    let sdk = groundcrew::require_local_aws!();
    let e = estate(sdk).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&e.sdk), &e.table);
    assert!(store.silences().await.unwrap().is_empty());
    let now = chrono::Utc::now();
    let silence = |id: &str| {
        serde_json::from_value::<SilenceRequest>(json!({
            "matchers": {"alarm_name": "prod-db-*", "dimensions": {"DBInstanceIdentifier": "~prod-.*"}},
            "duration": "2h", "author": "ana", "comment": "maintenance"}))
        .unwrap()
        .into_silence(id.into(), now)
        .unwrap()
    };
    store.put_silence(&silence("sil-a")).await.unwrap();
    store.put_silence(&silence("sil-b")).await.unwrap();
    // The same id again (a retried request) replaces it.
    store.put_silence(&silence("sil-a")).await.unwrap();
    let mut found = store.silences().await.unwrap();
    found.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(found, vec![silence("sil-a"), silence("sil-b")]);
    store.remove_silence("sil-a").await.unwrap();
    assert_eq!(store.silences().await.unwrap(), vec![silence("sil-b")]);
}

/// A clock standing still at one instant (each invocation of the reminder test is at its own).
struct At(chrono::DateTime<chrono::Utc>);

impl groundcrew::invocation::Clock for At {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0
    }
}

fn invocation_at(time: &str) -> Invocation {
    let at = chrono::DateTime::parse_from_rfc3339(time)
        .unwrap()
        .with_timezone(&chrono::Utc);
    Invocation::new(
        unique_name("req"),
        groundcrew::Deadline::after(Duration::from_secs(25)),
        std::sync::Arc::new(At(at)),
    )
}

#[tokio::test]
async fn a_reminder_is_due_sent_once_and_stopped_by_the_ok_in_dynamodb() {
    let sdk = groundcrew::require_local_aws!();
    let e = estate(sdk).await;
    e.mount_all_ok().await;
    let doc = format!(
        "{}routes:\n  - match: {{alarm_name: \"db-*\"}}\n    receivers: [hook, pd]\n    repeat_interval: 1h\ndefault: [hook]\n",
        e.receivers_yaml("arn:aws:sns:us-east-1:123456789012:unused")
    );
    let app = e.app(&doc, &[]).await;
    let flush = json!({"action": "flush"});
    let alarm = sns_event(&unique_name("msg"), &alarm_message("db-cpu", "ALARM"));
    app.handle(&alarm, invocation_at("2026-11-21T21:31:00Z"))
        .await
        .unwrap();
    assert_eq!(e.requests_to("/hook/").await.len(), 1);
    assert_eq!(e.requests_to("/v2/enqueue").await.len(), 1);

    // 59 minutes after the send: not due.
    let r = app
        .handle(&flush, invocation_at("2026-11-21T22:30:00Z"))
        .await
        .unwrap();
    assert!(r.notices.is_empty(), "{:?}", r.notices);
    // Due: one reminder to the webhook (none to PagerDuty); a second sweep sends nothing.
    let r = app
        .handle(&flush, invocation_at("2026-11-21T22:32:00Z"))
        .await
        .unwrap();
    assert_eq!(r.notices.len(), 1, "{:?}", r.notices);
    assert_eq!(r.notices[0].sent, vec!["hook"]);
    let again = app
        .handle(&flush, invocation_at("2026-11-21T22:32:30Z"))
        .await
        .unwrap();
    assert!(again.notices.is_empty(), "{:?}", again.notices);
    let hooks = e.requests_to("/hook/").await;
    assert_eq!(hooks.len(), 2);
    assert!(
        hooks[1]
            .to_string()
            .contains("Reminder: still in ALARM since 2026-11-21 21:30 UTC (1h 1m)."),
        "{}",
        hooks[1]
    );
    assert_eq!(e.requests_to("/v2/enqueue").await.len(), 1);

    // The OK clears the index entry; no reminder comes after it.
    let ok = sns_event(
        &unique_name("msg"),
        &alarm_at("db-cpu", "OK", "2026-11-21T22:40:00.000+0000"),
    );
    app.handle(&ok, invocation_at("2026-11-21T22:40:05Z"))
        .await
        .unwrap();
    let index = aws_sdk_dynamodb::Client::new(&e.sdk)
        .get_item()
        .table_name(&e.table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("remind".into()),
        )
        .send()
        .await
        .unwrap()
        .item
        .unwrap_or_default();
    assert!(
        !index.keys().any(|k| k.starts_with("r:")),
        "the OK cancels the reminder: {index:?}"
    );
    for at in ["2026-11-21T23:40:00Z", "2026-11-22T03:00:00Z"] {
        let r = app.handle(&flush, invocation_at(at)).await.unwrap();
        assert!(r.notices.is_empty(), "{:?}", r.notices);
    }
    assert_eq!(
        e.requests_to("/hook/").await.len(),
        3,
        "ALARM, reminder, OK"
    );
    assert_eq!(
        e.requests_to("/v2/enqueue").await.len(),
        2,
        "trigger, resolve"
    );
}

#[tokio::test]
async fn dynamodb_keeps_firing_inhibition_sources_until_cleared() {
    use alarm_fanout::aws::DynamoStore;
    use alarm_fanout::inhibition::{Source, SourceStore};
    let sdk = groundcrew::require_local_aws!();
    let e = estate(sdk).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&e.sdk), &e.table);
    assert!(store.firing().await.unwrap().is_empty());
    let source = |subject: &str, db: &str| Source {
        subject: subject.into(),
        rule: 0,
        values: vec![db.into()],
    };
    store
        .set_sources("alarm#a", &[source("alarm#a", "prod-1")])
        .await
        .unwrap();
    store
        .set_sources("alarm#b", &[source("alarm#b", "prod-2")])
        .await
        .unwrap();
    let mut firing = store.firing().await.unwrap();
    firing.sort_by(|x, y| x.subject.cmp(&y.subject));
    assert_eq!(
        firing,
        vec![source("alarm#a", "prod-1"), source("alarm#b", "prod-2")]
    );
    // The source's OK clears it (an empty list); clearing twice is harmless.
    store.set_sources("alarm#a", &[]).await.unwrap();
    store.set_sources("alarm#a", &[]).await.unwrap();
    assert_eq!(
        store.firing().await.unwrap(),
        vec![source("alarm#b", "prod-2")]
    );
}

#[tokio::test]
async fn dynamodb_reads_one_subjects_reminder_due_or_not() {
    use alarm_fanout::aws::DynamoStore;
    use alarm_fanout::reminders::{Reminder, ReminderStore, Rescheduled};
    use aws_sdk_dynamodb::types::AttributeValue;
    use std::collections::BTreeMap;
    let sdk = groundcrew::require_local_aws!();
    let e = estate(sdk).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&e.sdk), &e.table);
    assert_eq!(store.reminder("alarm#a").await.unwrap(), None);
    let notice =
        alarm_fanout::notice::parse_event(&sns_event("m1", &alarm_message("db-cpu", "ALARM")))
            .unwrap()
            .remove(0);
    let scheduled = Reminder {
        subject: "alarm#a".into(),
        notice,
        since_ms: 1_000,
        last_sent_ms: [("hook".to_string(), 1_000)].into(),
        due_ms: 3_601_000,
    };
    store.schedule(&scheduled, 4_000_000_000).await.unwrap();
    // Not due yet, still read, with the due time the index holds.
    assert!(store.due_reminders(3_600_999).await.unwrap().is_empty());
    assert_eq!(
        store.reminder("alarm#a").await.unwrap(),
        Some(scheduled.clone())
    );
    assert_eq!(store.reminder("alarm#b").await.unwrap(), None);
    // A claim moves the due time and the receivers' last sends; the read follows both.
    // The same write moves the item's TTL (an alarm firing longer than the TTL).
    let last: BTreeMap<String, i64> = [("hook".to_string(), 3_601_000)].into();
    assert!(store
        .claim(
            "alarm#a",
            3_601_000,
            Some(Rescheduled {
                due_ms: 7_201_000,
                last_sent_ms: &last,
                expires_at: 4_100_000_000,
            }),
        )
        .await
        .unwrap());
    let claimed = store.reminder("alarm#a").await.unwrap().expect("reminder");
    assert_eq!((claimed.due_ms, &claimed.last_sent_ms), (7_201_000, &last));
    let item = aws_sdk_dynamodb::Client::new(&e.sdk)
        .get_item()
        .table_name(&e.table)
        .key("pk", AttributeValue::S("remind#alarm#a".into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("the reminder's item");
    assert_eq!(
        item.get("expires_at"),
        Some(&AttributeValue::N("4100000000".into()))
    );
    // An index entry whose item expired (TTL) reads as no reminder.
    aws_sdk_dynamodb::Client::new(&e.sdk)
        .update_item()
        .table_name(&e.table)
        .key("pk", AttributeValue::S("remind".into()))
        .update_expression("SET #r = :due")
        .expression_attribute_names("#r", "r:alarm#gone")
        .expression_attribute_values(":due", AttributeValue::N("5".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(store.reminder("alarm#gone").await.unwrap(), None);
    // Cancelled: the item remains until its TTL, but without its index entry it is gone.
    store.cancel("alarm#a").await.unwrap();
    assert_eq!(store.reminder("alarm#a").await.unwrap(), None);
}
