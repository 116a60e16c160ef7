//! Typed inputs. An event with an `action` is a direct invoke (people and the schedule write
//! these; each refuses unknown fields); any other is one of AWS's envelopes ([`envelope`]:
//! SNS records, an EventBridge event, a CloudWatch alarm action), whose messages become
//! [`crate::notice`]s. The field that tells them apart is read first, so that an error
//! names the action or the envelope and then the field.

pub mod envelope;

use serde::Deserialize;
use serde_json::Value;

use crate::error::Error;
use crate::notice::Notice;
use envelope::parse_event;

/// What an invocation asks for.
#[derive(Debug)]
pub enum Input {
    Notices(Vec<Notice>),
    Redrive(RedriveRequest),
    /// `{"action": "flush"}`: send the pending digests that are due (the schedule's input).
    Flush,
    /// `{"action": "silence", ...}`: create a silence ([`crate::silences`]).
    Silence(crate::silences::SilenceRequest),
    /// `{"action": "silences"}`: list the silences that have not ended.
    Silences,
    /// `{"action": "expire", "id": ...}`: end a silence now.
    Expire(crate::silences::ExpireRequest),
}

/// `{"action": "redrive", "max_messages": 100}`: re-deliver what waits in the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedriveRequest {
    /// At most this many dead letters in one invocation (default 100).
    #[serde(default = "default_max_messages")]
    pub max_messages: u32,
}

fn default_max_messages() -> u32 {
    100
}

impl Default for RedriveRequest {
    fn default() -> Self {
        Self {
            max_messages: default_max_messages(),
        }
    }
}

/// A direct invoke: `action` names the request, the other fields are its own.
#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
enum Action {
    Redrive(RedriveRequest),
    Flush(NoFields),
    Silence(crate::silences::SilenceRequest),
    Silences(NoFields),
    Expire(crate::silences::ExpireRequest),
}

/// The actions, as an unknown one's error lists them.
const ACTIONS: [&str; 5] = ["redrive", "flush", "silence", "silences", "expire"];

/// An action that takes nothing but its name.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoFields {}

/// Reads the `action` field first, so that an unknown action is named as such.
pub fn parse_input(event: &Value) -> Result<Input, Error> {
    let bad = |reason: String| Error::BadEvent { reason };
    let Some(action) = event.get("action") else {
        return parse_event(event).map(Input::Notices);
    };
    let name = action
        .as_str()
        .ok_or_else(|| bad("action is not a string".into()))?;
    if !ACTIONS.contains(&name) {
        return Err(bad(format!(
            "unknown action {name:?}: expected \"redrive\", \"flush\", \"silence\", \"silences\" or \"expire\""
        )));
    }
    let action = Action::deserialize(event).map_err(|e| {
        bad(match name {
            "flush" | "silences" => format!("{name} takes no other fields: {e}"),
            _ => format!("{name}: {e}"),
        })
    })?;
    Ok(match action {
        Action::Redrive(r) => Input::Redrive(r),
        Action::Flush(NoFields {}) => Input::Flush,
        Action::Silence(s) => Input::Silence(s),
        Action::Silences(NoFields {}) => Input::Silences,
        Action::Expire(e) => Input::Expire(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn actions_are_typed_and_errors_name_the_field() {
        assert!(matches!(
            parse_input(&json!({"action": "redrive"})).unwrap(),
            Input::Redrive(RedriveRequest { max_messages: 100 })
        ));
        assert!(matches!(
            parse_input(&json!({"action": "redrive", "max_messages": 5})).unwrap(),
            Input::Redrive(RedriveRequest { max_messages: 5 })
        ));
        let err = parse_input(&json!({"action": "redrive", "max": 5}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `max`"), "{err}");
        assert!(matches!(
            parse_input(&json!({"action": "flush"})).unwrap(),
            Input::Flush
        ));
        let err = parse_input(&json!({"action": "flush", "now": 1}))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("flush takes no other fields: unknown field `now`"),
            "{err}"
        );
        let err = parse_input(&json!({"action": "flsuh"}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown action \"flsuh\""), "{err}");
        let err = parse_input(&json!({"action": 1})).unwrap_err().to_string();
        assert!(err.contains("action is not a string"), "{err}");
    }
}
