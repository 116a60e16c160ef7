//! Parsing: Lambda events (SNS, EventBridge, CloudWatch alarm actions) into [`Notice`]s.
//!
//! Parsing never drops a message: a CloudWatch alarm becomes an [`Alarm`]; RDS events,
//! AWS Budgets, AWS Health and anything unrecognised become text notices. Only an event
//! whose envelope is broken (no records, no message id, no message) is an error, and then
//! the whole event is rejected before anything is sent.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::error::Error;

/// A CloudWatch alarm state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
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

#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
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

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn owned(v: &Value, key: &str) -> Option<String> {
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

/// Classifies one SNS message; never fails.
pub fn parse_message(id: &str, subject: Option<&str>, message: &str) -> Notice {
    let json: Option<Value> = serde_json::from_str(message).ok().filter(Value::is_object);
    if let Some(json) = &json {
        if json.get("AlarmName").is_some() && json.get("NewStateValue").is_some() {
            if let Some(alarm) = parse_sns_alarm(json) {
                return alarm_notice(id.to_string(), alarm);
            }
        }
        if json.get("detail-type").is_some() {
            if let Ok(mut notice) = parse_eventbridge(json, Some(id)) {
                notice.id = id.to_string();
                return notice;
            }
        }
        if let (Some(source_id), Some(event_message)) = (
            str_field(json, "Source ID"),
            str_field(json, "Event Message"),
        ) {
            let source = str_field(json, "Event Source").unwrap_or("rds");
            let event_id = str_field(json, "Event ID")
                .map(|e| e.rsplit('#').next().unwrap_or(e).to_string())
                .unwrap_or_default();
            let mut text = event_message.to_string();
            if let Some(time) = str_field(json, "Event Time") {
                text.push_str(&format!("\nTime: {time}"));
            }
            if let Some(link) = str_field(json, "Identifier Link") {
                text.push_str(&format!("\n{link}"));
            }
            let (region, account) = str_field(json, "Source ARN")
                .and_then(arn_region_account)
                .map_or((None, None), |(r, a)| (Some(r), Some(a)));
            return Notice {
                id: id.to_string(),
                account,
                region,
                sent_at: None,
                body: Body::Text {
                    kind: Kind::Rds,
                    title: format!("RDS {source} {source_id} {event_id}")
                        .trim()
                        .to_string(),
                    text,
                },
            };
        }
    }
    let is_budget = subject.is_some_and(|s| s.starts_with("AWS Budgets"))
        || message.contains("AWS Budget Notification");
    let text = match &json {
        Some(v) => serde_json::to_string_pretty(v).unwrap_or_else(|_| message.to_string()),
        None => message.to_string(),
    };
    Notice {
        id: id.to_string(),
        account: None,
        region: None,
        sent_at: None,
        body: Body::Text {
            kind: if is_budget { Kind::Budgets } else { Kind::Text },
            title: subject
                .unwrap_or(if is_budget {
                    "AWS Budgets"
                } else {
                    "Notification"
                })
                .to_string(),
            text,
        },
    }
}

fn alarm_notice(id: String, alarm: Alarm) -> Notice {
    Notice {
        id,
        account: alarm.account.clone(),
        region: alarm.region.clone(),
        sent_at: None,
        body: Body::Alarm(alarm),
    }
}

/// `2026-01-12T16:30:42.236+0000`, or RFC 3339.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

fn number_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

fn operator_text(op: &str) -> &str {
    match op {
        "GreaterThanOrEqualToThreshold" => "≥",
        "GreaterThanThreshold" => ">",
        "LessThanThreshold" => "<",
        "LessThanOrEqualToThreshold" => "≤",
        "LessThanLowerOrGreaterThanUpperThreshold" => "outside the band",
        "GreaterThanUpperThreshold" => "above the band",
        "LessThanLowerThreshold" => "below the band",
        other => other,
    }
}

fn dimensions_text(dims: Option<&Value>) -> String {
    let pairs: Vec<String> = match dims {
        // SNS: [{"name":..,"value":..}]
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|d| {
                Some(format!(
                    "{}={}",
                    str_field(d, "name")?,
                    str_field(d, "value").unwrap_or("")
                ))
            })
            .collect(),
        // EventBridge: {"InstanceId": "i-1"}
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect(),
        _ => Vec::new(),
    };
    if pairs.is_empty() {
        String::new()
    } else {
        format!(" ({})", pairs.join(", "))
    }
}

fn parse_sns_alarm(m: &Value) -> Option<Alarm> {
    let name = owned(m, "AlarmName")?;
    let state = State::parse(str_field(m, "NewStateValue")?)?;
    let arn = owned(m, "AlarmArn");
    let (arn_region, arn_account) = arn
        .as_deref()
        .and_then(arn_region_account)
        .map_or((None, None), |(r, a)| (Some(r), Some(a)));
    let trigger = m.get("Trigger").filter(|t| t.is_object());
    let mut metric = None;
    let mut threshold = None;
    if let Some(t) = trigger {
        if let Some(metric_name) = str_field(t, "MetricName") {
            let stat = str_field(t, "Statistic")
                .or_else(|| str_field(t, "ExtendedStatistic"))
                .unwrap_or("");
            let period = number_text(t.get("Period"))
                .map(|p| format!(" over {p} s"))
                .unwrap_or_default();
            metric = Some(
                format!(
                    "{} {metric_name}{} {stat}{period}",
                    str_field(t, "Namespace").unwrap_or(""),
                    dimensions_text(t.get("Dimensions"))
                )
                .trim()
                .to_string(),
            );
        } else if let Some(metrics) = t.get("Metrics").and_then(Value::as_array) {
            metric = Some(metrics_text(
                metrics,
                "Id",
                "Expression",
                "MetricStat",
                "Metric",
                "MetricName",
                "Namespace",
                "Stat",
                "Period",
            ));
        }
        let op = str_field(t, "ComparisonOperator").map(operator_text);
        threshold = match (
            op,
            number_text(t.get("Threshold")),
            str_field(t, "ThresholdMetricId"),
        ) {
            (Some(op), _, Some(band)) => Some(format!("{op} {band}")),
            (Some(op), Some(value), None) => Some(format!("{op} {value}")),
            (None, Some(value), _) => Some(value),
            _ => None,
        };
        if let (Some(th), Some(periods)) = (&threshold, number_text(t.get("EvaluationPeriods"))) {
            threshold = Some(format!("{th} for {periods} period(s)"));
        }
    }
    Some(Alarm {
        name,
        arn,
        description: owned(m, "AlarmDescription"),
        state,
        previous_state: str_field(m, "OldStateValue").and_then(State::parse),
        reason: owned(m, "NewStateReason").unwrap_or_default(),
        time: str_field(m, "StateChangeTime").and_then(parse_time),
        account: owned(m, "AWSAccountId").or(arn_account),
        region: arn_region,
        metric,
        threshold,
        rule: owned(m, "AlarmRule"),
    })
}

/// Metric-math and anomaly-detection metrics, in SNS (PascalCase) or EventBridge (camelCase) keys.
#[allow(clippy::too_many_arguments)]
fn metrics_text(
    metrics: &[Value],
    id_key: &str,
    expr_key: &str,
    stat_key: &str,
    metric_key: &str,
    name_key: &str,
    ns_key: &str,
    statistic_key: &str,
    period_key: &str,
) -> String {
    metrics
        .iter()
        .map(|m| {
            let id = str_field(m, id_key).unwrap_or("?");
            if let Some(expr) = str_field(m, expr_key) {
                return format!("{id} = {expr}");
            }
            let stat = m.get(stat_key);
            let metric = stat.and_then(|s| s.get(metric_key));
            let dims_key = if id_key == "Id" {
                "Dimensions"
            } else {
                "dimensions"
            };
            format!(
                "{id} = {} {}{} {}{}",
                metric.and_then(|x| str_field(x, ns_key)).unwrap_or(""),
                metric.and_then(|x| str_field(x, name_key)).unwrap_or("?"),
                dimensions_text(metric.and_then(|x| x.get(dims_key))),
                stat.and_then(|s| str_field(s, statistic_key)).unwrap_or(""),
                stat.and_then(|s| number_text(s.get(period_key)))
                    .map(|p| format!(" over {p} s"))
                    .unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The `detail`/`alarmData` shape shared by EventBridge and alarm actions.
fn parse_alarm_detail(
    d: &Value,
    arn: Option<String>,
    account: Option<String>,
    region: Option<String>,
) -> Result<Alarm, String> {
    let name = owned(d, "alarmName").ok_or("alarmName is missing")?;
    let state_obj = d.get("state").ok_or("state is missing")?;
    let state_text = str_field(state_obj, "value").ok_or("state.value is missing")?;
    let state = State::parse(state_text).ok_or_else(|| {
        format!("state.value {state_text:?} is not ALARM, OK or INSUFFICIENT_DATA")
    })?;
    let config = d.get("configuration");
    let metric = config
        .and_then(|c| c.get("metrics"))
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
        .map(|m| {
            metrics_text(
                m,
                "id",
                "expression",
                "metricStat",
                "metric",
                "name",
                "namespace",
                "stat",
                "period",
            )
        });
    Ok(Alarm {
        name,
        arn,
        description: config.and_then(|c| owned(c, "description")),
        state,
        previous_state: d
            .get("previousState")
            .and_then(|p| str_field(p, "value"))
            .and_then(State::parse),
        reason: owned(state_obj, "reason").unwrap_or_default(),
        time: str_field(state_obj, "timestamp").and_then(parse_time),
        account,
        region,
        metric,
        threshold: None,
        rule: config.and_then(|c| owned(c, "alarmRule")),
    })
}

fn parse_eventbridge(event: &Value, sns_id: Option<&str>) -> Result<Notice, String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
