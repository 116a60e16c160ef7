//! A picture of an alarm: its metric over the last hours with the threshold line, as
//! CloudWatch's `GetMetricWidgetImage` draws it (a PNG). What to draw comes from the
//! alarm's own definition ([`AlarmDefinition`], read with `DescribeAlarms`), so metric-math
//! and anomaly-detection alarms are drawn as the console draws them.
//!
//! [`Pictures`] is the seam ([`crate::aws::CloudWatchPictures`] in production); [`widget`]
//! is the pure part. A picture is an extra: it is sent after the text, within a bounded
//! time, and a failure costs only the picture.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde_json::{json, Value};

/// How far back the picture goes.
pub const HOURS: u32 = 3;
/// The most a picture may take (the fetch and its upload), so that it never holds up the
/// delivery record of a message already sent.
pub const PICTURE_BUDGET: Duration = Duration::from_secs(6);

/// One metric with its statistic and period.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricStat {
    pub namespace: String,
    pub name: String,
    pub dimensions: Vec<(String, String)>,
    /// `Average`, `p99`...
    pub stat: String,
    pub period: i32,
}

/// One entry of a metric-math alarm's `Metrics`.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub id: String,
    pub expression: Option<String>,
    pub metric: Option<MetricStat>,
    pub label: Option<String>,
    /// The alarm watches this one (the others are its inputs).
    pub return_data: bool,
}

/// What an alarm watches.
#[derive(Debug, Clone, PartialEq)]
pub enum Watched {
    Metric(MetricStat),
    Math(Vec<Query>),
}

/// A metric alarm as `DescribeAlarms` gives it, as much as a picture needs.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmDefinition {
    pub name: String,
    pub watched: Watched,
    /// A static threshold (none for anomaly-detection alarms, which draw their band).
    pub threshold: Option<f64>,
}

fn metric_entry(m: &MetricStat, mut options: Value) -> Value {
    let mut entry = vec![
        Value::from(m.namespace.clone()),
        Value::from(m.name.clone()),
    ];
    for (k, v) in &m.dimensions {
        entry.push(Value::from(k.clone()));
        entry.push(Value::from(v.clone()));
    }
    options["stat"] = Value::from(m.stat.clone());
    options["period"] = Value::from(m.period);
    entry.push(options);
    Value::Array(entry)
}

/// The `MetricWidget` JSON for `GetMetricWidgetImage`: the watched metric (or the math and
/// its inputs, the inputs hidden), the threshold as a red horizontal line, the last
/// [`HOURS`] hours.
pub fn widget(alarm: &AlarmDefinition) -> String {
    let metrics: Vec<Value> = match &alarm.watched {
        Watched::Metric(m) => vec![metric_entry(m, json!({}))],
        Watched::Math(queries) => queries
            .iter()
            .filter_map(|q| {
                let mut options = json!({"id": q.id, "visible": q.return_data});
                if let Some(label) = &q.label {
                    options["label"] = Value::from(label.clone());
                }
                match (&q.expression, &q.metric) {
                    (Some(e), _) => {
                        options["expression"] = Value::from(e.clone());
                        Some(Value::Array(vec![options]))
                    }
                    (None, Some(m)) => Some(metric_entry(m, options)),
                    (None, None) => None,
                }
            })
            .collect(),
    };
    let mut widget = json!({
        "title": alarm.name,
        "metrics": metrics,
        "view": "timeSeries",
        "start": format!("-PT{HOURS}H"),
        "end": "P0D",
        "width": 800,
        "height": 400,
        "legend": {"position": "bottom"},
    });
    if let Some(t) = alarm.threshold {
        widget["annotations"] =
            json!({"horizontal": [{"label": "Threshold", "value": t, "color": "#d62728"}]});
    }
    widget.to_string()
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Draws an alarm: a PNG, or none when the alarm is not one that can be drawn (a
/// composite alarm, an alarm gone since). Errors are descriptions.
pub trait Pictures: Send + Sync {
    fn picture<'a>(&'a self, alarm_name: &'a str)
        -> BoxFuture<'a, Result<Option<Vec<u8>>, String>>;
}

/// No pictures (receivers built without CloudWatch).
pub struct NoPictures;

impl Pictures for NoPictures {
    fn picture<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, String>> {
        Box::pin(async { Ok(None) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu() -> MetricStat {
        MetricStat {
            namespace: "AWS/EC2".into(),
            name: "CPUUtilization".into(),
            dimensions: vec![("InstanceId".into(), "i-1".into())],
            stat: "Average".into(),
            period: 300,
        }
    }

    #[test]
    fn a_metric_alarm_is_drawn_with_its_threshold() {
        let w: Value = serde_json::from_str(&widget(&AlarmDefinition {
            name: "cpu".into(),
            watched: Watched::Metric(cpu()),
            threshold: Some(80.0),
        }))
        .unwrap();
        assert_eq!(
            w["metrics"],
            json!([["AWS/EC2", "CPUUtilization", "InstanceId", "i-1", {"stat": "Average", "period": 300}]])
        );
        assert_eq!(w["annotations"]["horizontal"][0]["value"], 80.0);
        assert_eq!(w["start"], "-PT3H");
    }

    #[test]
    fn a_math_alarm_draws_its_expression_and_hides_its_inputs() {
        let w: Value = serde_json::from_str(&widget(&AlarmDefinition {
            name: "band".into(),
            watched: Watched::Math(vec![
                Query {
                    id: "m1".into(),
                    expression: None,
                    metric: Some(cpu()),
                    label: None,
                    return_data: true,
                },
                Query {
                    id: "ad1".into(),
                    expression: Some("ANOMALY_DETECTION_BAND(m1, 2)".into()),
                    metric: None,
                    label: Some("band".into()),
                    return_data: true,
                },
            ]),
            threshold: None,
        }))
        .unwrap();
        assert_eq!(w["metrics"][0][4]["id"], "m1");
        assert_eq!(
            w["metrics"][1][0]["expression"],
            "ANOMALY_DETECTION_BAND(m1, 2)"
        );
        assert!(w.get("annotations").is_none());
    }
}
