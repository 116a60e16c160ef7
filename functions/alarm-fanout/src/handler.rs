//! The handler: an event ([`crate::event`]) to its work. Notices are handled one by one,
//! each under its subject's lease ([`lease`]), decided by [`crate::order`] ([`notice`]) and
//! delivered to receivers concurrently, each delivery recorded as it succeeds ([`send`]);
//! the actions go to [`crate::redrive`], [`crate::flush`] (with the sweep and reminders)
//! and [`crate::silences`].

mod lease;
mod notice;
mod send;

use std::sync::atomic::AtomicU64;

use groundcrew::Invocation;
use serde_json::Value;

use crate::error::Error;
use crate::event::{parse_input, Input};
use crate::held::HeldStore;
use crate::inhibition::SourceStore;
use crate::notice::Notice;
use crate::pace::PaceStore;
use crate::receivers::Deliver;
use crate::redrive::DeadLetters;
use crate::reminders::ReminderStore;
pub use crate::report::{NoticeReport, Outcome, Policy, Report};
use crate::routing::Routing;
use crate::routing_cache::RoutingCache;
use crate::severity::{SeverityResolver, TagLookup};
use crate::silences::{InvocationSilences, SilenceStore};
use crate::store::Store;

/// Every record the handler keeps: delivery records and leases, paced receivers' budgets,
/// held notices, silences, reminders and inhibition sources (one table in production).
pub trait Stores:
    Store + PaceStore + HeldStore + SilenceStore + ReminderStore + SourceStore
{
}

impl<S: Store + PaceStore + HeldStore + SilenceStore + ReminderStore + SourceStore> Stores for S {}

pub struct App<St, D, T, Q> {
    /// The routing document, read on first use and re-read when its copy is old.
    pub routing: RoutingCache,
    pub store: St,
    pub deliver: D,
    pub severity: SeverityResolver<T>,
    pub dead_letters: Q,
    pub policy: Policy,
    /// Makes every lease holder's name unique within the process.
    pub holders: AtomicU64,
}

impl<St: Stores, D: Deliver, T: TagLookup + 'static, Q: DeadLetters> App<St, D, T, Q> {
    /// Handles one Lambda event: notices (SNS, EventBridge, alarm actions) or an action.
    pub async fn handle(&self, event: &Value, invocation: Invocation) -> Result<Report, Error> {
        let input = parse_input(event)?;
        match input {
            Input::Notices(notices) => {
                let routing = self.routing.current().await?;
                let silences = InvocationSilences::default();
                let (reports, errors) = self
                    .handle_notices(&notices, &routing, &invocation, &silences)
                    .await;
                crate::metrics::emit(&reports, errors.len(), invocation.now().timestamp_millis());
                let digests = self.flush_folded(&reports, &routing, &invocation).await;
                match fold_errors(errors) {
                    None => Ok(Report {
                        notices: reports,
                        redrive: None,
                        digests,
                        ..Report::default()
                    }),
                    Some(e) => Err(e),
                }
            }
            Input::Redrive(request) => {
                let routing = self.routing.current().await?;
                let mut report = crate::redrive::run(self, &request, &routing, &invocation).await?;
                let folded = self
                    .flush_folded(&report.notices, &routing, &invocation)
                    .await;
                report.digests.extend(folded);
                Ok(report)
            }
            Input::Silence(_) | Input::Silences | Input::Expire(_) => {
                let silences = crate::silences::act(&self.store, input, &invocation).await?;
                Ok(Report {
                    silences,
                    ..Report::default()
                })
            }
            Input::Flush => {
                let routing = self.routing.current().await?;
                let (digests, mut errors) = self.flush_all(&routing, &invocation).await;
                // The same schedule delivers what muted routes held, once they are not muted.
                let silences = InvocationSilences::default();
                let (mut notices, swept_errors) =
                    self.sweep(&routing, &invocation, &silences).await;
                errors.extend(swept_errors);
                let (reminded, remind_errors) = self.remind(&routing, &invocation, &silences).await;
                notices.extend(reminded);
                errors.extend(remind_errors);
                match fold_errors(errors) {
                    None => Ok(Report {
                        digests,
                        notices,
                        ..Report::default()
                    }),
                    Some(e) => Err(e),
                }
            }
        }
    }

    /// Every notice is handled on its own; failures are returned after the others went.
    /// `silences` is the invocation's read of them, shared by every notice.
    pub async fn handle_notices(
        &self,
        notices: &[Notice],
        routing: &Routing,
        invocation: &Invocation,
        silences: &InvocationSilences,
    ) -> (Vec<NoticeReport>, Vec<Error>) {
        let mut reports = Vec::with_capacity(notices.len());
        let mut errors = Vec::new();
        for notice in notices {
            match self
                .handle_notice(notice, routing, invocation, silences)
                .await
            {
                Ok(r) => {
                    tracing::info!(id = %r.id, outcome = ?r.outcome, sent = ?r.sent, possible_duplicates = r.possible_duplicates, "notice handled");
                    reports.push(r);
                }
                Err(e) => {
                    tracing::error!(id = %notice.id, error = %e, "notice not delivered");
                    errors.push(e);
                }
            }
        }
        (reports, errors)
    }
}

/// One error for the invocation (several are joined), or none.
pub fn fold_errors(mut errors: Vec<Error>) -> Option<Error> {
    match errors.len() {
        0 => None,
        1 => Some(errors.remove(0)),
        _ => Some(Error::Several(
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" | "),
        )),
    }
}
