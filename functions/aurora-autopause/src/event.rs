//! Turns an incoming event into a [`Request`], or an error naming what was wrong.
//!
//! Accepted: a direct invoke `{"action": "sweep"|"pause"|"wake"|"status", "environment": "..",
//! "dry_run": bool, "idleMinutesBeforePause": n}` (also what the EventBridge Scheduler
//! schedules send), an EventBridge `Scheduled Event` (a sweep), an EventBridge
//! `RDS DB Cluster Event` for `RDS-EVENT-0153`, and an SQS batch from the follow-up queue
//! whose messages hold either of the last two kinds (the re-stop rule and the wake's
//! follow-ups send them there).

use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use serde_json::{Map, Value};

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

fn bad(msg: impl Into<String>) -> Error {
    Error::BadEvent(msg.into())
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@+=".contains(c))
}

/// Reads any accepted event: an SQS batch, or one request.
pub fn parse_incoming(event: &Value) -> Result<Incoming, Error> {
    let is_batch = event
        .get("Records")
        .and_then(Value::as_array)
        .and_then(|r| r.first())
        .and_then(|r| r.get("eventSource"))
        .and_then(Value::as_str)
        == Some("aws:sqs");
    if !is_batch {
        return parse(event).map(Incoming::One);
    }
    let batch: SqsEvent =
        serde_json::from_value(event.clone()).map_err(|e| bad(format!("SQS event: {e}")))?;
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

pub fn parse(event: &Value) -> Result<Request, Error> {
    let obj = event.as_object().ok_or_else(|| {
        bad(format!(
            "the event must be a JSON object, not {}",
            kind(event)
        ))
    })?;
    if obj.contains_key("action") {
        return direct(obj);
    }
    if obj.contains_key("detail-type") || obj.contains_key("source") {
        return eventbridge(obj);
    }
    Err(bad(
        "the event has neither `action` (direct invoke) nor `source`/`detail-type` (EventBridge)",
    ))
}

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

fn direct(obj: &Map<String, Value>) -> Result<Request, Error> {
    for key in obj.keys() {
        if !matches!(
            key.as_str(),
            "action" | "environment" | "dry_run" | "idleMinutesBeforePause"
        ) {
            return Err(bad(format!(
                "unknown field `{key}`; expected action, environment, dry_run, idleMinutesBeforePause"
            )));
        }
    }
    let action = match obj.get("action") {
        Some(Value::String(s)) => match s.as_str() {
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
        },
        Some(v) => return Err(bad(format!("`action` must be a string, not {}", kind(v)))),
        None => return Err(bad("`action` is missing")),
    };
    let environment = match obj.get("environment") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if valid_name(s) => Some(s.clone()),
        Some(Value::String(s)) => {
            return Err(bad(format!(
            "`environment` `{}` is not a valid tag value (1-128 of A-Z a-z 0-9 - _ . : / @ + =)",
            excerpt(s)
        )))
        }
        Some(v) => {
            return Err(bad(format!(
                "`environment` must be a string, not {}",
                kind(v)
            )))
        }
    };
    let dry_run = match obj.get("dry_run") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(v) => {
            return Err(bad(format!(
                "`dry_run` must be true or false, not {}",
                kind(v)
            )))
        }
    };
    let idle_window = match obj.get("idleMinutesBeforePause") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(m) if (5..=1440).contains(&m) => Some(Duration::from_secs(m * 60)),
            _ => {
                return Err(bad(format!(
                    "`idleMinutesBeforePause` must be a whole number of minutes from 5 to 1440, not {n}"
                )))
            }
        },
        Some(v) => {
            return Err(bad(format!(
                "`idleMinutesBeforePause` must be a number of minutes, not {}",
                kind(v)
            )))
        }
    };
    if matches!(action, Action::Pause | Action::Wake) && environment.is_none() {
        return Err(bad(format!(
            "`{}` needs `environment` (the value of the environment tag to act on)",
            action.as_str()
        )));
    }
    Ok(Request {
        action,
        environment,
        dry_run,
        database: None,
        database_kind: DbKind::Cluster,
        idle_window,
    })
}

fn excerpt(s: &str) -> String {
    s.chars().take(64).collect()
}

fn eventbridge(obj: &Map<String, Value>) -> Result<Request, Error> {
    let detail_type = obj
        .get("detail-type")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("EventBridge event without a string `detail-type`"))?;
    let source = obj
        .get("source")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("EventBridge event without a string `source`"))?;
    match (source, detail_type) {
        ("aws.events" | "aws.scheduler", "Scheduled Event") => Ok(Request {
            action: Action::Sweep,
            environment: None,
            dry_run: None,
            database: None,
            database_kind: DbKind::Cluster,
            idle_window: None,
        }),
        ("aws.rds", "RDS DB Cluster Event") => rds_restart(obj, DbKind::Cluster),
        ("aws.rds", "RDS DB Instance Event") => rds_restart(obj, DbKind::Instance),
        _ => Err(bad(format!(
            "unsupported EventBridge event: source {} detail-type {}",
            excerpt(source),
            excerpt(detail_type)
        ))),
    }
}

/// RDS-EVENT-0153 (a cluster) or RDS-EVENT-0154 (an instance): AWS started a database
/// that had been stopped for seven days.
fn rds_restart(obj: &Map<String, Value>, kind: DbKind) -> Result<Request, Error> {
    let (want_id, source_type, what) = match kind {
        DbKind::Cluster => (RESTART_EVENT_ID, "CLUSTER", "cluster"),
        DbKind::Instance => (INSTANCE_RESTART_EVENT_ID, "DB_INSTANCE", "instance"),
    };
    let detail = obj
        .get("detail")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("RDS event without a `detail` object"))?;
    let event_id = detail
        .get("EventID")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("RDS event without `detail.EventID`"))?;
    if event_id != want_id {
        return Err(bad(format!(
            "RDS event {} is not handled; only {want_id} ({what} started after 7 days stopped)",
            excerpt(event_id)
        )));
    }
    if let Some(t) = detail.get("SourceType").and_then(Value::as_str) {
        if t != source_type {
            return Err(bad(format!(
                "RDS event SourceType {} is not {source_type}",
                excerpt(t)
            )));
        }
    }
    let id = detail
        .get("SourceIdentifier")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            bad(format!(
                "RDS event without `detail.SourceIdentifier` (the {what})"
            ))
        })?;
    if !valid_name(id) || id.contains(':') {
        return Err(bad(format!(
            "`detail.SourceIdentifier` `{}` is not a DB {what} identifier",
            excerpt(id)
        )));
    }
    Ok(Request {
        action: Action::Restop,
        environment: None,
        dry_run: None,
        database: Some(id.to_string()),
        database_kind: kind,
        idle_window: None,
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
            (json!({"action": 3}), "`action` must be a string"),
            (json!({"action": "pause"}), "needs `environment`"),
            (
                json!({"action": "wake", "environment": "dev", "dry_run": "yes"}),
                "`dry_run` must be true or false",
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
                "must be a number of minutes, not a string",
            ),
        ];
        for (event, want) in cases {
            let e = parse(&event).unwrap_err().to_string();
            assert!(e.contains(want), "{event}: {e}");
        }
    }
}
