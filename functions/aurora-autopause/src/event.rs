//! Turns an incoming event into a [`Request`], or an error naming what was wrong.
//!
//! Accepted: a direct invoke `{"action": "sweep"|"pause"|"wake"|"status", "environment": "..",
//! "dry_run": bool}` (also what the EventBridge Scheduler schedules send), an EventBridge
//! `Scheduled Event` (a sweep), and an EventBridge `RDS DB Cluster Event` for `RDS-EVENT-0153`.

use serde_json::{Map, Value};

use crate::Error;

pub const RESTART_EVENT_ID: &str = "RDS-EVENT-0153";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Sweep,
    Pause,
    Wake,
    Status,
    Restop,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Sweep => "sweep",
            Action::Pause => "pause",
            Action::Wake => "wake",
            Action::Status => "status",
            Action::Restop => "restop",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub action: Action,
    pub environment: Option<String>,
    /// `Some` when the event asked for it; the configured default applies otherwise.
    pub dry_run: Option<bool>,
    /// The cluster named by an RDS event (only for [`Action::Restop`]).
    pub cluster: Option<String>,
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
        if !matches!(key.as_str(), "action" | "environment" | "dry_run") {
            return Err(bad(format!(
                "unknown field `{key}`; expected action, environment, dry_run"
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
        cluster: None,
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
            cluster: None,
        }),
        ("aws.rds", "RDS DB Cluster Event") => {
            let detail = obj
                .get("detail")
                .and_then(Value::as_object)
                .ok_or_else(|| bad("RDS event without a `detail` object"))?;
            let event_id = detail
                .get("EventID")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("RDS event without `detail.EventID`"))?;
            if event_id != RESTART_EVENT_ID {
                return Err(bad(format!("RDS event {} is not handled; only {RESTART_EVENT_ID} (cluster started after 7 days stopped)", excerpt(event_id))));
            }
            if let Some(t) = detail.get("SourceType").and_then(Value::as_str) {
                if t != "CLUSTER" {
                    return Err(bad(format!(
                        "RDS event SourceType {} is not CLUSTER",
                        excerpt(t)
                    )));
                }
            }
            let id = detail
                .get("SourceIdentifier")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("RDS event without `detail.SourceIdentifier` (the cluster)"))?;
            if !valid_name(id) || id.contains(':') {
                return Err(bad(format!(
                    "`detail.SourceIdentifier` `{}` is not a DB cluster identifier",
                    excerpt(id)
                )));
            }
            Ok(Request {
                action: Action::Restop,
                environment: None,
                dry_run: None,
                cluster: Some(id.to_string()),
            })
        }
        _ => Err(bad(format!(
            "unsupported EventBridge event: source {} detail-type {}",
            excerpt(source),
            excerpt(detail_type)
        ))),
    }
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
                cluster: None
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
            (r.action, r.cluster.as_deref()),
            (Action::Restop, Some("dev-orders"))
        );
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
        ];
        for (event, want) in cases {
            let e = parse(&event).unwrap_err().to_string();
            assert!(e.contains(want), "{event}: {e}");
        }
    }
}
