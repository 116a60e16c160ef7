//! Amazon CloudWatch: `AWS/RDS DatabaseConnections`, one datapoint a minute while a
//! database is available, none while it is stopped, stopping or starting (RDS publishes
//! instance metrics only while the instance runs), each published late.
//!
//! `GetMetricData` answers as the service does: one value per period that has data,
//! periods without data absent; at most 500 queries a call and at most 100,800
//! datapoints a call (CloudWatch API reference, GetMetricData).
//!
//! ASSUMPTION (no AWS figure): a minute's datapoint becomes visible 1-3 minutes after the
//! minute ends.

use std::collections::BTreeMap;

use aurora_autopause::cloud::{MetricRequest, Series};
use chrono::{DateTime, Utc};

pub const MAX_QUERIES: usize = 500;
pub const MAX_DATAPOINTS: usize = 100_800;
/// ASSUMPTION: publication lag after the minute ends, in seconds.
pub const PUBLISH_LAG: (u64, u64) = (60, 180);

/// By minute: (Maximum, when it becomes visible).
type Points = BTreeMap<DateTime<Utc>, (f64, DateTime<Utc>)>;

#[derive(Debug, Default)]
pub struct CloudWatchModel {
    /// By identifier.
    points: BTreeMap<String, Points>,
}

impl CloudWatchModel {
    /// Records the maximum connection count of `id` over the minute starting at `minute`.
    pub fn record(&mut self, id: &str, minute: DateTime<Utc>, max: f64, lag_secs: u64) {
        let visible = minute + chrono::Duration::seconds(60 + lag_secs as i64);
        self.points
            .entry(id.to_string())
            .or_default()
            .insert(minute, (max, visible));
    }

    /// Published datapoints of `id` in `[start, end)` as of `now`.
    pub fn published(
        &self,
        id: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Series {
        self.points
            .get(id)
            .map(|p| {
                p.range(start..end)
                    .filter(|(_, (_, visible))| *visible <= now)
                    .map(|(m, (v, _))| (*m, *v))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every datapoint of `id` in `[start, end)`, published or not.
    pub fn all(&self, id: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> Series {
        self.points
            .get(id)
            .map(|p| p.range(start..end).map(|(m, (v, _))| (*m, *v)).collect())
            .unwrap_or_default()
    }

    /// `GetMetricData`, or the service's error for a request over its limits.
    pub fn get_metric_data(
        &self,
        request: &MetricRequest,
        now: DateTime<Utc>,
    ) -> Result<BTreeMap<String, Series>, (&'static str, String)> {
        if request.queries.len() > MAX_QUERIES {
            return Err((
                "ValidationError",
                format!("{} queries; at most {MAX_QUERIES}", request.queries.len()),
            ));
        }
        let minutes = (request.end - request.start).num_minutes().max(0) as usize;
        let periods = minutes * 60 / request.period_secs.max(1) as usize;
        if periods * request.queries.len() > MAX_DATAPOINTS {
            return Err((
                "ValidationError",
                format!(
                    "{} datapoints requested; at most {MAX_DATAPOINTS} a call",
                    periods * request.queries.len()
                ),
            ));
        }
        Ok(request
            .queries
            .iter()
            .map(|q| {
                (
                    q.id.clone(),
                    self.published(&q.value, request.start, request.end, now),
                )
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aurora_autopause::cloud::MetricQuery;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn datapoints_appear_late_and_gaps_stay_absent() {
        let mut cw = CloudWatchModel::default();
        let m0 = t("2026-03-02T10:00:00Z");
        cw.record("dev-1", m0, 0.0, 60);
        cw.record("dev-1", m0 + chrono::Duration::minutes(2), 3.0, 180);
        let req = MetricRequest {
            queries: vec![MetricQuery {
                id: "q0".into(),
                dimension: "DBClusterIdentifier",
                value: "dev-1".into(),
            }],
            start: m0,
            end: m0 + chrono::Duration::minutes(5),
            period_secs: 60,
        };
        let at = |s| cw.get_metric_data(&req, t(s)).unwrap()["q0"].clone();
        assert!(at("2026-03-02T10:01:59Z").is_empty());
        assert_eq!(at("2026-03-02T10:02:00Z").len(), 1);
        // Minute 10:01 has no data at all: it stays absent.
        let later = at("2026-03-02T10:06:00Z");
        assert_eq!(
            later.keys().copied().collect::<Vec<_>>(),
            vec![m0, m0 + chrono::Duration::minutes(2)]
        );
    }

    #[test]
    fn requests_over_the_limits_are_refused() {
        let cw = CloudWatchModel::default();
        let start = t("2026-03-02T00:00:00Z");
        let q = |n: usize| -> Vec<MetricQuery> {
            (0..n)
                .map(|i| MetricQuery {
                    id: format!("q{i}"),
                    dimension: "DBClusterIdentifier",
                    value: format!("db-{i}"),
                })
                .collect()
        };
        let too_many = MetricRequest {
            queries: q(501),
            start,
            end: start + chrono::Duration::minutes(30),
            period_secs: 60,
        };
        assert!(cw.get_metric_data(&too_many, start).is_err());
        let too_long = MetricRequest {
            queries: q(100),
            start,
            end: start + chrono::Duration::minutes(1440),
            period_secs: 60,
        };
        assert!(cw
            .get_metric_data(&too_long, start)
            .unwrap_err()
            .1
            .contains("144000"));
    }
}
