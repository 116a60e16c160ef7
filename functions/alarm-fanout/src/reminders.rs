//! Reminders: an alarm still in ALARM a route's `repeat_interval` after it was last sent
//! to that route's receivers is sent to them again, marked as a reminder, by the sweep
//! ([`crate::remind`]). This is not #13's duplicate-state suppression (a second ALARM
//! notice of the same state change is never re-sent); a reminder is a new, marked message
//! about a state that has lasted.
//!
//! One record per alarm (`Reminder`), written when an ALARM advances the alarm's newest
//! change and dropped when any later change (OK, INSUFFICIENT_DATA) advances it. An index
//! keeps each alarm's next due time, so the sweep finds what is due without a table scan,
//! and a sweep claims a due reminder by a write conditional on that due time: a retried or
//! concurrent sweep finds the due time moved and sends nothing.
//!
//! Like Alertmanager's `repeat_interval`, the interval counts from the last send to the
//! receiver (the ALARM itself, then each reminder); a sweep that ran late sends one
//! reminder, not one per interval missed.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::Error;
use crate::notice::{Body, Notice};
use crate::routing::{Receiver, RouteMatch, Routing};

/// An alarm in ALARM whose routes have a `repeat_interval`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reminder {
    /// The subject's key (`alarm#...`).
    pub subject: String,
    /// The ALARM notice that was delivered.
    pub notice: Notice,
    /// The ALARM's state change time (ms): the change the reminders are about.
    pub since_ms: i64,
    /// Per receiver: when it was last sent this alarm (the ALARM, then each reminder).
    pub last_sent_ms: BTreeMap<String, i64>,
    /// When the next receiver is due (the index's value; the claim is conditional on it).
    pub due_ms: i64,
}

/// Per receiver, the shortest `repeat_interval` of the matched routes that send to it.
/// PagerDuty receivers get no reminders: PagerDuty's Events API v2 deduplicates a trigger
/// with an open incident's `dedup_key` (nothing new for anyone) and opens a NEW incident
/// when that incident was resolved by hand, so a reminder could only do nothing or re-open
/// what a person closed; PagerDuty re-notifies through its own escalation policies.
pub fn intervals(routing: &Routing, matches: &[RouteMatch]) -> BTreeMap<String, Duration> {
    let mut out: BTreeMap<String, Duration> = BTreeMap::new();
    for m in matches {
        let Some(every) = m.settings.repeat_interval else {
            continue;
        };
        for r in &m.settings.receivers {
            if matches!(
                routing.receivers.get(r),
                Some(Receiver::Pagerduty { .. }) | None
            ) {
                continue;
            }
            out.entry(r.clone())
                .and_modify(|d| *d = (*d).min(every))
                .or_insert(every);
        }
    }
    out
}

fn last_sent(reminder_since: i64, last: &BTreeMap<String, i64>, receiver: &str) -> i64 {
    last.get(receiver).copied().unwrap_or(reminder_since)
}

/// The receivers due a reminder at `now_ms`.
pub fn due(
    intervals: &BTreeMap<String, Duration>,
    since_ms: i64,
    last: &BTreeMap<String, i64>,
    now_ms: i64,
) -> Vec<String> {
    intervals
        .iter()
        .filter(|(r, every)| last_sent(since_ms, last, r) + every.as_millis() as i64 <= now_ms)
        .map(|(r, _)| r.clone())
        .collect()
}

/// When the next receiver is due, or `None` when no receiver has an interval.
pub fn next_due(
    intervals: &BTreeMap<String, Duration>,
    since_ms: i64,
    last: &BTreeMap<String, i64>,
) -> Option<i64> {
    intervals
        .iter()
        .map(|(r, every)| last_sent(since_ms, last, r) + every.as_millis() as i64)
        .min()
}

/// When a reminder's record expires (the table's TTL, epoch seconds): the record TTL after
/// its next due time, or after now when none is due or it is overdue. Every write of the
/// record sets it, so an alarm that keeps firing keeps its record however long it fires.
pub fn expires_at(now_ms: i64, next_due_ms: Option<i64>, ttl: Duration) -> i64 {
    next_due_ms.unwrap_or(now_ms).max(now_ms) / 1000 + ttl.as_secs() as i64
}

/// The notice sent as a reminder: the ALARM, with a first line saying it is a reminder and
/// since when the alarm is in ALARM (every receiver's format shows the description).
pub fn reminder_notice(notice: &Notice, since_ms: i64, now_ms: i64) -> Notice {
    let mut out = notice.clone();
    out.id = format!("{}#reminder@{now_ms}", notice.id);
    out.reminder = true;
    if let Body::Alarm(a) = &mut out.body {
        let since = chrono::DateTime::from_timestamp_millis(since_ms)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| "-".into());
        let lasted = humanize(Duration::from_millis(
            now_ms.saturating_sub(since_ms).max(0) as u64,
        ));
        let line = format!("Reminder: still in ALARM since {since} ({lasted}).");
        a.description = Some(match a.description.take() {
            Some(d) if !d.trim().is_empty() => format!("{line}\n{d}"),
            _ => line,
        });
    }
    out
}

/// `2h 5m`, `3d 4h`, `45m`.
fn humanize(d: Duration) -> String {
    let minutes = d.as_secs() / 60;
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{mins}m"),
        (0, h) => format!("{h}h {mins}m"),
        (d, h) => format!("{d}d {h}h"),
    }
}

/// Where a claimed reminder goes: due again at `due_ms`, with when each receiver was last
/// reminded and the record's new expiry (epoch seconds).
#[derive(Debug, Clone, Copy)]
pub struct Rescheduled<'a> {
    pub due_ms: i64,
    pub last_sent_ms: &'a BTreeMap<String, i64>,
    pub expires_at: i64,
}

impl<'a> Rescheduled<'a> {
    /// The reminder after a send at `now_ms`: due again at `next_due_ms`, the record kept
    /// `ttl` past that; `None` (nothing due again) drops it.
    pub fn after(
        now_ms: i64,
        next_due_ms: Option<i64>,
        last_sent_ms: &'a BTreeMap<String, i64>,
        ttl: Duration,
    ) -> Option<Self> {
        next_due_ms.map(|due_ms| Self {
            due_ms,
            last_sent_ms,
            expires_at: expires_at(now_ms, Some(due_ms), ttl),
        })
    }
}

pub trait ReminderStore: Send + Sync {
    /// Records (or replaces) the alarm's reminder and its due time in the index.
    fn schedule(
        &self,
        reminder: &Reminder,
        expires_at: i64,
    ) -> impl Future<Output = Result<(), Error>> + Send;
    /// The reminders due at `now_ms`.
    fn due_reminders(
        &self,
        now_ms: i64,
    ) -> impl Future<Output = Result<Vec<Reminder>, Error>> + Send;
    /// Moves the subject's reminder from `due_ms` to `next` (its due time, last sends and
    /// expiry in one write), or drops it when `None`, only if it is still due at `due_ms`.
    /// `false`: another sweep (or a newer change) moved it first; send nothing.
    fn claim(
        &self,
        subject: &str,
        due_ms: i64,
        next: Option<Rescheduled<'_>>,
    ) -> impl Future<Output = Result<bool, Error>> + Send;
    /// Drops the subject's reminder (its alarm left ALARM).
    fn cancel(&self, subject: &str) -> impl Future<Output = Result<(), Error>> + Send;
    /// The subject's scheduled reminder, due or not.
    fn reminder(
        &self,
        subject: &str,
    ) -> impl Future<Output = Result<Option<Reminder>, Error>> + Send;
}

/// Reminders in memory (unit tests, the simulation), with the same conditions, and the
/// table's TTL: a record past its expiry (epoch seconds) is gone for the sweep, as if
/// DynamoDB had deleted it.
#[derive(Debug, Default, Clone)]
pub struct MemoryReminders(Arc<Mutex<BTreeMap<String, (Reminder, i64)>>>);

impl MemoryReminders {
    fn locked(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, (Reminder, i64)>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The subject's reminder, if one is scheduled.
    pub fn get(&self, subject: &str) -> Option<Reminder> {
        self.locked().get(subject).map(|(r, _)| r.clone())
    }

    /// When the subject's record expires (epoch seconds), if there is one.
    pub fn expires_at(&self, subject: &str) -> Option<i64> {
        self.locked().get(subject).map(|(_, e)| *e)
    }
}

impl ReminderStore for MemoryReminders {
    async fn schedule(&self, reminder: &Reminder, expires_at: i64) -> Result<(), Error> {
        self.locked()
            .insert(reminder.subject.clone(), (reminder.clone(), expires_at));
        Ok(())
    }

    async fn due_reminders(&self, now_ms: i64) -> Result<Vec<Reminder>, Error> {
        let mut all = self.locked();
        all.retain(|_, (_, expires_at)| *expires_at > now_ms / 1000);
        Ok(all
            .values()
            .map(|(r, _)| r)
            .filter(|r| r.due_ms <= now_ms)
            .cloned()
            .collect())
    }

    async fn claim(
        &self,
        subject: &str,
        due_ms: i64,
        next: Option<Rescheduled<'_>>,
    ) -> Result<bool, Error> {
        let mut all = self.locked();
        match (all.get_mut(subject), next) {
            (Some((r, expiry)), Some(next)) if r.due_ms == due_ms => {
                r.due_ms = next.due_ms;
                r.last_sent_ms = next.last_sent_ms.clone();
                *expiry = next.expires_at;
                Ok(true)
            }
            (Some((r, _)), None) if r.due_ms == due_ms => {
                all.remove(subject);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn cancel(&self, subject: &str) -> Result<(), Error> {
        self.locked().remove(subject);
        Ok(())
    }

    async fn reminder(&self, subject: &str) -> Result<Option<Reminder>, Error> {
        Ok(self.get(subject))
    }
}

impl ReminderStore for crate::store::MemoryStore {
    async fn schedule(&self, reminder: &Reminder, expires_at: i64) -> Result<(), Error> {
        self.reminders.schedule(reminder, expires_at).await
    }

    async fn due_reminders(&self, now_ms: i64) -> Result<Vec<Reminder>, Error> {
        self.reminders.due_reminders(now_ms).await
    }

    async fn claim(
        &self,
        subject: &str,
        due_ms: i64,
        next: Option<Rescheduled<'_>>,
    ) -> Result<bool, Error> {
        self.reminders.claim(subject, due_ms, next).await
    }

    async fn cancel(&self, subject: &str) -> Result<(), Error> {
        self.reminders.cancel(subject).await
    }

    async fn reminder(&self, subject: &str) -> Result<Option<Reminder>, Error> {
        self.reminders.reminder(subject).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn alarm_notice(name: &str) -> Notice {
        let m = serde_json::json!({"AlarmName": name, "NewStateValue": "ALARM",
            "AlarmDescription": "CPU above 80%",
            "StateChangeTime": "1970-01-01T00:00:00.000+0000"});
        let event = serde_json::json!({"Records": [{"Sns": {"MessageId": "m1", "Message": m.to_string()}}]});
        match crate::event::parse_input(&event) {
            Ok(crate::event::Input::Notices(mut n)) => n.remove(0),
            other => panic!("not a notice: {other:?}"),
        }
    }

    fn every(pairs: &[(&str, u64)]) -> BTreeMap<String, Duration> {
        pairs
            .iter()
            .map(|(r, m)| (r.to_string(), Duration::from_secs(m * 60)))
            .collect()
    }

    #[test]
    fn nothing_is_due_before_the_interval_and_each_receiver_on_its_own() {
        let i = every(&[("chat", 60), ("mail", 240)]);
        let none = BTreeMap::new();
        assert!(due(&i, 0, &none, 59 * MIN).is_empty());
        assert_eq!(due(&i, 0, &none, 60 * MIN), vec!["chat".to_string()]);
        assert_eq!(due(&i, 0, &none, 240 * MIN), vec!["chat", "mail"]);
        assert_eq!(next_due(&i, 0, &none), Some(60 * MIN));
    }

    #[test]
    fn the_interval_counts_from_the_last_send_and_a_late_sweep_sends_once() {
        let i = every(&[("chat", 60)]);
        let last: BTreeMap<_, _> = [("chat".to_string(), 200 * MIN)].into();
        // Three intervals were missed before the send at 200 min: one reminder then, the
        // next an interval after it.
        assert!(due(&i, 0, &last, 259 * MIN).is_empty());
        assert_eq!(next_due(&i, 0, &last), Some(260 * MIN));
    }

    #[test]
    fn no_interval_means_no_reminder() {
        assert_eq!(next_due(&BTreeMap::new(), 0, &BTreeMap::new()), None);
    }

    #[test]
    fn pagerduty_gets_no_reminders_and_the_shortest_interval_wins() {
        let doc = r#"
receivers:
  chat: { type: webhook, url_secret: s }
  pager: { type: pagerduty, routing_key_secret: k }
routes:
  - match: { alarm_name: "db-*" }
    receivers: [chat, pager]
    repeat_interval: 4h
    continue: true
  - match: { alarm_name: "db-*" }
    receivers: [chat]
    repeat_interval: 1h
default: [chat]
"#;
        let routing = Routing::parse(doc).expect("document");
        let notice = alarm_notice("db-cpu");
        let facts = crate::routing::Facts::of(&notice, None);
        let got = intervals(&routing, &routing.matches(&facts));
        assert_eq!(got, every(&[("chat", 60)]));
    }

    #[test]
    fn a_reminder_says_so_and_since_when() {
        let notice = alarm_notice("db-cpu");
        let r = reminder_notice(&notice, 0, 125 * MIN);
        let text = r
            .alarm()
            .and_then(|a| a.description.clone())
            .unwrap_or_default();
        assert!(
            text.starts_with("Reminder: still in ALARM since 1970-01-01 00:00 UTC (2h 5m)."),
            "{text}"
        );
        assert_ne!(r.id, notice.id);
    }

    #[tokio::test]
    async fn a_claim_is_conditional_on_the_due_time() {
        let store = MemoryReminders::default();
        let notice = alarm_notice("db-cpu");
        let r = Reminder {
            subject: "alarm#a".into(),
            notice,
            since_ms: 0,
            last_sent_ms: BTreeMap::new(),
            due_ms: 60 * MIN,
        };
        let ttl = Duration::from_secs(30 * 86_400);
        store
            .schedule(&r, expires_at(0, Some(60 * MIN), ttl))
            .await
            .expect("schedule");
        assert!(store.due_reminders(59 * MIN).await.expect("due").is_empty());
        assert_eq!(store.due_reminders(60 * MIN).await.expect("due").len(), 1);
        let last = BTreeMap::new();
        let next = Rescheduled::after(60 * MIN, Some(120 * MIN), &last, ttl);
        assert!(store.claim("alarm#a", 60 * MIN, next).await.expect("claim"));
        // The retried sweep read the old due time: it sends nothing.
        assert!(!store.claim("alarm#a", 60 * MIN, next).await.expect("claim"));
        store.cancel("alarm#a").await.expect("cancel");
        assert!(store.due_reminders(i64::MAX).await.expect("due").is_empty());
    }

    #[tokio::test]
    async fn a_record_lives_the_ttl_past_its_next_due_time_and_each_claim_extends_it() {
        const DAY_MS: i64 = 86_400_000;
        let ttl = Duration::from_secs(30 * 86_400);
        // Due in 40 days (a long interval): the record must outlive that.
        assert_eq!(expires_at(0, Some(40 * DAY_MS), ttl), 70 * 86_400);
        // Overdue or nothing due: from now.
        assert_eq!(expires_at(5 * DAY_MS, Some(DAY_MS), ttl), 35 * 86_400);
        assert_eq!(expires_at(5 * DAY_MS, None, ttl), 35 * 86_400);

        let store = MemoryReminders::default();
        let r = Reminder {
            subject: "alarm#a".into(),
            notice: alarm_notice("db-cpu"),
            since_ms: 0,
            last_sent_ms: BTreeMap::new(),
            due_ms: DAY_MS,
        };
        store
            .schedule(&r, expires_at(0, Some(DAY_MS), ttl))
            .await
            .expect("schedule");
        // Claimed on day 1, due again on day 2: its expiry moves to day 32.
        let last = BTreeMap::new();
        let next = Rescheduled::after(DAY_MS, Some(2 * DAY_MS), &last, ttl);
        assert!(store.claim("alarm#a", DAY_MS, next).await.expect("claim"));
        assert_eq!(store.expires_at("alarm#a"), Some(32 * 86_400));
        assert_eq!(
            store.due_reminders(31 * DAY_MS).await.expect("due").len(),
            1
        );
        // Past its expiry it is gone, as DynamoDB's TTL deletes it.
        assert!(store
            .due_reminders(32 * DAY_MS)
            .await
            .expect("due")
            .is_empty());
        assert!(store.get("alarm#a").is_none());
    }
}
