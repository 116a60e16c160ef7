//! Hours paused this month and what they saved, from the tags groundcrew keeps on each
//! resource: `paused-at` (the pause under way) and [`PAUSED_HOURS_TAG`] (the hours of the
//! month's earlier pauses, written when a pause ends). Months are UTC calendar months, as
//! AWS bills them.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, TimeZone, Utc};

use crate::model::PAUSED_AT_TAG;

/// Hours paused this month before the pause under way: `<yyyy-mm>=<hours>`.
pub const PAUSED_HOURS_TAG: &str = "groundcrew:autopause:paused-hours";

/// The first instant of `now`'s month (UTC).
pub fn month_start(now: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(now)
}

/// The first instant of the next month.
fn next_month_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let (y, m) = if now.month() == 12 {
        (now.year() + 1, 1)
    } else {
        (now.year(), now.month() + 1)
    };
    Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0)
        .single()
        .unwrap_or(now)
}

fn month_key(now: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", now.year(), now.month())
}

fn hours(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    ((to - from).num_seconds().max(0) as f64) / 3600.0
}

/// Hours of this month's earlier pauses, from [`PAUSED_HOURS_TAG`] (0 when it is of
/// another month or unreadable).
fn earlier_hours(tags: &BTreeMap<String, String>, now: DateTime<Utc>) -> f64 {
    tags.get(PAUSED_HOURS_TAG)
        .and_then(|raw| raw.split_once('='))
        .filter(|(month, _)| *month == month_key(now))
        .and_then(|(_, h)| h.parse::<f64>().ok())
        .filter(|h| h.is_finite() && *h >= 0.0)
        .unwrap_or(0.0)
}

/// Hours of this month of the pause under way (since `paused-at`, or since the month
/// began), 0 when none is.
fn current_hours(tags: &BTreeMap<String, String>, now: DateTime<Utc>) -> f64 {
    tags.get(PAUSED_AT_TAG)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|at| hours(at.with_timezone(&Utc).max(month_start(now)), now))
        .unwrap_or(0.0)
}

/// Hours paused this month, the pause under way included.
pub fn paused_hours_this_month(tags: &BTreeMap<String, String>, now: DateTime<Utc>) -> f64 {
    round(earlier_hours(tags, now) + current_hours(tags, now))
}

/// The [`PAUSED_HOURS_TAG`] to write when the pause under way ends (or moves on, at a
/// re-stop), so that its hours are kept.
pub fn closing_tag(tags: &BTreeMap<String, String>, now: DateTime<Utc>) -> (String, String) {
    (
        PAUSED_HOURS_TAG.to_string(),
        format!("{}={}", month_key(now), paused_hours_this_month(tags, now)),
    )
}

/// The month's saving if it goes on as so far: `so_far` spread over the hours of the
/// month gone by, times the hours of the whole month.
pub fn month_projection(so_far: f64, now: DateTime<Utc>) -> f64 {
    let gone = hours(month_start(now), now);
    if gone <= 0.0 {
        return 0.0;
    }
    round(so_far / gone * hours(month_start(now), next_month_start(now)))
}

/// Two decimals of an hour or four of a dollar are enough for a report.
pub fn round(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn hours_count_this_month_only() {
        let now = t("2026-12-02T12:00:00Z");
        // Paused since 30 November 20:00: only the 36 hours of December count.
        let paused = tags(&[(PAUSED_AT_TAG, "2026-11-30T20:00:00Z")]);
        assert_eq!(paused_hours_this_month(&paused, now), 36.0);
        // Earlier pauses of this month add up; last month's do not.
        let both = tags(&[
            (PAUSED_AT_TAG, "2026-12-02T10:30:00Z"),
            (PAUSED_HOURS_TAG, "2026-12=10.5"),
        ]);
        assert_eq!(paused_hours_this_month(&both, now), 12.0);
        let old = tags(&[(PAUSED_HOURS_TAG, "2026-11=300")]);
        assert_eq!(paused_hours_this_month(&old, now), 0.0);
        assert_eq!(
            closing_tag(&both, now),
            (PAUSED_HOURS_TAG.to_string(), "2026-12=12".to_string())
        );
        assert_eq!(
            paused_hours_this_month(&tags(&[(PAUSED_HOURS_TAG, "junk")]), now),
            0.0
        );
    }

    #[test]
    fn the_projection_spreads_the_saving_over_the_month() {
        // 1.5 days of December gone, $3 saved: $62 over 31 days.
        let now = t("2026-12-02T12:00:00Z");
        assert_eq!(month_projection(3.0, now), 62.0);
        assert_eq!(month_projection(3.0, t("2026-12-01T00:00:00Z")), 0.0);
    }
}
