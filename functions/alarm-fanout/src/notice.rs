//! Notices: what an event brings to route (an [`Alarm`] or a text), and the parsing of
//! Lambda events (SNS, EventBridge, CloudWatch alarm actions) into them: the typed
//! envelopes in [`crate::event::envelope`], the messages inside them in [`message`].
//!
//! Parsing never drops a message: a CloudWatch alarm becomes an [`Alarm`]; RDS events,
//! AWS Budgets, AWS Health and anything unrecognised become text notices. Only an event
//! whose envelope is broken (no records, no message id, no message) is an error, and then
//! the whole event is rejected before anything is sent.

pub(crate) mod message;

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use crate::event::envelope::{arn_region_account, parse_event};
pub use message::{parse_message, parse_time};

/// A CloudWatch alarm state.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, PartialOrd, Ord,
)]
pub enum State {
    #[serde(rename = "ALARM")]
    Alarm,
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "INSUFFICIENT_DATA")]
    InsufficientData,
}

impl State {
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "ALARM" => Some(Self::Alarm),
            "OK" => Some(Self::Ok),
            "INSUFFICIENT_DATA" => Some(Self::InsufficientData),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Alarm => "ALARM",
            Self::Ok => "OK",
            Self::InsufficientData => "INSUFFICIENT_DATA",
        }
    }

    pub fn emoji(self) -> &'static str {
        match self {
            Self::Alarm => "🔴",
            Self::Ok => "✅",
            Self::InsufficientData => "⚪",
        }
    }
}

/// What sort of notice a message is; routes can match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Alarm,
    Rds,
    Budgets,
    Health,
    Text,
}

impl Kind {
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "alarm" => Some(Self::Alarm),
            "rds" => Some(Self::Rds),
            "budgets" => Some(Self::Budgets),
            "health" => Some(Self::Health),
            "text" => Some(Self::Text),
            _ => None,
        }
    }

    pub fn emoji(self) -> &'static str {
        match self {
            Self::Alarm => "🔔",
            Self::Rds => "🗄️",
            Self::Budgets => "💰",
            Self::Health => "🩺",
            Self::Text => "ℹ️",
        }
    }
}

/// A CloudWatch alarm state change, from any of its three formats.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Alarm {
    pub name: String,
    pub arn: Option<String>,
    pub description: Option<String>,
    pub state: State,
    pub previous_state: Option<State>,
    pub reason: String,
    pub time: Option<DateTime<Utc>>,
    pub account: Option<String>,
    /// The region code (`eu-west-1`), from the ARN when the message only has a display name.
    pub region: Option<String>,
    /// The metric(s) watched, as one line of text.
    pub metric: Option<String>,
    /// The threshold, as text (`> 80`, `outside the band e1`).
    pub threshold: Option<String>,
    /// A composite alarm's rule.
    pub rule: Option<String>,
    /// The metrics watched, for routes to match on (namespace, name, dimensions).
    /// (A boxed slice, not a `Vec`: it keeps `Body::Alarm` small.)
    #[serde(default, skip_serializing_if = "<[_]>::is_empty")]
    pub metrics: Box<[crate::alarm_metrics::MetricRef]>,
}

impl Alarm {
    /// What identifies the alarm across messages: the ARN, or account/region/name.
    pub fn key(&self) -> String {
        self.arn.clone().unwrap_or_else(|| {
            format!(
                "{}:{}:{}",
                self.account.as_deref().unwrap_or("-"),
                self.region.as_deref().unwrap_or("-"),
                self.name
            )
        })
    }

    /// The alarm's page in the CloudWatch console.
    pub fn console_url(&self) -> Option<String> {
        let region = self.region.as_deref()?;
        const NAME: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'_')
            .remove(b'.');
        let name = percent_encoding::utf8_percent_encode(&self.name, NAME);
        Some(format!(
            "https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#alarmsV2:alarm/{name}"
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Body {
    Alarm(Alarm),
    /// Anything else, delivered as text.
    Text {
        kind: Kind,
        title: String,
        text: String,
    },
}

/// One message to route, with the id it is deduplicated by.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Notice {
    /// SNS `MessageId`, EventBridge `id`, or a digest of an alarm action.
    pub id: String,
    pub account: Option<String>,
    pub region: Option<String>,
    /// When the envelope says the message was sent (SNS `Timestamp`, EventBridge `time`):
    /// orders an alarm's changes when the alarm names no `StateChangeTime`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
    pub body: Body,
    /// A reminder of an alarm still in ALARM ([`crate::reminders::reminder_notice`]): in a
    /// chat that threads it follows its ALARM's message and never takes its place, so that
    /// the OK still answers (and edits) the ALARM.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reminder: bool,
}

impl Notice {
    pub fn kind(&self) -> Kind {
        match &self.body {
            Body::Alarm(_) => Kind::Alarm,
            Body::Text { kind, .. } => *kind,
        }
    }

    pub fn alarm(&self) -> Option<&Alarm> {
        match &self.body {
            Body::Alarm(a) => Some(a),
            Body::Text { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use serde_json::Value;

    fn sns(message: &str) -> Value {
        json!({"Records": [{"EventSource": "aws:sns", "Sns": {"MessageId": "m-1", "TopicArn": "arn:aws:sns:eu-west-1:111122223333:alarms", "Subject": null, "Message": message}}]})
    }

    #[test]
    fn parses_a_metric_alarm_with_real_quirks() {
        let message = json!({
            "AlarmName": "prod-api-5xx", "AlarmDescription": null, "AWSAccountId": "111122223333",
            "NewStateValue": "ALARM", "NewStateReason": "Threshold Crossed: 1 datapoint [12.0] was > 5.0",
            "StateChangeTime": "2026-01-12T16:30:42.236+0000", "Region": "EU (Ireland)",
            "AlarmArn": "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:prod-api-5xx", "OldStateValue": "OK",
            "Trigger": {"MetricName": "5XXError", "Namespace": "AWS/ApiGateway", "Statistic": "SUM", "Unit": null,
                "Dimensions": [{"name": "ApiName", "value": "api"}], "Period": 60, "EvaluationPeriods": 1,
                "ComparisonOperator": "GreaterThanThreshold", "Threshold": 5.0, "TreatMissingData": "missing"}
        });
        let notices = parse_event(&sns(&message.to_string())).unwrap();
        let alarm = notices[0].alarm().unwrap();
        assert_eq!(alarm.name, "prod-api-5xx");
        assert_eq!(alarm.region.as_deref(), Some("eu-west-1"));
        assert_eq!(alarm.description, None);
        assert_eq!(alarm.state, State::Alarm);
        assert_eq!(alarm.previous_state, Some(State::Ok));
        assert_eq!(
            alarm.metric.as_deref(),
            Some("AWS/ApiGateway 5XXError (ApiName=api) SUM over 60 s")
        );
        assert_eq!(alarm.threshold.as_deref(), Some("> 5.0 for 1 period(s)"));
        assert_eq!(
            alarm.time.unwrap().to_rfc3339(),
            "2026-01-12T16:30:42.236+00:00"
        );
        assert!(alarm
            .console_url()
            .unwrap()
            .ends_with("#alarmsV2:alarm/prod-api-5xx"));
    }

    #[test]
    fn unrecognised_and_plain_text_become_text() {
        let n = parse_event(&sns("disk almost full")).unwrap().remove(0);
        assert_eq!(n.kind(), Kind::Text);
        assert_eq!(n.account.as_deref(), Some("111122223333"));
        // JSON that looks like an alarm but is not one is still delivered.
        let n = parse_event(&sns(r#"{"AlarmName":"x","NewStateValue":"MAYBE"}"#))
            .unwrap()
            .remove(0);
        assert_eq!(n.kind(), Kind::Text);
    }

    #[test]
    fn broken_envelopes_name_the_problem() {
        let err = parse_event(&json!({"Records": [{"Sns": {"Message": "x"}}]})).unwrap_err();
        assert!(
            err.to_string()
                .contains("Records[0]: Sns.MessageId is missing"),
            "{err}"
        );
        let err = parse_event(&json!({"hello": 1})).unwrap_err();
        assert!(err.to_string().contains("unrecognised event"), "{err}");
        let err = parse_event(&json!({"Records": []})).unwrap_err();
        assert!(err.to_string().contains("Records is empty"), "{err}");
        let err = parse_event(&json!({"detail-type": "CloudWatch Alarm State Change", "id": "e", "detail": {"alarmName": "a", "state": {"value": "NOPE"}}})).unwrap_err();
        assert!(err.to_string().contains("detail.state.value"), "{err}");
    }

    #[test]
    fn alarm_action_ids_are_stable() {
        let event = json!({"source": "aws.cloudwatch", "alarmArn": "arn:aws:cloudwatch:us-east-1:444455556666:alarm:a",
            "accountId": "444455556666", "region": "us-east-1",
            "alarmData": {"alarmName": "a", "state": {"value": "ALARM", "reason": "r", "timestamp": "2023-08-04T12:36:15.490+0000"}}});
        let a = parse_event(&event).unwrap().remove(0);
        let b = parse_event(&event).unwrap().remove(0);
        assert_eq!(a.id, b.id);
        assert!(a.id.starts_with("action-"));
    }
}
