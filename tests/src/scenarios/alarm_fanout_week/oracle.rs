//! The on-call week's oracle: who is muted for which alarm when (its own Berlin clock, the
//! silence, the inhibition), what each receiver is owed, and the invariants checked after
//! every step.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::desk::{Delivery, Desk};
use super::{alarm, office, Alarm, Figures, ALARMS, RECEIVERS, REPEAT, SLACK, SWEEP};
use crate::kernel::{lock, Sim};

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
}

pub(super) struct Oracle {
    pub firing: BTreeMap<&'static str, bool>,
    pub silence: (DateTime<Utc>, DateTime<Utc>),
    pub owed: BTreeMap<(&'static str, &'static str), Owed>,
    pub seen: usize,
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
        for r in RECEIVERS {
            let muted = self.muted(r, a, now);
            let o = self.owed.entry((r, a.name)).or_default();
            if firing {
                o.due = Some(now);
                o.anchors.clear();
                if muted {
                    f.held += 1;
                }
            } else {
                o.due = None;
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
                sim.check(
                    "alarm-fanout week: a firing message only when owed (no reminder before repeat_interval, one trigger per episode)",
                    o.due
                        .is_some_and(|due| due <= d.at + chrono::Duration::seconds(SLACK)),
                    || format!("{} got {} at {} (reminder {}), next due {:?}", d.receiver, d.alarm, d.at, d.reminder, o.due),
                );
                if o.due
                    .is_some_and(|due| o.unmuted_since.is_none_or(|u| u > due))
                {
                    f.released += 1;
                }
                f.reminders += u64::from(d.reminder);
                o.due = (d.receiver != "pager").then(|| d.at + chrono::Duration::seconds(REPEAT));
                o.anchors.push(d.id.clone());
            } else if d.receiver != "pager" && !o.anchors.is_empty() {
                let reply = d.reply_to.as_ref().is_some_and(|r| o.anchors.contains(r));
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
        for a in &ALARMS {
            let firing = self.firing.get(a.name).copied().unwrap_or(false);
            for r in RECEIVERS {
                let muted = self.muted(r, a, now);
                let o = self.owed.entry((r, a.name)).or_default();
                if muted {
                    o.unmuted_since = None;
                    continue;
                }
                let since = *o.unmuted_since.get_or_insert(now);
                let Some(due) = o.due.filter(|due| firing && *due <= now) else {
                    continue;
                };
                let owed_since = due.max(since);
                sim.check(
                    "alarm-fanout week: what fires is delivered within one sweep of being owed (mute ended, repeat_interval passed)",
                    (now - owed_since).num_seconds() <= SWEEP + SLACK,
                    || format!("{r} still lacks {} at {now}, owed since {owed_since}", a.name),
                );
            }
        }
    }
}
