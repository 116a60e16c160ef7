//! The function's inputs, told apart by the field that says what each is: a CloudFormation
//! custom-resource request (`RequestType` / `ResponseURL`, read by the shared responder), an
//! EventBridge scheduled event (`detail-type: "Scheduled Event"` or `source: "aws.events"`),
//! or a direct action (`action`, then its typed settings, [`Input`]).
//!
//! The discriminating fields are read first ([`Kind`]) rather than trying an untagged enum,
//! whose error ("did not match any variant") names nothing. AWS's own events gain fields, so
//! nothing here refuses an unknown one; a direct action, which people write, refuses them.

use groundcrew::custom_resource::looks_like_custom_resource;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;

use crate::error::Error;
use crate::properties::{Input, Loose, Style, WebhookProperties};

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Handed to the shared responder as it came: it parses the request itself.
    CustomResource(Value),
    Scheduled,
    Action(Action),
}

/// What an operator asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionName {
    Register,
    Info,
    Delete,
    Check,
}

/// A direct action: its name and its settings (unset ones come from the environment).
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub name: ActionName,
    pub settings: WebhookProperties,
}

/// The fields that say what an event is.
#[derive(Debug, Default, Deserialize)]
struct Kind {
    #[serde(rename = "detail-type")]
    detail_type: Option<Loose>,
    source: Option<Loose>,
    action: Option<IgnoredAny>,
}

fn is_text(value: &Option<Loose>, expected: &str) -> bool {
    matches!(value, Some(Loose::Text(s)) if s == expected)
}

impl Event {
    pub fn classify(event: Value) -> Result<Self, Error> {
        if looks_like_custom_resource(&event) {
            return Ok(Event::CustomResource(event));
        }
        // Not an object: serde would read an array as a struct's fields in order.
        let kind = if event.is_object() {
            Kind::deserialize(&event).unwrap_or_default()
        } else {
            Kind::default()
        };
        if is_text(&kind.detail_type, "Scheduled Event") || is_text(&kind.source, "aws.events") {
            return Ok(Event::Scheduled);
        }
        if kind.action.is_some() {
            return Action::read(&event).map(Event::Action);
        }
        Err(Error::BadEvent(
            "expected a CloudFormation custom-resource request, an EventBridge Scheduled Event, or {\"action\": \"register\"|\"info\"|\"delete\"|\"check\"}"
                .to_string(),
        ))
    }
}

impl Action {
    /// `{"action": ..., ...settings}`: an unknown key, then the name, then each setting,
    /// every error naming its field.
    pub fn read(event: &Value) -> Result<Self, Error> {
        let input = Input::read(event, Style::Action).map_err(|e| Error::Invalid {
            property: "event".into(),
            reason: e.to_string(),
        })?;
        let name = match &input.action {
            Some(Loose::Text(name)) => match name.trim() {
                "register" => Some(ActionName::Register),
                "info" => Some(ActionName::Info),
                "delete" => Some(ActionName::Delete),
                "check" => Some(ActionName::Check),
                _ => None,
            },
            _ => None,
        }
        .ok_or_else(|| Error::Invalid {
            property: "action".into(),
            reason: "expected register, info, delete or check".into(),
        })?;
        let settings = WebhookProperties::from_action(input)?;
        Ok(Self { name, settings })
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
        let schedule =
            json!({"detail-type": "Scheduled Event", "source": "aws.scheduler", "detail": {}});
        assert_eq!(Event::classify(schedule).ok(), Some(Event::Scheduled));
        let rule = json!({"source": "aws.events", "a-field-aws-added": 1});
        assert_eq!(Event::classify(rule).ok(), Some(Event::Scheduled));
        let action = json!({"action": "info"});
        assert!(matches!(
            Event::classify(action),
            Ok(Event::Action(Action {
                name: ActionName::Info,
                ..
            }))
        ));
        for odd in [
            json!({"hello": 1}),
            json!("text"),
            json!({"detail-type": 5}),
        ] {
            let e = Event::classify(odd).unwrap_err().to_string();
            assert!(e.contains("expected a CloudFormation"), "{e}");
        }
    }

    #[test]
    fn a_bad_action_names_its_field() {
        for bad in [json!({"action": "explode"}), json!({"action": 5})] {
            let e = Event::classify(bad).unwrap_err().to_string();
            assert!(
                e.contains("action") && e.contains("register, info, delete or check"),
                "{e}"
            );
        }
        let e = Event::classify(json!({"action": "register", "webhok_url": "https://x.example/h"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `webhok_url`"), "{e}");
        let e = Event::classify(json!({"action": "register", "max_connections": "many"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("max_connections"), "{e}");
    }
}
