//! alarm-fanout's storm hour: 50 alarms (metric, composite and anomaly) flapping for an hour,
//! about 2,000 state changes, published through SNS with 5% duplicates and delivery delays
//! that reorder them, to six receivers that each fail 30% of their requests (5xx, 429,
//! timeouts before and after the receiver acted) and one of which (the webhook) is down for
//! ten minutes, with Lambda's asynchronous retries (after
//! about 1 and 2 minutes), its dead-letter queue, and the `redrive` action at the end with
//! faults off.
//!
//! Invariants:
//! - no receiver shows an older state of an alarm after a newer one (checked as it happens);
//! - convergence, 0 lost: after the redrive every receiver's last shown state of every alarm
//!   is that alarm's newest state, and PagerDuty has an open incident exactly for the alarms
//!   whose newest state triggers one (ALARM, INSUFFICIENT_DATA);
//! - a receiver shows a state change twice only after an ambiguous failure of that very send
//!   (the receiver acted, the answer was lost);
//! - no chat exceeds its limits: every request to the Telegram group is at least a second
//!   after the one before and at most the 20th in a minute, every request to Slack at least
//!   a second after the one before (checked as each arrives, by the receiver model);
//!   what does not fit is folded into digests, sent by the flush the template schedules
//!   every minute (modelled: `{"action":"flush"}` on every minute);
//! - with the DynamoDB table ([`Records::Dynamo`]): after the redrive the table records, for
//!   every alarm, its newest change as the newest handled, and as delivered to every
//!   receiver that shows it one by one (the records agree with what the receivers show).
//!
//! The records: the function's own DynamoDB adapter over the DynamoDB model
//! ([`table`]), its conditional writes racing between concurrent invocations, the table
//! failing at its own rates (throttles, 500s, timeouts before and after the write; the
//! SDK retries each); or, for comparison, the function's in-memory store.

mod burst;
mod table;

pub use burst::{burst, BurstFigures, BURST};
pub use table::{Records, TABLE};

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alarm_fanout::aws::DynamoStore;
use alarm_fanout::handler::{App, Policy, Stores};
use alarm_fanout::receivers::{Endpoints, Receivers};
use alarm_fanout::routing::Routing;
use alarm_fanout::severity::{Severity, SeverityResolver, TagLookup};
use alarm_fanout::store::MemoryStore;
use chrono::{DateTime, Utc};
use groundcrew::retry::RetryPolicy;
use groundcrew::secrets::{CachedSecrets, InMemorySecretStore};
use serde_json::{json, Value};

use crate::kernel::{self, lock, FaultRates, Sim, Summary, Timeline};
use crate::models::alarm_receivers::{ReceiverModel, Shown};
use crate::models::dead_letters::DeadLetterModel;
use table::DeliveryTable;

pub const SCENARIO: &str = "alarm-fanout-storm-hour";
/// How big a storm is: alarms flapping, for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Storm {
    pub alarms: usize,
    pub minutes: i64,
}

/// The storm hour: 50 alarms for an hour.
pub const HOUR: Storm = Storm {
    alarms: 50,
    minutes: 60,
};
const RECEIVERS: [&str; 6] = ["tg", "slack", "chat", "pd", "hook", "mail"];
/// The DynamoDB operations alarm-fanout's adapter calls.
const TABLE_OPERATIONS: [&str; 3] = ["GetItem", "PutItem", "UpdateItem"];
/// The template's function timeout.
const BUDGET: Duration = Duration::from_secs(60);

const DOC: &str = r#"
receivers:
  tg: {type: telegram, chat_id: -100, bot_token_secret: t}
  slack: {type: slack, webhook_url_secret: s}
  chat: {type: google_chat, webhook_url_secret: c}
  pd: {type: pagerduty, routing_key_secret: p}
  hook: {type: webhook, url_secret: w}
  mail: {type: sns, topic_arn: "arn:aws:sns:eu-west-1:123456789012:sim-mail"}
default: [tg, slack, chat, pd, hook, mail]
"#;

struct NoTags;
impl TagLookup for NoTags {
    async fn tag(&self, _a: &str, _k: &str) -> Result<Option<String>, String> {
        Ok(None)
    }
}

type SimApp<St> =
    App<St, Receivers<InMemorySecretStore, ReceiverModel, ReceiverModel>, NoTags, DeadLetterModel>;

/// What one run did, beyond the kernel's counts.
#[derive(Debug, Default, Clone)]
pub struct Figures {
    pub state_changes: u64,
    pub sns_deliveries: u64,
    pub invocations: u64,
    pub failed_invocations: u64,
    pub dead_letters: u64,
    pub redriven: u64,
    pub shown: u64,
    pub duplicates: u64,
    pub ambiguous: u64,
    pub telegram_peak_per_minute: u64,
    pub digests: u64,
    pub over_limit: u64,
    /// Requests the SDK sent to the delivery table (each attempt), and faults it met.
    pub table_requests: u64,
    pub table_faults: u64,
    /// Conditional writes the table refused (a lease busy or lost, a pace version raced).
    pub table_conditions_failed: u64,
}

impl Figures {
    fn add(&mut self, o: &Figures) {
        self.state_changes += o.state_changes;
        self.sns_deliveries += o.sns_deliveries;
        self.invocations += o.invocations;
        self.failed_invocations += o.failed_invocations;
        self.dead_letters += o.dead_letters;
        self.redriven += o.redriven;
        self.shown += o.shown;
        self.duplicates += o.duplicates;
        self.ambiguous += o.ambiguous;
        self.digests += o.digests;
        self.over_limit += o.over_limit;
        self.table_requests += o.table_requests;
        self.table_faults += o.table_faults;
        self.table_conditions_failed += o.table_conditions_failed;
        self.telegram_peak_per_minute = self
            .telegram_peak_per_minute
            .max(o.telegram_peak_per_minute);
    }
}

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-21T21:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn app<St>(
    store: St,
    receivers: ReceiverModel,
    dead_letters: DeadLetterModel,
    doc: &str,
) -> SimApp<St> {
    let base = "http://receivers.sim";
    let secrets = InMemorySecretStore::default()
        .with("t", "123:SIM-TOKEN")
        .with("s", &format!("{base}/slack/x"))
        .with("c", &format!("{base}/chat/x?key=k"))
        .with("p", "routing-key")
        .with("w", &format!("{base}/hook/x"));
    App {
        routing: Routing::parse(doc)
            .unwrap_or_else(|e| panic!("routing: {e}"))
            .into(),
        store,
        deliver: Receivers::with_transport(
            receivers.clone(),
            CachedSecrets::new(secrets, Duration::from_secs(300)),
            receivers,
            Endpoints {
                telegram_api: base.into(),
                pagerduty_events: base.into(),
                ..Endpoints::default()
            },
            RetryPolicy {
                max_attempts: 4,
                ..RetryPolicy::default()
            },
        ),
        severity: SeverityResolver::new(
            NoTags,
            "severity",
            Severity::Warning,
            Duration::from_secs(600),
        ),
        dead_letters,
        policy: Policy::default(),
        holders: AtomicU64::new(0),
    }
}

/// One state change of one alarm.
#[derive(Debug, Clone)]
struct Change {
    alarm: usize,
    state: &'static str,
    at: DateTime<Utc>,
}

fn alarm_message(c: &Change) -> Value {
    let name = format!("storm-{:02}", c.alarm);
    let mut m = json!({
        "AlarmName": name, "AlarmDescription": null, "AWSAccountId": "123456789012",
        "NewStateValue": c.state, "NewStateReason": "r",
        "StateChangeTime": c.at.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string(),
        "Region": "EU (Ireland)", "AlarmArn": format!("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{name}"),
    });
    match c.alarm % 3 {
        0 => {
            m["Trigger"] = json!({"MetricName": "CPUUtilization", "Namespace": "AWS/EC2", "Statistic": "AVERAGE",
            "Dimensions": [{"name": "InstanceId", "value": "i-1"}], "Period": 60, "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanThreshold", "Threshold": 80.0})
        }
        1 => m["AlarmRule"] = json!("ALARM(a) OR ALARM(b)"),
        _ => {
            m["Trigger"] = json!({"Metrics": [{"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)"},
            {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "AWS/SQS", "MetricName": "ApproximateAgeOfOldestMessage"}, "Stat": "Maximum", "Period": 60}}],
            "ThresholdMetricId": "ad1", "ComparisonOperator": "GreaterThanUpperThreshold", "EvaluationPeriods": 1})
        }
    }
    m
}

fn sns_event(id: &str, c: &Change) -> Value {
    json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Type": "Notification", "MessageId": id,
        "TopicArn": "arn:aws:sns:eu-west-1:123456789012:alarms", "Subject": null,
        "Message": alarm_message(c).to_string(), "Timestamp": c.at.to_rfc3339()}}]})
}

/// The hour's state changes: each alarm flips every 30 to 150 s (five of them every 10 to
/// 20 minutes), mostly ALARM/OK, now and then INSUFFICIENT_DATA.
fn changes(sim: &Sim, storm: Storm) -> Vec<Change> {
    let end = start() + chrono::Duration::minutes(storm.minutes);
    let mut out = Vec::new();
    for alarm in 0..storm.alarms {
        let mut at = start() + chrono::Duration::seconds(sim.rng().between(0, 90) as i64);
        let mut state = "OK";
        while at < end {
            state = if sim.rng().chance(0.05) {
                "INSUFFICIENT_DATA"
            } else if state == "ALARM" {
                "OK"
            } else {
                "ALARM"
            };
            out.push(Change { alarm, state, at });
            // Five alarms change rarely: their notices outlive Lambda's retries unsuperseded.
            let (lo, hi) = if alarm < 5 { (600, 1200) } else { (30, 150) };
            at += chrono::Duration::seconds(sim.rng().between(lo, hi) as i64);
        }
    }
    out
}

/// Lambda's asynchronous invocation: the first try, two retries about 1 and 2 minutes
/// later, then the dead-letter queue (Lambda developer guide, asynchronous invocation).
async fn invoke_async<St: Stores>(
    sim: Arc<Sim>,
    app: Arc<SimApp<St>>,
    dlq: DeadLetterModel,
    event: Value,
    figures: Arc<Mutex<Figures>>,
) {
    for (attempt, wait) in [(1, 60), (2, 120), (3, 0)] {
        lock(&figures).invocations += 1;
        match app.handle(&event, sim.invocation(BUDGET)).await {
            Ok(_) => return,
            Err(e) => {
                lock(&figures).failed_invocations += 1;
                sim.trace(format!("invocation failed (attempt {attempt}): {e}"));
                if wait > 0 {
                    tokio::time::sleep(Duration::from_secs(wait)).await;
                }
            }
        }
    }
    lock(&figures).dead_letters += 1;
    dlq.put(event.to_string());
}

/// The template's flush schedule: `{"action":"flush"}` at the start of every minute (an
/// EventBridge Scheduler `rate(1 minute)` schedule invoking the function asynchronously),
/// here until `done` and no digest is pending.
async fn scheduled_flush<St: Stores>(
    sim: Arc<Sim>,
    app: Arc<SimApp<St>>,
    pending: DigestsPending,
    done: Arc<AtomicBool>,
) -> u64 {
    let mut digests = 0;
    loop {
        let now = sim.now();
        let next =
            now - chrono::Duration::seconds(now.timestamp() % 60) + chrono::Duration::seconds(60);
        sim.sleep_until(next).await;
        if done.load(Ordering::SeqCst) && !pending() {
            return digests;
        }
        match app
            .handle(&json!({"action": "flush"}), sim.invocation(BUDGET))
            .await
        {
            Ok(report) => digests += report.digests.len() as u64,
            Err(e) => sim.trace(format!("scheduled flush failed: {e}")),
        }
    }
}

fn pd_state(state: &str) -> &'static str {
    if state == "OK" {
        "resolve"
    } else {
        "trigger"
    }
}

/// Whether a paced receiver's digest still waits, in the run's store.
type DigestsPending = Arc<dyn Fn() -> bool + Send + Sync>;

/// The run's store: the in-memory one, or the adapter over a fresh delivery table.
fn with_records(sim: &Arc<Sim>, records: Records) -> Either {
    match records {
        Records::Memory => {
            let store = MemoryStore::default();
            let pace = store.pace.clone();
            Either::Memory(store, Arc::new(move || !pace.all_sent()))
        }
        Records::Dynamo(rates) => {
            let table = DeliveryTable::new(sim, rates);
            let store = table.store();
            let t = table.clone();
            Either::Dynamo(store, Arc::new(move || t.digests_pending()), table)
        }
    }
}

enum Either {
    Memory(MemoryStore, DigestsPending),
    Dynamo(DynamoStore, DigestsPending, DeliveryTable),
}

async fn one<St: Stores + 'static>(
    sim: Arc<Sim>,
    storm: Storm,
    figures: Arc<Mutex<Figures>>,
    store: St,
    pending: DigestsPending,
    table: Option<DeliveryTable>,
) {
    let mut receivers = ReceiverModel::new(Arc::clone(&sim));
    // The webhook is down for 10 minutes mid-storm: longer than Lambda's retries, so those
    // events end in the dead-letter queue and come back through the redrive. (Not Slack:
    // a paced receiver folds what it cannot send into its digest, which waits out the
    // outage, so nothing of Slack's reaches the dead-letter queue.)
    receivers.outage = Some((
        "hook",
        start() + chrono::Duration::minutes(storm.minutes / 3),
        start() + chrono::Duration::minutes(storm.minutes / 2),
    ));
    receivers.telegram_limits = true;
    let dlq = DeadLetterModel::new(Arc::clone(&sim));
    let app = Arc::new(app(store, receivers.clone(), dlq.clone(), DOC));
    let done = Arc::new(AtomicBool::new(false));
    let flusher = tokio::spawn(scheduled_flush(
        Arc::clone(&sim),
        Arc::clone(&app),
        pending,
        Arc::clone(&done),
    ));
    let all = changes(&sim, storm);
    lock(&figures).state_changes += all.len() as u64;
    // SNS: at least once, after a delay that reorders close changes; 5% twice.
    let mut timeline: Timeline<Value> = Timeline::default();
    for (n, c) in all.iter().enumerate() {
        let event = sns_event(&format!("sns-{n:05}"), c);
        let delay = sim.rng().between(0, 20) as i64;
        timeline.push(c.at + chrono::Duration::seconds(delay), event.clone());
        if sim.rng().chance(0.05) {
            let again = sim.rng().between(1, 120) as i64;
            timeline.push(c.at + chrono::Duration::seconds(delay + again), event);
        }
    }
    let mut running = Vec::new();
    while let Some((at, event)) = timeline.pop() {
        sim.sleep_until(at).await;
        sim.step();
        lock(&figures).sns_deliveries += 1;
        running.push(tokio::spawn(invoke_async(
            Arc::clone(&sim),
            Arc::clone(&app),
            dlq.clone(),
            event,
            Arc::clone(&figures),
        )));
    }
    for task in running {
        if let Err(e) = task.await {
            panic!("an invocation task failed: {e}");
        }
    }
    // The operator's redrive, with the receivers healthy again.
    sim.faults().set_rates(FaultRates::NONE);
    for _ in 0..20 {
        if dlq.is_empty() {
            break;
        }
        match app
            .handle(
                &json!({"action": "redrive", "max_messages": 10_000}),
                sim.invocation(Duration::from_secs(900)),
            )
            .await
        {
            Ok(report) => {
                lock(&figures).redriven += report.redrive.map_or(0, |r| u64::from(r.redelivered));
            }
            Err(e) => sim.trace(format!("redrive failed: {e}")),
        }
        tokio::time::sleep(Duration::from_secs(130)).await;
    }
    sim.check(
        "alarm-fanout: the dead-letter queue is empty after the redrive",
        dlq.is_empty(),
        || format!("{} dead letters left", dlq.len()),
    );
    done.store(true, Ordering::SeqCst);
    match flusher.await {
        Ok(n) => lock(&figures).digests += n,
        Err(e) => panic!("the flush schedule failed: {e}"),
    }
    check_end(&sim, &all, &receivers, &figures);
    if let Some(table) = table {
        check_table(&sim, &all, &table, &receivers);
        let by_kind = sim.faults().injected_by_kind();
        let mut f = lock(&figures);
        for op in TABLE_OPERATIONS {
            f.table_requests += sim.faults().calls_to(op);
        }
        f.table_faults += by_kind
            .iter()
            .filter(|(k, _)| {
                k.split(' ')
                    .next()
                    .is_some_and(|op| TABLE_OPERATIONS.contains(&op))
            })
            .map(|(_, n)| n)
            .sum::<u64>();
        f.table_conditions_failed += table.answered("ConditionalCheckFailedException");
    }
}

/// The table's records after the redrive agree with the newest changes and with what
/// the receivers that show alarms one by one show.
fn check_table(sim: &Sim, all: &[Change], table: &DeliveryTable, receivers: &ReceiverModel) {
    let mut newest: BTreeMap<String, (&str, i64)> = BTreeMap::new();
    for c in all {
        let name = format!("storm-{:02}", c.alarm);
        let at = c.at.timestamp_millis();
        if newest.get(&name).is_none_or(|(_, t)| at > *t) {
            newest.insert(name, (c.state, at));
        }
    }
    let subjects = table.subjects();
    let logs = lock(&receivers.logs);
    for (alarm, (state, at)) in &newest {
        let record = subjects
            .iter()
            .find(|(pk, _)| pk.ends_with(&format!(":alarm:{alarm}")))
            .map(|(_, r)| r.clone())
            .unwrap_or_default();
        let want = Some((state.to_string(), *at));
        sim.check(
            "alarm-fanout: the table records every alarm's newest change as the newest handled",
            record.newest == want,
            || format!("{alarm}: newest {want:?}, recorded {:?}", record.newest),
        );
        // The paced receivers (Telegram, Slack) may show an alarm in a digest, which
        // records no per-receiver delivery.
        for r in ["chat", "pd", "hook", "mail"] {
            let shown_one_by_one = logs
                .shown
                .get(r)
                .and_then(|l| l.iter().rev().find(|s| s.alarm == *alarm))
                .is_some_and(|s| !s.digest);
            if !shown_one_by_one {
                continue;
            }
            let got = record.delivered.get(r);
            sim.check(
                "alarm-fanout: the table records as delivered what each receiver shows",
                got == want.as_ref(),
                || format!("{r} {alarm}: shows {want:?}, recorded {got:?}"),
            );
        }
    }
}

fn check_end(sim: &Sim, all: &[Change], receivers: &ReceiverModel, figures: &Mutex<Figures>) {
    let mut newest: BTreeMap<String, (&str, String)> = BTreeMap::new();
    for c in all {
        let time = c.at.format("%Y-%m-%d %H:%M:%S").to_string();
        let name = format!("storm-{:02}", c.alarm);
        if newest.get(&name).is_none_or(|(_, t)| time > *t) {
            newest.insert(name, (c.state, time));
        }
    }
    let logs = lock(&receivers.logs);
    sim.check(
        "alarm-fanout: no receiver shows an older state after a newer",
        logs.out_of_order.is_empty(),
        || format!("{:?}", logs.out_of_order),
    );
    let mut f = lock(figures);
    for r in RECEIVERS {
        let shown = logs.shown.get(r).cloned().unwrap_or_default();
        f.shown += shown.len() as u64;
        let mut last: BTreeMap<&str, &Shown> = BTreeMap::new();
        let mut copies: BTreeMap<(&str, &str), u32> = BTreeMap::new();
        for s in &shown {
            last.insert(&s.alarm, s);
            *copies.entry((&s.alarm, &s.time)).or_default() += 1;
        }
        for (alarm, (state, time)) in &newest {
            let want = if r == "pd" { pd_state(state) } else { state };
            let got = last.get(alarm.as_str());
            sim.check(
                "alarm-fanout: every receiver ends on the newest state of every alarm (0 lost)",
                got.is_some_and(|s| s.state == want && s.time == *time),
                || format!("{r} {alarm}: newest {want} at {time}, last shown {got:?}"),
            );
        }
        for ((alarm, time), n) in copies {
            let ambiguous = logs
                .ambiguous
                .get(&(r.to_string(), alarm.to_string(), time.to_string()))
                .copied()
                .unwrap_or(0);
            f.duplicates += u64::from(n - 1);
            sim.check(
                "alarm-fanout: a change is shown twice only after an ambiguous failure of that send",
                n - 1 <= ambiguous,
                || format!("{r} {alarm} {time}: shown {n} times, {ambiguous} ambiguous failures"),
            );
        }
        if r == "tg" {
            f.telegram_peak_per_minute = logs
                .per_minute
                .iter()
                .filter(|((rx, _), _)| rx == "tg")
                .map(|(_, n)| *n)
                .max()
                .unwrap_or(0);
        }
    }
    f.ambiguous += logs.ambiguous.values().map(|n| u64::from(*n)).sum::<u64>();
    f.over_limit += logs.over_limit.len() as u64;
    let counted = logs.counted.values().sum::<u64>();
    sim.check(
        "alarm-fanout: in the storm every digest lists every alarm it holds (50 alarms fit)",
        counted == 0,
        || format!("{counted} changes counted without a line"),
    );
    let open: Vec<&String> = logs
        .shown
        .get("pd")
        .map(|pd| {
            let mut last: BTreeMap<&String, &str> = BTreeMap::new();
            for s in pd {
                last.insert(&s.alarm, &s.state);
            }
            last.into_iter()
                .filter(|(_, s)| *s == "trigger")
                .map(|(a, _)| a)
                .collect()
        })
        .unwrap_or_default();
    let should: Vec<&String> = newest
        .iter()
        .filter(|(_, (s, _))| *s != "OK")
        .map(|(a, _)| a)
        .collect();
    sim.check(
        "alarm-fanout: PagerDuty has an open incident exactly for the alarms in trouble",
        open == should,
        || format!("open {open:?}, should be {should:?}"),
    );
}

/// Runs the storm hour for `seeds` seeds (overridable by the kernel's environment
/// variables), the receivers failing at `rates`, the records kept in `records`.
pub fn run(
    scenario: &str,
    storm: Storm,
    seeds: u64,
    rates: FaultRates,
    records: Records,
) -> (Summary, Figures) {
    let total = Arc::new(Mutex::new(Figures::default()));
    let summary = kernel::run(scenario, seeds, start(), rates, |sim| {
        let total = Arc::clone(&total);
        async move {
            let figures = Arc::new(Mutex::new(Figures::default()));
            let f = Arc::clone(&figures);
            match with_records(&sim, records) {
                Either::Memory(store, pending) => one(sim, storm, f, store, pending, None).await,
                Either::Dynamo(store, pending, table) => {
                    one(sim, storm, f, store, pending, Some(table)).await
                }
            }
            let one = lock(&figures).clone();
            lock(&total).add(&one);
        }
    });
    let figures = lock(&total).clone();
    (summary, figures)
}
