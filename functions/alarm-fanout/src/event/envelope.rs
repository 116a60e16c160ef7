//! AWS's envelopes as typed serde structs: an SNS event's records, an EventBridge event, a
//! CloudWatch alarm action. The message inside is classified by [`crate::notice`].
//!
//! These are AWS's own events, which gain fields, so none refuses unknown fields. They are
//! not `aws_lambda_events`' `SnsEvent`/`EventBridgeEvent`: those require fields that the
//! function has never needed and that re-published or hand-made events lack (`Type`,
//! `Signature`, `SigningCertUrl`, `UnsubscribeUrl` and an RFC 3339 `Timestamp` in SNS,
//! `source` in EventBridge), so they would reject notices delivered today. A field the
//! function needs is named in the error when it is missing or of the wrong type; a field
//! that only decorates the notice (`Subject`, `Timestamp`, `TopicArn`, `account`...) reads
//! as absent when it is not a string, so that no alarm is lost to it.

use serde::de::{Deserializer, Error as _, IgnoredAny};
use serde::Deserialize;
use serde_json::Value;
use sha2::Digest as _;

use crate::error::Error;
use crate::notice::message::{alarm_notice, parse_alarm_detail, parse_message, parse_time};
use crate::notice::{Body, Kind, Notice};

/// A string, or nothing when it is null, blank or not a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Loose {
    Text(String),
    Other(IgnoredAny),
}

fn loose<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Loose::deserialize(d)? {
        Loose::Text(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Loose::Other(_) => None,
    })
}

/// The first string of a list (`resources`), or nothing.
fn first_loose<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum List {
        Items(Vec<Loose>),
        Other(IgnoredAny),
    }
    Ok(match List::deserialize(d)? {
        List::Items(items) => items.into_iter().next().and_then(|i| match i {
            Loose::Text(s) => Some(s),
            Loose::Other(_) => None,
        }),
        List::Other(_) => None,
    })
}

/// An object field whose shape depends on the event (`detail`, `alarmData`): read by
/// [`crate::notice`]; anything but an object reads as absent, so the error can name it.
fn object<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Ok(Some(Value::deserialize(d)?).filter(Value::is_object))
}

/// `Sns.Message`: the text the topic was given; it must be a string.
fn message_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
        .map_err(|e| D::Error::custom(format!("Sns.Message is not a string ({e})")))
}

/// One record of an SNS event.
#[derive(Deserialize)]
struct SnsRecord {
    #[serde(rename = "EventSource", default, deserialize_with = "loose")]
    event_source: Option<String>,
    #[serde(rename = "Sns", default)]
    sns: Option<Value>,
}

#[derive(Deserialize)]
struct SnsMessage {
    #[serde(rename = "MessageId", default, deserialize_with = "loose")]
    message_id: Option<String>,
    #[serde(rename = "Message", default, deserialize_with = "message_text")]
    message: Option<String>,
    #[serde(rename = "Subject", default, deserialize_with = "loose")]
    subject: Option<String>,
    #[serde(rename = "TopicArn", default, deserialize_with = "loose")]
    topic_arn: Option<String>,
    #[serde(rename = "Timestamp", default, deserialize_with = "loose")]
    timestamp: Option<String>,
}

/// An EventBridge event, at the top level or forwarded through SNS.
#[derive(Deserialize)]
struct EventBridgeEvent {
    #[serde(default, deserialize_with = "loose")]
    id: Option<String>,
    #[serde(rename = "detail-type", default, deserialize_with = "loose")]
    detail_type: Option<String>,
    #[serde(default, deserialize_with = "loose")]
    source: Option<String>,
    #[serde(default, deserialize_with = "loose")]
    account: Option<String>,
    #[serde(default, deserialize_with = "loose")]
    region: Option<String>,
    #[serde(default, deserialize_with = "loose")]
    time: Option<String>,
    #[serde(default, deserialize_with = "first_loose")]
    resources: Option<String>,
    #[serde(default, deserialize_with = "object")]
    detail: Option<Value>,
}

/// What CloudWatch sends when an alarm invokes the function directly.
#[derive(Deserialize)]
struct AlarmAction {
    #[serde(rename = "alarmArn", default, deserialize_with = "loose")]
    alarm_arn: Option<String>,
    #[serde(rename = "accountId", default, deserialize_with = "loose")]
    account_id: Option<String>,
    #[serde(default, deserialize_with = "loose")]
    region: Option<String>,
    #[serde(rename = "alarmData", default, deserialize_with = "object")]
    alarm_data: Option<Value>,
}

/// The fields that tell the envelopes apart, read before anything else. Present, even as
/// null, is what counts.
#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "Records", default, deserialize_with = "present")]
    records: Option<Value>,
    #[serde(rename = "detail-type", default, deserialize_with = "present")]
    detail_type: Option<Value>,
    #[serde(rename = "alarmData", default, deserialize_with = "present")]
    alarm_data: Option<Value>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Parses a whole Lambda event into its notices (an SNS event may hold several).
pub fn parse_event(event: &Value) -> Result<Vec<Notice>, Error> {
    let bad = |reason: String| Error::BadEvent { reason };
    if !event.is_object() {
        return Err(bad("the event is not a JSON object".into()));
    }
    let probe = Probe::deserialize(event).map_err(|e| bad(e.to_string()))?;
    if let Some(records) = probe.records {
        let Value::Array(records) = records else {
            return Err(bad("Records is not a list".into()));
        };
        if records.is_empty() {
            return Err(bad("Records is empty".into()));
        }
        return records
            .iter()
            .enumerate()
            .map(|(i, r)| sns_record(r).map_err(|reason| bad(format!("Records[{i}]: {reason}"))))
            .collect();
    }
    if probe.detail_type.is_some() {
        return eventbridge(event, None).map(|n| vec![n]).map_err(bad);
    }
    if probe.alarm_data.is_some() {
        return alarm_action(event).map(|n| vec![n]).map_err(bad);
    }
    Err(bad(
        "unrecognised event: expected an SNS event (Records), an EventBridge event (detail-type) \
         or a CloudWatch alarm action (alarmData)"
            .into(),
    ))
}

fn sns_record(record: &Value) -> Result<Notice, String> {
    if !record.is_object() {
        return Err("is not an object (an SNS record)".into());
    }
    let record = SnsRecord::deserialize(record).map_err(|e| e.to_string())?;
    if let Some(source) = record.event_source {
        if source != "aws:sns" {
            return Err(format!("EventSource is {source:?}, expected \"aws:sns\""));
        }
    }
    let sns = record
        .sns
        .filter(Value::is_object)
        .ok_or("Sns is missing")?;
    let sns = SnsMessage::deserialize(&sns).map_err(|e| e.to_string())?;
    let id = sns.message_id.ok_or("Sns.MessageId is missing")?;
    let message = sns
        .message
        .ok_or("Sns.Message is missing or not a string")?;
    // The topic's ARN says where the notice came from when the message does not.
    let (topic_region, topic_account) = sns
        .topic_arn
        .as_deref()
        .and_then(arn_region_account)
        .map_or((None, None), |(r, a)| (Some(r), Some(a)));
    let mut notice = parse_message(&id, sns.subject.as_deref(), &message);
    if notice.sent_at.is_none() {
        notice.sent_at = sns.timestamp.as_deref().and_then(parse_time);
    }
    if notice.region.is_none() {
        notice.region = topic_region;
    }
    if notice.account.is_none() {
        notice.account = topic_account;
    }
    Ok(notice)
}

/// `(region, account)` from an ARN.
pub fn arn_region_account(arn: &str) -> Option<(String, String)> {
    let mut parts = arn.split(':');
    if parts.next()? != "arn" {
        return None;
    }
    let _partition = parts.next()?;
    let _service = parts.next()?;
    let region = parts.next()?;
    let account = parts.next()?;
    (!region.is_empty() && !account.is_empty()).then(|| (region.to_string(), account.to_string()))
}

/// An EventBridge event; `sns_id`, when it came through SNS (whose message id it takes).
pub(crate) fn eventbridge(event: &Value, sns_id: Option<&str>) -> Result<Notice, String> {
    let event = EventBridgeEvent::deserialize(event).map_err(|e| e.to_string())?;
    let sent_at = event.time.as_deref().and_then(parse_time);
    let mut notice = eventbridge_body(event, sns_id)?;
    notice.sent_at = sent_at;
    Ok(notice)
}

fn eventbridge_body(event: EventBridgeEvent, sns_id: Option<&str>) -> Result<Notice, String> {
    let id = sns_id
        .map(str::to_string)
        .or(event.id)
        .ok_or("id is missing")?;
    let detail_type = event.detail_type.as_deref().unwrap_or("");
    let source = event.source.as_deref().unwrap_or("");
    let (account, region) = (event.account, event.region);
    let detail = event.detail.ok_or("detail is missing")?;
    if detail_type == "CloudWatch Alarm State Change" {
        let alarm = parse_alarm_detail(&detail, event.resources, account, region)
            .map_err(|e| format!("detail.{e}"))?;
        return Ok(alarm_notice(id, alarm));
    }
    let (kind, title, text) = if source == "aws.health" {
        health(&detail, detail_type)
    } else {
        let text = serde_json::to_string_pretty(&detail).unwrap_or_default();
        (Kind::Text, format!("{detail_type} ({source})"), text)
    };
    Ok(Notice {
        id,
        account,
        region,
        sent_at: None,
        body: Body::Text { kind, title, text },
        reminder: false,
    })
}

/// An AWS Health event's `detail`: its title and the latest description.
fn health(detail: &Value, detail_type: &str) -> (Kind, String, String) {
    #[derive(Deserialize, Default)]
    struct Health {
        #[serde(rename = "eventTypeCode", default, deserialize_with = "loose")]
        code: Option<String>,
        #[serde(default, deserialize_with = "loose")]
        service: Option<String>,
        #[serde(rename = "eventDescription", default)]
        descriptions: Option<Value>,
    }
    #[derive(Deserialize)]
    struct Description {
        #[serde(rename = "latestDescription", default, deserialize_with = "loose")]
        latest: Option<String>,
    }
    let h = Health::deserialize(detail).unwrap_or_default();
    let code = h.code.as_deref().unwrap_or(detail_type);
    let service = h.service.as_deref().unwrap_or("");
    let description = h
        .descriptions
        .and_then(|d| Vec::<Value>::deserialize(d).ok())
        .and_then(|d| d.into_iter().next())
        .and_then(|d| Description::deserialize(d).ok())
        .and_then(|d| d.latest)
        .unwrap_or_default();
    (
        Kind::Health,
        format!("AWS Health {service} {code}").replace("  ", " "),
        description,
    )
}

fn alarm_action(event: &Value) -> Result<Notice, String> {
    let event = AlarmAction::deserialize(event).map_err(|e| e.to_string())?;
    let arn = event.alarm_arn;
    let (arn_region, arn_account) = arn
        .as_deref()
        .and_then(arn_region_account)
        .map_or((None, None), |(r, a)| (Some(r), Some(a)));
    let data = event.alarm_data.ok_or("alarmData is not an object")?;
    let account = event.account_id.or(arn_account);
    let region = event.region.or(arn_region);
    let alarm =
        parse_alarm_detail(&data, arn, account, region).map_err(|e| format!("alarmData.{e}"))?;
    // Alarm actions carry no id: the alarm and the time of its state change identify one.
    let digest = sha2::Digest::finalize(sha2::Sha256::new_with_prefix(format!(
        "{}|{}|{}",
        alarm.key(),
        alarm.state.as_str(),
        alarm.time.map(|t| t.timestamp_millis()).unwrap_or_default()
    )));
    Ok(alarm_notice(
        format!("action-{}", &hex::encode(digest)[..32]),
        alarm,
    ))
}
