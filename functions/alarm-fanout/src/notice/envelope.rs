//! Envelopes: an SNS event's records, an EventBridge event, a CloudWatch alarm action.

use serde_json::Value;

use super::message::{alarm_notice, parse_alarm_detail, parse_message, parse_time};
use super::{Body, Kind, Notice};
use crate::error::Error;

/// Parses a whole Lambda event into its notices (an SNS event may hold several).
pub fn parse_event(event: &Value) -> Result<Vec<Notice>, Error> {
    let bad = |reason: String| Error::BadEvent { reason };
    let Some(obj) = event.as_object() else {
        return Err(bad("the event is not a JSON object".into()));
    };
    if let Some(records) = obj.get("Records") {
        let records = records
            .as_array()
            .ok_or_else(|| bad("Records is not a list".into()))?;
        if records.is_empty() {
            return Err(bad("Records is empty".into()));
        }
        return records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                parse_sns_record(r).map_err(|reason| bad(format!("Records[{i}]: {reason}")))
            })
            .collect();
    }
    if obj.contains_key("detail-type") {
        return parse_eventbridge(event, None).map(|n| vec![n]).map_err(bad);
    }
    if obj.contains_key("alarmData") {
        return parse_alarm_action(event).map(|n| vec![n]).map_err(bad);
    }
    Err(bad(
        "unrecognised event: expected an SNS event (Records), an EventBridge event (detail-type) \
         or a CloudWatch alarm action (alarmData)"
            .into(),
    ))
}

pub(super) fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

pub(super) fn owned(v: &Value, key: &str) -> Option<String> {
    str_field(v, key).map(str::to_string)
}

fn parse_sns_record(record: &Value) -> Result<Notice, String> {
    if let Some(source) = str_field(record, "EventSource") {
        if source != "aws:sns" {
            return Err(format!("EventSource is {source:?}, expected \"aws:sns\""));
        }
    }
    let sns = record
        .get("Sns")
        .filter(|s| s.is_object())
        .ok_or("Sns is missing")?;
    let id = str_field(sns, "MessageId").ok_or("Sns.MessageId is missing")?;
    let message = sns
        .get("Message")
        .and_then(Value::as_str)
        .ok_or("Sns.Message is missing or not a string")?;
    let subject = str_field(sns, "Subject");
    // The topic's ARN says where the notice came from when the message does not.
    let (topic_region, topic_account) = str_field(sns, "TopicArn")
        .and_then(arn_region_account)
        .map_or((None, None), |(r, a)| (Some(r), Some(a)));
    let mut notice = parse_message(id, subject, message);
    if notice.sent_at.is_none() {
        notice.sent_at = str_field(sns, "Timestamp").and_then(parse_time);
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

pub(super) fn parse_eventbridge(event: &Value, sns_id: Option<&str>) -> Result<Notice, String> {
    let mut notice = parse_eventbridge_body(event, sns_id)?;
    notice.sent_at = str_field(event, "time").and_then(parse_time);
    Ok(notice)
}

fn parse_eventbridge_body(event: &Value, sns_id: Option<&str>) -> Result<Notice, String> {
    let id = sns_id
        .map(str::to_string)
        .or_else(|| owned(event, "id"))
        .ok_or("id is missing")?;
    let detail_type = str_field(event, "detail-type").unwrap_or("");
    let source = str_field(event, "source").unwrap_or("");
    let account = owned(event, "account");
    let region = owned(event, "region");
    let detail = event
        .get("detail")
        .filter(|d| d.is_object())
        .ok_or("detail is missing")?;
    if detail_type == "CloudWatch Alarm State Change" {
        let arn = event
            .get("resources")
            .and_then(Value::as_array)
            .and_then(|r| r.first())
            .and_then(Value::as_str)
            .map(str::to_string);
        let alarm =
            parse_alarm_detail(detail, arn, account, region).map_err(|e| format!("detail.{e}"))?;
        return Ok(alarm_notice(id, alarm));
    }
    let (kind, title, text) = if source == "aws.health" {
        let code = str_field(detail, "eventTypeCode").unwrap_or(detail_type);
        let service = str_field(detail, "service").unwrap_or("");
        let description = detail
            .get("eventDescription")
            .and_then(Value::as_array)
            .and_then(|d| d.first())
            .and_then(|d| str_field(d, "latestDescription"))
            .unwrap_or("")
            .to_string();
        (
            Kind::Health,
            format!("AWS Health {service} {code}").replace("  ", " "),
            description,
        )
    } else {
        let text = serde_json::to_string_pretty(detail).unwrap_or_default();
        (Kind::Text, format!("{detail_type} ({source})"), text)
    };
    Ok(Notice {
        id,
        account,
        region,
        sent_at: None,
        body: Body::Text { kind, title, text },
    })
}

fn parse_alarm_action(event: &Value) -> Result<Notice, String> {
    let arn = owned(event, "alarmArn");
    let (arn_region, arn_account) = arn
        .as_deref()
        .and_then(arn_region_account)
        .map_or((None, None), |(r, a)| (Some(r), Some(a)));
    let data = event
        .get("alarmData")
        .filter(|d| d.is_object())
        .ok_or("alarmData is not an object")?;
    let account = owned(event, "accountId").or(arn_account);
    let region = owned(event, "region").or(arn_region);
    let alarm =
        parse_alarm_detail(data, arn, account, region).map_err(|e| format!("alarmData.{e}"))?;
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

use sha2::Digest as _;
