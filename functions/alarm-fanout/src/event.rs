//! Typed inputs: the notices of an SNS, EventBridge or alarm-action event ([`crate::notice`]),
//! or an action invoked directly (`{"action": "redrive", ...}`).

use serde::Deserialize;
use serde_json::Value;

use crate::error::Error;
use crate::notice::{parse_event, Notice};

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

/// The event's fields but `action`, as a typed request.
fn without_action<T: serde::de::DeserializeOwned>(event: &Value) -> Result<T, serde_json::Error> {
    let mut fields = event.as_object().cloned().unwrap_or_default();
    fields.remove("action");
    serde_json::from_value(Value::Object(fields))
}

/// Reads the `action` field first, so that an unknown action is named as such.
pub fn parse_input(event: &Value) -> Result<Input, Error> {
    let bad = |reason: String| Error::BadEvent { reason };
    let Some(action) = event.get("action") else {
        return parse_event(event).map(Input::Notices);
    };
    match action.as_str() {
        Some("redrive") => {
            let mut fields = event.as_object().cloned().unwrap_or_default();
            fields.remove("action");
            serde_json::from_value(Value::Object(fields))
                .map(Input::Redrive)
                .map_err(|e| bad(format!("redrive: {e}")))
        }
        Some("flush") => match event.as_object().map(|o| o.len()) {
            Some(1) => Ok(Input::Flush),
            _ => Err(bad("flush takes no other fields".into())),
        },
        Some("silence") => without_action(event)
            .map(Input::Silence)
            .map_err(|e| bad(format!("silence: {e}"))),
        Some("silences") => match event.as_object().map(|o| o.len()) {
            Some(1) => Ok(Input::Silences),
            _ => Err(bad("silences takes no other fields".into())),
        },
        Some("expire") => without_action(event)
            .map(Input::Expire)
            .map_err(|e| bad(format!("expire: {e}"))),
        Some(other) => Err(bad(format!(
            "unknown action {other:?}: expected \"redrive\", \"flush\", \"silence\", \"silences\" or \"expire\""
        ))),
        None => Err(bad("action is not a string".into())),
    }
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
        assert!(err.contains("flush takes no other fields"), "{err}");
        let err = parse_input(&json!({"action": "flsuh"}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown action \"flsuh\""), "{err}");
        let err = parse_input(&json!({"action": 1})).unwrap_err().to_string();
        assert!(err.contains("action is not a string"), "{err}");
    }
}
