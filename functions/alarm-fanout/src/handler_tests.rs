//! Unit tests of the handler with fakes: order, convergence, duplicate-state suppression,
//! leases with fencing, multi-part resume and possible duplicates.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use groundcrew::invocation::TokioClock;
use groundcrew::{Deadline, Invocation};
use serde_json::{json, Value};

use crate::error::Error;
use crate::format::Message;
use crate::handler::Outcome;
use crate::receivers::{Deliver, Failed, SendError, Sent, To};
use crate::store::{Acquired, Lease, Store};
use crate::test_support::{pairs, start};

/// One send the fake saw: receiver, headline's state word, part.
type Seen = (String, String, usize);

/// Sends take `delay`; scripted failures are used up one by one.
#[derive(Default)]
struct FakeDeliver {
    delay: Duration,
    /// (receiver, part, uncertain): the next send of that part fails.
    fail: Mutex<Vec<(String, usize, bool)>>,
    /// Receivers that fail every time.
    down: Mutex<BTreeSet<String>>,
    /// Receivers that answer 429 every time.
    throttled: Mutex<BTreeSet<String>>,
    sent: Mutex<Vec<Seen>>,
    /// Every request that went out: receiver, when, its text.
    texts: Mutex<Vec<(String, tokio::time::Instant, String)>>,
}

fn state_of(message: &Message) -> String {
    let text = match message {
        Message::Telegram { parts } => parts.first().cloned().unwrap_or_default(),
        Message::Json(v) | Message::Pagerduty(v) => v.to_string(),
        Message::Sns { subject, .. } => subject.clone(),
        Message::Threaded(t) => return state_of(&t.message),
    };
    ["ALARM", "OK", "INSUFFICIENT_DATA"]
        .iter()
        .find(|s| text.contains(*s))
        .map(|s| s.to_string())
        .unwrap_or_else(|| "text".into())
}

impl Deliver for FakeDeliver {
    async fn send(
        &self,
        to: To<'_>,
        message: &Message,
        part: usize,
        deadline: Deadline,
    ) -> Result<Sent, Failed> {
        let name = to.name;
        if let Err(error) = to.pace.admit(name, to.receiver, deadline).await {
            return Err(Failed {
                error,
                uncertain: false,
            });
        }
        let text = match message {
            Message::Telegram { parts } => parts.get(part).cloned().unwrap_or_default(),
            Message::Json(v) | Message::Pagerduty(v) => v.to_string(),
            Message::Sns { message, .. } => message.clone(),
            Message::Threaded(t) => format!("{:?}", t.message),
        };
        self.texts
            .lock()
            .unwrap()
            .push((name.into(), tokio::time::Instant::now(), text));
        tokio::time::sleep(self.delay).await;
        let scripted = {
            let mut fail = self.fail.lock().unwrap();
            let at = fail.iter().position(|(n, p, _)| n == name && *p == part);
            at.map(|i| fail.remove(i).2)
        };
        if self.throttled.lock().unwrap().contains(name) {
            return Err(Failed {
                error: SendError::Http(groundcrew::http::HttpError::Status {
                    target: name.into(),
                    status: 429,
                    body: String::new(),
                    retry_after: None,
                }),
                uncertain: false,
            });
        }
        let down = self.down.lock().unwrap().contains(name);
        if let Some(uncertain) = scripted.or(down.then_some(false)) {
            if uncertain {
                // The receiver got it, but the answer timed out.
                self.sent
                    .lock()
                    .unwrap()
                    .push((name.into(), state_of(message), part));
            }
            return Err(Failed {
                error: SendError::Rejected {
                    target: name.into(),
                    reason: "down".into(),
                },
                uncertain,
            });
        }
        self.sent
            .lock()
            .unwrap()
            .push((name.into(), state_of(message), part));
        Ok(Sent::default())
    }
}

/// ALARMs go to a, b and c; everything else (OKs included) to d; pd and tg by name only.
const DOC: &str = "receivers:\n  a: {type: webhook, url_secret: a}\n  b: {type: webhook, url_secret: b}\n  c: {type: webhook, url_secret: c}\n  d: {type: webhook, url_secret: d}\n  tg: {type: telegram, chat_id: 1, bot_token_secret: t}\n  pd: {type: pagerduty, routing_key_secret: p}\nroutes:\n  - match: {alarm_name: \"long-*\"}\n    receivers: [tg, pd]\n  - match: {state: ALARM}\n    receivers: [a, b, c]\ndefault: [d]\n";

type TestApp = crate::test_support::TestApp<FakeDeliver>;

fn app() -> TestApp {
    crate::test_support::app_with(
        DOC,
        FakeDeliver {
            delay: Duration::from_secs(1),
            ..FakeDeliver::default()
        },
    )
}

fn invocation(id: &str) -> Invocation {
    Invocation::new(
        id,
        Deadline::after(Duration::from_secs(30)),
        Arc::new(TokioClock::starting_at(start())),
    )
}

/// An SNS event for alarm `name` changing to `state` at minute `minute`.
fn event(id: &str, name: &str, state: &str, minute: u32) -> Value {
    crate::test_support::event(
        id,
        name,
        state,
        start() + chrono::Duration::minutes(minute.into()),
    )
}

fn sent(app: &TestApp) -> Vec<(String, String)> {
    app.deliver
        .sent
        .lock()
        .unwrap()
        .iter()
        .map(|(n, s, _)| (n.clone(), s.clone()))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn receivers_are_called_concurrently() {
    let app = app();
    let started = tokio::time::Instant::now();
    let report = app
        .handle(&event("m1", "api", "ALARM", 1), invocation("r1"))
        .await
        .unwrap();
    assert_eq!(report.notices[0].sent, vec!["a", "b", "c"]);
    assert!(started.elapsed() < Duration::from_millis(1500));
}

#[tokio::test(start_paused = true)]
async fn the_ok_follows_the_alarm_to_exactly_the_receivers_that_got_it() {
    let app = app();
    app.deliver.down.lock().unwrap().insert("c".into());
    let err = app
        .handle(&event("m1", "api", "ALARM", 1), invocation("r1"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Delivery { failed, .. } if failed == &vec!["c".to_string()]),
        "{err}"
    );
    // The OK arrives while the ALARM waits for Lambda's retry (or the dead-letter queue).
    let ok = app
        .handle(&event("m2", "api", "OK", 2), invocation("r2"))
        .await
        .unwrap();
    assert_eq!(ok.notices[0].sent, vec!["d", "a", "b"]);
    // The retry of the ALARM comes back after c recovered: stale, sent nowhere.
    app.deliver.down.lock().unwrap().clear();
    let retry = app
        .handle(&event("m1", "api", "ALARM", 1), invocation("r3"))
        .await
        .unwrap();
    assert_eq!(retry.notices[0].outcome, Outcome::Stale);
    assert!(retry.notices[0]
        .superseded_by
        .as_deref()
        .unwrap()
        .starts_with("OK at 2026-11-21T21:02"));
    assert_eq!(
        sent(&app),
        pairs(&[
            ("a", "ALARM"),
            ("b", "ALARM"),
            ("d", "OK"),
            ("a", "OK"),
            ("b", "OK")
        ])
    );
    assert_eq!(app.store.stale.lock().unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_stale_notice_never_reopens_and_a_new_alarm_is_never_suppressed() {
    let app = app();
    app.handle(&event("m2", "api", "OK", 2), invocation("r1"))
        .await
        .unwrap();
    let stale = app
        .handle(&event("m1", "api", "ALARM", 1), invocation("r2"))
        .await
        .unwrap();
    assert_eq!(stale.notices[0].outcome, Outcome::Stale);
    let again = app
        .handle(&event("m3", "api", "ALARM", 3), invocation("r3"))
        .await
        .unwrap();
    assert_eq!(again.notices[0].outcome, Outcome::Delivered);
    assert_eq!(
        sent(&app),
        pairs(&[("d", "OK"), ("a", "ALARM"), ("b", "ALARM"), ("c", "ALARM")])
    );
}

#[tokio::test(start_paused = true)]
async fn the_same_state_change_twice_is_suppressed_and_the_same_message_is_a_duplicate() {
    let app = app();
    app.handle(&event("m1", "api", "ALARM", 1), invocation("r1"))
        .await
        .unwrap();
    let dup = app
        .handle(&event("m1", "api", "ALARM", 1), invocation("r2"))
        .await
        .unwrap();
    assert_eq!(dup.notices[0].outcome, Outcome::Duplicate);
    assert_eq!(dup.notices[0].already_delivered, vec!["a", "b", "c"]);
    // The same state change under another id (EventBridge beside SNS).
    let other = app
        .handle(&event("e1", "api", "ALARM", 1), invocation("r3"))
        .await
        .unwrap();
    assert_eq!(other.notices[0].outcome, Outcome::Suppressed);
    assert_eq!(sent(&app).len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_held_lease_is_waited_for_then_busy() {
    let app = app();
    let other = Lease {
        subject: "alarm#arn:aws:cloudwatch:eu-west-1:1:alarm:api".into(),
        holder: "someone".into(),
        until_ms: start().timestamp_millis() + 3_600_000,
    };
    assert!(matches!(
        app.store
            .acquire(&other, start().timestamp_millis(), 0)
            .await
            .unwrap(),
        Acquired::Held(_)
    ));
    let err = app
        .handle(&event("m1", "api", "ALARM", 1), invocation("r1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Busy { .. }), "{err}");
    assert!(sent(&app).is_empty());
    // A lease that ends while we wait is taken over.
    let short = Lease {
        until_ms: start().timestamp_millis() + 5_000,
        subject: "alarm#arn:aws:cloudwatch:eu-west-1:1:alarm:db".into(),
        ..other
    };
    app.store
        .acquire(&short, start().timestamp_millis(), 0)
        .await
        .unwrap();
    let report = app
        .handle(&event("m2", "db", "ALARM", 1), invocation("r2"))
        .await
        .unwrap();
    assert_eq!(report.notices[0].sent.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_holder_that_lost_its_lease_stops_and_reports() {
    let app = Arc::new(app());
    let subject = "alarm#arn:aws:cloudwatch:eu-west-1:1:alarm:api".to_string();
    let running = {
        let app = Arc::clone(&app);
        tokio::spawn(async move {
            app.handle(&event("m1", "api", "ALARM", 1), invocation("r1"))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    // A second invocation whose clock says the lease has ended takes it over.
    let thief = Lease {
        subject: subject.clone(),
        holder: "thief".into(),
        until_ms: i64::MAX,
    };
    assert!(matches!(
        app.store.acquire(&thief, i64::MAX - 1, 0).await.unwrap(),
        Acquired::Held(_)
    ));
    let err = running.await.unwrap().unwrap_err();
    assert!(matches!(err, Error::LeaseLost { .. }), "{err}");
    let stored = app.store.subject(&subject).unwrap();
    assert!(
        stored.delivered.is_empty(),
        "no write after losing the lease"
    );
    assert_eq!(app.store.holder(&subject).as_deref(), Some("thief"));
}

#[tokio::test(start_paused = true)]
async fn a_multi_part_message_resumes_at_the_first_undelivered_part() {
    let app = app();
    let long = "x".repeat(6000);
    let m = json!({"AlarmName": "long-one", "NewStateValue": "ALARM", "AlarmDescription": long,
        "AlarmArn": "arn:aws:cloudwatch:eu-west-1:1:alarm:long-one", "StateChangeTime": "2026-11-21T21:01:00.000+0000"});
    let e = json!({"Records": [{"Sns": {"MessageId": "m1", "Message": m.to_string()}}]});
    app.deliver
        .fail
        .lock()
        .unwrap()
        .push(("tg".into(), 1, false));
    app.handle(&e, invocation("r1")).await.unwrap_err();
    let report = app.handle(&e, invocation("r2")).await.unwrap();
    assert_eq!(report.notices[0].sent, vec!["tg"]);
    let tg_parts: Vec<usize> = app
        .deliver
        .sent
        .lock()
        .unwrap()
        .iter()
        .filter(|(n, _, _)| n == "tg")
        .map(|(_, _, p)| *p)
        .collect();
    assert_eq!(tg_parts, vec![0, 1], "part 0 once, part 1 after the retry");
    assert_eq!(report.notices[0].possible_duplicates, 0);
}

#[tokio::test(start_paused = true)]
async fn a_send_that_timed_out_after_acceptance_is_counted_when_resent() {
    let app = app();
    app.deliver.fail.lock().unwrap().push(("a".into(), 0, true));
    app.deliver
        .fail
        .lock()
        .unwrap()
        .push(("pd".into(), 0, true));
    app.handle(&event("m1", "api", "ALARM", 1), invocation("r1"))
        .await
        .unwrap_err();
    let report = app
        .handle(&event("m1", "api", "ALARM", 1), invocation("r2"))
        .await
        .unwrap();
    assert_eq!(report.notices[0].sent, vec!["a"]);
    assert_eq!(report.notices[0].possible_duplicates, 1);
    // PagerDuty's dedup_key makes the re-sent trigger the same incident: not counted.
    app.handle(&event("m2", "long-x", "ALARM", 1), invocation("r3"))
        .await
        .unwrap_err();
    let pd = app
        .handle(&event("m2", "long-x", "ALARM", 1), invocation("r4"))
        .await
        .unwrap();
    assert_eq!(pd.notices[0].sent, vec!["pd"]);
    assert_eq!(pd.notices[0].possible_duplicates, 0);
}

#[tokio::test(start_paused = true)]
async fn other_notices_are_sent_once_per_receiver() {
    let app = app();
    let text = json!({"Records": [{"Sns": {"MessageId": "t1", "Message": "disk almost full"}}]});
    app.deliver.down.lock().unwrap().insert("d".into());
    app.handle(&text, invocation("r1")).await.unwrap_err();
    app.deliver.down.lock().unwrap().clear();
    let first = app.handle(&text, invocation("r2")).await.unwrap();
    assert_eq!(first.notices[0].outcome, Outcome::Delivered);
    let again = app.handle(&text, invocation("r3")).await.unwrap();
    assert_eq!(again.notices[0].outcome, Outcome::Duplicate);
    assert_eq!(sent(&app), pairs(&[("d", "text")]));
}

#[tokio::test(start_paused = true)]
async fn a_receiver_past_the_deadline_fails_the_notice() {
    let app = app();
    let short = Invocation::new(
        "r1",
        Deadline::after(Duration::from_millis(500)),
        Arc::new(TokioClock::starting_at(start())),
    );
    let err = app
        .handle(&event("m1", "api", "ALARM", 1), short)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("deadline"), "{err}");
    // Cut short mid-send, the receiver may have it: the next send counts a possible duplicate.
    let report = app
        .handle(&event("m1", "api", "ALARM", 1), invocation("r2"))
        .await
        .unwrap();
    assert_eq!(report.notices[0].possible_duplicates, 3);
}

#[tokio::test(start_paused = true)]
async fn a_burst_to_a_paced_chat_is_paced_and_the_rest_folded_into_a_digest() {
    let app = Arc::new(app());
    let clock = Arc::new(TokioClock::starting_at(start()));
    let on_clock =
        |id: String| Invocation::new(id, Deadline::after(Duration::from_secs(30)), clock.clone());
    // Twelve alarms for tg (a private chat: one message a second) and pd, all at once.
    let runs = (0..12).map(|i| {
        let app = Arc::clone(&app);
        let invocation = on_clock(format!("r{i}"));
        async move {
            app.handle(
                &event(&format!("m{i}"), &format!("long-{i:02}"), "ALARM", 1),
                invocation,
            )
            .await
        }
    });
    let (mut one_by_one, mut folded) = (0, 0);
    for report in futures::future::join_all(runs).await {
        let notice = &report.unwrap().notices[0];
        assert!(notice.sent.contains(&"pd".to_string()), "{notice:?}");
        one_by_one += usize::from(notice.sent.contains(&"tg".to_string()));
        folded += usize::from(notice.folded.contains(&"tg".to_string()));
    }
    assert_eq!(one_by_one + folded, 12);
    assert!(
        folded > 0 && one_by_one > 0,
        "{one_by_one} sent, {folded} folded"
    );
    // Nothing folded is lost when no other alarm comes: the scheduled flush sends it.
    tokio::time::advance(Duration::from_secs(60)).await;
    let flush = app
        .handle(&json!({"action": "flush"}), on_clock("flush".into()))
        .await
        .unwrap();
    assert!(app.store.pace.all_sent());
    let tg: Vec<(tokio::time::Instant, String)> = app
        .deliver
        .texts
        .lock()
        .unwrap()
        .iter()
        .filter(|(n, _, _)| n == "tg")
        .map(|(_, at, text)| (*at, text.clone()))
        .collect();
    for pair in tg.windows(2) {
        assert!(pair[1].0 - pair[0].0 >= Duration::from_secs(1), "tg paced");
    }
    // Every alarm is in the chat: on its own or on a digest's line, each exactly once.
    for i in 0..12 {
        let name = format!("long-{i:02}");
        let seen = tg.iter().filter(|(_, t)| t.contains(&name)).count();
        assert_eq!(seen, 1, "{name}: {tg:?}");
    }
    let digests = tg.iter().filter(|(_, t)| t.contains("📋")).count();
    let in_flush: u64 = flush.digests.iter().map(|d| d.changes).sum();
    assert!(
        digests >= 1 && in_flush >= 1,
        "{digests} digests, flush {flush:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_digest_pending_holds_back_the_next_state_of_its_alarm() {
    let app = app();
    let clock = Arc::new(TokioClock::starting_at(start()));
    let on_clock =
        |id: &str| Invocation::new(id, Deadline::after(Duration::from_secs(30)), clock.clone());
    // The chat's budget is spent and a digest already went: the ALARM is folded.
    app.store
        .pace
        .records
        .lock()
        .unwrap()
        .entry("telegram:1".into())
        .or_default()
        .buckets = vec![start().timestamp_millis() + 10_000];
    app.store
        .pace
        .records
        .lock()
        .unwrap()
        .get_mut("telegram:1")
        .unwrap()
        .last_sent_ms = start().timestamp_millis();
    let alarm = app
        .handle(&event("m1", "long-x", "ALARM", 1), on_clock("r1"))
        .await
        .unwrap();
    assert_eq!(alarm.notices[0].folded, vec!["tg"]);
    // Its OK comes when the budget is back, but the digest still waits: folded too, so the
    // chat never shows the ALARM after the OK.
    tokio::time::advance(Duration::from_secs(20)).await;
    let ok = app
        .handle(&event("m2", "long-x", "OK", 2), on_clock("r2"))
        .await
        .unwrap();
    assert_eq!(ok.notices[0].folded, vec!["tg"]);
    let pending = app.store.pace.pending("telegram:1");
    assert_eq!(pending.entries.len(), 1);
    let line = pending.entries.values().next().unwrap();
    assert!(line.line.contains("OK") && line.changes == 2, "{line:?}");
}

#[tokio::test(start_paused = true)]
async fn an_unpaced_receivers_429_fails_the_notice_and_is_never_folded() {
    // PagerDuty has no budget here, so no digest to queue behind: a line folded for it
    // could be shown after a newer state sent one by one. Its 429 fails (Lambda retries).
    let app = app();
    app.deliver.throttled.lock().unwrap().insert("pd".into());
    let err = app
        .handle(&event("m1", "long-x", "ALARM", 1), invocation("r1"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Delivery { failed, .. } if failed == &vec!["pd".to_string()]),
        "{err}"
    );
    assert!(app.store.pace.pending("pd").is_empty());
    assert_eq!(sent(&app), pairs(&[("tg", "ALARM")]));
}
