//! The on-call week's oracle: who is muted for which alarm when (its own Berlin clock, the
//! silence, the inhibition), what each receiver is owed, and the invariants checked after
//! every step.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::desk::{Delivery, Desk, Kind};
use super::{alarm, office, Alarm, Figures, ALARMS, REPEAT, SLACK, SWEEP};
use crate::kernel::{lock, Sim};
use crate::models::dead_letters::DeadLetterModel;

/// What one receiver owes one alarm, by the oracle.
#[derive(Debug, Default, Clone)]
pub(super) struct Owed {
    /// When the next firing message is due (the ALARM, then each reminder); none when the
    /// alarm is OK or (PagerDuty) it was triggered.
    due: Option<DateTime<Utc>>,
    /// Since when the receiver has not been muted for the alarm.
    unmuted_since: Option<DateTime<Utc>>,
    /// The ids of this episode's firing messages, for its OK to reply to.
    anchors: Vec<String>,
    /// Those of them that are the ALARM itself (its first showing, and a re-send after a
    /// lost answer), not a reminder: what an OK may edit.
    alarms: Vec<String>,
    /// Whether the sender learned the id of one of `alarms`: only then can its OK reply
    /// to the ALARM itself.
    known_alarm: bool,
    /// Whether the sender learned one of those ids (a message of its own, not a digest
    /// line, whose answer was not lost): only then can its OK be a reply.
    known_anchor: bool,
    /// Whether the last firing message was shown by a request whose answer was lost.
    last_ambiguous: bool,
    /// Since when this episode's OK is owed (the receiver was shown its ALARM).
    ok_owed: Option<DateTime<Utc>>,
    /// This episode's OK, once shown: whether by a lost answer.
    ok_shown: Option<bool>,
    /// Whether the receiver was not muted for the alarm at some step of this episode
    /// (so that it may have been shown the ALARM).
    unmuted_in_episode: bool,
}

pub(super) struct Oracle {
    pub receivers: &'static [&'static str],
    /// The extras' invariants (see [`super::EXTRAS`]).
    pub extras: bool,
    pub firing: BTreeMap<&'static str, bool>,
    pub silence: (DateTime<Utc>, DateTime<Utc>),
    pub owed: BTreeMap<(&'static str, &'static str), Owed>,
    pub seen: usize,
    /// A dead letter waits for its redrive: what it owes is late until then, not lost.
    pub paused_until: Option<DateTime<Utc>>,
    /// What faults add to "within one sweep", seconds (0 without faults).
    pub fault_grace: i64,
}

impl Oracle {
    pub fn muted(&self, receiver: &str, a: &Alarm, t: DateTime<Utc>) -> bool {
        let silenced = a.name.starts_with("queue-") && self.silence.0 <= t && t < self.silence.1;
        let inhibited = a.severity == "warning"
            && ALARMS.iter().any(|s| {
                s.name != a.name
                    && s.severity == "critical"
                    && s.namespace == "AWS/RDS"
                    && s.dimension == a.dimension
                    && a.dimension.0 == "DBInstanceIdentifier"
                    && self.firing.get(s.name).copied().unwrap_or(false)
            });
        let window = if receiver == "pager" {
            office(t)
        } else {
            !office(t)
        };
        silenced || inhibited || window
    }

    pub fn change(&mut self, a: &'static Alarm, firing: bool, now: DateTime<Utc>, f: &mut Figures) {
        self.firing.insert(a.name, firing);
        for &r in self.receivers {
            let muted = self.muted(r, a, now);
            let o = self.owed.entry((r, a.name)).or_default();
            if firing {
                o.due = Some(now);
                o.anchors.clear();
                o.alarms.clear();
                o.known_alarm = false;
                o.known_anchor = false;
                o.last_ambiguous = false;
                o.ok_owed = None;
                o.ok_shown = None;
                o.unmuted_in_episode = !muted;
                if muted {
                    f.held += 1;
                }
            } else {
                o.due = None;
                if !o.anchors.is_empty() {
                    o.ok_owed = Some(now);
                }
            }
        }
    }

    /// Checks what the receivers showed since the last step, then what is overdue.
    pub fn check(&mut self, sim: &Sim, desk: &Desk, f: &mut Figures) {
        let now = sim.now();
        let shown: Vec<Delivery> = lock(&desk.shown)[self.seen..].to_vec();
        self.seen += shown.len();
        for d in shown {
            let Some(a) = alarm(d.alarm) else { continue };
            f.delivered += 1;
            let muted = self.muted(d.receiver, a, d.at);
            sim.check(
                "alarm-fanout week: nothing silenced, inhibited or outside its window is delivered while muted",
                !muted,
                || format!("{} got {} ({}) at {}", d.receiver, d.alarm, if d.firing { "ALARM" } else { "OK" }, d.at),
            );
            let firing = self.firing.get(a.name).copied().unwrap_or(false);
            let o = self.owed.entry((d.receiver, a.name)).or_default();
            match &d.kind {
                Kind::Message => {}
                Kind::Edit(ts) => {
                    // Its ALARM's own message, not a reminder after it. When the ALARM's
                    // first showing lost its answer, the sender only knows the re-sent copy:
                    // that one is the ALARM too.
                    sim.check(
                        "alarm-fanout week: an edited Slack message is its ALARM's own message (update_message), and shows the OK",
                        o.alarms.contains(ts) && !d.firing && !firing,
                        || format!("{} edited {ts} to show {} {} at {}; the episode's messages are {:?}, its ALARM's {:?}", d.receiver, d.alarm, if d.firing { "ALARM" } else { "OK" }, d.at, o.anchors, o.alarms),
                    );
                    f.edits += 1;
                    f.edits_of_the_alarm += u64::from(o.alarms.contains(ts));
                    continue;
                }
                Kind::Picture => {
                    // The text went first: its id is among the episode's messages, and the
                    // picture answers it.
                    let after_text = !o.anchors.is_empty()
                        && d.reply_to.as_ref().is_none_or(|r| o.anchors.contains(r));
                    sim.check(
                        "alarm-fanout week: an alarm's picture comes after its text (never before or instead of it) and replies to it",
                        after_text && firing,
                        || format!("{} got a picture of {} at {} replying to {:?}; the episode's messages are {:?}", d.receiver, d.alarm, d.at, d.reply_to, o.anchors),
                    );
                    f.pictures += 1;
                    continue;
                }
            }
            if d.firing {
                sim.check(
                    "alarm-fanout week: no ALARM or reminder after the OK",
                    firing,
                    || {
                        format!(
                            "{} got {} firing at {}, after its OK",
                            d.receiver, d.alarm, d.at
                        )
                    },
                );
                sim.check(
                    "alarm-fanout week: PagerDuty gets no reminders",
                    !(d.receiver == "pager" && d.reminder),
                    || format!("pager got a reminder of {} at {}", d.alarm, d.at),
                );
                let owed = o
                    .due
                    .is_some_and(|due| due <= d.at + chrono::Duration::seconds(SLACK));
                // A re-send after a lost answer is the one repeat the sender cannot avoid.
                let resent = !owed && o.last_ambiguous;
                sim.check(
                    "alarm-fanout week: a firing message only when owed (no reminder before repeat_interval, one trigger per episode, none repeated but after a lost answer)",
                    owed || resent,
                    || format!("{} got {} at {} (reminder {}), next due {:?}", d.receiver, d.alarm, d.at, d.reminder, o.due),
                );
                f.possible_duplicates += u64::from(resent);
                if o.due
                    .is_some_and(|due| o.unmuted_since.is_none_or(|u| u > due))
                {
                    f.released += 1;
                }
                f.reminders += u64::from(d.reminder);
                o.due = (d.receiver != "pager").then(|| d.at + chrono::Duration::seconds(REPEAT));
                o.anchors.push(d.id.clone());
                if !d.reminder {
                    o.alarms.push(d.id.clone());
                    o.known_alarm |= !d.ambiguous && !d.digest;
                }
                o.known_anchor |= !d.ambiguous && !d.digest;
                o.last_ambiguous = d.ambiguous;
            } else {
                if self.extras {
                    // The handler's rule for a held OK: it goes only to the receivers
                    // that were shown the alarm's trouble.
                    sim.check(
                        "alarm-fanout week: no OK to a receiver muted for its whole episode (one that never showed the ALARM)",
                        !o.anchors.is_empty() || o.unmuted_in_episode,
                        || format!("{} got the OK of {} at {} (replying to {:?}), though muted from its ALARM to its OK", d.receiver, d.alarm, d.at, d.reply_to),
                    );
                }
                if !o.anchors.is_empty() {
                    let again = o.ok_shown;
                    sim.check(
                        "alarm-fanout week: an episode's OK is shown once (again only after a lost answer)",
                        again.is_none_or(|lost| lost),
                        || format!("{} got the OK of {} again at {}", d.receiver, d.alarm, d.at),
                    );
                    f.possible_duplicates += u64::from(again.is_some());
                    o.ok_shown = Some(d.ambiguous);
                    o.ok_owed = None;
                }
                if d.receiver != "pager" && o.known_anchor && !d.digest {
                    // To the ALARM itself when its id is known, not to a reminder after it.
                    let to = if o.known_alarm { &o.alarms } else { &o.anchors };
                    let reply = d.reply_to.as_ref().is_some_and(|r| to.contains(r));
                    sim.check(
                        "alarm-fanout week: every OK in Telegram and Slack is a reply to its ALARM",
                        reply,
                        || {
                            format!(
                                "{} OK of {} at {} replies to {:?}, its ALARM messages are {:?}",
                                d.receiver, d.alarm, d.at, d.reply_to, o.anchors
                            )
                        },
                    );
                    f.replies += u64::from(reply);
                }
            }
        }
        for a in &ALARMS {
            let firing = self.firing.get(a.name).copied().unwrap_or(false);
            for &r in self.receivers {
                let muted = self.muted(r, a, now);
                let o = self.owed.entry((r, a.name)).or_default();
                if muted {
                    o.unmuted_since = None;
                    continue;
                }
                o.unmuted_in_episode |= firing;
                let since = *o.unmuted_since.get_or_insert(now);
                let paused = self.paused_until.is_some_and(|p| now < p);
                let due = o.due.filter(|due| firing && *due <= now);
                let ok_due = o.ok_owed.filter(|_| !firing);
                for (what, owed) in [("firing", due), ("OK", ok_due)] {
                    let Some(owed) = owed else { continue };
                    let owed_since = owed.max(since);
                    sim.check(
                        "alarm-fanout week: what is owed is delivered within one sweep (and Lambda's retries) of being owed: no notice lost",
                        paused || (now - owed_since).num_seconds() <= SWEEP + SLACK + self.fault_grace,
                        || format!("{r} still lacks {} ({what}) at {now}, owed since {owed_since}", a.name),
                    );
                }
            }
        }
    }

    /// At the end of the week, with faults over: the dead-letter queue is empty and every
    /// receiver that may be sent to now lacks nothing (the muted ones' notices are held).
    pub fn nothing_lost(&self, sim: &Sim, dlq: &DeadLetterModel) {
        let now = sim.now();
        sim.check(
            "alarm-fanout week: every dead letter was redriven",
            dlq.is_empty(),
            || format!("{} events left in the dead-letter queue", dlq.len()),
        );
        for a in &ALARMS {
            let firing = self.firing.get(a.name).copied().unwrap_or(false);
            for &r in self.receivers {
                if self.muted(r, a, now) {
                    continue;
                }
                let Some(o) = self.owed.get(&(r, a.name)) else {
                    continue;
                };
                let lacking =
                    (firing && o.due.is_some_and(|d| d <= now)) || (!firing && o.ok_owed.is_some());
                sim.check(
                    "alarm-fanout week: no notice lost by the end of the week",
                    !lacking,
                    || {
                        format!(
                            "{r} lacks {} ({}) at {now}",
                            a.name,
                            if firing { "ALARM" } else { "OK" }
                        )
                    },
                );
            }
        }
    }
}
