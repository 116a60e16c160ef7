//! What an invocation asks for: a tuning run (Power Tuning's input, directly or as an
//! EventBridge event's `detail`), or an action on a run (`status`, `cleanup`, and
//! `continue`, which the tuner sends itself to carry a run into its next invocation).
//!
//! The shape is decided by a field first (`detail-type` for EventBridge, then `action`),
//! and only then is the input read as that shape, so that an error names the field at
//! fault rather than saying that no shape matched.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::input::{split_qualifier, TuneInput, TuneRequest};
use crate::state::valid_run_id;
use crate::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    Status,
    Cleanup,
    Continue,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub action: ActionKind,
    #[serde(rename = "runId", default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// `cleanup` only: the function whose run (the lock's holder) to clean up after.
    #[serde(rename = "lambdaARN", default, skip_serializing_if = "Option::is_none")]
    pub lambda_arn: Option<String>,
}

impl Action {
    /// What the tuner sends itself to carry `run_id` into its next invocation.
    pub fn continuation(run_id: &str) -> Self {
        Self {
            action: ActionKind::Continue,
            run_id: Some(run_id.to_string()),
            lambda_arn: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The input (an EventBridge event's `detail`); boxed, being many times an action's size.
    Tune(Box<TuneInput>),
    Action(Action),
}

/// The fields that decide what an object is; everything else is read afterwards, as that.
#[derive(Deserialize)]
struct Shape {
    #[serde(rename = "detail-type", default)]
    detail_type: Option<IgnoredAny>,
    #[serde(default)]
    detail: Option<Value>,
    #[serde(default)]
    action: Option<IgnoredAny>,
}

fn bad(field: &str, why: impl std::fmt::Display) -> Error {
    Error::Input(format!("{field}: {why}"))
}

/// The input's error, naming the field and the item at fault. An unknown top-level field
/// is named alone: serde would list every known field, which the README does better.
fn input_error(e: serde_path_to_error::Error<serde_json::Error>) -> Error {
    let path = e.path().to_string();
    let top = !path.contains(['.', '[']);
    if top && e.inner().to_string().starts_with("unknown field `") {
        return bad(&path, "is not a known field (see the README's Input)");
    }
    Error::Input(e.to_string())
}

impl Event {
    pub fn parse(event: &Value) -> Result<Self, Error> {
        let not_object = || Error::Input("the input must be a JSON object".into());
        if !event.is_object() {
            return Err(not_object());
        }
        let shape = Shape::deserialize(event).map_err(|_| not_object())?;
        // AWS's own envelope: its other fields are not ours to check.
        let (obj, shape) = if shape.detail_type.is_some() {
            match shape.detail {
                Some(detail) if detail.is_object() => {
                    let inner = Shape::deserialize(&detail).map_err(|_| not_object())?;
                    (detail, inner)
                }
                _ => {
                    return Err(bad(
                        "detail",
                        "an EventBridge event must carry the tuning input in its detail",
                    ))
                }
            }
        } else {
            (event.clone(), shape)
        };
        if shape.action.is_none() {
            return TuneInput::read(&obj)
                .map(|input| Self::Tune(Box::new(input)))
                .map_err(input_error);
        }
        let action = Action::deserialize(&obj).map_err(|e| bad("action", e))?;
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
            Self::Tune(input) => Some(TuneRequest::from_input(input)),
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
        let Event::Tune(input) = e else {
            panic!("not a run")
        };
        assert_eq!(input.num, Some(crate::input::Whole(5)));
        // EventBridge's own fields are not checked; the detail is.
        let e = Event::parse(&json!({"detail-type": "t", "source": "s", "time": "x",
            "detail": {"lambdaARN": "x", "num": 5}}))
        .unwrap();
        assert!(matches!(e, Event::Tune(_)));
        let wire = serde_json::to_value(Action::continuation("run-1")).unwrap();
        assert_eq!(wire, json!({"action": "continue", "runId": "run-1"}));
        assert_eq!(
            Event::parse(&wire).unwrap(),
            Event::Action(Action::continuation("run-1"))
        );
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
            (json!([1]), "the input must be a JSON object"),
            (json!({"detail-type": "t", "detail": "no"}), "detail:"),
            (json!({"detail-type": "t"}), "detail:"),
            (
                json!({"lambdaARN": "x", "num": 5, "numm": 3}),
                "invalid input: numm: is not a known field",
            ),
            (
                json!({"detail-type": "t", "detail": {"lambdaARN": "x", "num": {}}}),
                "invalid input: num: invalid type: map",
            ),
            (
                json!({"lambdaARN": "x", "powerValues": [128, "big"]}),
                "invalid input: powerValues[1]: invalid value: string \"big\", expected a whole number",
            ),
            (
                json!({"lambdaARN": "x", "pricing": {"perGb": 1}}),
                "invalid input: pricing.perGb: unknown field `perGb`, expected one of",
            ),
        ];
        for (input, expected) in cases {
            let err = Event::parse(&input).unwrap_err().to_string();
            assert!(err.contains(expected), "{input}: {err}");
        }
    }
}
