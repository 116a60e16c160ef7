//! IANA time zones as a [`chrono::TimeZone`], for alarm-fanout's time windows.
//!
//! chrono-tz compiles the whole database into per-zone tables of transitions: about 1.9 MB
//! of a release binary. jiff's bundled database holds the same zones as compact TZif data
//! (about 200 KB) and its code is a few hundred KB more, so this crate keeps chrono's types
//! (windows compare `DateTime<Tz>` fields) with jiff underneath. Names are matched exactly,
//! as chrono-tz matches them (jiff alone would also accept `europe/berlin`); the tests
//! check every chrono-tz name against chrono-tz's offsets.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use chrono::{FixedOffset, MappedLocalTime, NaiveDate, NaiveDateTime, Offset, TimeZone};
use jiff::tz::AmbiguousOffset;

/// A zone of the database, or UTC.
#[derive(Clone, Copy)]
pub struct Tz(&'static Zone);

struct Zone {
    name: &'static str,
    zone: jiff::tz::TimeZone,
}

static UTC_ZONE: Zone = Zone {
    name: "UTC",
    zone: jiff::tz::TimeZone::UTC,
};

/// Zones already looked up, so that a `Tz` is `Copy` as chrono-tz's is. Bounded by the
/// database's few hundred names: each is built once and kept for the process.
static ZONES: Mutex<BTreeMap<String, &'static Zone>> = Mutex::new(BTreeMap::new());

impl Tz {
    pub const UTC: Tz = Tz(&UTC_ZONE);

    /// The zone's IANA name, as written.
    pub fn name(&self) -> &'static str {
        self.0.name
    }

    fn offset_at(&self, seconds: i64, nanos: u32) -> FixedOffset {
        let nanos = i32::try_from(nanos.min(999_999_999)).unwrap_or(0);
        let at = jiff::Timestamp::new(seconds, nanos).unwrap_or(if seconds < 0 {
            jiff::Timestamp::MIN
        } else {
            jiff::Timestamp::MAX
        });
        fixed(self.0.zone.to_offset(at))
    }
}

fn fixed(offset: jiff::tz::Offset) -> FixedOffset {
    // jiff's offsets reach ±25:59:59, chrono's ±23:59:59; no zone comes near either.
    FixedOffset::east_opt(offset.seconds()).unwrap_or(chrono::Utc.fix())
}

/// The name is not one of the database's zones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownZone;

impl fmt::Display for UnknownZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not an IANA time zone")
    }
}

impl std::error::Error for UnknownZone {}

impl FromStr for Tz {
    type Err = UnknownZone;

    fn from_str(name: &str) -> Result<Self, UnknownZone> {
        let mut zones = ZONES
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(zone) = zones.get(name) {
            return Ok(Tz(zone));
        }
        let zone = jiff::tz::db().get(name).map_err(|_| UnknownZone)?;
        // jiff finds names without regard to case; chrono-tz, and so the windows, do not.
        if zone.iana_name() != Some(name) {
            return Err(UnknownZone);
        }
        let name: &'static str = Box::leak(name.to_owned().into_boxed_str());
        let zone: &'static Zone = Box::leak(Box::new(Zone { name, zone }));
        zones.insert(name.to_owned(), zone);
        Ok(Tz(zone))
    }
}

impl PartialEq for Tz {
    fn eq(&self, other: &Self) -> bool {
        self.0.name == other.0.name
    }
}

impl Eq for Tz {}

impl fmt::Debug for Tz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

impl fmt::Display for Tz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

/// A zone's offset at one instant (chrono's `Offset`, which must name its zone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TzOffset {
    tz: Tz,
    offset: FixedOffset,
}

impl Offset for TzOffset {
    fn fix(&self) -> FixedOffset {
        self.offset
    }
}

impl fmt::Display for TzOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.offset, f)
    }
}

impl TimeZone for Tz {
    type Offset = TzOffset;

    fn from_offset(offset: &TzOffset) -> Self {
        offset.tz
    }

    fn offset_from_local_date(&self, local: &NaiveDate) -> MappedLocalTime<TzOffset> {
        match local.and_hms_opt(0, 0, 0) {
            Some(midnight) => self.offset_from_local_datetime(&midnight),
            None => MappedLocalTime::None,
        }
    }

    fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> MappedLocalTime<TzOffset> {
        use chrono::{Datelike, Timelike};
        let civil = (|| {
            let year = i16::try_from(local.year()).ok()?;
            jiff::civil::DateTime::new(
                year,
                i8::try_from(local.month()).ok()?,
                i8::try_from(local.day()).ok()?,
                i8::try_from(local.hour()).ok()?,
                i8::try_from(local.minute()).ok()?,
                i8::try_from(local.second()).ok()?,
                i32::try_from(local.nanosecond().min(999_999_999)).ok()?,
            )
            .ok()
        })();
        let Some(civil) = civil else {
            return MappedLocalTime::None;
        };
        let at = |offset| TzOffset {
            tz: *self,
            offset: fixed(offset),
        };
        match self.0.zone.to_ambiguous_timestamp(civil).offset() {
            AmbiguousOffset::Unambiguous { offset } => MappedLocalTime::Single(at(offset)),
            AmbiguousOffset::Gap { .. } => MappedLocalTime::None,
            AmbiguousOffset::Fold { before, after } => {
                MappedLocalTime::Ambiguous(at(before), at(after))
            }
        }
    }

    fn offset_from_utc_date(&self, utc: &NaiveDate) -> TzOffset {
        let seconds = utc.and_time(chrono::NaiveTime::MIN).and_utc().timestamp();
        TzOffset {
            tz: *self,
            offset: self.offset_at(seconds, 0),
        }
    }

    fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> TzOffset {
        let utc = utc.and_utc();
        TzOffset {
            tz: *self,
            offset: self.offset_at(utc.timestamp(), utc.timestamp_subsec_nanos()),
        }
    }
}

#[cfg(test)]
mod tests;
