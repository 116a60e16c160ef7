//! Time windows (`time_intervals`): named sets of weekdays, times of day, days of the
//! month, months and years in a time zone, as Alertmanager's, which make a route active or
//! muted.
//!
//! ```yaml
//! time_intervals:
//!   office-hours:
//!     - weekdays: ["monday:friday"]
//!       times: [{start_time: "09:00", end_time: "18:00"}]
//!       location: Europe/Berlin
//!   month-end-close:
//!     - days_of_month: ["-3:-1"]
//!       months: ["march", "june:july", "12"]
//!       years: ["2026:2027"]
//! ```
//!
//! An instant is turned into the interval's local time with the IANA time-zone database
//! (`chrono-tz`) before any field is compared, so "09:00" is nine in the morning on both
//! sides of a daylight-saving change, and a month ends at local midnight: no window shifts
//! by an hour twice a year. A local time that a spring-forward skips never happens; one
//! that a fall-back repeats happens twice, and is inside the window both times. A named
//! set contains an instant when one of its intervals does; an interval, when every field
//! it gives does.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimeRange {
    start_time: String,
    end_time: String,
}

/// A list entry people write either as a number (`days_of_month: [1, -1]`) or as text
/// (`"1:7"`, `"march"`): both are read as text and parsed alike.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawRange {
    Number(i64),
    Text(String),
}

impl RawRange {
    fn text(&self) -> String {
        match self {
            Self::Number(n) => n.to_string(),
            Self::Text(t) => t.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInterval {
    #[serde(default)]
    weekdays: Option<Vec<RawRange>>,
    #[serde(default)]
    times: Option<Vec<RawTimeRange>>,
    #[serde(default)]
    days_of_month: Option<Vec<RawRange>>,
    #[serde(default)]
    months: Option<Vec<RawRange>>,
    #[serde(default)]
    years: Option<Vec<RawRange>>,
    #[serde(default)]
    location: Option<String>,
}

/// One interval: inclusive ranges of weekdays, days of the month (negative ones count from
/// the month's end), months and years, and minute-of-day ranges `[start, end)`, in a time
/// zone. A field left out is every value.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    weekdays: Option<Vec<(Weekday, Weekday)>>,
    times: Option<Vec<(u32, u32)>>,
    days_of_month: Option<Vec<(i32, i32)>>,
    months: Option<Vec<(u32, u32)>>,
    years: Option<Vec<(i32, i32)>>,
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

/// 1 to 31, or -1 (the last day) to -31.
fn day_of_month(field: &str, text: &str) -> Result<i32, String> {
    match text.trim().parse::<i32>() {
        Ok(d) if (1..=31).contains(&d.abs()) => Ok(d),
        _ => Err(format!(
            "{field}: {text:?} is not a day of the month (1 to 31, or -1 to -31 counting back from the month's last day)"
        )),
    }
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// `january` to `december` (any case), or 1 to 12.
fn month(field: &str, text: &str) -> Result<u32, String> {
    let t = text.trim().to_ascii_lowercase();
    let by_name = MONTHS.iter().position(|m| *m == t).map(|i| i as u32 + 1);
    let by_number = t.parse::<u32>().ok().filter(|m| (1..=12).contains(m));
    by_name.or(by_number).ok_or_else(|| {
        format!("{field}: {text:?} is not a month (january to december, or 1 to 12)")
    })
}

/// A year of the common era, written with four digits.
fn year(field: &str, text: &str) -> Result<i32, String> {
    match text.trim().parse::<i32>() {
        Ok(y) if (1000..=9999).contains(&y) => Ok(y),
        _ => Err(format!("{field}: {text:?} is not a year such as 2026")),
    }
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

/// The shape every list field shares: absent is every value, empty is a mistake, and each
/// entry is checked with its own field name (`<at>.<name>[i]`).
fn list<R, T>(
    at: &str,
    name: &str,
    raw: Option<Vec<R>>,
    item: impl Fn(&str, &R) -> Result<T, String>,
) -> Result<Option<Vec<T>>, String> {
    let Some(entries) = raw else {
        return Ok(None);
    };
    if entries.is_empty() {
        return Err(format!(
            "{at}.{name}: empty list (leave it out for no restriction)"
        ));
    }
    entries
        .iter()
        .enumerate()
        .map(|(i, r)| item(&format!("{at}.{name}[{i}]"), r))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// A list of `a` or `a:b` entries, each end parsed by `one`. `ordered` refuses a range
/// whose start comes after its end (days of the month of one sign, years); the others
/// wrap (`friday:monday`, `november:february`).
fn ranges<T: Copy>(
    at: &str,
    name: &str,
    raw: Option<Vec<RawRange>>,
    one: fn(&str, &str) -> Result<T, String>,
    ordered: fn(T, T) -> bool,
) -> Result<Option<Vec<(T, T)>>, String> {
    list(at, name, raw, |field, r| {
        let text = r.text();
        let (a, b) = match text.split_once(':') {
            Some((a, b)) => (one(field, a)?, one(field, b)?),
            None => {
                let v = one(field, &text)?;
                (v, v)
            }
        };
        if !ordered(a, b) {
            return Err(format!(
                "{field}: {text:?} starts after it ends (write the earlier one first)"
            ));
        }
        Ok((a, b))
    })
}

/// Whether `value` is in the inclusive range, wrapping past the end when `a > b`.
fn in_wrapping(value: u32, (a, b): (u32, u32)) -> bool {
    if a <= b {
        (a..=b).contains(&value)
    } else {
        value >= a || value <= b
    }
}

/// Ranges that may wrap accept any two ends.
fn any<T>(_: T, _: T) -> bool {
    true
}

/// The number of days in a month of a year (February by the leap-year rule).
fn days_in(year: i32, month: u32) -> i32 {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    next.and_then(|n| n.pred_opt())
        .map_or(31, |last| last.day() as i32)
}

impl Interval {
    fn build(at: &str, raw: RawInterval) -> Result<Self, String> {
        let weekdays = ranges(at, "weekdays", raw.weekdays, weekday, any)?;
        // Two days of one sign must be in order; `1:-1` (the whole month) mixes them and
        // is resolved per month.
        let day_order = |a: i32, b: i32| a.signum() != b.signum() || a <= b;
        let days_of_month = ranges(
            at,
            "days_of_month",
            raw.days_of_month,
            day_of_month,
            day_order,
        )?;
        let months = ranges(at, "months", raw.months, month, any)?;
        let years = ranges(at, "years", raw.years, year, |a, b| a <= b)?;
        let times = list(at, "times", raw.times, |field, r: &RawTimeRange| {
            let start = minutes(&format!("{field}.start_time"), &r.start_time)?;
            let end = minutes(&format!("{field}.end_time"), &r.end_time)?;
            if start >= end {
                return Err(format!(
                    "{field}: start_time {:?} is not before end_time {:?} (split a range over midnight in two)",
                    r.start_time, r.end_time
                ));
            }
            Ok((start, end))
        })?;
        let location = match raw.location.as_deref().map(str::trim) {
            None | Some("UTC") => Tz::UTC,
            Some(name) => name.parse::<Tz>().map_err(|_| {
                format!("{at}.location: {name:?} is not an IANA time zone such as Europe/Berlin")
            })?,
        };
        Ok(Self {
            weekdays,
            times,
            days_of_month,
            months,
            years,
            location,
        })
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&self.location);
        let day = local.weekday().num_days_from_monday();
        let minute = local.hour() * 60 + local.minute();
        let (year, month) = (local.year(), local.month());
        // A negative day counts back from the month's last day (-1 is the last), so it
        // moves with the month's length: -1 is 28 February 2026 and 29 February 2028.
        let last = days_in(year, month);
        let resolve = |d: i32| if d < 0 { last + d + 1 } else { d };
        let date = local.day() as i32;
        self.weekdays.as_ref().is_none_or(|ranges| {
            ranges.iter().any(|(a, b)| {
                in_wrapping(day, (a.num_days_from_monday(), b.num_days_from_monday()))
            })
        }) && self
            .times
            .as_ref()
            .is_none_or(|ranges| ranges.iter().any(|(s, e)| (*s..*e).contains(&minute)))
            && self.days_of_month.as_ref().is_none_or(|ranges| {
                ranges
                    .iter()
                    .any(|(a, b)| (resolve(*a)..=resolve(*b)).contains(&date))
            })
            && self
                .months
                .as_ref()
                .is_none_or(|ranges| ranges.iter().any(|r| in_wrapping(month, *r)))
            && self
                .years
                .as_ref()
                .is_none_or(|ranges| ranges.iter().any(|(a, b)| (*a..=*b).contains(&year)))
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

    const CALENDAR: &str = r#"
last-day:
  - days_of_month: [-1]
    location: Europe/Berlin
month-end:
  - days_of_month: ["-3:-1"]
first-week-or-fifteenth:
  - days_of_month: ["1:7", 15]
whole-month:
  - days_of_month: ["1:-1"]
thirty-first:
  - days_of_month: [31]
winter:
  - months: ["november:february"]
quarter-ends:
  - months: [march, "JUNE", 9, "december"]
    days_of_month: [-1]
    times: [{start_time: "17:00", end_time: "24:00"}]
    location: America/New_York
rollout:
  - years: ["2026:2027"]
    months: ["3"]
  - years: [2029]
"#;

    #[test]
    fn negative_days_count_back_from_each_months_end_leap_years_included() {
        let w = windows(CALENDAR).unwrap();
        // -1 in UTC-based "month-end" (-3:-1): February has 28 days in 2026, 29 in 2028.
        assert!(!w.contains("month-end", utc("2026-02-25T12:00:00Z")));
        assert!(w.contains("month-end", utc("2026-02-26T00:00:00Z")));
        assert!(w.contains("month-end", utc("2026-02-28T23:59:00Z")));
        assert!(!w.contains("month-end", utc("2028-02-26T12:00:00Z")));
        assert!(w.contains("month-end", utc("2028-02-27T00:00:00Z")));
        assert!(w.contains("month-end", utc("2028-02-29T12:00:00Z")));
        // 2100 is not a leap year (divisible by 100, not by 400); 2000 was.
        assert!(w.contains("month-end", utc("2100-02-26T12:00:00Z")));
        assert!(!w.contains("month-end", utc("2000-02-26T12:00:00Z")));
        // April has 30 days, so -3 is the 28th; December's is the 29th.
        assert!(!w.contains("month-end", utc("2026-04-27T23:59:00Z")));
        assert!(w.contains("month-end", utc("2026-04-28T00:00:00Z")));
        assert!(!w.contains("month-end", utc("2026-12-28T23:59:00Z")));
        assert!(w.contains("month-end", utc("2026-12-31T23:59:00Z")));
        assert!(!w.contains("month-end", utc("2027-01-01T00:00:00Z")));
        // 31 happens only in months that have one; 1:-1 is every day.
        assert!(w.contains("thirty-first", utc("2026-03-31T12:00:00Z")));
        for month in 1..=12 {
            let last = days_in(2026, month);
            let first = utc(&format!("2026-{month:02}-01T00:00:00Z"));
            assert!(w.contains("whole-month", first), "{month}");
            let end = utc(&format!("2026-{month:02}-{last:02}T12:00:00Z"));
            assert!(w.contains("whole-month", end), "{month}");
            assert_eq!(w.contains("thirty-first", end), last == 31, "{month}");
        }
        assert!(w.contains("first-week-or-fifteenth", utc("2026-06-07T12:00:00Z")));
        assert!(!w.contains("first-week-or-fifteenth", utc("2026-06-08T12:00:00Z")));
        assert!(w.contains("first-week-or-fifteenth", utc("2026-06-15T12:00:00Z")));
    }

    #[test]
    fn a_month_ends_at_local_midnight_on_both_sides_of_the_clock_changes() {
        let w = windows(CALENDAR).unwrap();
        // Berlin in summer time (UTC+2): 31 March ends at 22:00 UTC.
        assert!(!w.contains("last-day", utc("2026-03-30T21:59:00Z")));
        assert!(w.contains("last-day", utc("2026-03-30T22:00:00Z")));
        assert!(w.contains("last-day", utc("2026-03-31T21:59:00Z")));
        assert!(!w.contains("last-day", utc("2026-03-31T22:00:00Z")));
        // Back in winter time (UTC+1) after 25 October: 31 October ends at 23:00 UTC.
        assert!(!w.contains("last-day", utc("2026-10-30T22:59:00Z")));
        assert!(w.contains("last-day", utc("2026-10-30T23:00:00Z")));
        assert!(w.contains("last-day", utc("2026-10-31T22:59:00Z")));
        assert!(!w.contains("last-day", utc("2026-10-31T23:00:00Z")));
        // New York, a quarter's last day from 17:00 local: in June on daylight time (UTC-4),
        // in December on standard time (UTC-5). Either way the window runs past midnight UTC
        // into the next month's first day, because the month is the local one.
        assert!(!w.contains("quarter-ends", utc("2026-06-30T20:59:00Z")));
        assert!(w.contains("quarter-ends", utc("2026-06-30T21:00:00Z")));
        assert!(w.contains("quarter-ends", utc("2026-07-01T03:59:00Z")));
        assert!(!w.contains("quarter-ends", utc("2026-07-01T04:00:00Z")));
        assert!(!w.contains("quarter-ends", utc("2026-12-31T21:59:00Z")));
        assert!(w.contains("quarter-ends", utc("2026-12-31T22:00:00Z")));
        assert!(w.contains("quarter-ends", utc("2027-01-01T04:59:00Z")));
        assert!(!w.contains("quarter-ends", utc("2027-01-01T05:00:00Z")));
        // Not a quarter's month, and not its last day.
        assert!(!w.contains("quarter-ends", utc("2026-05-31T22:00:00Z")));
        assert!(!w.contains("quarter-ends", utc("2026-06-29T22:00:00Z")));
    }

    #[test]
    fn months_wrap_over_the_new_year_and_years_bound_an_interval() {
        let w = windows(CALENDAR).unwrap();
        assert!(w.contains("winter", utc("2026-11-01T00:00:00Z")));
        assert!(w.contains("winter", utc("2027-01-15T00:00:00Z")));
        assert!(w.contains("winter", utc("2028-02-29T23:59:00Z")));
        assert!(!w.contains("winter", utc("2028-03-01T00:00:00Z")));
        assert!(!w.contains("winter", utc("2026-10-31T23:59:00Z")));
        // rollout: March of 2026 or 2027, or any time in 2029.
        assert!(w.contains("rollout", utc("2026-03-10T00:00:00Z")));
        assert!(w.contains("rollout", utc("2027-03-31T23:59:00Z")));
        assert!(!w.contains("rollout", utc("2028-03-10T00:00:00Z")));
        assert!(!w.contains("rollout", utc("2026-04-01T00:00:00Z")));
        assert!(w.contains("rollout", utc("2029-08-01T00:00:00Z")));
        assert!(!w.contains("rollout", utc("2030-01-01T00:00:00Z")));
    }

    #[test]
    fn calendar_errors_name_the_field_and_the_value() {
        let cases = [
            (
                "x: [{days_of_month: [0]}]",
                "time_intervals.x[0].days_of_month[0]: \"0\" is not a day of the month",
            ),
            (
                "x: [{days_of_month: [\"1:7\", \"-32\"]}]",
                "time_intervals.x[0].days_of_month[1]: \"-32\" is not a day of the month",
            ),
            (
                "x: [{days_of_month: [\"10:5\"]}]",
                "time_intervals.x[0].days_of_month[0]: \"10:5\" starts after it ends",
            ),
            (
                "x: [{days_of_month: [\"-1:-3\"]}]",
                "time_intervals.x[0].days_of_month[0]: \"-1:-3\" starts after it ends",
            ),
            (
                "x: [{months: [march, smarch]}]",
                "time_intervals.x[0].months[1]: \"smarch\" is not a month",
            ),
            (
                "x: [{months: [\"13\"]}]",
                "time_intervals.x[0].months[0]: \"13\" is not a month",
            ),
            (
                "x: [{years: [\"2027:2026\"]}]",
                "time_intervals.x[0].years[0]: \"2027:2026\" starts after it ends",
            ),
            (
                "x: [{years: [26]}]",
                "time_intervals.x[0].years[0]: \"26\" is not a year",
            ),
            (
                "x: [{months: []}]",
                "time_intervals.x[0].months: empty list",
            ),
        ];
        for (doc, wanted) in cases {
            let err = windows(doc).unwrap_err();
            assert!(err.contains(wanted), "wanted {wanted:?} in {err}");
        }
        // Mixed signs are resolved per month: 1:-1 is the whole month, not an error.
        assert!(windows("x: [{days_of_month: [\"1:-1\", \"-10:25\"]}]").is_ok());
    }
}
