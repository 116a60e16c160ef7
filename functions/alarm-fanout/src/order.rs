//! What a notice does, given what its subject's records say: ordering by state change
//! time, duplicate-state suppression, and convergence per receiver.
//!
//! - A notice older than the newest change handled for its alarm is stale: never
//!   delivered, so it can never re-open what a newer state closed.
//! - Each receiver is sent a change only when the last change it was given is older, so a
//!   retried or re-delivered notice reaches exactly the receivers that still lack it.
//! - An OK also goes to every receiver still showing the alarm as not OK (they got its
//!   ALARM), whatever the routes say about OK; a receiver whose ALARM failed and was then
//!   superseded is never sent the stale ALARM, and gets the OK only if routed to it.
//! - The same state change arriving in a second message (SNS and EventBridge both, or a
//!   re-published alarm) is suppressed: duplicate suppression is keyed on the alarm, the
//!   state and the time of the state change.

use crate::notice::State;
use crate::store::{Change, Subject};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Older than `newest`: record and report, deliver nothing.
    Stale { newest: Change },
    Deliver {
        /// Receivers to send to now, in plan order.
        to: Vec<String>,
        /// Receivers of the plan that already show this change (or a newer one).
        already: Vec<String>,
        /// The same state change was already handled under another message id.
        duplicate_state: bool,
        /// This change is newer than the newest on record (to be recorded first).
        advances: bool,
    },
}

/// Decides for a notice carrying `change` in message `message_id`, routed to `routed`;
/// `known` says whether a receiver is still in the routing document.
pub fn decide(
    change: Change,
    message_id: &str,
    routed: &[String],
    subject: &Subject,
    known: impl Fn(&str) -> bool,
) -> Decision {
    if let Some(newest) = &subject.newest {
        if change.at_ms < newest.change.at_ms {
            return Decision::Stale {
                newest: newest.change,
            };
        }
    }
    let mut plan: Vec<String> = routed.to_vec();
    if change.state == Some(State::Ok) {
        // BTreeMap order: the plan, and so the order of sends, does not depend on hashing.
        for (receiver, last) in &subject.delivered {
            let shows_trouble = last.state.is_some_and(|s| s != State::Ok);
            if shows_trouble && !plan.contains(receiver) && known(receiver) {
                plan.push(receiver.clone());
            }
        }
    }
    // Equal times with different states (a tie CloudWatch's milliseconds make unlikely)
    // count as different changes.
    let has = |r: &String| {
        subject
            .delivered
            .get(r)
            .is_some_and(|last| last.at_ms > change.at_ms || *last == change)
    };
    let (already, to): (Vec<String>, Vec<String>) = plan.into_iter().partition(has);
    let duplicate_state = subject
        .newest
        .as_ref()
        .is_some_and(|n| n.change == change && n.message_id != message_id);
    let advances = subject.newest.as_ref().is_none_or(|n| {
        change.at_ms > n.change.at_ms || (change.at_ms == n.change.at_ms && change != n.change)
    });
    Decision::Deliver {
        to,
        already,
        duplicate_state,
        advances,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Newest;

    fn at(state: State, at_ms: i64) -> Change {
        Change {
            state: Some(state),
            at_ms,
        }
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn subject(newest: Change, id: &str, delivered: &[(&str, Change)]) -> Subject {
        Subject {
            newest: Some(Newest {
                change: newest,
                message_id: id.into(),
            }),
            delivered: delivered.iter().map(|(r, c)| (r.to_string(), *c)).collect(),
            progress: Default::default(),
        }
    }

    #[test]
    fn an_older_change_is_stale_and_never_delivered() {
        let s = subject(at(State::Ok, 200), "m2", &[("pd", at(State::Ok, 200))]);
        assert_eq!(
            decide(at(State::Alarm, 100), "m1", &names(&["pd"]), &s, |_| true),
            Decision::Stale {
                newest: at(State::Ok, 200)
            }
        );
    }

    #[test]
    fn the_ok_follows_the_alarm_to_exactly_the_receivers_that_got_it() {
        // The ALARM reached pd and tg; slack failed. The OK routes to tg only.
        let s = subject(
            at(State::Alarm, 100),
            "m1",
            &[("pd", at(State::Alarm, 100)), ("tg", at(State::Alarm, 100))],
        );
        let d = decide(at(State::Ok, 200), "m2", &names(&["tg"]), &s, |_| true);
        assert_eq!(
            d,
            Decision::Deliver {
                to: names(&["tg", "pd"]),
                already: vec![],
                duplicate_state: false,
                advances: true
            }
        );
        // A receiver gone from the routing document is not followed.
        let d = decide(at(State::Ok, 200), "m2", &names(&["tg"]), &s, |r| r != "pd");
        assert!(matches!(d, Decision::Deliver { to, .. } if to == names(&["tg"])));
    }

    #[test]
    fn a_retry_sends_only_to_the_receivers_that_lack_the_change() {
        let s = subject(
            at(State::Alarm, 100),
            "m1",
            &[("pd", at(State::Alarm, 100)), ("tg", at(State::Ok, 50))],
        );
        let d = decide(
            at(State::Alarm, 100),
            "m1",
            &names(&["pd", "tg"]),
            &s,
            |_| true,
        );
        assert_eq!(
            d,
            Decision::Deliver {
                to: names(&["tg"]),
                already: names(&["pd"]),
                duplicate_state: false,
                advances: false
            }
        );
    }

    #[test]
    fn the_same_state_change_in_another_message_is_a_duplicate_state() {
        let s = subject(
            at(State::Alarm, 100),
            "m1",
            &[("pd", at(State::Alarm, 100))],
        );
        let d = decide(at(State::Alarm, 100), "e1", &names(&["pd"]), &s, |_| true);
        assert_eq!(
            d,
            Decision::Deliver {
                to: vec![],
                already: names(&["pd"]),
                duplicate_state: true,
                advances: false
            }
        );
        // A new ALARM after an OK is never suppressed.
        let s = subject(at(State::Ok, 200), "m2", &[("pd", at(State::Ok, 200))]);
        let d = decide(at(State::Alarm, 300), "m3", &names(&["pd"]), &s, |_| true);
        assert!(
            matches!(d, Decision::Deliver { ref to, duplicate_state: false, .. } if to == &names(&["pd"])),
            "{d:?}"
        );
    }

    #[test]
    fn other_notices_are_sent_once_per_receiver() {
        let text = Change {
            state: None,
            at_ms: 0,
        };
        let s = Subject {
            delivered: [("hook".to_string(), text)].into_iter().collect(),
            ..Subject::default()
        };
        let d = decide(text, "m1", &names(&["hook", "tg"]), &s, |_| true);
        assert!(matches!(d, Decision::Deliver { to, .. } if to == names(&["tg"])));
    }
}
