//! alarm-fanout's on-call week (issue #14): seven days from Thursday 2026-10-22 00:00 UTC,
//! across the end of daylight-saving time in Europe/Berlin (Sunday 2026-10-25 01:00 UTC,
//! the EU rule: the last Sunday of October), with one routing document:
//!
//! - office hours (Monday to Friday 09:00-18:00 Europe/Berlin) to a Telegram group (`tg`),
//!   a second one with `picture: true` (`photo`: a metric alarm's text is followed by a
//!   picture, `sendPhoto`) and a Slack channel through a bot token (`bot`); nights and
//!   weekends to PagerDuty
//!   (`pager`, muted in office hours); `repeat_interval: 1h` on every route;
//! - an inhibition: a critical RDS alarm mutes the warnings of the same
//!   `DBInstanceIdentifier`;
//! - a maintenance silence of `queue-*` on Wednesday 08:59:30-11:00 UTC, made through the
//!   `silence` action;
//! - alarms that keep firing for hours (scripted) and short random episodes (by seed);
//! - the sweep (`{"action":"flush"}`) every 5 minutes (the template's
//!   `AlarmFanoutSweepInterval` allows 5; a week of 1-minute sweeps would be 5 times the
//!   steps for the same checks).
//!
//! The oracle computes Berlin office hours itself (UTC+2 before the change, UTC+1 after)
//! rather than through the time-zone database the function uses.
//!
//! Invariants, checked after every step (each state change, the silence, each sweep):
//! - nothing silenced, inhibited or outside its window is delivered to a receiver while it
//!   is muted for that alarm;
//! - an alarm firing for a receiver that may have it (not muted) is delivered within one
//!   sweep of the moment it was owed: at once when not muted, within one sweep of the mute
//!   ending, and each reminder within one sweep of `repeat_interval` after the last send;
//! - no reminder comes sooner than `repeat_interval` after the last send, after the OK, or
//!   to PagerDuty (which gets one trigger per episode);
//! - every OK in Telegram and Slack (bot token) is a reply to its ALARM
//!   (`reply_parameters.message_id`, `thread_ts`) when that receiver was shown the ALARM:
//!   to the ALARM's own message when the sender learned its id, else to a message of the
//!   episode;
//! - with `picture: true` (`photo`), a picture comes after its alarm's text in that chat,
//!   never before or instead of it, and replies to it; the desk draws every fourth picture
//!   slower than the function's picture budget (6 s), and the text's own deadline ("within
//!   one sweep") is checked as for every message.
//!
//! [`EXTRAS`] adds a Slack channel with `update_message: true` (`edit`) and three
//! invariants: an edit (`chat.update`) is of its ALARM's own message (not a reminder) and
//! shows the OK; an OK replies to the ALARM itself, not a reminder, when the sender knows
//! the ALARM's id; and no receiver gets the OK of an episode it was muted for from the
//! ALARM to the OK.
//!
//! The receivers here are a small model of the three APIs' answers (Telegram's `Message`
//! with its `message_id`, Slack's `chat.postMessage` answer with `channel` and `ts`,
//! PagerDuty Events API v2's 202), with faults drawn from the seed ([`FAULTS`]): 429s with
//! `Retry-After`, 5xx, timeouts before the receiver acted and timeouts after it showed the
//! message. Every invocation (state changes, the silence, the sweep) is asynchronous as
//! in Lambda: a failed one is retried about 1 and then 2 minutes later, then goes to the
//! dead-letter queue, from which an operator (alerted by the queue-depth alarm) redrives
//! it 10 minutes later. Under them the same invariants hold, with Lambda's retries added to
//! "within one sweep" ([`FAULT_GRACE`]), and two more:
//! - no notice lost: everything owed is delivered, the OK included (an OK is owed to each
//!   receiver that was shown the episode's ALARM, once it may be delivered);
//! - none repeated: a receiver shows a firing message before it is owed, or an episode's
//!   OK twice, only right after a showing whose answer was lost (the sender could not know;
//!   PagerDuty deduplicates such a trigger on its `dedup_key`).
//!
//! An OK that went out in a digest (rate limited) is a digest line, not a reply, and an OK
//! whose ALARM was only ever shown by lost answers has no id to reply to: both are exempt
//! from the reply check.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alarm_fanout::handler::{App, Policy};
use alarm_fanout::receivers::{Endpoints, Receivers};
use alarm_fanout::routing::Routing;
use alarm_fanout::severity::{Severity, SeverityResolver, TagLookup};
use alarm_fanout::store::MemoryStore;
use chrono::{DateTime, Datelike, Timelike, Utc};
use groundcrew::retry::RetryPolicy;
use groundcrew::secrets::{CachedSecrets, InMemorySecretStore};
use serde_json::{json, Value};

use crate::kernel::{self, lock, FaultRates, Sim, Summary, Timeline};
use crate::models::dead_letters::DeadLetterModel;

mod desk;
mod oracle;
use desk::Desk;
use oracle::Oracle;

pub const SCENARIO: &str = "alarm-fanout-on-call-week";
/// The same week with one more receiver on the office route, `edit` (Slack bot,
/// `update_message: true`), and its invariant, plus one on every receiver: no OK to a
/// receiver muted for the whole episode.
pub const EXTRAS: &str = "alarm-fanout-on-call-week-extras";
const BUDGET: Duration = Duration::from_secs(60);
/// The sweep's interval, seconds.
const SWEEP: i64 = 300;
/// The routes' `repeat_interval`, seconds.
const REPEAT: i64 = 3600;
/// ASSUMPTION: a delivery "within one sweep" may take the sweep's own run time too, and a
/// reminder may count its interval from the sweep's start rather than the send a second
/// later; the model answers at once, so a minute of slack only absorbs the tick boundary.
const SLACK: i64 = 60;
/// The week's receivers; [`EXTRAS`] adds `edit`.
const RECEIVERS: [&str; 4] = ["tg", "bot", "pager", "photo"];
const WITH_EXTRAS: [&str; 5] = ["tg", "bot", "pager", "photo", "edit"];
/// Each receiver request's faults: 8% throttled, 8% 5xx, 6% time out before and 6% after
/// the receiver acted (28%, as the storm hour's 30%), so that some invocations run out
/// of time on timeouts and go through Lambda's retries.
pub const FAULTS: FaultRates = FaultRates {
    throttle: 0.08,
    server_error: 0.08,
    timeout_before: 0.06,
    timeout_after: 0.06,
};
/// Lambda's asynchronous retries: the second try about a minute after the first, the
/// third about two minutes after the second (Lambda developer guide).
const LAMBDA_RETRIES: [i64; 2] = [60, 120];
/// ASSUMPTION: an operator redrives the dead-letter queue 10 minutes after its alarm.
const REDRIVE_AFTER: i64 = 600;
/// What faults add to "within one sweep": Lambda's two retries and three invocations'
/// time (a failed attempt can use its whole budget on timeouts).
const FAULT_GRACE: i64 = 60 + 120 + 3 * 60;

const DOC: &str = r#"
receivers:
  tg: {type: telegram, chat_id: -100, bot_token_secret: t}
  bot: {type: slack_bot, bot_token_secret: b, channel: C1}
  pager: {type: pagerduty, routing_key_secret: p}
  photo: {type: telegram, chat_id: -200, bot_token_secret: t, picture: true}
time_intervals:
  office-hours:
    - weekdays: ["monday:friday"]
      times: [{start_time: "09:00", end_time: "18:00"}]
      location: Europe/Berlin
repeat_interval: 1h
inhibit_rules:
  - source_match: {severity: critical, namespace: AWS/RDS}
    target_match: {severity: warning}
    equal: [DBInstanceIdentifier]
routes:
  - receivers: [tg, bot, photo]
    active_time_intervals: [office-hours]
    continue: true
  - receivers: [pager]
    mute_time_intervals: [office-hours]
default: pager
"#;

/// The extras' variant of [`DOC`]: a second Slack channel on the office route, whose ALARM
/// messages are edited to show the OK.
fn doc(extras: bool) -> String {
    if !extras {
        return DOC.to_string();
    }
    DOC.replace(
        "\ntime_intervals:",
        "\n  edit: {type: slack_bot, bot_token_secret: b, channel: C2, update_message: true}\ntime_intervals:",
    )
    .replace("receivers: [tg, bot, photo]", "receivers: [tg, bot, photo, edit]")
}

/// One alarm of the estate: name, namespace, its one dimension, its `severity` tag.
struct Alarm {
    name: &'static str,
    namespace: &'static str,
    dimension: (&'static str, &'static str),
    severity: &'static str,
}

const ALARMS: [Alarm; 6] = [
    Alarm {
        name: "db-orders-cpu",
        namespace: "AWS/RDS",
        dimension: ("DBInstanceIdentifier", "orders"),
        severity: "critical",
    },
    Alarm {
        name: "db-orders-conns",
        namespace: "AWS/RDS",
        dimension: ("DBInstanceIdentifier", "orders"),
        severity: "warning",
    },
    Alarm {
        name: "db-orders-lag",
        namespace: "AWS/RDS",
        dimension: ("DBInstanceIdentifier", "orders"),
        severity: "warning",
    },
    Alarm {
        name: "db-billing-iops",
        namespace: "AWS/RDS",
        dimension: ("DBInstanceIdentifier", "billing"),
        severity: "warning",
    },
    Alarm {
        name: "api-5xx",
        namespace: "AWS/ApplicationELB",
        dimension: ("LoadBalancer", "app/web/1"),
        severity: "error",
    },
    Alarm {
        name: "queue-age",
        namespace: "AWS/SQS",
        dimension: ("QueueName", "jobs"),
        severity: "warning",
    },
];

fn alarm(name: &str) -> Option<&'static Alarm> {
    ALARMS.iter().find(|a| a.name == name)
}

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-10-22T00:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn at(day: i64, hour: i64, minute: i64) -> DateTime<Utc> {
    start()
        + chrono::Duration::days(day)
        + chrono::Duration::hours(hour)
        + chrono::Duration::minutes(minute)
}

/// Berlin office hours, computed by hand: CEST (UTC+2) until 2026-10-25 01:00 UTC, then CET.
fn office(t: DateTime<Utc>) -> bool {
    let change = at(3, 1, 0);
    let offset = if t < change { 2 } else { 1 };
    let local = t + chrono::Duration::hours(offset);
    local.weekday().num_days_from_monday() < 5 && (9..18).contains(&local.hour())
}

/// The alarm's `severity` tag.
struct Tags;
impl TagLookup for Tags {
    async fn tag(&self, arn: &str, _key: &str) -> Result<Option<String>, String> {
        let name = arn.rsplit(':').next().unwrap_or_default();
        Ok(alarm(name).map(|a| a.severity.to_string()))
    }
}

type WeekApp = App<MemoryStore, Receivers<InMemorySecretStore, Desk, Desk>, Tags, DeadLetterModel>;

fn app(desk: Desk, dead_letters: DeadLetterModel, extras: bool) -> WeekApp {
    let base = "http://receivers.sim";
    let secrets = InMemorySecretStore::default()
        .with("t", "123:SIM-TOKEN")
        .with("b", "xoxb-sim")
        .with("p", "routing-key");
    App {
        routing: Routing::parse(&doc(extras))
            .unwrap_or_else(|e| panic!("routing: {e}"))
            .into(),
        store: MemoryStore::default(),
        deliver: Receivers::with_transport(
            desk.clone(),
            CachedSecrets::new(secrets, Duration::from_secs(300)),
            desk.clone(),
            Endpoints {
                telegram_api: base.into(),
                pagerduty_events: base.into(),
                slack_api: format!("{base}/api"),
            },
            RetryPolicy::default(),
        )
        .with_api(Arc::new(desk.clone()))
        .with_pictures(Arc::new(desk)),
        severity: SeverityResolver::new(
            Tags,
            "severity",
            Severity::Warning,
            Duration::from_secs(600),
        ),
        dead_letters,
        policy: Policy::default(),
        holders: AtomicU64::new(0),
    }
}

fn sns_event(id: &str, a: &Alarm, state: &str, t: DateTime<Utc>) -> Value {
    let message = json!({
        "AlarmName": a.name, "AlarmDescription": null, "AWSAccountId": "123456789012",
        "NewStateValue": state, "NewStateReason": "threshold crossed", "OldStateValue": if state == "OK" { "ALARM" } else { "OK" },
        "StateChangeTime": t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string(),
        "Region": "EU (Frankfurt)",
        "AlarmArn": format!("arn:aws:cloudwatch:eu-central-1:123456789012:alarm:{}", a.name),
        "Trigger": {"MetricName": "M", "Namespace": a.namespace, "Statistic": "AVERAGE",
            "Dimensions": [{"name": a.dimension.0, "value": a.dimension.1}], "Period": 60,
            "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanThreshold", "Threshold": 1.0},
    });
    json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Type": "Notification", "MessageId": id,
        "TopicArn": "arn:aws:sns:eu-central-1:123456789012:alarms", "Subject": null,
        "Message": message.to_string(), "Timestamp": t.to_rfc3339()}}]})
}

/// The week's firing episodes, per alarm: scripted ones, then random ones that do not
/// overlap them. Times are moved off the sweep's ticks so that the order is clear.
/// Each alarm's firing episodes, `[from, to)`.
type Episodes = BTreeMap<&'static str, Vec<(DateTime<Utc>, DateTime<Utc>)>>;

fn episodes(sim: &Sim) -> Episodes {
    let j = |lo: u64, hi: u64| chrono::Duration::minutes(sim.rng().between(lo, hi) as i64);
    let mut out = Episodes::new();
    // Keeps firing for hours: over the end of Thursday's office hours (16:00 UTC in CEST)...
    out.entry("api-5xx")
        .or_default()
        .push((at(0, 13, 7) + j(0, 20), at(0, 21, 3) + j(0, 120)));
    // ...and over Monday's start (08:00 UTC in CET).
    out.entry("api-5xx")
        .or_default()
        .push((at(4, 5, 11) + j(0, 40), at(4, 11, 2) + j(0, 60)));
    // Tuesday: the critical database alarm inhibits its database's warnings, not billing's.
    out.entry("db-orders-cpu")
        .or_default()
        .push((at(5, 9, 3) + j(0, 20), at(5, 11, 1) + j(0, 60)));
    out.entry("db-orders-conns")
        .or_default()
        .push((at(5, 9, 31) + j(0, 20), at(5, 14, 2) + j(0, 60)));
    out.entry("db-orders-lag")
        .or_default()
        .push((at(5, 10, 1) + j(0, 20), at(5, 10, 42) + j(0, 10)));
    out.entry("db-billing-iops")
        .or_default()
        .push((at(5, 10, 6) + j(0, 20), at(5, 11, 51) + j(0, 20)));
    // Wednesday's maintenance (silence 08:59:30-11:00 UTC): one episode within it, one past it.
    out.entry("queue-age")
        .or_default()
        .push((at(6, 9, 6) + j(0, 10), at(6, 9, 33) + j(0, 10)));
    out.entry("queue-age")
        .or_default()
        .push((at(6, 9, 51) + j(0, 30), at(6, 12, 4) + j(0, 60)));
    // Random short episodes over the week (nights and the weekend included).
    for a in &ALARMS {
        for _ in 0..4 {
            let from =
                start() + chrono::Duration::seconds(sim.rng().between(600, 6 * 86_400) as i64);
            let to = from + chrono::Duration::seconds(sim.rng().between(300, 3 * 3600) as i64);
            let (from, to) = (off_tick(from), off_tick(to));
            let list = out.entry(a.name).or_default();
            let gap = chrono::Duration::minutes(10);
            if list.iter().all(|(f, t)| to + gap < *f || *t + gap < from) {
                list.push((from, to));
            }
        }
    }
    out
}

fn off_tick(t: DateTime<Utc>) -> DateTime<Utc> {
    if t.timestamp() % SWEEP == 0 {
        t + chrono::Duration::seconds(17)
    } else {
        t
    }
}

/// What happens, in time order.
enum Happening {
    Change(&'static Alarm, &'static str),
    Silence,
    Sweep,
    /// Lambda's retry of a failed asynchronous invocation: the event and its attempt (2, 3).
    Retry(Value, usize),
    /// The operator's `redrive` of the dead-letter queue.
    Redrive,
}

/// What one run did.
#[derive(Debug, Default, Clone)]
pub struct Figures {
    pub notices: u64,
    pub delivered: u64,
    pub held: u64,
    pub released: u64,
    pub reminders: u64,
    pub replies: u64,
    pub edits: u64,
    /// Edits of the episode's first firing message (the ALARM itself, not a reminder).
    pub edits_of_the_alarm: u64,
    pub pictures: u64,
    pub digests: u64,
    pub sweeps: u64,
    pub failed_invocations: u64,
    pub dead_letters: u64,
    pub possible_duplicates: u64,
}

impl Figures {
    fn add(&mut self, o: &Figures) {
        self.notices += o.notices;
        self.delivered += o.delivered;
        self.held += o.held;
        self.released += o.released;
        self.reminders += o.reminders;
        self.replies += o.replies;
        self.edits += o.edits;
        self.edits_of_the_alarm += o.edits_of_the_alarm;
        self.pictures += o.pictures;
        self.digests += o.digests;
        self.sweeps += o.sweeps;
        self.failed_invocations += o.failed_invocations;
        self.dead_letters += o.dead_letters;
        self.possible_duplicates += o.possible_duplicates;
    }
}

async fn one(sim: Arc<Sim>, figures: Arc<Mutex<Figures>>, rates: FaultRates, extras: bool) {
    let desk = Desk {
        sim: Arc::clone(&sim),
        shown: Arc::new(Mutex::new(Vec::new())),
        next_id: Arc::new(AtomicU64::new(0)),
        digests: Arc::new(AtomicU64::new(0)),
        drawn: Arc::new(AtomicU64::new(0)),
    };
    let dlq = DeadLetterModel::new(Arc::clone(&sim));
    let app = app(desk.clone(), dlq.clone(), extras);
    let silence = (at(6, 8, 59) + chrono::Duration::seconds(30), at(6, 11, 0));
    let mut timeline: Timeline<Happening> = Timeline::default();
    for (name, list) in episodes(&sim) {
        let Some(a) = alarm(name) else { continue };
        for (from, to) in list {
            timeline.push(off_tick(from), Happening::Change(a, "ALARM"));
            timeline.push(off_tick(to), Happening::Change(a, "OK"));
        }
    }
    timeline.push(silence.0, Happening::Silence);
    let end = start() + chrono::Duration::days(7);
    let mut tick = start() + chrono::Duration::seconds(SWEEP);
    while tick <= end {
        timeline.push(tick, Happening::Sweep);
        tick += chrono::Duration::seconds(SWEEP);
    }
    let mut oracle = Oracle {
        receivers: if extras { &WITH_EXTRAS } else { &RECEIVERS },
        extras,
        firing: BTreeMap::new(),
        silence,
        owed: BTreeMap::new(),
        seen: 0,
        paused_until: None,
        fault_grace: if rates == FaultRates::NONE {
            0
        } else {
            FAULT_GRACE
        },
    };
    let mut f = Figures::default();
    let mut n = 0;
    while let Some((t, happening)) = timeline.pop() {
        sim.sleep_until(t).await;
        sim.step();
        let (event, attempt) = match happening {
            Happening::Change(a, state) => {
                n += 1;
                f.notices += 1;
                oracle.change(a, state == "ALARM", t, &mut f);
                sim.trace(format!("{} goes {state}", a.name));
                (sns_event(&format!("week-{n:05}"), a, state, t), 1)
            }
            Happening::Silence => (
                json!({"action": "silence", "matchers": {"alarm_name": "queue-*"},
                "ends_at": silence.1.to_rfc3339(), "author": "ana@example.com",
                "comment": "queue maintenance, change 4711"}),
                1,
            ),
            Happening::Sweep => {
                f.sweeps += 1;
                (json!({"action": "flush"}), 1)
            }
            Happening::Retry(event, attempt) => (event, attempt),
            Happening::Redrive => (json!({"action": "redrive", "max_messages": 100}), 1),
        };
        let result = app.handle(&event, sim.invocation(BUDGET)).await;
        if let Err(e) = &result {
            f.failed_invocations += 1;
            sim.trace(format!("invocation failed (attempt {attempt}): {e}"));
            let now = sim.now();
            match LAMBDA_RETRIES.get(attempt - 1) {
                Some(wait) => timeline.push(
                    now + chrono::Duration::seconds(*wait),
                    Happening::Retry(event.clone(), attempt + 1),
                ),
                None => {
                    f.dead_letters += 1;
                    dlq.put(event.to_string());
                    let redrive = now + chrono::Duration::seconds(REDRIVE_AFTER);
                    timeline.push(redrive, Happening::Redrive);
                    // Until the redrive (and its own retries) ran, what the dead letter
                    // owes is late, not lost.
                    oracle.paused_until =
                        Some(redrive + chrono::Duration::seconds(FAULT_GRACE + SWEEP));
                }
            }
        }
        oracle.check(&sim, &desk, &mut f);
    }
    // The end of the week: no fault any more, the dead letters redriven, two sweeps; then
    // everything owed must have been shown (no notice lost).
    sim.faults().set_rates(FaultRates::NONE);
    let end = sim.now() + chrono::Duration::seconds(SWEEP);
    for (i, event) in [
        json!({"action": "redrive", "max_messages": 100}),
        json!({"action": "flush"}),
        json!({"action": "flush"}),
    ]
    .into_iter()
    .enumerate()
    {
        sim.sleep_until(end + chrono::Duration::seconds(i as i64 * SWEEP))
            .await;
        sim.step();
        let result = app.handle(&event, sim.invocation(BUDGET)).await;
        sim.check(
            "alarm-fanout week: with faults over, the redrive and the sweeps succeed",
            result.is_ok(),
            || format!("{event} failed: {:?}", result.as_ref().err()),
        );
        oracle.check(&sim, &desk, &mut f);
    }
    oracle.nothing_lost(&sim, &dlq);
    f.digests = desk.digests.load(Ordering::SeqCst);
    lock(&figures).add(&f);
}

/// Runs the week for `seeds` seeds (overridable by the kernel's environment variables)
/// with the receivers' faults at `rates`.
pub fn run(seeds: u64, rates: FaultRates) -> (Summary, Figures) {
    run_as(SCENARIO, seeds, rates, false)
}

/// The week with the extras (see [`EXTRAS`]).
pub fn run_with_extras(seeds: u64, rates: FaultRates) -> (Summary, Figures) {
    run_as(EXTRAS, seeds, rates, true)
}

fn run_as(
    scenario: &'static str,
    seeds: u64,
    rates: FaultRates,
    extras: bool,
) -> (Summary, Figures) {
    let total = Arc::new(Mutex::new(Figures::default()));
    let summary = kernel::run(scenario, seeds, start(), rates, |sim| {
        let total = Arc::clone(&total);
        async move { one(sim, total, rates, extras).await }
    });
    let figures = lock(&total).clone();
    (summary, figures)
}
