//! What the handler's unit tests share (`handler_tests`, `sweep_tests`, `remind_tests`):
//! fakes for the tag lookup and the dead-letter queue, the app over the in-memory store
//! with a receiver fake of the test's own, the test clock's start, and SNS alarm events.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use groundcrew::invocation::TokioClock;
use groundcrew::{Deadline, Invocation};
use serde_json::{json, Value};

use crate::error::Error;
use crate::handler::{App, Policy};
use crate::receivers::Deliver;
use crate::redrive::{DeadLetter, DeadLetters};
use crate::routing::Routing;
use crate::severity::{Severity, SeverityResolver, TagLookup};
use crate::store::MemoryStore;

/// No alarm has tags: severities come from the names.
pub(crate) struct NoTags;

impl TagLookup for NoTags {
    async fn tag(&self, _a: &str, _k: &str) -> Result<Option<String>, String> {
        Ok(None)
    }
}

/// An empty dead-letter queue.
pub(crate) struct NoQueue;

impl DeadLetters for NoQueue {
    async fn receive(&self, _max: u32, _v: Duration) -> Result<Vec<DeadLetter>, Error> {
        Ok(vec![])
    }
    async fn delete(&self, _r: &str) -> Result<(), Error> {
        Ok(())
    }
}

pub(crate) type TestApp<D> = App<MemoryStore, D, NoTags, NoQueue>;

/// The app with routing document `doc`, sending through `deliver`.
pub(crate) fn app_with<D: Deliver>(doc: &str, deliver: D) -> TestApp<D> {
    App {
        routing: Routing::parse(doc).unwrap().into(),
        store: MemoryStore::default(),
        deliver,
        severity: SeverityResolver::new(
            NoTags,
            "severity",
            Severity::Warning,
            Duration::from_secs(60),
        ),
        dead_letters: NoQueue,
        policy: Policy::default(),
        holders: AtomicU64::new(0),
    }
}

/// Saturday 21 November 2026, 21:00 UTC (22:00 in Berlin).
pub(crate) fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-21T21:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// An invocation with a minute to run, on the test's clock.
pub(crate) fn invocation(clock: &Arc<TokioClock>) -> Invocation {
    Invocation::new(
        "r",
        Deadline::after(Duration::from_secs(60)),
        Arc::clone(clock) as _,
    )
}

/// A CloudWatch alarm's SNS message: alarm `name` (in eu-west-1, account 1) changed to
/// `state` at `at`.
pub(crate) fn alarm_message(name: &str, state: &str, at: DateTime<Utc>) -> Value {
    json!({"AlarmName": name, "NewStateValue": state,
        "AlarmArn": format!("arn:aws:cloudwatch:eu-west-1:1:alarm:{name}"),
        "StateChangeTime": at.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()})
}

/// An SNS event of one record, message `id`.
pub(crate) fn sns_event(id: &str, message: &Value) -> Value {
    json!({"Records": [{"Sns": {"MessageId": id, "Message": message.to_string()}}]})
}

/// An SNS event for alarm `name` changing to `state` at `at`.
pub(crate) fn event(id: &str, name: &str, state: &str, at: DateTime<Utc>) -> Value {
    sns_event(id, &alarm_message(name, state, at))
}

pub(crate) fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}
