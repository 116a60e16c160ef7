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

use aws_lambda_events::event::sqs::SqsEvent;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;

use crate::model::DbKind;
use crate::Error;

mod direct;
mod eventbridge;

use direct::direct;
use eventbridge::eventbridge;

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

fn excerpt(s: &str) -> String {
    s.chars().take(64).collect()
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
