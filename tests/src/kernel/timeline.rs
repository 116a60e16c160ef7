//! The timeline of scheduled happenings, and EventBridge Scheduler's schedules.
//!
//! Happenings are ordered by (time, insertion): two at the same instant keep the order in
//! which they were scheduled, so a run never depends on a hash or a race.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

#[derive(Debug)]
pub struct Timeline<E> {
    queue: BTreeMap<(DateTime<Utc>, u64), E>,
    next_seq: u64,
}

impl<E> Default for Timeline<E> {
    fn default() -> Self {
        Self {
            queue: BTreeMap::new(),
            next_seq: 0,
        }
    }
}

impl<E> Timeline<E> {
    pub fn push(&mut self, at: DateTime<Utc>, happening: E) {
        self.queue.insert((at, self.next_seq), happening);
        self.next_seq += 1;
    }

    /// The earliest happening, if any.
    pub fn pop(&mut self) -> Option<(DateTime<Utc>, E)> {
        self.queue.pop_first().map(|((at, _), e)| (at, e))
    }

    pub fn peek_time(&self) -> Option<DateTime<Utc>> {
        self.queue.keys().next().map(|(at, _)| *at)
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

/// An EventBridge Scheduler schedule.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// `rate(n minutes)`: every `period` from the schedule's start.
    Rate {
        period: Duration,
        start: DateTime<Utc>,
    },
    /// `cron(m h ? * MON-FRI *)` with `ScheduleExpressionTimezone`.
    DailyAt {
        at: NaiveTime,
        weekdays: Vec<Weekday>,
        tz: Tz,
    },
}

impl Schedule {
    /// The first firing strictly after `after`.
    ///
    /// Daylight saving time as EventBridge Scheduler documents it: a local time that does
    /// not exist (clocks moved forward over it) is skipped that day; a local time that
    /// happens twice (clocks moved back) fires once, at its first occurrence.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Rate { period, start } => {
                let period = chrono::Duration::from_std(*period).ok()?;
                if period <= chrono::Duration::zero() {
                    return None;
                }
                if after < *start {
                    return Some(*start);
                }
                let elapsed = after - *start;
                let n = elapsed.num_milliseconds() / period.num_milliseconds() + 1;
                Some(*start + period * n as i32)
            }
            Schedule::DailyAt { at, weekdays, tz } => {
                let mut day = after.with_timezone(tz).date_naive();
                for _ in 0..400 {
                    if weekdays.is_empty() || weekdays.contains(&day.weekday()) {
                        let local = day.and_time(*at);
                        if let Some(t) = tz.from_local_datetime(&local).earliest() {
                            let t = t.with_timezone(&Utc);
                            if t > after {
                                return Some(t);
                            }
                        }
                    }
                    day = day.succ_opt()?;
                }
                None
            }
        }
    }
}

/// Monday to Friday.
pub const WEEKDAYS: [Weekday; 5] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn same_instant_keeps_insertion_order() {
        let mut t = Timeline::default();
        let at = utc("2026-03-02T07:30:00Z");
        t.push(at, "b");
        t.push(at, "a");
        t.push(utc("2026-03-02T07:00:00Z"), "first");
        assert_eq!(t.pop().map(|x| x.1), Some("first"));
        assert_eq!(t.pop().map(|x| x.1), Some("b"));
        assert_eq!(t.pop().map(|x| x.1), Some("a"));
        assert!(t.is_empty());
    }

    #[test]
    fn rate_schedules_count_from_their_start() {
        let s = Schedule::Rate {
            period: Duration::from_secs(15 * 60),
            start: utc("2026-03-02T00:00:00Z"),
        };
        assert_eq!(
            s.next_after(utc("2026-03-02T00:00:00Z")),
            Some(utc("2026-03-02T00:15:00Z"))
        );
        assert_eq!(
            s.next_after(utc("2026-03-02T00:16:00Z")),
            Some(utc("2026-03-02T00:30:00Z"))
        );
    }

    #[test]
    fn daily_schedules_follow_daylight_saving_time() {
        let s = Schedule::DailyAt {
            at: NaiveTime::from_hms_opt(7, 30, 0).unwrap(),
            weekdays: WEEKDAYS.to_vec(),
            tz: chrono_tz::Europe::Berlin,
        };
        // Friday 27 March 2026 is still winter time (UTC+1) in Berlin...
        assert_eq!(
            s.next_after(utc("2026-03-27T00:00:00Z")),
            Some(utc("2026-03-27T06:30:00Z"))
        );
        // ...the weekend is skipped, and Monday 30 March is summer time (UTC+2).
        assert_eq!(
            s.next_after(utc("2026-03-27T07:00:00Z")),
            Some(utc("2026-03-30T05:30:00Z"))
        );
    }

    #[test]
    fn a_skipped_local_time_does_not_fire_and_a_repeated_one_fires_once() {
        let tz = chrono_tz::Europe::Berlin;
        let gap = Schedule::DailyAt {
            at: NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
            weekdays: vec![],
            tz,
        };
        // 29 March 2026: 02:00 -> 03:00 in Berlin; 02:30 does not exist that day.
        assert_eq!(
            gap.next_after(utc("2026-03-28T12:00:00Z")),
            Some(utc("2026-03-30T00:30:00Z"))
        );
        // 25 October 2026: 03:00 -> 02:00; 02:30 happens twice and fires at the first.
        let first = gap.next_after(utc("2026-10-24T12:00:00Z")).unwrap();
        assert_eq!(first, utc("2026-10-25T00:30:00Z"));
        assert_eq!(gap.next_after(first), Some(utc("2026-10-26T01:30:00Z")));
    }
}
