//! Time windows (`time_intervals`): named sets of weekdays and times of day in a time zone,
//! as Alertmanager's, which make a route active or muted.
//!
//! ```yaml
//! time_intervals:
//!   office-hours:
//!     - weekdays: ["monday:friday"]
//!       times: [{start_time: "09:00", end_time: "18:00"}]
//!       location: Europe/Berlin
//! ```
//!
//! An instant is turned into the interval's local time with the IANA time-zone database
//! (`chrono-tz`) before the weekday and the time of day are compared, so "09:00" is nine in
//! the morning on both sides of a daylight-saving change: no window shifts by an hour twice
//! a year. A local time that a spring-forward skips never happens; one that a fall-back
//! repeats happens twice, and is inside the window both times. A named set contains an
//! instant when one of its intervals does; an interval, when every field it gives does.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimeRange {
    start_time: String,
    end_time: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInterval {
    #[serde(default)]
    weekdays: Option<Vec<String>>,
    #[serde(default)]
    times: Option<Vec<RawTimeRange>>,
    #[serde(default)]
    location: Option<String>,
}

/// One interval: weekday ranges and minute-of-day ranges `[start, end)` in a time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    weekdays: Option<Vec<(Weekday, Weekday)>>,
    times: Option<Vec<(u32, u32)>>,
    location: Tz,
}

/// The document's named windows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimeIntervals(BTreeMap<String, Vec<Interval>>);

fn weekday(field: &str, text: &str) -> Result<Weekday, String> {
    text.trim()
        .parse::<Weekday>()
        .map_err(|_| format!("{field}: {text:?} is not a weekday such as monday"))
}

/// `HH:MM`, from `00:00` to `24:00`, as minutes after midnight.
fn minutes(field: &str, text: &str) -> Result<u32, String> {
    let bad = || format!("{field}: {text:?} is not a time of day HH:MM (00:00 to 24:00)");
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m >= 60 || h > 24 || (h == 24 && m > 0) || text.trim().len() != 5 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl Interval {
    fn build(at: &str, raw: RawInterval) -> Result<Self, String> {
        let weekdays = raw
            .weekdays
            .map(|days| {
                if days.is_empty() {
                    return Err(format!(
                        "{at}.weekdays: empty list (leave it out for every day)"
                    ));
                }
                days.iter()
                    .enumerate()
                    .map(|(i, d)| {
                        let field = format!("{at}.weekdays[{i}]");
                        match d.split_once(':') {
                            Some((a, b)) => Ok((weekday(&field, a)?, weekday(&field, b)?)),
                            None => weekday(&field, d).map(|w| (w, w)),
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let times = raw
            .times
            .map(|ranges| {
                if ranges.is_empty() {
                    return Err(format!("{at}.times: empty list (leave it out for all day)"));
                }
                ranges
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let field = format!("{at}.times[{i}]");
                        let start = minutes(&format!("{field}.start_time"), &r.start_time)?;
                        let end = minutes(&format!("{field}.end_time"), &r.end_time)?;
                        if start >= end {
                            return Err(format!(
                                "{field}: start_time {:?} is not before end_time {:?} (split a range over midnight in two)",
                                r.start_time, r.end_time
                            ));
                        }
                        Ok((start, end))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let location = match raw.location.as_deref().map(str::trim) {
            None | Some("UTC") => Tz::UTC,
            Some(name) => name.parse::<Tz>().map_err(|_| {
                format!("{at}.location: {name:?} is not an IANA time zone such as Europe/Berlin")
            })?,
        };
        Ok(Self {
            weekdays,
            times,
            location,
        })
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&self.location);
        let day = local.weekday().num_days_from_monday();
        let minute = local.hour() * 60 + local.minute();
        self.weekdays.as_ref().is_none_or(|ranges| {
            ranges.iter().any(|(a, b)| {
                let (a, b) = (a.num_days_from_monday(), b.num_days_from_monday());
                // `friday:monday` wraps over the weekend.
                if a <= b {
                    (a..=b).contains(&day)
                } else {
                    day >= a || day <= b
                }
            })
        }) && self
            .times
            .as_ref()
            .is_none_or(|ranges| ranges.iter().any(|(s, e)| (*s..*e).contains(&minute)))
    }
}

impl TimeIntervals {
    /// Checks the document's `time_intervals` (errors name `time_intervals.<name>[i].<field>`).
    pub fn build(raw: BTreeMap<String, Vec<RawInterval>>) -> Result<Self, String> {
        raw.into_iter()
            .map(|(name, intervals)| {
                if intervals.is_empty() {
                    return Err(format!("time_intervals.{name}: no interval"));
                }
                let built = intervals
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| Interval::build(&format!("time_intervals.{name}[{i}]"), r))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((name, built))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn contains_name(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Whether the named window contains the instant (an unknown name contains nothing;
    /// names are checked when the document is loaded).
    pub fn contains(&self, name: &str, at: DateTime<Utc>) -> bool {
        self.0
            .get(name)
            .is_some_and(|intervals| intervals.iter().any(|i| i.contains(at)))
    }

    /// Whether a route with these `active_time_intervals` and `mute_time_intervals` is
    /// muted at the instant: outside all of its active windows (when it has any), or
    /// inside one of its mute windows.
    pub fn muted(&self, active: &[String], mute: &[String], at: DateTime<Utc>) -> bool {
        (!active.is_empty() && !active.iter().any(|n| self.contains(n, at)))
            || mute.iter().any(|n| self.contains(n, at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"
office-hours:
  - weekdays: ["monday:friday"]
    times: [{start_time: "09:00", end_time: "18:00"}]
    location: Europe/Berlin
nights:
  - times: [{start_time: "00:00", end_time: "07:00"}, {start_time: "22:00", end_time: "24:00"}]
    location: Europe/Berlin
weekend:
  - weekdays: [saturday, sunday]
    location: Europe/Berlin
long-weekend:
  - weekdays: ["friday:monday"]
"#;

    fn windows(doc: &str) -> Result<TimeIntervals, String> {
        TimeIntervals::build(serde_yaml_ng::from_str(doc).unwrap())
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn office_hours_stay_at_nine_local_across_the_spring_change() {
        let w = windows(DOC).unwrap();
        // Berlin: CET (UTC+1) until Sunday 29 March 2026 01:00 UTC, then CEST (UTC+2).
        // Friday before: 09:00 local is 08:00 UTC.
        assert!(!w.contains("office-hours", utc("2026-03-27T07:59:00Z")));
        assert!(w.contains("office-hours", utc("2026-03-27T08:00:00Z")));
        assert!(w.contains("office-hours", utc("2026-03-27T16:59:00Z")));
        assert!(!w.contains("office-hours", utc("2026-03-27T17:00:00Z")));
        // Monday after: 09:00 local is 07:00 UTC, 18:00 local is 16:00 UTC.
        assert!(!w.contains("office-hours", utc("2026-03-30T06:59:00Z")));
        assert!(w.contains("office-hours", utc("2026-03-30T07:00:00Z")));
        assert!(w.contains("office-hours", utc("2026-03-30T15:59:00Z")));
        assert!(!w.contains("office-hours", utc("2026-03-30T16:00:00Z")));
        // The weekend in between is not office hours.
        assert!(!w.contains("office-hours", utc("2026-03-28T10:00:00Z")));
        assert!(w.contains("weekend", utc("2026-03-28T23:30:00Z")));
        // Sunday 22:30 UTC is Monday 00:30 in Berlin: no longer the weekend.
        assert!(!w.contains("weekend", utc("2026-03-29T22:30:00Z")));
    }

    #[test]
    fn nights_across_the_skipped_and_the_repeated_hour() {
        let w = windows(DOC).unwrap();
        // Spring: 00:59 UTC is 01:59 CET; a minute later it is 03:00 CEST (02:xx never happens).
        assert!(w.contains("nights", utc("2026-03-29T00:59:00Z")));
        assert!(w.contains("nights", utc("2026-03-29T01:00:00Z")));
        // 07:00 CEST is 05:00 UTC: the night ends an hour earlier in UTC than the day before.
        assert!(w.contains("nights", utc("2026-03-28T05:59:00Z")));
        assert!(!w.contains("nights", utc("2026-03-29T05:00:00Z")));
        // Autumn, Sunday 25 October 2026: 02:30 local happens twice (00:30 and 01:30 UTC).
        assert!(w.contains("nights", utc("2026-10-25T00:30:00Z")));
        assert!(w.contains("nights", utc("2026-10-25T01:30:00Z")));
        // 07:00 CET is 06:00 UTC.
        assert!(w.contains("nights", utc("2026-10-25T05:59:00Z")));
        assert!(!w.contains("nights", utc("2026-10-25T06:00:00Z")));
        // 22:00 to 24:00 local, the evening before the change: 20:00 to 22:00 UTC.
        assert!(!w.contains("nights", utc("2026-10-24T19:59:00Z")));
        assert!(w.contains("nights", utc("2026-10-24T21:59:00Z")));
    }

    #[test]
    fn active_and_mute_windows() {
        let w = windows(DOC).unwrap();
        let office = vec!["office-hours".to_string()];
        let nights = vec!["nights".to_string(), "weekend".to_string()];
        let monday_ten = utc("2026-03-30T08:00:00Z");
        let monday_three_am = utc("2026-03-30T01:00:00Z");
        assert!(!w.muted(&office, &[], monday_ten));
        assert!(w.muted(&office, &[], monday_three_am));
        assert!(w.muted(&[], &nights, monday_three_am));
        assert!(!w.muted(&[], &nights, monday_ten));
        assert!(!w.muted(&[], &[], monday_three_am));
        // friday:monday wraps: Tuesday is outside, Monday and Saturday inside (UTC).
        assert!(w.contains("long-weekend", utc("2026-03-30T12:00:00Z")));
        assert!(w.contains("long-weekend", utc("2026-03-28T12:00:00Z")));
        assert!(!w.contains("long-weekend", utc("2026-03-31T12:00:00Z")));
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                "x: [{location: Europe/Berln}]",
                "time_intervals.x[0].location: \"Europe/Berln\"",
            ),
            (
                "x: [{weekdays: [mon, funday]}]",
                "time_intervals.x[0].weekdays[1]: \"funday\"",
            ),
            (
                "x: [{times: [{start_time: '09:00', end_time: '25:00'}]}]",
                "time_intervals.x[0].times[0].end_time: \"25:00\"",
            ),
            (
                "x: [{times: [{start_time: '22:00', end_time: '06:00'}]}]",
                "time_intervals.x[0].times[0]: start_time \"22:00\" is not before end_time",
            ),
            ("x: []", "time_intervals.x: no interval"),
        ];
        for (doc, wanted) in cases {
            let err = windows(doc).unwrap_err();
            assert!(err.contains(wanted), "wanted {wanted:?} in {err}");
        }
        let err = serde_yaml_ng::from_str::<BTreeMap<String, Vec<RawInterval>>>(
            "x: [{weekday: [monday]}]",
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `weekday`"), "{err}");
    }
}
