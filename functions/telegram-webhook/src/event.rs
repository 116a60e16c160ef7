//! The function's inputs, told apart by the field that says what each is: a CloudFormation
//! custom-resource request (`RequestType` / `ResponseURL`), an EventBridge scheduled event
//! (`detail-type: "Scheduled Event"` or `source: "aws.events"`), or a direct action
//! (`action`). The custom resource's request and the action's properties are parsed by
//! their own readers, which name the field that is wrong.

use groundcrew::custom_resource::looks_like_custom_resource;
use serde_json::Value;

use crate::error::Error;

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    CustomResource(Value),
    Scheduled,
    Action(Value),
}

impl Event {
    pub fn classify(event: Value) -> Result<Self, Error> {
        if looks_like_custom_resource(&event) {
            return Ok(Event::CustomResource(event));
        }
        if event.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event")
            || event.get("source").and_then(Value::as_str) == Some("aws.events")
        {
            return Ok(Event::Scheduled);
        }
        if event.get("action").is_some() {
            return Ok(Event::Action(event));
        }
        Err(Error::BadEvent(
            "expected a CloudFormation custom-resource request, an EventBridge Scheduled Event, or {\"action\": \"register\"|\"info\"|\"delete\"|\"check\"}"
                .to_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_input_is_told_apart_by_its_field() {
        let cr = json!({"RequestType": "Create", "ResponseURL": "https://x"});
        assert!(matches!(Event::classify(cr), Ok(Event::CustomResource(_))));
        let schedule = json!({"detail-type": "Scheduled Event", "source": "aws.scheduler"});
        assert_eq!(Event::classify(schedule).ok(), Some(Event::Scheduled));
        let action = json!({"action": "info"});
        assert!(matches!(Event::classify(action), Ok(Event::Action(_))));
        let e = Event::classify(json!({"hello": 1}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected a CloudFormation"), "{e}");
    }
}
