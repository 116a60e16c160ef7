//! Reminders in the handler and the sweep ([`crate::reminders`] holds the records and the
//! due logic): an ALARM that advances an alarm schedules its reminder, any later change
//! cancels it (both under the subject's lease, so in the alarm's order); the every-minute
//! sweep sends what is due, under the same lease, and only while the alarm's newest change
//! is still that ALARM: a reminder never comes after the OK.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use futures::future::join_all;
use groundcrew::Invocation;

use crate::delivery::Sending;
use crate::error::Error;
use crate::format;
use crate::handler::{App, NoticeReport};
use crate::held::HeldStore;
use crate::notice::State;
use crate::pace::PaceStore;
use crate::receivers::Deliver;
use crate::redrive::DeadLetters;
use crate::reminders::{
    due, expires_at, intervals, next_due, reminder_notice, Reminder, ReminderStore, Rescheduled,
};
use crate::routing::{Facts, Routing};
use crate::severity::TagLookup;
use crate::silences::{ActiveSilences, InvocationSilences, SilenceStore};
use crate::store::{Change, Lease, Store};

/// A due reminder is taken only while this much of the invocation is left.
const MIN_REMIND_TIME: Duration = Duration::from_secs(15);

impl<
        St: Store
            + PaceStore
            + HeldStore
            + SilenceStore
            + ReminderStore
            + crate::inhibition::SourceStore,
        D: Deliver,
        T: TagLookup + 'static,
        Q: DeadLetters,
    > App<St, D, T, Q>
{
    /// Under the subject's lease, when `change` advanced the alarm: an ALARM on routes with
    /// a `repeat_interval` schedules its reminders; any other state cancels them.
    pub(crate) async fn note_for_reminders(
        &self,
        notice: &crate::notice::Notice,
        routing: &Routing,
        facts: &Facts<'_>,
        change: Change,
        lease: &Lease,
        invocation: &Invocation,
    ) -> Result<(), Error> {
        if change.state != Some(State::Alarm) {
            return self.store.cancel(&lease.subject).await;
        }
        let every = intervals(routing, &routing.matches(facts));
        let now = invocation.now();
        let last: BTreeMap<String, i64> = every
            .keys()
            .map(|r| (r.clone(), now.timestamp_millis()))
            .collect();
        match next_due(&every, change.at_ms, &last) {
            None => self.store.cancel(&lease.subject).await,
            Some(due_ms) => {
                let reminder = Reminder {
                    subject: lease.subject.clone(),
                    notice: notice.clone(),
                    since_ms: change.at_ms,
                    last_sent_ms: last,
                    due_ms,
                };
                let expires_at =
                    expires_at(now.timestamp_millis(), Some(due_ms), self.policy.record_ttl);
                self.store.schedule(&reminder, expires_at).await
            }
        }
    }

    /// After the sweep delivered a held ALARM to `sent` (its mute ended), their reminders
    /// count from now, not from the ALARM: a receiver that was muted for longer than its
    /// `repeat_interval` would otherwise get a reminder right after the ALARM itself.
    /// Conditional on the reminder's due time, like a reminder's own claim; if another
    /// sweep moved it meanwhile, that sweep's record stands.
    pub(crate) async fn restart_reminders(
        &self,
        subject: &str,
        notice: &crate::notice::Notice,
        sent: &[String],
        routing: &Routing,
        invocation: &Invocation,
    ) -> Result<(), Error> {
        if sent.is_empty() {
            return Ok(());
        }
        let Some(alarm) = notice.alarm() else {
            return Ok(());
        };
        let Some(reminder) = self.store.reminder(subject).await? else {
            return Ok(());
        };
        if reminder.notice.id != notice.id {
            return Ok(());
        }
        let (severity, tags) = self.severity.resolve_with_tags(alarm).await;
        let facts = Facts::of(notice, Some(severity)).with_tags(&tags);
        let every = intervals(routing, &routing.matches(&facts));
        let now_ms = invocation.now().timestamp_millis();
        let mut last = reminder.last_sent_ms.clone();
        for r in sent.iter().filter(|r| every.contains_key(*r)) {
            last.insert(r.clone(), now_ms);
        }
        let next = next_due(&every, reminder.since_ms, &last);
        let next = Rescheduled::after(now_ms, next, &last, self.policy.record_ttl);
        self.store
            .claim(subject, reminder.due_ms, next)
            .await
            .map(|_| ())
    }

    /// Sends every due reminder (the sweep); the rest waits for the next sweep when the
    /// deadline is near.
    /// `silences` is the invocation's read of them.
    pub async fn remind(
        &self,
        routing: &Routing,
        invocation: &Invocation,
        silences: &InvocationSilences,
    ) -> (Vec<NoticeReport>, Vec<Error>) {
        let due = match self
            .store
            .due_reminders(invocation.now().timestamp_millis())
            .await
        {
            Ok(due) => due,
            Err(e) => return (Vec::new(), vec![e]),
        };
        let mut reports = Vec::new();
        let mut errors = Vec::new();
        for reminder in due {
            if !invocation.deadline.allows(MIN_REMIND_TIME) {
                tracing::warn!("reminders stopped before the deadline; the rest wait");
                break;
            }
            let (lease, subject) = match self
                .acquire(&reminder.subject, &reminder.notice, invocation)
                .await
            {
                Ok(taken) => taken,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let still_firing = subject.newest.as_ref().is_some_and(|n| {
                n.change.state == Some(State::Alarm) && n.change.at_ms == reminder.since_ms
            });
            let result = if still_firing {
                self.remind_one(&reminder, routing, &lease, invocation, silences)
                    .await
            } else {
                // A newer change came (its own write cancels too): drop this one only.
                self.store
                    .claim(&reminder.subject, reminder.due_ms, None)
                    .await
                    .map(|_| None)
            };
            if let Err(e) = self.store.release(&lease).await {
                tracing::warn!(error = %e, subject = %lease.subject, "could not release the lease; it expires by itself");
            }
            match result {
                Ok(Some(report)) => reports.push(report),
                Ok(None) => {}
                Err(e) => errors.push(e),
            }
        }
        (reports, errors)
    }

    async fn remind_one(
        &self,
        reminder: &Reminder,
        routing: &Routing,
        lease: &Lease,
        invocation: &Invocation,
        silences: &InvocationSilences,
    ) -> Result<Option<NoticeReport>, Error> {
        let Some(alarm) = reminder.notice.alarm() else {
            return Ok(None);
        };
        let now = invocation.now();
        let now_ms = now.timestamp_millis();
        let (severity, tags) = self.severity.resolve_with_tags(alarm).await;
        let facts = Facts::of(&reminder.notice, Some(severity)).with_tags(&tags);
        let every = intervals(routing, &routing.matches(&facts));
        // A muted route (time window), a silence or an inhibition sends no reminder now;
        // it stays due.
        let silences = silences.get(&self.store).await?;
        let silenced = ActiveSilences::at(silences, now).matching(&facts).is_some()
            || self
                .inhibitor(routing, &reminder.subject, &facts)
                .await?
                .is_some();
        let muted = routing.destinations(&facts, now).held;
        let to: Vec<String> = due(&every, reminder.since_ms, &reminder.last_sent_ms, now_ms)
            .into_iter()
            .filter(|r| !silenced && !muted.contains(r))
            .collect();
        let mut last = reminder.last_sent_ms.clone();
        last.retain(|r, _| every.contains_key(r));
        for r in &to {
            last.insert(r.clone(), now_ms);
        }
        let next = next_due(&every, reminder.since_ms, &last);
        // The claim is the idempotence: a retried or concurrent sweep finds it moved. It
        // also keeps the record of an alarm that fires for longer than the record TTL.
        let next = Rescheduled::after(now_ms, next, &last, self.policy.record_ttl);
        if !self
            .store
            .claim(&reminder.subject, reminder.due_ms, next)
            .await?
            || to.is_empty()
        {
            return Ok(None);
        }
        let notice = reminder_notice(&reminder.notice, reminder.since_ms, now_ms);
        let change = Change {
            state: Some(State::Alarm),
            at_ms: reminder.since_ms,
        };
        let stop = AtomicBool::new(false);
        let results = join_all(to.iter().map(|name| {
            self.deliver_one(
                routing, name, &notice, severity, change, None, lease, invocation, &stop,
            )
        }))
        .await;
        let mut report = NoticeReport::delivering(
            &notice,
            format!("Reminder: {}", format::headline(&notice)),
            Some(severity),
        );
        let mut failed = Vec::new();
        let mut reasons = Vec::new();
        for (name, result) in to.into_iter().zip(results) {
            match result {
                Sending::Sent { duplicates, .. } => {
                    report.possible_duplicates += duplicates;
                    report.sent.push(name);
                }
                Sending::Folded => report.folded.push(name),
                Sending::Failed(reason) => {
                    failed.push(name);
                    reasons.push(reason);
                }
                Sending::LeaseLost => {
                    return Err(Error::LeaseLost {
                        subject: lease.subject.clone(),
                    })
                }
            }
        }
        if !failed.is_empty() {
            // The next reminder comes an interval later; the failure reaches a person
            // through the sweep's error (the schedule's failure alarm).
            return Err(Error::Delivery {
                id: notice.id,
                failed,
                reasons,
            });
        }
        tracing::info!(id = %notice.id, sent = ?report.sent, "reminder sent");
        Ok(Some(report))
    }
}
