//! HTTP-peer tests: the receivers' retry logic over the reqwest transport against wiremock
//! (no AWS needed): Telegram's supergroup migration, and sends whose answer timed out after
//! the receiver accepted them (possible duplicates, except PagerDuty's).

mod support;

use std::time::Duration;

use alarm_fanout::format::{self, Message};
use alarm_fanout::notice::parse_message;
use alarm_fanout::pace::Unpaced;
use alarm_fanout::receivers::{Deliver, Endpoints, To};
use alarm_fanout::routing::{ChatId, Receiver};
use alarm_fanout::severity::Severity;
use groundcrew::secrets::InMemorySecretStore;
use serde_json::{json, Value};
use support::{deadline, Tested};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn receivers(server: &MockServer) -> Tested {
    let uri = server.uri();
    let secrets = InMemorySecretStore::default()
        .with("t", "123:TOKEN-SECRET")
        .with("w", &format!("{uri}/hook/WEBHOOK-SECRET"))
        .with("p", "PD-KEY-SECRET");
    let endpoints = Endpoints {
        telegram_api: uri.clone(),
        pagerduty_events: uri,
        ..Endpoints::default()
    };
    support::receivers(secrets, endpoints, Duration::from_millis(500))
}

fn alarm() -> alarm_fanout::notice::Notice {
    let m = json!({"AlarmName": "api", "NewStateValue": "ALARM", "AlarmArn": "arn:aws:cloudwatch:eu-west-1:1:alarm:api"});
    parse_message("m-1", None, &m.to_string())
}

async fn bodies(server: &MockServer, prefix: &str) -> Vec<Value> {
    support::requests(server, |p| p.starts_with(prefix))
        .await
        .into_iter()
        .map(|(_, body)| body)
        .collect()
}

#[tokio::test]
async fn a_migrated_telegram_group_is_followed_and_reported() {
    let server = MockServer::start().await;
    let migrated = json!({"ok": false, "error_code": 400, "description": "Bad Request: group chat was upgraded to a supergroup chat", "parameters": {"migrate_to_chat_id": -1_001_234_567_890_i64}});
    Mock::given(method("POST"))
        .and(path_regex("^/bot.*/sendMessage$"))
        .respond_with(ResponseTemplate::new(400).set_body_json(migrated))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex("^/bot.*/sendMessage$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    let r = receivers(&server);
    let tg = Receiver::Telegram {
        chat_id: ChatId::Id(-100),
        thread_id: None,
        bot_token_secret: "t".into(),
        picture: false,
    };
    let message = format::message(&tg, &alarm(), Severity::Info, 3);
    let sent = r
        .send(
            To {
                name: "tg",
                receiver: &tg,
                pace: &Unpaced,
            },
            &message,
            0,
            deadline(),
        )
        .await
        .unwrap();
    assert_eq!(sent.migrated_to, Some(-1_001_234_567_890));
    let sent = bodies(&server, "/bot").await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["chat_id"], -100);
    assert_eq!(sent[1]["chat_id"], -1_001_234_567_890_i64);
    // Later messages in this process go to the new chat at once.
    r.send(
        To {
            name: "tg",
            receiver: &tg,
            pace: &Unpaced,
        },
        &message,
        0,
        deadline(),
    )
    .await
    .unwrap();
    assert_eq!(
        bodies(&server, "/bot").await[2]["chat_id"],
        -1_001_234_567_890_i64
    );
}

#[tokio::test]
async fn an_answer_that_timed_out_after_acceptance_counts_as_a_possible_duplicate() {
    let server = MockServer::start().await;
    for prefix in ["/hook/WEBHOOK-SECRET", "/v2/enqueue"] {
        // The first request is taken in but answered too late.
        Mock::given(method("POST"))
            .and(path(prefix))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path(prefix))
            .respond_with(ResponseTemplate::new(202))
            .mount(&server)
            .await;
    }
    let r = receivers(&server);
    let hook = Receiver::Webhook {
        url_secret: "w".into(),
    };
    let message = format::message(&hook, &alarm(), Severity::Info, 3);
    let sent = r
        .send(
            To {
                name: "hook",
                receiver: &hook,
                pace: &Unpaced,
            },
            &message,
            0,
            deadline(),
        )
        .await
        .unwrap();
    assert_eq!(sent.possible_duplicates, 1);
    assert_eq!(bodies(&server, "/hook/").await.len(), 2);
    // PagerDuty deduplicates on dedup_key: the second trigger is the same incident.
    let pd = Receiver::Pagerduty {
        routing_key_secret: "p".into(),
    };
    let message = format::message(&pd, &alarm(), Severity::Info, 3);
    assert!(matches!(message, Message::Pagerduty(ref v) if v.get("routing_key").is_none()));
    let sent = r
        .send(
            To {
                name: "pd",
                receiver: &pd,
                pace: &Unpaced,
            },
            &message,
            0,
            deadline(),
        )
        .await
        .unwrap();
    assert_eq!(sent.possible_duplicates, 0);
    let events = bodies(&server, "/v2/enqueue").await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["dedup_key"], events[1]["dedup_key"]);
    assert_eq!(events[1]["routing_key"], "PD-KEY-SECRET");
}

#[tokio::test]
async fn a_failure_after_a_timeout_is_uncertain_and_names_no_secret() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook/WEBHOOK-SECRET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let r = receivers(&server);
    let hook = Receiver::Webhook {
        url_secret: "w".into(),
    };
    let message = format::message(&hook, &alarm(), Severity::Info, 3);
    let failed = r
        .send(
            To {
                name: "hook",
                receiver: &hook,
                pace: &Unpaced,
            },
            &message,
            0,
            deadline(),
        )
        .await
        .unwrap_err();
    assert!(failed.uncertain);
    let text = failed.error.to_string();
    assert!(text.contains("webhook receiver hook"), "{text}");
    assert!(
        !text.contains("SECRET") && !text.contains(&server.uri()),
        "{text}"
    );
}
