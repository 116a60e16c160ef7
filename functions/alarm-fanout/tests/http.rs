//! HTTP-peer tests of the receivers' threads, Teams cards and pictures against wiremock
//! (no AWS needed): an OK is a quiet reply to its ALARM in Telegram and in the ALARM's
//! thread in Slack (bot token), with the ALARM edited in place when asked; reminders reply
//! to the ALARM without taking its place.

mod support;

use std::sync::Arc;
use std::time::Duration;

use alarm_fanout::format;
use alarm_fanout::notice::{parse_message, Notice};
use alarm_fanout::pace::Unpaced;
use alarm_fanout::picture::{BoxFuture, Pictures};
use alarm_fanout::receivers::api::ReqwestApi;
use alarm_fanout::receivers::{Deliver, Endpoints, To};
use alarm_fanout::reminders;
use alarm_fanout::routing::{ChatId, Receiver};
use alarm_fanout::severity::Severity;
use alarm_fanout::threads::MemoryThreads;
use groundcrew::secrets::InMemorySecretStore;
use serde_json::{json, Value};
use support::{deadline, Tested};
use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// A picture source that draws every alarm as the same few bytes.
struct FakePictures;
const PNG: &[u8] = b"\x89PNG\r\n\x1a\nfake";
impl Pictures for FakePictures {
    fn picture<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, String>> {
        let known = name == "api-5xx";
        Box::pin(async move { Ok(known.then(|| PNG.to_vec())) })
    }
}

fn receivers(server: &MockServer) -> Tested {
    let uri = server.uri();
    let secrets = InMemorySecretStore::default()
        .with("t", "123:TOKEN-SECRET")
        .with("sb", "xoxb-SLACK-SECRET")
        .with("teams", &format!("{uri}/workflows/TEAMS-SECRET"));
    let endpoints = Endpoints {
        telegram_api: uri.clone(),
        pagerduty_events: uri.clone(),
        slack_api: format!("{uri}/api"),
    };
    support::receivers(secrets, endpoints, Duration::from_secs(2))
        .with_threads(Arc::new(MemoryThreads::default()))
        .with_api(Arc::new(
            ReqwestApi::new(support::http(Duration::from_secs(2))).unwrap(),
        ))
        .with_pictures(Arc::new(FakePictures))
}

fn alarm(state: &str) -> Notice {
    let m = json!({"AlarmName": "api-5xx", "NewStateValue": state, "NewStateReason": "1 datapoint > 5",
        "AlarmArn": "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:api-5xx",
        "StateChangeTime": "2026-11-21T21:30:42.236+0000"});
    parse_message(&format!("m-{state}"), None, &m.to_string())
}

async fn send(r: &Tested, name: &str, receiver: &Receiver, notice: &Notice) {
    let message = format::message(receiver, notice, Severity::Critical, 3);
    for part in 0..message.parts() {
        r.send(
            To {
                name,
                receiver,
                pace: &Unpaced,
            },
            &message,
            part,
            deadline(),
        )
        .await
        .unwrap_or_else(|f| panic!("{name}: {}", f.error));
    }
}

async fn requests(server: &MockServer, suffix: &str) -> Vec<(Request, Value)> {
    support::requests(server, |p| p.ends_with(suffix)).await
}

fn telegram() -> Receiver {
    Receiver::Telegram {
        chat_id: ChatId::Id(-100),
        thread_id: None,
        bot_token_secret: "t".into(),
        picture: false,
    }
}

#[tokio::test]
async fn a_telegram_ok_is_a_quiet_reply_to_its_alarm() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex("^/bot.*/sendMessage$"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"ok": true, "result": {"message_id": 77, "chat": {"id": -100}}}),
            ),
        )
        .mount(&server)
        .await;
    let r = receivers(&server);
    let tg = telegram();
    send(&r, "tg", &tg, &alarm("ALARM")).await;
    send(&r, "tg", &tg, &alarm("OK")).await;
    let sent = requests(&server, "/sendMessage").await;
    assert_eq!(sent.len(), 2);
    let (first, ok) = (&sent[0].1, &sent[1].1);
    assert!(first.get("reply_parameters").is_none(), "{first}");
    assert!(first.get("disable_notification").is_none(), "{first}");
    assert_eq!(ok["reply_parameters"]["message_id"], 77, "{ok}");
    assert_eq!(ok["reply_parameters"]["allow_sending_without_reply"], true);
    assert_eq!(ok["disable_notification"], true);
    // Another alarm's OK has nothing to reply to: it goes on its own, still quietly.
    let other = parse_message(
        "x",
        None,
        &json!({"AlarmName": "other", "NewStateValue": "OK", "AlarmArn": "arn:aws:cloudwatch:eu-west-1:1:alarm:other"}).to_string(),
    );
    send(&r, "tg", &tg, &other).await;
    let sent = requests(&server, "/sendMessage").await;
    assert!(sent[2].1.get("reply_parameters").is_none(), "{}", sent[2].1);
}

fn slack_bot(update_message: bool) -> Receiver {
    Receiver::SlackBot {
        bot_token_secret: "sb".into(),
        channel: "#ops".into(),
        update_message,
        picture: false,
    }
}

async fn mount_slack(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .and(header("authorization", "Bearer xoxb-SLACK-SECRET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"ok": true, "channel": "C024BE91L", "ts": "1732224642.000100"}),
            ),
        )
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/chat.update"))
        .and(header("authorization", "Bearer xoxb-SLACK-SECRET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"ok": true, "channel": "C024BE91L", "ts": "1732224642.000100"}),
            ),
        )
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_slack_ok_goes_in_its_alarms_thread_and_can_edit_it() {
    let server = MockServer::start().await;
    mount_slack(&server).await;
    let r = receivers(&server);
    let bot = slack_bot(true);
    send(&r, "slack", &bot, &alarm("ALARM")).await;
    send(&r, "slack", &bot, &alarm("OK")).await;
    let posts = requests(&server, "/chat.postMessage").await;
    assert_eq!(posts.len(), 2);
    let (first, ok) = (&posts[0].1, &posts[1].1);
    assert_eq!(first["channel"], "#ops");
    assert!(first.get("thread_ts").is_none(), "{first}");
    assert!(first["text"].as_str().unwrap().contains("ALARM: api-5xx"));
    assert_eq!(ok["thread_ts"], "1732224642.000100", "{ok}");
    assert!(ok["text"].as_str().unwrap().contains("OK: api-5xx"));
    // The ALARM message now shows the OK.
    let edits = requests(&server, "/chat.update").await;
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0].1["channel"], "C024BE91L");
    assert_eq!(edits[0].1["ts"], "1732224642.000100");
    assert!(edits[0].1["text"].as_str().unwrap().contains("OK: api-5xx"));
}

/// Answers every post with the next message id (Telegram `message_id` 1, 2, ...; Slack
/// `ts` `...000001`, ...), so that a test can tell which message a reply points at.
fn numbered(slack: bool) -> impl Fn(&Request) -> ResponseTemplate + Send + Sync {
    let next = std::sync::atomic::AtomicU64::new(0);
    move |_: &Request| {
        let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        ResponseTemplate::new(200).set_body_json(if slack {
            json!({"ok": true, "channel": "C024BE91L", "ts": format!("1732224642.{n:06}")})
        } else {
            json!({"ok": true, "result": {"message_id": n}})
        })
    }
}

/// The reminder of `alarm("ALARM")` an hour after it.
fn reminder() -> Notice {
    let since = alarm("ALARM")
        .alarm()
        .unwrap()
        .time
        .unwrap()
        .timestamp_millis();
    reminders::reminder_notice(&alarm("ALARM"), since, since + 3_600_000)
}

#[tokio::test]
async fn a_reminder_follows_its_alarm_and_the_ok_still_answers_and_edits_the_alarm() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex("^/bot.*/sendMessage$"))
        .respond_with(numbered(false))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(numbered(true))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/chat.update"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    let r = receivers(&server);
    let (tg, bot) = (telegram(), slack_bot(true));
    for notice in [alarm("ALARM"), reminder(), reminder(), alarm("OK")] {
        send(&r, "tg", &tg, &notice).await;
        send(&r, "slack", &bot, &notice).await;
    }
    // Telegram: the ALARM is message 1; the reminders (2, 3) reply to it and ring; the OK
    // replies to the ALARM, not to the last reminder, quietly.
    let sent = requests(&server, "/sendMessage").await;
    let sent: Vec<&Value> = sent.iter().map(|(_, body)| body).collect();
    assert_eq!(sent.len(), 4);
    assert!(sent[0].get("reply_parameters").is_none(), "{}", sent[0]);
    for reminder in &sent[1..3] {
        assert!(
            reminder["text"].as_str().unwrap().contains("Reminder:"),
            "{reminder}"
        );
        assert_eq!(reminder["reply_parameters"]["message_id"], 1, "{reminder}");
        assert!(reminder.get("disable_notification").is_none(), "{reminder}");
    }
    assert_eq!(sent[3]["reply_parameters"]["message_id"], 1, "{}", sent[3]);
    assert_eq!(sent[3]["disable_notification"], true);
    // Slack: the same, in the ALARM's thread; the reminders are shown in the channel too,
    // and only the OK edits, the ALARM's own message.
    let posts = requests(&server, "/chat.postMessage").await;
    let posts: Vec<&Value> = posts.iter().map(|(_, body)| body).collect();
    assert_eq!(posts.len(), 4);
    assert!(posts[0].get("thread_ts").is_none(), "{}", posts[0]);
    for reminder in &posts[1..3] {
        assert_eq!(reminder["thread_ts"], "1732224642.000001", "{reminder}");
        assert_eq!(reminder["reply_broadcast"], true, "{reminder}");
    }
    assert_eq!(posts[3]["thread_ts"], "1732224642.000001", "{}", posts[3]);
    assert!(posts[3].get("reply_broadcast").is_none(), "{}", posts[3]);
    let edits = requests(&server, "/chat.update").await;
    assert_eq!(edits.len(), 1, "only the OK edits");
    assert_eq!(edits[0].1["ts"], "1732224642.000001");
    assert!(edits[0].1["text"].as_str().unwrap().contains("OK: api-5xx"));
}

#[tokio::test]
async fn slack_refusals_name_slacks_error_and_never_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": false, "error": "not_in_channel"})),
        )
        .mount(&server)
        .await;
    let r = receivers(&server);
    let bot = slack_bot(false);
    let message = format::message(&bot, &alarm("ALARM"), Severity::Critical, 3);
    let failed = r
        .send(
            To {
                name: "slack",
                receiver: &bot,
                pace: &Unpaced,
            },
            &message,
            0,
            deadline(),
        )
        .await
        .unwrap_err();
    let text = failed.error.to_string();
    assert!(text.contains("not_in_channel"), "{text}");
    assert!(!text.contains("SLACK-SECRET"), "{text}");
}

#[tokio::test]
async fn teams_gets_an_adaptive_card_at_its_workflows_webhook() {
    let server = MockServer::start().await;
    // Workflows accept a webhook request with 202 and run the flow afterwards.
    Mock::given(method("POST"))
        .and(path("/workflows/TEAMS-SECRET"))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    let r = receivers(&server);
    let teams = Receiver::Teams {
        webhook_url_secret: "teams".into(),
    };
    send(&r, "teams", &teams, &alarm("ALARM")).await;
    let sent = requests(&server, "/TEAMS-SECRET").await;
    let card = &sent[0].1["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(card["content"]["body"][0]["text"], "🔴 ALARM: api-5xx");
    assert_eq!(
        sent[0].0.headers.get("content-type").unwrap(),
        "application/json"
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_telegram_alarm_picture_is_a_quiet_photo_replying_to_the_text() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex("^/bot.*/sendMessage$"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "result": {"message_id": 501}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex("^/bot.*/sendPhoto$"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "result": {"message_id": 502}})),
        )
        .mount(&server)
        .await;
    let r = receivers(&server);
    let tg = Receiver::Telegram {
        chat_id: ChatId::Id(-100),
        thread_id: None,
        bot_token_secret: "t".into(),
        picture: true,
    };
    send(&r, "tg", &tg, &alarm("ALARM")).await;
    let all = server.received_requests().await.unwrap();
    let paths: Vec<&str> = all.iter().map(|r| r.url.path()).collect();
    assert_eq!(
        paths,
        [
            "/bot123:TOKEN-SECRET/sendMessage",
            "/bot123:TOKEN-SECRET/sendPhoto"
        ],
        "the text goes first"
    );
    let photo = &all[1];
    let content_type = photo.headers.get("content-type").unwrap().to_str().unwrap();
    assert!(
        content_type.starts_with("multipart/form-data; boundary="),
        "{content_type}"
    );
    let body = &photo.body;
    assert!(contains(body, b"name=\"photo\"; filename=\"alarm.png\""));
    assert!(contains(body, PNG));
    assert!(contains(
        body,
        "🔴 ALARM: api-5xx · last 3 hours".as_bytes()
    ));
    assert!(contains(
        body,
        br#"{"allow_sending_without_reply":true,"message_id":501}"#
    ));
    assert!(contains(body, b"name=\"disable_notification\"\r\n\r\ntrue"));
    // The OK has no picture, and a receiver that did not ask gets none.
    send(&r, "tg", &tg, &alarm("OK")).await;
    send(&r, "plain", &telegram(), &alarm("ALARM")).await;
    let photos = requests(&server, "/sendPhoto").await;
    assert_eq!(photos.len(), 1);
}

#[tokio::test]
async fn a_slack_alarm_picture_is_uploaded_into_the_alarms_thread() {
    let server = MockServer::start().await;
    mount_slack(&server).await;
    let uri = server.uri();
    Mock::given(method("POST"))
        .and(path("/api/files.getUploadURLExternal"))
        .and(header("authorization", "Bearer xoxb-SLACK-SECRET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"ok": true, "upload_url": format!("{uri}/upload/v1/ABC"), "file_id": "F0123"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/upload/v1/ABC"))
        .respond_with(ResponseTemplate::new(200).set_body_string("OK - 12"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/files.completeUploadExternal"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "files": [{"id": "F0123"}]})),
        )
        .mount(&server)
        .await;
    let r = receivers(&server);
    let bot = Receiver::SlackBot {
        bot_token_secret: "sb".into(),
        channel: "#ops".into(),
        update_message: false,
        picture: true,
    };
    send(&r, "slack", &bot, &alarm("ALARM")).await;
    let all = server.received_requests().await.unwrap();
    let paths: Vec<&str> = all.iter().map(|r| r.url.path()).collect();
    assert_eq!(
        paths,
        [
            "/api/chat.postMessage",
            "/api/files.getUploadURLExternal",
            "/upload/v1/ABC",
            "/api/files.completeUploadExternal"
        ]
    );
    let form = |r: &Request| -> std::collections::HashMap<String, String> {
        url::form_urlencoded::parse(&r.body).into_owned().collect()
    };
    let asked = form(&all[1]);
    assert_eq!(asked["filename"], "alarm.png");
    assert_eq!(asked["length"], PNG.len().to_string());
    assert_eq!(all[2].body, PNG);
    assert!(
        all[2].headers.get("authorization").is_none(),
        "the upload URL is signed"
    );
    let done = form(&all[3]);
    assert_eq!(done["channel_id"], "C024BE91L");
    assert_eq!(done["thread_ts"], "1732224642.000100");
    let files: Value = serde_json::from_str(&done["files"]).unwrap();
    assert_eq!(files[0]["id"], "F0123");
}

#[tokio::test]
async fn a_failed_picture_never_fails_the_delivery() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex("^/bot.*/sendMessage$"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "result": {"message_id": 9}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex("^/bot.*/sendPhoto$"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"ok": false, "error_code": 400, "description": "Bad Request: PHOTO_INVALID_DIMENSIONS"}),
        ))
        .mount(&server)
        .await;
    let r = receivers(&server);
    let tg = Receiver::Telegram {
        chat_id: ChatId::Id(-100),
        thread_id: None,
        bot_token_secret: "t".into(),
        picture: true,
    };
    // `send` panics on a failed delivery.
    send(&r, "tg", &tg, &alarm("ALARM")).await;
    assert_eq!(requests(&server, "/sendPhoto").await.len(), 1);
}
