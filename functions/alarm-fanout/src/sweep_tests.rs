//! Held notices and the sweep with the in-memory store: a route outside its time window is
//! held, not sent; the sweep delivers it once the window opens if the alarm still fires,
//! and releases it without sending when an OK came first; a held OK goes only to the
//! receivers that showed its ALARM.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use groundcrew::invocation::TokioClock;
use groundcrew::Deadline;
use serde_json::{json, Value};

use crate::format::Message;
use crate::handler::Outcome;
use crate::held::HeldStore;
use crate::receivers::{Deliver, Failed, Sent, To};
use crate::test_support::{event, invocation, pairs, start};

/// Records (receiver, state word) for every send.
#[derive(Default)]
struct Recorder(Mutex<Vec<(String, String)>>);

impl Deliver for Recorder {
    async fn send(
        &self,
        to: To<'_>,
        message: &Message,
        _part: usize,
        _deadline: Deadline,
    ) -> Result<Sent, Failed> {
        let text = format!("{message:?}");
        let state = ["ALARM", "OK"]
            .into_iter()
            .find(|s| text.contains(s))
            .unwrap_or("?");
        self.0
            .lock()
            .unwrap()
            .push((to.name.to_string(), state.to_string()));
        Ok(Sent::default())
    }
}

/// Firing alarms go to chat in Berlin office hours only, and to the pager always.
const DOC: &str = r#"
receivers:
  chat: {type: webhook, url_secret: chat}
  pager: {type: webhook, url_secret: pager}
time_intervals:
  office-hours:
    - weekdays: ["monday:friday"]
      times: [{start_time: "09:00", end_time: "18:00"}]
      location: Europe/Berlin
routes:
  - match: {state: ALARM}
    receivers: chat
    active_time_intervals: office-hours
    continue: true
  - receivers: pager
default: pager
"#;

type TestApp = crate::test_support::TestApp<Recorder>;

fn app() -> TestApp {
    app_with(DOC)
}

fn app_with(doc: &str) -> TestApp {
    crate::test_support::app_with(doc, Recorder::default())
}

fn taken(app: &TestApp) -> Vec<(String, String)> {
    std::mem::take(&mut *app.deliver.0.lock().unwrap())
}

const FLUSH: &str = r#"{"action": "flush"}"#;

#[tokio::test(start_paused = true)]
async fn a_muted_route_is_held_and_delivered_by_the_sweep_when_its_window_opens() {
    let app = app();
    let clock = Arc::new(TokioClock::starting_at(start()));
    let flush: Value = serde_json::from_str(FLUSH).unwrap();

    // Saturday night: the pager gets it, chat is held.
    let r = app
        .handle(&event("m1", "db-cpu", "ALARM", start()), invocation(&clock))
        .await
        .unwrap();
    assert_eq!(r.notices[0].outcome, Outcome::Delivered);
    assert_eq!(r.notices[0].sent, vec!["pager"]);
    assert_eq!(r.notices[0].held, vec!["chat"]);
    assert_eq!(taken(&app), pairs(&[("pager", "ALARM")]));

    // Sweeps while the window is closed send nothing and keep it held.
    for _ in 0..3 {
        tokio::time::advance(Duration::from_secs(60)).await;
        let r = app.handle(&flush, invocation(&clock)).await.unwrap();
        assert_eq!(r.notices[0].outcome, Outcome::Held);
        assert!(taken(&app).is_empty());
    }
    assert_eq!(app.store.held().await.unwrap().len(), 1);

    // Monday 09:00 in Berlin is 08:00 UTC: the first sweep after it delivers to chat.
    let monday_nine = DateTime::parse_from_rfc3339("2026-11-23T08:00:00Z").unwrap();
    let wait = (monday_nine.with_timezone(&Utc) - clock_now(&clock))
        .to_std()
        .unwrap();
    tokio::time::advance(wait - Duration::from_secs(30)).await;
    app.handle(&flush, invocation(&clock)).await.unwrap();
    assert!(
        taken(&app).is_empty(),
        "08:59:30 is still outside the window"
    );
    tokio::time::advance(Duration::from_secs(60)).await;
    let r = app.handle(&flush, invocation(&clock)).await.unwrap();
    assert_eq!(r.notices[0].sent, vec!["chat"]);
    assert_eq!(taken(&app), pairs(&[("chat", "ALARM")]));
    assert!(app.store.held().await.unwrap().is_empty(), "released");

    // Nothing is sent twice.
    let r = app.handle(&flush, invocation(&clock)).await.unwrap();
    assert!(r.notices.is_empty());
    assert!(taken(&app).is_empty());
}

fn clock_now(clock: &Arc<TokioClock>) -> DateTime<Utc> {
    invocation(clock).now()
}

#[tokio::test(start_paused = true)]
async fn an_alarm_that_cleared_while_muted_is_released_without_being_sent() {
    let app = app();
    let clock = Arc::new(TokioClock::starting_at(start()));
    let flush: Value = serde_json::from_str(FLUSH).unwrap();
    app.handle(&event("m1", "db-cpu", "ALARM", start()), invocation(&clock))
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(3600)).await;
    let ok_at = clock_now(&clock);
    app.handle(&event("m2", "db-cpu", "OK", ok_at), invocation(&clock))
        .await
        .unwrap();
    assert_eq!(taken(&app), pairs(&[("pager", "ALARM"), ("pager", "OK")]));
    // Monday morning: the held ALARM is stale now; chat never hears of it.
    tokio::time::advance(Duration::from_secs(36 * 3600)).await;
    let r = app.handle(&flush, invocation(&clock)).await.unwrap();
    assert_eq!(r.notices[0].outcome, Outcome::Stale);
    assert!(taken(&app).is_empty());
    assert!(app.store.held().await.unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_silenced_alarm_is_held_and_delivered_when_the_silence_is_expired() {
    let app = app_with(
        "receivers:\n  chat: {type: webhook, url_secret: c}\n  pager: {type: webhook, url_secret: p}\ndefault: [chat, pager]\n",
    );
    let clock = Arc::new(TokioClock::starting_at(start()));
    let flush: Value = serde_json::from_str(FLUSH).unwrap();
    let r = app
        .handle(
            &json!({"action": "silence", "matchers": {"alarm_name": "db-*"}, "duration": "2h",
                "author": "ana", "comment": "database maintenance"}),
            invocation(&clock),
        )
        .await
        .unwrap();
    let id = r.silences[0].id.clone();
    assert!(id.starts_with("sil-"), "{id}");

    // Silenced: held for both receivers; another alarm is not.
    let r = app
        .handle(&event("m1", "db-cpu", "ALARM", start()), invocation(&clock))
        .await
        .unwrap();
    assert_eq!(r.notices[0].outcome, Outcome::Held);
    assert_eq!(r.notices[0].held, vec!["chat", "pager"]);
    app.handle(
        &event("m2", "api-5xx", "ALARM", start()),
        invocation(&clock),
    )
    .await
    .unwrap();
    assert_eq!(taken(&app), pairs(&[("chat", "ALARM"), ("pager", "ALARM")]));
    tokio::time::advance(Duration::from_secs(600)).await;
    app.handle(&flush, invocation(&clock)).await.unwrap();
    assert!(
        taken(&app).is_empty(),
        "nothing silenced is sent while silenced"
    );

    let listed = app
        .handle(&json!({"action": "silences"}), invocation(&clock))
        .await
        .unwrap();
    assert_eq!(listed.silences.len(), 1);
    let err = app
        .handle(
            &json!({"action": "expire", "id": "sil-nope"}),
            invocation(&clock),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no silence \"sil-nope\""), "{err}");

    // Expired: the next sweep delivers what still fires.
    app.handle(&json!({"action": "expire", "id": id}), invocation(&clock))
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(60)).await;
    app.handle(&flush, invocation(&clock)).await.unwrap();
    assert_eq!(taken(&app), pairs(&[("chat", "ALARM"), ("pager", "ALARM")]));
    let listed = app
        .handle(&json!({"action": "silences"}), invocation(&clock))
        .await
        .unwrap();
    assert!(listed.silences.is_empty(), "an ended silence is not listed");
}

/// [`DOC`] with chat's route taking every state change, not only ALARMs, in office hours.
fn every_state_in_office_hours() -> String {
    let doc = DOC.replace(
        "  - match: {state: ALARM}\n    receivers: chat",
        "  - receivers: chat",
    );
    assert_ne!(doc, DOC, "DOC's chat route changed shape");
    doc
}

#[tokio::test(start_paused = true)]
async fn a_held_ok_is_not_sent_to_a_receiver_that_never_showed_its_alarm() {
    let app = app_with(&every_state_in_office_hours());
    let clock = Arc::new(TokioClock::starting_at(start()));
    let flush: Value = serde_json::from_str(FLUSH).unwrap();
    // Saturday night: fired and cleared while chat was muted; the pager saw both.
    app.handle(&event("m1", "db-cpu", "ALARM", start()), invocation(&clock))
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(3600)).await;
    let r = app
        .handle(
            &event("m2", "db-cpu", "OK", clock_now(&clock)),
            invocation(&clock),
        )
        .await
        .unwrap();
    assert_eq!(r.notices[0].held, vec!["chat"], "the OK is held for chat");
    assert_eq!(taken(&app), pairs(&[("pager", "ALARM"), ("pager", "OK")]));
    // Monday morning, the window opens: chat never showed the ALARM, so no OK either.
    tokio::time::advance(Duration::from_secs(36 * 3600)).await;
    let r = app.handle(&flush, invocation(&clock)).await.unwrap();
    assert_eq!(r.notices[0].outcome, Outcome::ResolvedWhileMuted);
    assert_eq!(r.notices[0].resolved_while_muted, vec!["chat"]);
    assert!(r.notices[0].sent.is_empty());
    assert!(taken(&app).is_empty());
    assert!(app.store.held().await.unwrap().is_empty(), "released");
}

#[tokio::test(start_paused = true)]
async fn a_held_ok_is_sent_to_a_receiver_that_showed_its_alarm_before_the_mute() {
    let app = app_with(&every_state_in_office_hours());
    // Friday 17:55 in Berlin (16:55 UTC): chat is in its window and shows the ALARM.
    let friday = DateTime::parse_from_rfc3339("2026-11-20T16:55:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let clock = Arc::new(TokioClock::starting_at(friday));
    let flush: Value = serde_json::from_str(FLUSH).unwrap();
    app.handle(&event("m1", "db-cpu", "ALARM", friday), invocation(&clock))
        .await
        .unwrap();
    assert_eq!(taken(&app), pairs(&[("chat", "ALARM"), ("pager", "ALARM")]));
    // It clears at 20:00, after the window closed: held for chat.
    tokio::time::advance(Duration::from_secs(3 * 3600 + 300)).await;
    let r = app
        .handle(
            &event("m2", "db-cpu", "OK", clock_now(&clock)),
            invocation(&clock),
        )
        .await
        .unwrap();
    assert_eq!(r.notices[0].held, vec!["chat"]);
    assert_eq!(taken(&app), pairs(&[("pager", "OK")]));
    // Monday 09:00 Berlin: chat still shows the ALARM, so its OK is delivered.
    let monday_nine = DateTime::parse_from_rfc3339("2026-11-23T08:00:30Z")
        .unwrap()
        .with_timezone(&Utc);
    tokio::time::advance((monday_nine - clock_now(&clock)).to_std().unwrap()).await;
    let r = app.handle(&flush, invocation(&clock)).await.unwrap();
    assert_eq!(r.notices[0].outcome, Outcome::Delivered);
    assert_eq!(r.notices[0].sent, vec!["chat"]);
    assert!(r.notices[0].resolved_while_muted.is_empty());
    assert_eq!(taken(&app), pairs(&[("chat", "OK")]));
    assert!(app.store.held().await.unwrap().is_empty(), "released");
}

/// One SNS event of several alarms' state changes, `names` all turning `state` at `at`.
fn batch(prefix: &str, names: &[&str], state: &str, at: DateTime<Utc>) -> Value {
    let records: Vec<Value> = names
        .iter()
        .map(|name| event(&format!("{prefix}-{name}"), name, state, at)["Records"][0].clone())
        .collect();
    json!({ "Records": records })
}

#[tokio::test(start_paused = true)]
async fn an_invocation_reads_the_silences_once_for_all_its_notices_and_reminders() {
    let app = app_with(
        "receivers:\n  chat: {type: webhook, url_secret: c}\nroutes:\n  - receivers: chat\n    repeat_interval: 1h\ndefault: chat\n",
    );
    let clock = Arc::new(TokioClock::starting_at(start()));
    let reads = || app.store.silences.reads();

    // Four alarms in one event: all sent, the silences read once.
    let r = app
        .handle(
            &batch("a", &["api-1", "api-2", "api-3", "api-4"], "ALARM", start()),
            invocation(&clock),
        )
        .await
        .unwrap();
    assert_eq!(r.notices.len(), 4);
    assert_eq!(taken(&app).len(), 4);
    assert_eq!(reads(), 1);

    // A silence created in the same minute applies from the next invocation on: its three
    // alarms are held, with one read.
    app.handle(
        &json!({"action": "silence", "matchers": {"alarm_name": "db-*"}, "duration": "2h",
            "author": "ana", "comment": "database maintenance"}),
        invocation(&clock),
    )
    .await
    .unwrap();
    let r = app
        .handle(
            &batch("d", &["db-1", "db-2", "db-3"], "ALARM", start()),
            invocation(&clock),
        )
        .await
        .unwrap();
    assert!(
        r.notices.iter().all(|n| n.outcome == Outcome::Held),
        "{r:?}"
    );
    assert!(taken(&app).is_empty());
    assert_eq!(reads(), 2);

    // An hour later the sweep: three held notices (still silenced) and seven due reminders
    // (four sent, three silenced), one read between them.
    tokio::time::advance(Duration::from_secs(3_660)).await;
    let flush: Value = serde_json::from_str(FLUSH).unwrap();
    app.handle(&flush, invocation(&clock)).await.unwrap();
    assert_eq!(taken(&app).len(), 4, "the api alarms' reminders");
    assert_eq!(app.store.held().await.unwrap().len(), 3);
    assert_eq!(reads(), 3);
}
