//! The messages inside envelopes: a CloudWatch alarm (SNS JSON or an EventBridge or
//! alarm-action `detail`), or anything else as text (RDS events, Budgets, Health, plain).

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use super::{Alarm, Body, Kind, Notice, State};
use crate::event::envelope::{arn_region_account, eventbridge};

/// A string field of a message whose shape is being recognised, trimmed; blank is none.
fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn owned(v: &Value, key: &str) -> Option<String> {
    str_field(v, key).map(str::to_string)
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
            if let Ok(mut notice) = eventbridge(json, Some(id)) {
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
                reminder: false,
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
        reminder: false,
    }
}

pub(crate) fn alarm_notice(id: String, alarm: Alarm) -> Notice {
    Notice {
        id,
        account: alarm.account.clone(),
        region: alarm.region.clone(),
        sent_at: None,
        body: Body::Alarm(alarm),
        reminder: false,
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
        metrics: crate::alarm_metrics::from_sns_trigger(trigger).into(),
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
pub(crate) fn parse_alarm_detail(
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
        metrics: crate::alarm_metrics::from_configuration(config).into(),
    })
}
