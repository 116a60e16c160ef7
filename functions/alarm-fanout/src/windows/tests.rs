use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::contains::days_in;
use super::{RawInterval, TimeIntervals};

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
    let err =
        serde_yaml_ng::from_str::<BTreeMap<String, Vec<RawInterval>>>("x: [{weekday: [monday]}]")
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
