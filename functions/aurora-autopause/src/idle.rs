//! The idle check: a database is idle when every one-minute period of its idle window has
//! published `DatabaseConnections` data at or below the threshold.
//!
//! Why every period: CloudWatch publishes no `DatabaseConnections` while a database is
//! stopped or starting, and publishes each minute late (ASSUMPTION, both: AWS documents
//! neither a gap nor a delay; the lag's length is the setting `METRIC_LAG_MINUTES`, and a
//! missing minute is read as busy, so either being wrong can only keep a database running). Reading one `Maximum` over the
//! window (as this function once did) made a database woken five minutes ago, with no
//! connections yet, look idle for the whole window. Here a period without data counts as
//! busy, and the window ends `metric_lag` before now, so a database cannot look idle before
//! it has been up and quiet for a full window of published minutes.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, DurationRound, Utc};

use crate::cloud::{MetricQuery, MetricRequest, Series};
use crate::config::IDLE_MINUTES_TAG;

/// `GetMetricData` accepts at most 500 queries a call...
pub const MAX_QUERIES: usize = 500;
/// ...and returns at most 100,800 datapoints a call (CloudWatch API reference, GetMetricData).
pub const MAX_DATAPOINTS: usize = 100_800;
/// One-minute periods: `DatabaseConnections` is published every minute.
pub const PERIOD_SECS: u32 = 60;

/// The minutes that must all be quiet: `[start, end)`, whole minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdleWindow {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The publication lag the window leaves out, in whole minutes (for the report).
    pub lag_minutes: i64,
}

impl IdleWindow {
    /// The window of `length` ending `lag` before `now`, on whole minutes.
    pub fn ending_before(now: DateTime<Utc>, lag: Duration, length: Duration) -> Self {
        let lag = chrono::Duration::from_std(lag).unwrap_or_default();
        let length = chrono::Duration::from_std(length).unwrap_or_default();
        let end = (now - lag)
            .duration_trunc(chrono::Duration::minutes(1))
            .unwrap_or(now - lag);
        Self {
            start: end - length,
            end,
            lag_minutes: lag.num_minutes(),
        }
    }

    pub fn minutes(&self) -> usize {
        (self.end - self.start).num_minutes().max(0) as usize
    }

    fn periods(&self) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        (0..self.minutes() as i64).map(|m| self.start + chrono::Duration::minutes(m))
    }
}

/// The window length for one database: its `groundcrew:idleMinutesBeforePause` tag, else
/// the request's `idleMinutesBeforePause`, else the configured default. A tag that is not a
/// whole number of minutes in 5..=1440 is an error: the sweep reports it and leaves that
/// database running (a typo must not shorten the window).
pub fn window_for(
    tags: &BTreeMap<String, String>,
    requested: Option<Duration>,
    default: Duration,
) -> Result<Duration, String> {
    let fallback = requested.unwrap_or(default);
    match tags.get(IDLE_MINUTES_TAG) {
        None => Ok(fallback),
        Some(raw) => match raw.trim().parse::<u64>() {
            Ok(m) if (5..=1440).contains(&m) => Ok(Duration::from_secs(m * 60)),
            _ => Err(format!(
                "tag {IDLE_MINUTES_TAG} `{}` is not a whole number of minutes from 5 to 1440",
                raw.chars().take(32).collect::<String>()
            )),
        },
    }
}

/// How many one-minute series over `[start, end)` fit one `GetMetricData` call: at most
/// 500 queries, and at most 100,800 datapoints over all of them. A range that does not
/// end on a whole minute has one more, partial, period: counted.
pub fn queries_per_call(start: DateTime<Utc>, end: DateTime<Utc>) -> usize {
    let periods = ((end - start).num_seconds().max(1) as usize).div_ceil(PERIOD_SECS as usize);
    (MAX_DATAPOINTS / periods).clamp(1, MAX_QUERIES)
}

/// The fewest `GetMetricData` calls the service's limits allow for `databases` series over
/// `[start, end)` ([`requests`] makes exactly this many).
pub fn fewest_calls(databases: usize, start: DateTime<Utc>, end: DateTime<Utc>) -> usize {
    databases.div_ceil(queries_per_call(start, end))
}

/// The `GetMetricData` requests that cover `dbs` (query id, dimension, identifier) over
/// `[start, end)` in one-minute periods, in as few calls as the service's limits allow.
pub fn requests(
    dbs: &[(String, &'static str, String)],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<MetricRequest> {
    dbs.chunks(queries_per_call(start, end))
        .map(|chunk| MetricRequest {
            queries: chunk
                .iter()
                .map(|(id, dimension, value)| MetricQuery {
                    id: id.clone(),
                    dimension,
                    value: value.clone(),
                })
                .collect(),
            start,
            end,
            period_secs: PERIOD_SECS,
        })
        .collect()
}

/// Whether the series shows the database idle for the whole window. Datapoints after the
/// window (the minutes of the publication lag that happen to be published already) count
/// too: a connection seen there is a connection, even if its minute is not required.
pub fn verdict(series: Option<&Series>, window: &IdleWindow, threshold: f64) -> Result<(), String> {
    // Keyed by the minute each datapoint falls in, whatever timestamp the service gave it.
    let mut by_minute = Series::new();
    for (at, v) in series.into_iter().flatten() {
        let minute = at
            .duration_trunc(chrono::Duration::minutes(1))
            .unwrap_or(*at);
        let slot = by_minute.entry(minute).or_insert(*v);
        if v.is_nan() || *v > *slot {
            *slot = *v;
        }
    }
    let series = &by_minute;
    if let Some((minute, v)) = series
        .range(window.end..)
        .find(|(_, v)| v.is_nan() || **v > threshold)
    {
        return Err(format!(
            "busy: {v} connections at {}, just after the idle window",
            minute.format("%H:%M")
        ));
    }
    let mut missing = 0usize;
    let mut first_missing = None;
    for minute in window.periods() {
        match series.get(&minute) {
            None => {
                missing += 1;
                first_missing.get_or_insert(minute);
            }
            Some(v) if v.is_nan() => {
                return Err("DatabaseConnections data is not a number; not idle".to_string())
            }
            Some(v) if *v > threshold => {
                return Err(format!(
                    "busy: {v} connections at {} (idle window {} min)",
                    minute.format("%H:%M"),
                    window.minutes()
                ))
            }
            Some(_) => {}
        }
    }
    if missing > 0 {
        return Err(format!(
            "no DatabaseConnections data for {missing} of the {} minutes of the idle window (first {}): stopped, starting or new within the window; not idle (the window ends {} min before now, ASSUMPTION: CloudWatch's publication lag, METRIC_LAG_MINUTES)",
            window.minutes(),
            first_missing.map(|m| m.format("%H:%M").to_string()).unwrap_or_default(),
            window.lag_minutes
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn quiet(from: &str, minutes: i64) -> Series {
        (0..minutes)
            .map(|m| (t(from) + chrono::Duration::minutes(m), 0.0))
            .collect()
    }

    #[test]
    fn the_window_ends_lag_before_now_on_whole_minutes() {
        let w = IdleWindow::ending_before(
            t("2026-03-02T08:00:40Z"),
            Duration::from_secs(180),
            Duration::from_secs(1800),
        );
        assert_eq!(w.end, t("2026-03-02T07:57:00Z"));
        assert_eq!(w.start, t("2026-03-02T07:27:00Z"));
        assert_eq!(w.minutes(), 30);
    }

    #[test]
    fn a_database_woken_minutes_ago_is_not_idle() {
        // Woken at 07:30, quiet since: at the 07:45 sweep only 12 of 30 minutes have data.
        let w = IdleWindow::ending_before(
            t("2026-03-02T07:45:00Z"),
            Duration::from_secs(180),
            Duration::from_secs(1800),
        );
        let series = quiet("2026-03-02T07:30:00Z", 12);
        let e = verdict(Some(&series), &w, 0.0).unwrap_err();
        assert!(
            e.contains("no DatabaseConnections data for 18 of the 30 minutes"),
            "{e}"
        );
        assert!(
            e.contains("ends 3 min before now, ASSUMPTION: CloudWatch's publication lag"),
            "the assumed lag is named: {e}"
        );
        // Half an hour of quiet minutes later it is idle.
        let w = IdleWindow::ending_before(
            t("2026-03-02T08:03:00Z"),
            Duration::from_secs(180),
            Duration::from_secs(1800),
        );
        assert_eq!(verdict(Some(&series_upto(30)), &w, 0.0), Ok(()));
    }

    fn series_upto(minutes: i64) -> Series {
        quiet("2026-03-02T07:30:00Z", minutes)
    }

    #[test]
    fn one_busy_minute_or_no_data_is_never_idle() {
        let w = IdleWindow::ending_before(
            t("2026-03-02T08:03:00Z"),
            Duration::from_secs(180),
            Duration::from_secs(1800),
        );
        let mut late = series_upto(32);
        late.insert(t("2026-03-02T08:01:00Z"), 1.0);
        assert!(
            verdict(Some(&late), &w, 0.0)
                .unwrap_err()
                .contains("just after the idle window"),
            "a published connection in the lag's minutes is seen"
        );
        let mut s = series_upto(30);
        s.insert(t("2026-03-02T07:41:00Z"), 2.0);
        assert!(verdict(Some(&s), &w, 0.0).unwrap_err().contains("busy: 2"));
        assert_eq!(verdict(Some(&s), &w, 2.0), Ok(()));
        assert!(verdict(None, &w, 0.0).is_err());
        s.insert(t("2026-03-02T07:41:00Z"), f64::NAN);
        assert!(verdict(Some(&s), &w, 5.0).is_err());
    }

    #[test]
    fn requests_stay_within_500_queries_and_100800_datapoints() {
        let dbs: Vec<(String, &'static str, String)> = (0..1200)
            .map(|i| (format!("q{i}"), "DBClusterIdentifier", format!("db-{i}")))
            .collect();
        let start = t("2026-03-02T07:00:00Z");
        let half_hour = requests(&dbs, start, start + chrono::Duration::minutes(30));
        assert_eq!(
            half_hour
                .iter()
                .map(|r| r.queries.len())
                .collect::<Vec<_>>(),
            vec![500, 500, 200]
        );
        // A day-long window: 1,440 datapoints a query, so 70 queries a call.
        let day = requests(&dbs, start, start + chrono::Duration::minutes(1440));
        assert!(day.iter().all(|r| r.queries.len() * 1440 <= MAX_DATAPOINTS));
        assert_eq!(day.len(), 1200usize.div_ceil(70));
        assert_eq!(
            day.len(),
            fewest_calls(1200, start, start + chrono::Duration::minutes(1440))
        );
        // A range ending inside a minute has a partial 1,441st period: 69 queries a call.
        let ragged = start + chrono::Duration::seconds(1440 * 60 + 20);
        assert_eq!(queries_per_call(start, ragged), 69);
        assert!(requests(&dbs, start, ragged)
            .iter()
            .all(|r| r.queries.len() * 1441 <= MAX_DATAPOINTS));
        assert!(requests(&[], start, start).is_empty());
    }

    #[test]
    fn the_window_tag_overrides_the_default() {
        let d = Duration::from_secs(1800);
        let tags: BTreeMap<String, String> =
            [(IDLE_MINUTES_TAG.to_string(), "90".to_string())].into();
        assert_eq!(window_for(&tags, None, d), Ok(Duration::from_secs(5400)));
        assert_eq!(
            window_for(&BTreeMap::new(), Some(Duration::from_secs(600)), d),
            Ok(Duration::from_secs(600))
        );
        let bad: BTreeMap<String, String> =
            [(IDLE_MINUTES_TAG.to_string(), "2".to_string())].into();
        assert!(window_for(&bad, None, d).unwrap_err().contains("5 to 1440"));
    }
}
