//! The metrics an alarm watches, as routes match them: namespace, metric name and
//! dimensions. A metric alarm watches one metric (SNS `Trigger.MetricName`); a metric-math
//! or anomaly-detection alarm watches the metrics in `Metrics[]` (SNS) or
//! `configuration.metrics[]` (EventBridge and alarm actions), each with its own dimensions;
//! the expressions among them name no metric and are skipped.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One metric an alarm watches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricRef {
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// Dimension name and value, in the message's order.
    pub dimensions: Vec<(String, String)>,
}

fn text(v: &Value, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// `[{"name": .., "value": ..}]` (SNS, either case) or `{"Name": "value"}` (EventBridge).
fn dimensions(v: Option<&Value>) -> Vec<(String, String)> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|d| {
                Some((
                    text(d, &["name", "Name"])?,
                    text(d, &["value", "Value"]).unwrap_or_default(),
                ))
            })
            .collect(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect(),
        _ => Vec::new(),
    }
}

/// The metrics of an SNS alarm message's `Trigger`.
pub fn from_sns_trigger(trigger: Option<&Value>) -> Vec<MetricRef> {
    let Some(t) = trigger else {
        return Vec::new();
    };
    if let Some(name) = text(t, &["MetricName"]) {
        return vec![MetricRef {
            namespace: text(t, &["Namespace"]),
            name: Some(name),
            dimensions: dimensions(t.get("Dimensions")),
        }];
    }
    t.get("Metrics")
        .and_then(Value::as_array)
        .map(|metrics| {
            metrics
                .iter()
                .filter_map(|m| m.get("MetricStat")?.get("Metric"))
                .map(|m| MetricRef {
                    namespace: text(m, &["Namespace"]),
                    name: text(m, &["MetricName"]),
                    dimensions: dimensions(m.get("Dimensions")),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The metrics of an EventBridge or alarm-action `configuration`.
pub fn from_configuration(configuration: Option<&Value>) -> Vec<MetricRef> {
    configuration
        .and_then(|c| c.get("metrics"))
        .and_then(Value::as_array)
        .map(|metrics| {
            metrics
                .iter()
                .filter_map(|m| m.get("metricStat")?.get("metric"))
                .map(|m| MetricRef {
                    namespace: text(m, &["namespace"]),
                    name: text(m, &["name"]),
                    dimensions: dimensions(m.get("dimensions")),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_metric_alarm_watches_its_trigger_metric() {
        let t = json!({"MetricName": "CPUUtilization", "Namespace": "AWS/RDS",
            "Dimensions": [{"value": "prod-db", "name": "DBInstanceIdentifier"}]});
        assert_eq!(
            from_sns_trigger(Some(&t)),
            vec![MetricRef {
                namespace: Some("AWS/RDS".into()),
                name: Some("CPUUtilization".into()),
                dimensions: vec![("DBInstanceIdentifier".into(), "prod-db".into())],
            }]
        );
    }

    #[test]
    fn metric_math_and_anomaly_alarms_watch_each_metric_of_metrics() {
        // An anomaly-detection alarm as SNS sends it: the band expression and its metric.
        let t = json!({"Metrics": [
            {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)", "ReturnData": true},
            {"Id": "m1", "ReturnData": true, "MetricStat": {"Period": 300, "Stat": "Average",
                "Metric": {"Namespace": "AWS/EC2", "MetricName": "NetworkIn",
                    "Dimensions": [{"value": "i-1", "name": "InstanceId"}]}}}
        ], "ThresholdMetricId": "ad1"});
        let got = from_sns_trigger(Some(&t));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].name.as_deref(), Some("NetworkIn"));
        assert_eq!(got[0].dimensions, vec![("InstanceId".into(), "i-1".into())]);

        let c = json!({"metrics": [
            {"id": "e1", "expression": "m1 + m2"},
            {"id": "m1", "metricStat": {"metric": {"namespace": "AWS/RDS", "name": "ReadIOPS",
                "dimensions": {"DBInstanceIdentifier": "prod-db"}}, "period": 60, "stat": "Sum"}},
            {"id": "m2", "metricStat": {"metric": {"namespace": "AWS/RDS", "name": "WriteIOPS",
                "dimensions": {"DBInstanceIdentifier": "prod-db"}}, "period": 60, "stat": "Sum"}}
        ]});
        let got = from_configuration(Some(&c));
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].namespace.as_deref(), Some("AWS/RDS"));
        assert_eq!(
            got[1].dimensions,
            vec![("DBInstanceIdentifier".into(), "prod-db".into())]
        );
    }

    #[test]
    fn composite_alarms_and_missing_triggers_watch_nothing() {
        assert!(from_sns_trigger(None).is_empty());
        assert!(from_configuration(Some(&json!({"alarmRule": "ALARM(a)"}))).is_empty());
    }
}
