//! Reading `time_intervals` as people write them: the document's raw shape, and the
//! checks that turn it into [`Interval`]s, each error naming its field.

use std::collections::BTreeMap;

use chrono::Weekday;
use chrono_tz::Tz;
use serde::Deserialize;

use super::{Interval, TimeIntervals};

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

/// Ranges that may wrap accept any two ends.
fn any<T>(_: T, _: T) -> bool {
    true
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
}
