//! The routing document: receivers by name and Alertmanager's route tree (nested
//! `routes`, first match wins unless `continue`, settings inherited), with a default.
//! This file is the matching: which routes a notice ends on and which receivers get it
//! now or later. The document's types are in [`document`], the checks made when it is
//! loaded in [`parse`], matchers in [`matchers`] and [`pattern`], the tree in [`tree`].
//!
//! The document is JSON or YAML. It is validated whole when it is loaded: an unknown
//! field, a bad glob or regular expression, state or severity, a malformed secret
//! reference or a route naming a receiver the document lacks is an error that names the
//! field (`routes[0].routes[1].match.dimensions.DBInstanceIdentifier: ...`).

mod document;
mod matchers;
mod parse;
mod pattern;
mod tree;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::windows::TimeIntervals;
pub use document::{ChatId, Receiver};
pub use matchers::{Facts, Matchers};
use tree::walk;
pub use tree::{parse_duration, Route, RouteMatch, Settings};

/// A validated routing document.
#[derive(Debug, Clone)]
pub struct Routing {
    pub receivers: BTreeMap<String, Receiver>,
    pub routes: Vec<Route>,
    pub default: Vec<String>,
    /// The `repeat_interval` of the default route, inherited by routes that set none.
    pub repeat_interval: Option<Duration>,
    /// The named time windows routes are active or muted in.
    pub time_intervals: TimeIntervals,
    /// Alarms that mute others while they fire ([`crate::inhibition`]).
    pub inhibit_rules: Vec<crate::inhibition::InhibitRule>,
}

/// Where a notice goes now: the receivers of its routes that are not muted, and those
/// named only by muted routes (held until the mute ends).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Destinations {
    pub deliver: Vec<String>,
    pub held: Vec<String>,
}

impl Destinations {
    /// Holds every receiver (a silence mutes the whole notice).
    pub fn hold_all(&mut self) {
        let deliver = std::mem::take(&mut self.deliver);
        for r in deliver {
            if !self.held.contains(&r) {
                self.held.push(r);
            }
        }
    }
}

impl Routing {
    /// The routes a notice ends on, in document order: the deepest matching routes down to
    /// the first without `continue` at each level; the default route when none matches.
    pub fn matches(&self, facts: &Facts<'_>) -> Vec<RouteMatch> {
        let mut out = Vec::new();
        if !walk(&self.routes, facts, &mut out) {
            out.push(RouteMatch {
                path: "default".into(),
                settings: Settings {
                    receivers: self.default.clone(),
                    repeat_interval: self.repeat_interval,
                    active_time_intervals: Vec::new(),
                    mute_time_intervals: Vec::new(),
                },
            });
        }
        out
    }

    /// Whether a matched route is muted at `at` by its time windows.
    pub fn muted(&self, route: &RouteMatch, at: chrono::DateTime<chrono::Utc>) -> bool {
        self.time_intervals.muted(
            &route.settings.active_time_intervals,
            &route.settings.mute_time_intervals,
            at,
        )
    }

    /// The receivers for a notice at `at`: those of its unmuted routes, and apart the ones
    /// that only muted routes name. Each receiver once, in route order.
    pub fn destinations(
        &self,
        facts: &Facts<'_>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Destinations {
        let mut out = Destinations::default();
        let matches = self.matches(facts);
        for m in matches.iter().filter(|m| !self.muted(m, at)) {
            for r in &m.settings.receivers {
                if !out.deliver.contains(r) {
                    out.deliver.push(r.clone());
                }
            }
        }
        for m in matches.iter().filter(|m| self.muted(m, at)) {
            for r in &m.settings.receivers {
                if !out.deliver.contains(r) && !out.held.contains(r) {
                    out.held.push(r.clone());
                }
            }
        }
        out
    }

    /// Every receiver of the routes a notice matches, muted or not.
    pub fn route(&self, facts: &Facts<'_>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for m in self.matches(facts) {
            for r in m.settings.receivers {
                if !out.contains(&r) {
                    out.push(r);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
