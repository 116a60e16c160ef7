//! The sweep's later sends with the in-memory store. Reminders: an alarm still in ALARM is
//! re-sent, marked as a reminder, at each `repeat_interval`, never to PagerDuty, once per
//! interval however many sweeps run, and never after the OK. Inhibition: a muted warning is
//! delivered by the first sweep after its source leaves ALARM.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use groundcrew::invocation::TokioClock;
use groundcrew::Deadline;
use serde_json::{json, Value};

use crate::format::Message;
use crate::receivers::{Deliver, Failed, Sent, To};
use crate::test_support::{alarm_message, invocation, pairs, sns_event, start};

/// Records (receiver, what it was: `reminder`, `ALARM` or `OK`) for every send.
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
        let what = if text.contains("Reminder: still in ALARM since 2026-11-21 21:00 UTC") {
            "reminder"
        } else if text.contains("ALARM") {
            "ALARM"
        } else {
            "OK"
        };
        self.0
            .lock()
            .unwrap()
            .push((to.name.to_string(), what.to_string()));
        Ok(Sent::default())
    }
}

const DOC: &str = r#"
receivers:
  chat: {type: webhook, url_secret: chat}
  pager: {type: pagerduty, routing_key_secret: pager}
routes:
  - match: {alarm_name: "db-*"}
    receivers: [chat, pager]
    repeat_interval: 1h
default: chat
"#;

type TestApp = crate::test_support::TestApp<Recorder>;

fn app() -> TestApp {
    app_with(DOC)
}

fn app_with(doc: &str) -> TestApp {
    crate::test_support::app_with(doc, Recorder::default())
}

fn event(id: &str, state: &str, at: DateTime<Utc>) -> Value {
    event_of(id, "db-cpu", "prod-1", state, at)
}

/// A state change of alarm `name` on the database `db`.
fn event_of(id: &str, name: &str, db: &str, state: &str, at: DateTime<Utc>) -> Value {
    let mut m = alarm_message(name, state, at);
    m["Trigger"] = json!({"MetricName": "CPUUtilization", "Namespace": "AWS/RDS",
        "Dimensions": [{"name": "DBInstanceIdentifier", "value": db}],
        "ComparisonOperator": "GreaterThanThreshold", "Threshold": 80.0});
    sns_event(id, &m)
}

fn taken(app: &TestApp) -> Vec<(String, String)> {
    std::mem::take(&mut *app.deliver.0.lock().unwrap())
}

const SUBJECT: &str = "alarm#arn:aws:cloudwatch:eu-west-1:1:alarm:db-cpu";

#[tokio::test(start_paused = true)]
async fn reminders_come_each_interval_once_and_stop_at_the_ok() {
    let app = app();
    let clock = Arc::new(TokioClock::starting_at(start()));
    let flush = json!({"action": "flush"});
    let now = |c: &Arc<TokioClock>| invocation(c).now();

    app.handle(&event("m1", "ALARM", start()), invocation(&clock))
        .await
        .unwrap();
    assert_eq!(taken(&app), pairs(&[("chat", "ALARM"), ("pager", "ALARM")]));

    // Sweeps before the interval send nothing.
    for _ in 0..59 {
        tokio::time::advance(Duration::from_secs(60)).await;
        app.handle(&flush, invocation(&clock)).await.unwrap();
    }
    assert!(taken(&app).is_empty(), "no reminder before 1h");

    // At 1h: one reminder, to chat only (PagerDuty gets none), however many sweeps run,
    // concurrent ones included.
    tokio::time::advance(Duration::from_secs(60)).await;
    let (a, b) = tokio::join!(
        app.handle(&flush, invocation(&clock)),
        app.handle(&flush, invocation(&clock))
    );
    let reported: Vec<_> = a
        .unwrap()
        .notices
        .into_iter()
        .chain(b.unwrap().notices)
        .collect();
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert!(
        reported[0].headline.starts_with("Reminder: "),
        "{reported:?}"
    );
    app.handle(&flush, invocation(&clock)).await.unwrap();
    assert_eq!(taken(&app), pairs(&[("chat", "reminder")]));

    // The next one an interval after the last.
    tokio::time::advance(Duration::from_secs(3540)).await;
    app.handle(&flush, invocation(&clock)).await.unwrap();
    assert!(taken(&app).is_empty());
    tokio::time::advance(Duration::from_secs(60)).await;
    app.handle(&flush, invocation(&clock)).await.unwrap();
    assert_eq!(taken(&app), pairs(&[("chat", "reminder")]));

    // The OK ends them: nothing after it, however long the sweeps go on.
    tokio::time::advance(Duration::from_secs(1800)).await;
    app.handle(&event("m2", "OK", now(&clock)), invocation(&clock))
        .await
        .unwrap();
    assert_eq!(taken(&app), pairs(&[("chat", "OK"), ("pager", "OK")]));
    assert!(app.store.reminders.get(SUBJECT).is_none());
    for _ in 0..5 {
        tokio::time::advance(Duration::from_secs(3600)).await;
        app.handle(&flush, invocation(&clock)).await.unwrap();
    }
    assert!(taken(&app).is_empty(), "no reminder after the OK");
}

#[tokio::test(start_paused = true)]
async fn an_alarm_firing_for_40_days_is_still_reminded_past_the_record_ttl() {
    // Daily reminders; the records' TTL is the default 30 days.
    let app = app_with(&DOC.replace("repeat_interval: 1h", "repeat_interval: 24h"));
    assert_eq!(app.policy.record_ttl, Duration::from_secs(30 * 86_400));
    let clock = Arc::new(TokioClock::starting_at(start()));
    let flush = json!({"action": "flush"});
    app.handle(&event("m1", "ALARM", start()), invocation(&clock))
        .await
        .unwrap();
    taken(&app);
    for day in 1..=40 {
        tokio::time::advance(Duration::from_secs(86_400)).await;
        app.handle(&flush, invocation(&clock)).await.unwrap();
        assert_eq!(
            taken(&app),
            pairs(&[("chat", "reminder")]),
            "day {day}: the alarm still fires"
        );
    }
    // Each reminder moved the record's expiry: 30 days past the next one.
    let expires_at = app.store.reminders.expires_at(SUBJECT).unwrap();
    assert_eq!(
        expires_at,
        (start() + chrono::Duration::days(41 + 30)).timestamp()
    );
}

#[tokio::test(start_paused = true)]
async fn a_late_alarm_notice_does_not_schedule_reminders_over_a_newer_ok() {
    let app = app();
    let clock = Arc::new(TokioClock::starting_at(start()));
    let later = start() + chrono::Duration::minutes(5);
    app.handle(&event("m2", "OK", later), invocation(&clock))
        .await
        .unwrap();
    // The ALARM arrives after its own OK: stale, never scheduled.
    app.handle(&event("m1", "ALARM", start()), invocation(&clock))
        .await
        .unwrap();
    assert!(app.store.reminders.get(SUBJECT).is_none());
    tokio::time::advance(Duration::from_secs(7200)).await;
    app.handle(&json!({"action": "flush"}), invocation(&clock))
        .await
        .unwrap();
    assert_eq!(taken(&app), pairs(&[("chat", "OK"), ("pager", "OK")]));
}

/// A critical alarm on a database mutes the warnings of that database, not another's.
const INHIBITING: &str = r#"
receivers:
  chat: {type: webhook, url_secret: chat}
inhibit_rules:
  - source_match: {alarm_name: "*-critical"}
    target_match: {alarm_name: "*-warning"}
    equal: [DBInstanceIdentifier]
default: chat
"#;

#[tokio::test(start_paused = true)]
async fn an_inhibited_warning_is_held_and_delivered_by_the_sweep_after_the_source_clears() {
    let app = app_with(INHIBITING);
    let clock = Arc::new(TokioClock::starting_at(start()));
    let flush = json!({"action": "flush"});
    let at = |c: &Arc<TokioClock>| invocation(c).now();
    app.handle(
        &event_of("c1", "db-critical", "prod-1", "ALARM", start()),
        invocation(&clock),
    )
    .await
    .unwrap();
    tokio::time::advance(Duration::from_secs(60)).await;
    let r = app
        .handle(
            &event_of("w1", "db-warning", "prod-1", "ALARM", at(&clock)),
            invocation(&clock),
        )
        .await
        .unwrap();
    assert_eq!(r.notices[0].outcome, crate::handler::Outcome::Held);
    // Another database's warning is not inhibited.
    app.handle(
        &event_of("w2", "db2-warning", "prod-2", "ALARM", at(&clock)),
        invocation(&clock),
    )
    .await
    .unwrap();
    assert_eq!(taken(&app), pairs(&[("chat", "ALARM"), ("chat", "ALARM")]));
    for _ in 0..3 {
        tokio::time::advance(Duration::from_secs(60)).await;
        app.handle(&flush, invocation(&clock)).await.unwrap();
    }
    assert!(
        taken(&app).is_empty(),
        "nothing inhibited is sent while inhibited"
    );

    // The source clears: its OK goes out, and the next sweep delivers the warning.
    app.handle(
        &event_of("c2", "db-critical", "prod-1", "OK", at(&clock)),
        invocation(&clock),
    )
    .await
    .unwrap();
    assert_eq!(taken(&app), pairs(&[("chat", "OK")]));
    tokio::time::advance(Duration::from_secs(60)).await;
    let r = app.handle(&flush, invocation(&clock)).await.unwrap();
    assert_eq!(r.notices[0].sent, vec!["chat"]);
    assert_eq!(taken(&app), pairs(&[("chat", "ALARM")]));
}

/// [`INHIBITING`] with chat in Berlin office hours and the pager outside them.
const INHIBITING_BY_HOURS: &str = r#"
receivers:
  chat: {type: webhook, url_secret: chat}
  pager: {type: webhook, url_secret: pager}
time_intervals:
  office-hours:
    - weekdays: ["monday:friday"]
      times: [{start_time: "09:00", end_time: "18:00"}]
      location: Europe/Berlin
inhibit_rules:
  - source_match: {alarm_name: "*-critical"}
    target_match: {alarm_name: "*-warning"}
    equal: [DBInstanceIdentifier]
routes:
  - receivers: chat
    active_time_intervals: [office-hours]
    continue: true
  - receivers: pager
    mute_time_intervals: [office-hours]
default: pager
"#;

/// Seed 1 of the on-call week with edits (2026-10-27 11:10 UTC): a warning inhibited from
/// its ALARM to its OK. When the source clears, the first sweep drops chat from the held
/// OK (chat never showed the ALARM) and keeps it held for the pager, muted in office
/// hours; the next sweeps must not send chat the OK either.
#[tokio::test(start_paused = true)]
async fn a_warning_inhibited_from_its_alarm_to_its_ok_gets_no_ok_when_the_source_clears() {
    let app = app_with(INHIBITING_BY_HOURS);
    // Tuesday 10:00 in Berlin.
    let tuesday = DateTime::parse_from_rfc3339("2026-11-24T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let clock = Arc::new(TokioClock::starting_at(tuesday));
    let flush = json!({"action": "flush"});
    let at = |c: &Arc<TokioClock>| invocation(c).now();
    let send = |id: &str, name: &str, state: &str, c: &Arc<TokioClock>| {
        event_of(id, name, "prod-1", state, at(c))
    };
    app.handle(
        &send("c1", "db-critical", "ALARM", &clock),
        invocation(&clock),
    )
    .await
    .unwrap();
    for (id, state) in [("w1", "ALARM"), ("w2", "OK")] {
        tokio::time::advance(Duration::from_secs(600)).await;
        let r = app
            .handle(&send(id, "db-warning", state, &clock), invocation(&clock))
            .await
            .unwrap();
        assert_eq!(
            r.notices[0].outcome,
            crate::handler::Outcome::Held,
            "{state}"
        );
        app.handle(&flush, invocation(&clock)).await.unwrap();
    }
    app.handle(&send("c2", "db-critical", "OK", &clock), invocation(&clock))
        .await
        .unwrap();
    assert_eq!(
        taken(&app),
        pairs(&[("chat", "ALARM"), ("chat", "OK")]),
        "the source only"
    );
    let warning = |r: &crate::handler::Report| {
        r.notices
            .iter()
            .find(|n| n.id == "w2")
            .cloned()
            .expect("the warning's OK is swept")
    };
    tokio::time::advance(Duration::from_secs(60)).await;
    let r = app.handle(&flush, invocation(&clock)).await.unwrap();
    assert_eq!(warning(&r).resolved_while_muted, vec!["chat"]);
    assert_eq!(warning(&r).held, vec!["pager"]);
    for _ in 0..3 {
        tokio::time::advance(Duration::from_secs(60)).await;
        let r = app.handle(&flush, invocation(&clock)).await.unwrap();
        assert!(warning(&r).sent.is_empty(), "{:?}", warning(&r));
        assert!(
            taken(&app).is_empty(),
            "no OK of an ALARM chat never showed"
        );
    }
}
