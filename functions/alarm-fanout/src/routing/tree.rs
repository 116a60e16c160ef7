//! The route tree, as in Alertmanager: a route whose `match` passes tries its own `routes`
//! in order; the deepest routes that match are the answer, and a matching route without
//! `continue` ends the search among its siblings. A child route inherits what it leaves
//! out (receivers, `repeat_interval`) from its parent, and the top-level routes from the
//! document (`default`, `repeat_interval`). A document whose routes have no `routes` is
//! today's flat list, and routes exactly as it did.

use std::time::Duration;

use serde::Deserialize;

use super::matchers::{one_or_many, Facts, Matchers, RawMatch};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    #[serde(default, rename = "match")]
    matchers: RawMatch,
    #[serde(default, deserialize_with = "one_or_many")]
    receivers: Option<Vec<String>>,
    #[serde(default, rename = "continue")]
    continue_: bool,
    #[serde(default)]
    repeat_interval: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    active_time_intervals: Option<Vec<String>>,
    #[serde(default, deserialize_with = "one_or_many")]
    mute_time_intervals: Option<Vec<String>>,
    #[serde(default)]
    routes: Vec<RawRoute>,
}

/// Checks that names a route gives are defined (receivers, time intervals):
/// `(field, names)`, an error naming the field.
pub type CheckNames<'a> = &'a dyn Fn(&str, &[String]) -> Result<(), String>;

/// What a route passes on to the routes under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub receivers: Vec<String>,
    /// Re-send an alarm still in ALARM this long after it was last sent (reminders).
    pub repeat_interval: Option<Duration>,
    /// Time windows (names under `time_intervals`) outside all of which the route is muted.
    pub active_time_intervals: Vec<String>,
    /// Time windows inside any of which the route is muted.
    pub mute_time_intervals: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Route {
    matchers: Matchers,
    pub settings: Settings,
    pub continue_: bool,
    pub routes: Vec<Route>,
    /// Where the route is in the document (`routes[0].routes[2]`), for errors and records.
    pub path: String,
}

/// A route a notice ended on, with its settings (inherited ones filled in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    /// `routes[0].routes[2]`, or `default` when no route matched.
    pub path: String,
    pub settings: Settings,
}

/// `30s`, `15m`, `4h`, `1d`, `1w`, or a sum such as `1h30m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration such as 30s, 15m, 4h, 1d or 1h30m");
    let mut total = 0u64;
    let mut number = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(bad()),
        };
        let n: u64 = number.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(bad)?;
        number.clear();
    }
    if !number.is_empty() || total == 0 {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

impl Route {
    /// Checks a route and the routes under it. `check_receivers` names unknown receivers.
    pub fn build(
        path: String,
        raw: RawRoute,
        inherited: &Settings,
        check_receivers: CheckNames<'_>,
        check_intervals: CheckNames<'_>,
    ) -> Result<Self, String> {
        // Every setting has one shape: given, it is checked under its own field name;
        // left out, it is the parent's.
        fn inherit<R, T: Clone>(
            field: String,
            given: Option<R>,
            parent: &T,
            check: impl FnOnce(&str, R) -> Result<T, String>,
        ) -> Result<T, String> {
            given.map_or_else(|| Ok(parent.clone()), |v| check(&field, v))
        }
        fn names<'c>(
            check: CheckNames<'c>,
        ) -> impl FnOnce(&str, Vec<String>) -> Result<Vec<String>, String> + 'c {
            move |field, list| check(field, &list).map(|()| list)
        }
        let settings = Settings {
            receivers: inherit(
                format!("{path}.receivers"),
                raw.receivers,
                &inherited.receivers,
                names(check_receivers),
            )?,
            repeat_interval: inherit(
                format!("{path}.repeat_interval"),
                raw.repeat_interval,
                &inherited.repeat_interval,
                |field, text| super::parse::duration_field(field, Some(text)),
            )?,
            active_time_intervals: inherit(
                format!("{path}.active_time_intervals"),
                raw.active_time_intervals,
                &inherited.active_time_intervals,
                names(check_intervals),
            )?,
            mute_time_intervals: inherit(
                format!("{path}.mute_time_intervals"),
                raw.mute_time_intervals,
                &inherited.mute_time_intervals,
                names(check_intervals),
            )?,
        };
        let matchers = Matchers::build(&format!("{path}.match"), raw.matchers)?;
        let routes = raw
            .routes
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                Route::build(
                    format!("{path}.routes[{i}]"),
                    r,
                    &settings,
                    check_receivers,
                    check_intervals,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            matchers,
            settings,
            continue_: raw.continue_,
            routes,
            path,
        })
    }
}

/// Walks `routes` for a notice, pushing the routes it ends on; whether any matched.
pub fn walk(routes: &[Route], facts: &Facts<'_>, out: &mut Vec<RouteMatch>) -> bool {
    let mut matched = false;
    for route in routes {
        if !route.matchers.matches(facts) {
            continue;
        }
        matched = true;
        if !walk(&route.routes, facts, out) {
            out.push(RouteMatch {
                path: route.path.clone(),
                settings: route.settings.clone(),
            });
        }
        if !route.continue_ {
            break;
        }
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("4h"), Ok(Duration::from_secs(4 * 3600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        for bad in [
            "",
            "4",
            "h",
            "4 hours",
            "0m",
            "-1h",
            "99999999999999999999w",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }
}
