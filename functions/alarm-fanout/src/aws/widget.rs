//! [`crate::picture::Pictures`] over CloudWatch: the alarm's definition
//! (`DescribeAlarms`), then its picture (`GetMetricWidgetImage`, PNG). Composite alarms
//! and alarms that no longer exist have no picture.

use aws_sdk_cloudwatch::types::{AlarmType, Dimension, MetricAlarm};
use groundcrew::aws::describe_sdk_error;

use super::{ready, Shared};
use crate::picture::{widget, AlarmDefinition, BoxFuture, MetricStat, Pictures, Query, Watched};

#[derive(Debug, Clone)]
pub struct CloudWatchPictures(Shared<aws_sdk_cloudwatch::Client>);

impl CloudWatchPictures {
    /// Over a client built already.
    pub fn new(client: aws_sdk_cloudwatch::Client) -> Self {
        Self::shared(ready(client, aws_sdk_cloudwatch::Client::new))
    }

    /// Over a client built on first use ([`super::Clients`]).
    pub fn shared(client: Shared<aws_sdk_cloudwatch::Client>) -> Self {
        Self(client)
    }
}

fn dimensions(d: &[Dimension]) -> Vec<(String, String)> {
    d.iter()
        .filter_map(|d| Some((d.name()?.to_string(), d.value()?.to_string())))
        .collect()
}

/// The alarm as a picture needs it; none for an alarm that watches nothing drawable.
fn definition(alarm: &MetricAlarm) -> Option<AlarmDefinition> {
    let name = alarm.alarm_name()?.to_string();
    let watched = match (alarm.namespace(), alarm.metric_name()) {
        (Some(namespace), Some(metric)) => Watched::Metric(MetricStat {
            namespace: namespace.to_string(),
            name: metric.to_string(),
            dimensions: dimensions(alarm.dimensions()),
            stat: alarm
                .extended_statistic()
                .map(str::to_string)
                .or_else(|| alarm.statistic().map(|s| s.as_str().to_string()))
                .unwrap_or_else(|| "Average".into()),
            period: alarm.period().unwrap_or(300),
        }),
        _ if !alarm.metrics().is_empty() => Watched::Math(
            alarm
                .metrics()
                .iter()
                .filter_map(|q| {
                    let metric = q.metric_stat().and_then(|s| {
                        let m = s.metric()?;
                        Some(MetricStat {
                            namespace: m.namespace()?.to_string(),
                            name: m.metric_name()?.to_string(),
                            dimensions: dimensions(m.dimensions()),
                            stat: s.stat()?.to_string(),
                            period: s.period()?,
                        })
                    });
                    Some(Query {
                        id: q.id()?.to_string(),
                        expression: q.expression().map(str::to_string),
                        metric,
                        label: q.label().map(str::to_string),
                        return_data: q.return_data().unwrap_or(true),
                    })
                })
                .collect(),
        ),
        _ => return None,
    };
    Some(AlarmDefinition {
        name,
        watched,
        // An anomaly-detection alarm compares with its band, not a number.
        threshold: alarm
            .threshold_metric_id()
            .is_none()
            .then(|| alarm.threshold())
            .flatten(),
    })
}

impl Pictures for CloudWatchPictures {
    fn picture<'a>(
        &'a self,
        alarm_name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, String>> {
        Box::pin(async move {
            let found = self
                .0
                .describe_alarms()
                .alarm_names(alarm_name)
                .alarm_types(AlarmType::MetricAlarm)
                .send()
                .await
                .map_err(|e| format!("describe alarm: {}", describe_sdk_error(&e)))?;
            let Some(definition) = found.metric_alarms().first().and_then(definition) else {
                return Ok(None);
            };
            let image = self
                .0
                .get_metric_widget_image()
                .metric_widget(widget(&definition))
                .output_format("png")
                .send()
                .await
                .map_err(|e| format!("metric widget image: {}", describe_sdk_error(&e)))?;
            Ok(image
                .metric_widget_image()
                .map(|blob| blob.as_ref().to_vec())
                .filter(|png| !png.is_empty()))
        })
    }
}
