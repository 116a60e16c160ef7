//! The sweep: every minute (the `flush` schedule), each held notice ([`crate::held`]) goes
//! through the handler again. Routes that are no longer muted get it if they still lack
//! it; one that is still muted keeps it held; a notice that a newer state change made
//! stale, or that every receiver now has, is released. So what is still firing when a mute
//! ends is delivered within one sweep, and nothing muted is sent while muted.
//!
//! A held OK is sent only to the receivers that were shown its ALARM: one muted for the
//! whole episode is not woken by the OK of an ALARM it never showed.
//!
//! A sweep stops taking held notices when the invocation's deadline is near; the rest wait
//! for the next minute's sweep (they stay recorded).

use std::time::Duration;

use groundcrew::Invocation;

use crate::error::Error;
use crate::handler::{App, NoticeReport};
use crate::held::HeldStore;
use crate::pace::PaceStore;
use crate::receivers::Deliver;
use crate::redrive::DeadLetters;
use crate::routing::Routing;
use crate::severity::TagLookup;
use crate::silences::InvocationSilences;
use crate::store::Store;

/// A held notice is taken only while this much of the invocation is left.
const MIN_SWEEP_TIME: Duration = Duration::from_secs(15);

impl<
        St: Store
            + PaceStore
            + HeldStore
            + crate::silences::SilenceStore
            + crate::reminders::ReminderStore
            + crate::inhibition::SourceStore,
        D: Deliver,
        T: TagLookup + 'static,
        Q: DeadLetters,
    > App<St, D, T, Q>
{
    /// Hands every held notice back to the handler; releases those no longer held.
    /// `silences` is the invocation's read of them.
    pub async fn sweep(
        &self,
        routing: &Routing,
        invocation: &Invocation,
        silences: &InvocationSilences,
    ) -> (Vec<NoticeReport>, Vec<Error>) {
        let held = match self.store.held().await {
            Ok(held) => held,
            Err(e) => return (Vec::new(), vec![e]),
        };
        let mut reports = Vec::new();
        let mut errors = Vec::new();
        for h in held {
            if !invocation.deadline.allows(MIN_SWEEP_TIME) {
                tracing::warn!(
                    "sweep stopped before the deadline; the rest waits for the next one"
                );
                break;
            }
            match self
                .release_notice(&h.notice, &h.receivers, routing, invocation, silences)
                .await
            {
                Ok(report) => {
                    if let Err(e) = self
                        .restart_reminders(&h.subject, &h.notice, &report.sent, routing, invocation)
                        .await
                    {
                        errors.push(e);
                    }
                    if report.held.is_empty() {
                        if let Err(e) = self.store.release_held(&h.subject, &h.notice.id).await {
                            errors.push(e);
                        }
                    }
                    reports.push(report);
                }
                Err(e) => errors.push(e),
            }
        }
        (reports, errors)
    }
}
