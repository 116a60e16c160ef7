//! Turns an incoming event into a [`Request`], or an error naming what was wrong.
//!
//! Accepted: a direct invoke `{"action": "sweep"|"pause"|"wake"|"status", "environment": "..",
//! "dry_run": bool, "idleMinutesBeforePause": n}` (also what the EventBridge Scheduler
//! schedules send), an EventBridge `Scheduled Event` (a sweep), an EventBridge
//! `RDS DB Cluster Event` for `RDS-EVENT-0153` or `RDS DB Instance Event` for
//! `RDS-EVENT-0154`, and an SQS batch from the follow-up queue whose messages hold either of
//! the last two kinds (the re-stop rule and the wake's follow-ups send them there).
//!
//! Each kind is a typed serde struct (`aws_lambda_events`' `SqsEvent` and
//! `EventBridgeEvent` for AWS's own events), chosen by reading the fields that tell them
//! apart first (`Records`, `action`, `source`/`detail-type`), so that an error names the
//! kind and the field. Only the direct invoke, which people write, refuses unknown fields.

use std::time::Duration;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use serde::de::{Deserializer, Error as _, IgnoredAny};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::DbKind;
use crate::Error;

/// AWS started a DB cluster that had been stopped for seven days.
pub const RESTART_EVENT_ID: &str = "RDS-EVENT-0153";
/// AWS started a DB instance that had been stopped for seven days.
pub const INSTANCE_RESTART_EVENT_ID: &str = "RDS-EVENT-0154";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Sweep,
    Pause,
    Wake,
    Status,
    Restop,
    /// A batch from the follow-up queue.
    Batch,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Sweep => "sweep",
            Action::Pause => "pause",
            Action::Wake => "wake",
            Action::Status => "status",
            Action::Restop => "restop",
            Action::Batch => "batch",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub action: Action,
    pub environment: Option<String>,
    /// `Some` when the event asked for it; the configured default applies otherwise.
    pub dry_run: Option<bool>,
    /// The database named by an RDS event (only for [`Action::Restop`]).
    pub database: Option<String>,
    /// Whether that database is a DB cluster or a DB instance.
    pub database_kind: DbKind,
    /// `idleMinutesBeforePause`: the idle window for this sweep (a database's own
    /// `groundcrew:idleMinutesBeforePause` tag still wins).
    pub idle_window: Option<Duration>,
}

impl Request {
    fn of(action: Action) -> Self {
        Self {
            action,
            environment: None,
            dry_run: None,
            database: None,
            database_kind: DbKind::Cluster,
            idle_window: None,
        }
    }
}

/// What arrived: one request, or a batch of queued ones.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    One(Request),
    Queue(Vec<Queued>),
}

/// One message of an SQS batch. A message that cannot be read keeps its error, so the
/// others are still handled and it alone returns to the queue (and in the end to its
/// dead-letter queue, where the alarm sees it).
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub message_id: String,
    pub receipt_handle: String,
    pub request: Result<Request, String>,
}

/// The fields that tell the accepted events apart; nothing else is read here.
#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "Records", default)]
    records: Option<Vec<RecordSource>>,
    #[serde(default)]
    action: Option<IgnoredAny>,
    #[serde(default)]
    source: Option<IgnoredAny>,
    #[serde(rename = "detail-type", default)]
    detail_type: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct RecordSource {
    #[serde(rename = "eventSource", default)]
    event_source: Option<String>,
}

/// A direct invoke, as people (and the schedules) write it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectInvoke {
    #[serde(deserialize_with = "action_name")]
    action: String,
    #[serde(default, deserialize_with = "environment")]
    environment: Option<String>,
    #[serde(default, deserialize_with = "dry_run")]
    dry_run: Option<bool>,
    #[serde(
        rename = "idleMinutesBeforePause",
        default,
        deserialize_with = "idle_minutes"
    )]
    idle_minutes: Option<u64>,
}

/// Fields of a direct invoke deserialised with an error that names the field and what it
/// must be, followed by serde's own words for what was found.
macro_rules! named_field {
    ($fn:ident, $ty:ty, $name:literal, $must_be:literal) => {
        fn $fn<'de, D: Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
            <$ty>::deserialize(d).map_err(|e| {
                D::Error::custom(format!(
                    concat!("`", $name, "` must be ", $must_be, " ({})"),
                    e
                ))
            })
        }
    };
}
named_field!(action_name, String, "action", "a string");
named_field!(environment, Option<String>, "environment", "a string");
named_field!(dry_run, Option<bool>, "dry_run", "true or false");
named_field!(
    idle_minutes,
    Option<u64>,
    "idleMinutesBeforePause",
    "a whole number of minutes from 5 to 1440"
);

/// Which EventBridge event it is: read before its `detail`, whose shape depends on it.
#[derive(Deserialize)]
struct EventKind {
    source: String,
    #[serde(rename = "detail-type")]
    detail_type: String,
}

/// The `detail` of an RDS event (RDS User Guide, "Amazon RDS event categories and event
/// messages" and the EventBridge example there). The fields are optional here so that a
/// missing one is named in the error.
#[derive(Debug, Default, Deserialize, Serialize)]
struct RdsEventDetail {
    #[serde(rename = "EventID", default)]
    event_id: Option<String>,
    #[serde(rename = "SourceType", default)]
    source_type: Option<String>,
    #[serde(rename = "SourceIdentifier", default)]
    source_identifier: Option<String>,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::BadEvent(msg.into())
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@+=".contains(c))
}

/// The kind of JSON value, for an error about the whole event.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn probe(event: &Value) -> Result<Probe, Error> {
    if !event.is_object() {
        return Err(bad(format!(
            "the event must be a JSON object, not {}",
            kind(event)
        )));
    }
    Probe::deserialize(event)
        .map_err(|e| bad(format!("the event is not one this function accepts: {e}")))
}

/// Reads any accepted event: an SQS batch, or one request.
pub fn parse_incoming(event: &Value) -> Result<Incoming, Error> {
    let is_batch = probe(event)?
        .records
        .as_ref()
        .and_then(|r| r.first())
        .and_then(|r| r.event_source.as_deref())
        == Some("aws:sqs");
    if !is_batch {
        return parse(event).map(Incoming::One);
    }
    let batch = SqsEvent::deserialize(event).map_err(|e| bad(format!("SQS event: {e}")))?;
    let mut queued = Vec::with_capacity(batch.records.len());
    for (i, m) in batch.records.into_iter().enumerate() {
        let message_id = m
            .message_id
            .ok_or_else(|| bad(format!("SQS record {i} has no `messageId`")))?;
        let receipt_handle = m
            .receipt_handle
            .ok_or_else(|| bad(format!("SQS record {i} has no `receiptHandle`")))?;
        let request = match m.body.as_deref().map(serde_json::from_str::<Value>) {
            None => Err(format!("SQS message {message_id} has no body")),
            Some(Err(e)) => Err(format!("SQS message {message_id}: body is not JSON: {e}")),
            Some(Ok(body)) => parse(&body).map_err(|e| format!("SQS message {message_id}: {e}")),
        };
        queued.push(Queued {
            message_id,
            receipt_handle,
            request,
        });
    }
    Ok(Incoming::Queue(queued))
}

/// Reads one request: a direct invoke or an EventBridge event.
pub fn parse(event: &Value) -> Result<Request, Error> {
    let probe = probe(event)?;
    if probe.action.is_some() {
        return direct(event);
    }
    if probe.detail_type.is_some() || probe.source.is_some() {
        return eventbridge(event);
    }
    Err(bad(
        "the event has neither `action` (direct invoke) nor `source`/`detail-type` (EventBridge)",
    ))
}

fn direct(event: &Value) -> Result<Request, Error> {
    let invoke = DirectInvoke::deserialize(event).map_err(|e| bad(e.to_string()))?;
    let action = match invoke.action.as_str() {
        "sweep" => Action::Sweep,
        "pause" => Action::Pause,
        "wake" => Action::Wake,
        "status" => Action::Status,
        other => {
            return Err(bad(format!(
                "unknown action `{}`; expected sweep, pause, wake or status",
                excerpt(other)
            )))
        }
    };
    if let Some(env) = invoke.environment.as_deref().filter(|e| !valid_name(e)) {
        return Err(bad(format!(
            "`environment` `{}` is not a valid tag value (1-128 of A-Z a-z 0-9 - _ . : / @ + =)",
            excerpt(env)
        )));
    }
    let idle_window = match invoke.idle_minutes {
        None => None,
        Some(m) if (5..=1440).contains(&m) => Some(Duration::from_secs(m * 60)),
        Some(m) => {
            return Err(bad(format!(
                "`idleMinutesBeforePause` must be a whole number of minutes from 5 to 1440, not {m}"
            )))
        }
    };
    if matches!(action, Action::Pause | Action::Wake) && invoke.environment.is_none() {
        return Err(bad(format!(
            "`{}` needs `environment` (the value of the environment tag to act on)",
            action.as_str()
        )));
    }
    Ok(Request {
        environment: invoke.environment,
        dry_run: invoke.dry_run,
        idle_window,
        ..Request::of(action)
    })
}

fn excerpt(s: &str) -> String {
    s.chars().take(64).collect()
}

fn eventbridge(event: &Value) -> Result<Request, Error> {
    let kind = EventKind::deserialize(event).map_err(|e| bad(format!("EventBridge event: {e}")))?;
    match (kind.source.as_str(), kind.detail_type.as_str()) {
        ("aws.events" | "aws.scheduler", "Scheduled Event") => Ok(Request::of(Action::Sweep)),
        ("aws.rds", "RDS DB Cluster Event") => rds_restart(event, DbKind::Cluster),
        ("aws.rds", "RDS DB Instance Event") => rds_restart(event, DbKind::Instance),
        (source, detail_type) => Err(bad(format!(
            "unsupported EventBridge event: source {} detail-type {}",
            excerpt(source),
            excerpt(detail_type)
        ))),
    }
}

/// RDS-EVENT-0153 (a cluster) or RDS-EVENT-0154 (an instance): AWS started a database
/// that had been stopped for seven days.
fn rds_restart(event: &Value, kind: DbKind) -> Result<Request, Error> {
    let (want_id, source_type, what) = match kind {
        DbKind::Cluster => (RESTART_EVENT_ID, "CLUSTER", "cluster"),
        DbKind::Instance => (INSTANCE_RESTART_EVENT_ID, "DB_INSTANCE", "instance"),
    };
    let event = EventBridgeEvent::<RdsEventDetail>::deserialize(event)
        .map_err(|e| bad(format!("RDS event: {e}")))?;
    let detail = event.detail;
    let event_id = detail
        .event_id
        .ok_or_else(|| bad("RDS event without `detail.EventID`"))?;
    if event_id != want_id {
        return Err(bad(format!(
            "RDS event {} is not handled; only {want_id} ({what} started after 7 days stopped)",
            excerpt(&event_id)
        )));
    }
    if let Some(t) = detail.source_type.filter(|t| t != source_type) {
        return Err(bad(format!(
            "RDS event SourceType {} is not {source_type}",
            excerpt(&t)
        )));
    }
    let id = detail.source_identifier.ok_or_else(|| {
        bad(format!(
            "RDS event without `detail.SourceIdentifier` (the {what})"
        ))
    })?;
    if !valid_name(&id) || id.contains(':') {
        return Err(bad(format!(
            "`detail.SourceIdentifier` `{}` is not a DB {what} identifier",
            excerpt(&id)
        )));
    }
    Ok(Request {
        database: Some(id),
        database_kind: kind,
        ..Request::of(Action::Restop)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn direct_actions() {
        let r = parse(&json!({"action": "pause", "environment": "dev", "dry_run": true})).unwrap();
        assert_eq!(
            r,
            Request {
                action: Action::Pause,
                environment: Some("dev".into()),
                dry_run: Some(true),
                database: None,
                database_kind: DbKind::Cluster,
                idle_window: None,
            }
        );
        assert_eq!(
            parse(&json!({"action": "sweep"})).unwrap().action,
            Action::Sweep
        );
        assert_eq!(
            parse(&json!({"action": "status", "environment": null}))
                .unwrap()
                .environment,
            None
        );
    }

    #[test]
    fn scheduled_and_rds_events() {
        let s = json!({"version": "0", "id": "x", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
        assert_eq!(parse(&s).unwrap().action, Action::Sweep);
        let rds = json!({"detail-type": "RDS DB Cluster Event", "source": "aws.rds",
            "detail": {"SourceType": "CLUSTER", "SourceIdentifier": "dev-orders", "EventID": "RDS-EVENT-0153"}});
        let r = parse(&rds).unwrap();
        assert_eq!(
            (r.action, r.database.as_deref(), r.database_kind),
            (Action::Restop, Some("dev-orders"), DbKind::Cluster)
        );
        let rds = json!({"detail-type": "RDS DB Instance Event", "source": "aws.rds",
            "detail": {"SourceType": "DB_INSTANCE", "SourceIdentifier": "dev-pg", "EventID": "RDS-EVENT-0154"}});
        let r = parse(&rds).unwrap();
        assert_eq!(
            (r.action, r.database.as_deref(), r.database_kind),
            (Action::Restop, Some("dev-pg"), DbKind::Instance)
        );
        let wrong = json!({"detail-type": "RDS DB Instance Event", "source": "aws.rds",
            "detail": {"SourceType": "DB_INSTANCE", "SourceIdentifier": "dev-pg", "EventID": "RDS-EVENT-0153"}});
        assert!(parse(&wrong)
            .unwrap_err()
            .to_string()
            .contains("only RDS-EVENT-0154 (instance started"));
    }

    #[test]
    fn sqs_batches_carry_rds_events_and_follow_ups() {
        let rds = json!({"detail-type": "RDS DB Cluster Event", "source": "aws.rds",
            "detail": {"SourceType": "CLUSTER", "SourceIdentifier": "dev-orders", "EventID": "RDS-EVENT-0153"}});
        let batch = json!({"Records": [
            {"messageId": "m1", "receiptHandle": "h1", "body": rds.to_string(), "eventSource": "aws:sqs"},
            {"messageId": "m2", "receiptHandle": "h2", "body": "{\"action\":\"wake\",\"environment\":\"dev\"}", "eventSource": "aws:sqs"},
            {"messageId": "m3", "receiptHandle": "h3", "body": "not json", "eventSource": "aws:sqs"}
        ]});
        let Incoming::Queue(q) = parse_incoming(&batch).unwrap() else {
            panic!("not a batch")
        };
        assert_eq!(q.len(), 3);
        assert_eq!(q[0].request.as_ref().unwrap().action, Action::Restop);
        assert_eq!(q[1].request.as_ref().unwrap().action, Action::Wake);
        assert!(q[2]
            .request
            .as_ref()
            .unwrap_err()
            .contains("m3: body is not JSON"));
        assert!(matches!(
            parse_incoming(&json!({"action": "status"})).unwrap(),
            Incoming::One(_)
        ));
        let r = parse(&json!({"action": "sweep", "idleMinutesBeforePause": 45})).unwrap();
        assert_eq!(r.idle_window, Some(Duration::from_secs(2700)));
    }

    #[test]
    fn malformed_events_name_what_is_wrong() {
        let cases = [
            (json!([1]), "JSON object"),
            (json!({"foo": 1}), "neither `action`"),
            (json!({"action": "explode"}), "unknown action `explode`"),
            (json!({"action": 3}), "`action` must be a string (invalid type: integer `3`"),
            (json!({"action": "pause"}), "needs `environment`"),
            (
                json!({"action": "wake", "environment": "dev", "dry_run": "yes"}),
                "`dry_run` must be true or false (invalid type: string \"yes\"",
            ),
            (
                json!({"action": "sweep", "envirnoment": "dev"}),
                "unknown field `envirnoment`",
            ),
            (
                json!({"action": "wake", "environment": "a b"}),
                "not a valid tag value",
            ),
            (
                json!({"detail-type": "RDS DB Cluster Event", "source": "aws.rds", "detail": {"EventID": "RDS-EVENT-0151", "SourceIdentifier": "x"}}),
                "RDS-EVENT-0151 is not handled",
            ),
            (
                json!({"detail-type": "RDS DB Cluster Event", "source": "aws.rds", "detail": {"EventID": "RDS-EVENT-0153"}}),
                "SourceIdentifier",
            ),
            (
                json!({"detail-type": "Object Created", "source": "aws.s3"}),
                "unsupported EventBridge event",
            ),
            (
                json!({"action": "sweep", "idleMinutesBeforePause": 2}),
                "from 5 to 1440, not 2",
            ),
            (
                json!({"action": "sweep", "idleMinutesBeforePause": "30"}),
                "`idleMinutesBeforePause` must be a whole number of minutes from 5 to 1440 (invalid type: string",
            ),
        ];
        for (event, want) in cases {
            let e = parse(&event).unwrap_err().to_string();
            assert!(e.contains(want), "{event}: {e}");
        }
    }

    #[test]
    fn aws_events_may_carry_fields_we_do_not_read_but_direct_invokes_may_not() {
        // AWS adds fields to its events: an RDS event with more than we read is accepted.
        let rds = json!({"version": "0", "id": "e", "detail-type": "RDS DB Instance Event",
            "source": "aws.rds", "account": "1", "time": "2026-11-21T22:20:00Z",
            "region": "us-east-1", "resources": [], "something-new": true,
            "detail": {"EventCategories": ["notification"], "SourceType": "DB_INSTANCE",
                "SourceArn": "arn:aws:rds:us-east-1:1:db:dev-pg", "Date": "2026-11-21T22:20:00Z",
                "Message": "DB instance started", "SourceIdentifier": "dev-pg",
                "EventID": "RDS-EVENT-0154", "Tags": {"a": "b"}}});
        assert_eq!(parse(&rds).unwrap().database.as_deref(), Some("dev-pg"));
        let no_detail = json!({"detail-type": "RDS DB Cluster Event", "source": "aws.rds"});
        assert!(parse(&no_detail)
            .unwrap_err()
            .to_string()
            .contains("RDS event: missing field `detail`"));
        let e = parse(&json!({"action": "sweep", "idleMinutesBeforePause": 2.5}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`idleMinutesBeforePause` must be a whole number"),
            "{e}"
        );
        let e = parse(&json!({"action": "wake", "environment": 7}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`environment` must be a string (invalid type: integer `7`"),
            "{e}"
        );
        // The same direct-invoke rules inside a queued message.
        let batch = json!({"Records": [{"messageId": "m1", "receiptHandle": "h1",
            "body": "{\"action\":\"wake\",\"environment\":\"dev\",\"force\":true}",
            "eventSource": "aws:sqs"}]});
        let Incoming::Queue(q) = parse_incoming(&batch).unwrap() else {
            panic!("not a batch")
        };
        assert!(q[0]
            .request
            .as_ref()
            .unwrap_err()
            .contains("unknown field `force`"));
    }
}
