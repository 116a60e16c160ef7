//! CloudWatch: `GetMetricData` for `DatabaseConnections`.

use std::collections::BTreeMap;
use std::time::SystemTime;

use aws_sdk_cloudwatch as cw;
use chrono::{DateTime, Utc};

use crate::cloud::{self, MetricRequest, Series};
use crate::Error;

use super::{err, Aws};

impl cloud::Metrics for Aws {
    async fn get_metric_data(
        &self,
        request: &MetricRequest,
    ) -> Result<BTreeMap<String, Series>, Error> {
        let queries: Vec<cw::types::MetricDataQuery> = request
            .queries
            .iter()
            .map(|q| {
                let metric = cw::types::Metric::builder()
                    .namespace("AWS/RDS")
                    .metric_name("DatabaseConnections")
                    .dimensions(
                        cw::types::Dimension::builder()
                            .name(q.dimension)
                            .value(&q.value)
                            .build(),
                    )
                    .build();
                cw::types::MetricDataQuery::builder()
                    .id(&q.id)
                    .metric_stat(
                        cw::types::MetricStat::builder()
                            .metric(metric)
                            .period(request.period_secs.min(i32::MAX as u32) as i32)
                            .stat("Maximum")
                            .build(),
                    )
                    .return_data(true)
                    .build()
            })
            .collect();
        let mut out: BTreeMap<String, Series> = request
            .queries
            .iter()
            .map(|q| (q.id.clone(), Series::new()))
            .collect();
        let mut token: Option<String> = None;
        loop {
            self.count("GetMetricData");
            let page = self
                .cloudwatch
                .get_metric_data()
                .set_metric_data_queries(Some(queries.clone()))
                .start_time(SystemTime::from(request.start).into())
                .end_time(SystemTime::from(request.end).into())
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| err("GetMetricData", e))?;
            for r in page.metric_data_results() {
                let Some(series) = r.id().and_then(|id| out.get_mut(id)) else {
                    continue;
                };
                for (t, v) in r.timestamps().iter().zip(r.values()) {
                    let Ok(at) = SystemTime::try_from(*t) else {
                        continue;
                    };
                    if !v.is_nan() {
                        series.insert(DateTime::<Utc>::from(at), *v);
                    }
                }
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }
}
