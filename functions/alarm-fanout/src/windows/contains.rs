//! Whether an instant is inside a window, in the window's own time zone.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

use super::{Interval, TimeIntervals};

/// Whether `value` is in the inclusive range, wrapping past the end when `a > b`.
fn in_wrapping(value: u32, (a, b): (u32, u32)) -> bool {
    if a <= b {
        (a..=b).contains(&value)
    } else {
        value >= a || value <= b
    }
}

/// The number of days in a month of a year (February by the leap-year rule).
pub(super) fn days_in(year: i32, month: u32) -> i32 {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    next.and_then(|n| n.pred_opt())
        .map_or(31, |last| last.day() as i32)
}

impl Interval {
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
