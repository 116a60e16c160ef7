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

use chrono::Weekday;
use chrono_tz::Tz;

mod contains;
mod parse;
#[cfg(test)]
mod tests;

pub use parse::{RawInterval, RawRange, RawTimeRange};

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
