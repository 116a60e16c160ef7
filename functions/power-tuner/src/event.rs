//! What an invocation asks for: a tuning run (Power Tuning's input, directly or as an
//! EventBridge event's `detail`), or an action on a run (`status`, `cleanup`, and
//! `continue`, which the tuner sends itself to carry a run into its next invocation).

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::input::{split_qualifier, TuneRequest};
use crate::state::valid_run_id;
use crate::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    Status,
    Cleanup,
    Continue,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub action: ActionKind,
    #[serde(rename = "runId", default)]
    pub run_id: Option<String>,
    /// `cleanup` only: the function whose run (the lock's holder) to clean up after.
    #[serde(rename = "lambdaARN", default)]
    pub lambda_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The input object (an EventBridge event's `detail`).
    Tune(Map<String, Value>),
    Action(Action),
}

fn bad(field: &str, why: impl std::fmt::Display) -> Error {
    Error::Input(format!("{field}: {why}"))
}

impl Event {
    pub fn parse(event: &Value) -> Result<Self, Error> {
        let obj = match event {
            Value::Object(o) if o.contains_key("detail-type") => match o.get("detail") {
                Some(Value::Object(d)) => d,
                _ => {
                    return Err(bad(
                        "detail",
                        "an EventBridge event must carry the tuning input in its detail",
                    ))
                }
            },
            Value::Object(o) => o,
            _ => return Err(Error::Input("the input must be a JSON object".into())),
        };
        if !obj.contains_key("action") {
            return Ok(Self::Tune(obj.clone()));
        }
        let action: Action =
            serde_json::from_value(Value::Object(obj.clone())).map_err(|e| bad("action", e))?;
        match (&action.run_id, &action.lambda_arn, action.action) {
            (Some(id), _, _) if !valid_run_id(id) => {
                return Err(bad("runId", "must be letters, digits and -, at most 64"))
            }
            (None, None, ActionKind::Cleanup) => {
                return Err(bad("runId", "cleanup needs a runId or a lambdaARN"))
            }
            (None, _, ActionKind::Status | ActionKind::Continue) => {
                return Err(bad("runId", "is required"))
            }
            (_, Some(arn), _) => {
                split_qualifier("lambdaARN", arn)?;
            }
            _ => {}
        }
        Ok(Self::Action(action))
    }

    pub fn request(&self) -> Option<Result<TuneRequest, Error>> {
        match self {
            Self::Tune(obj) => Some(TuneRequest::from_object(obj)),
            Self::Action(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn actions_and_runs_are_told_apart() {
        let e = Event::parse(&json!({"action": "status", "runId": "abc-1"})).unwrap();
        assert!(matches!(
            e,
            Event::Action(Action {
                action: ActionKind::Status,
                ..
            })
        ));
        let e = Event::parse(&json!({"lambdaARN": "x", "num": 5})).unwrap();
        assert!(matches!(e, Event::Tune(_)));
        let e = Event::parse(
            &json!({"detail-type": "t", "detail": {"action": "continue", "runId": "r"}}),
        )
        .unwrap();
        assert!(matches!(
            e,
            Event::Action(Action {
                action: ActionKind::Continue,
                ..
            })
        ));
    }

    #[test]
    fn bad_actions_name_what_is_wrong() {
        let cases = [
            (
                json!({"action": "stop", "runId": "r"}),
                "unknown variant `stop`",
            ),
            (json!({"action": "status"}), "runId: is required"),
            (json!({"action": "status", "runId": "../x"}), "runId"),
            (json!({"action": "cleanup"}), "runId or a lambdaARN"),
            (
                json!({"action": "cleanup", "lambdaARN": "nope"}),
                "lambdaARN",
            ),
            (
                json!({"action": "status", "runId": "r", "num": 5}),
                "unknown field `num`",
            ),
        ];
        for (input, expected) in cases {
            let err = Event::parse(&input).unwrap_err().to_string();
            assert!(err.contains(expected), "{input}: {err}");
        }
    }
}
