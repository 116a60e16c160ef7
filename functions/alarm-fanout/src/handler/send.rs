//! The sends of one notice: every receiver at once, a failing one never holding up the
//! others; the report says what each receiver got.

use std::sync::atomic::AtomicBool;

use futures::future::join_all;
use groundcrew::Invocation;

use super::{App, Stores};
use crate::delivery::Sending;
use crate::error::Error;
use crate::notice::Notice;
use crate::receivers::Deliver;
use crate::redrive::DeadLetters;
use crate::report::NoticeReport;
use crate::routing::Routing;
use crate::severity::{Severity, TagLookup};
use crate::store::{Change, Lease, Subject};

impl<St: Stores, D: Deliver, T: TagLookup + 'static, Q: DeadLetters> App<St, D, T, Q> {
    /// Sends `notice` to `to`, each from its first undelivered part; fails naming the
    /// receivers that still lack it, or when the lease was lost on the way.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn send_all(
        &self,
        to: Vec<String>,
        routing: &Routing,
        notice: &Notice,
        sev: Severity,
        change: Change,
        lease: &Lease,
        subject: &Subject,
        invocation: &Invocation,
        mut report: NoticeReport,
    ) -> Result<NoticeReport, Error> {
        let stop = AtomicBool::new(false);
        let results = join_all(to.iter().map(|name| {
            let progress = subject.progress.get(name).copied();
            self.deliver_one(
                routing, name, notice, sev, change, progress, lease, invocation, &stop,
            )
        }))
        .await;
        let mut failed = Vec::new();
        let mut reasons = Vec::new();
        let mut lost = false;
        for (name, result) in to.into_iter().zip(results) {
            match result {
                Sending::Sent {
                    duplicates,
                    migrated,
                } => {
                    report.possible_duplicates += duplicates;
                    if let Some(chat) = migrated {
                        report.chat_migrations.insert(name.clone(), chat);
                    }
                    report.sent.push(name);
                }
                Sending::Folded => report.folded.push(name),
                Sending::Failed(reason) => {
                    tracing::warn!(receiver = %name, error = %reason, "delivery failed");
                    failed.push(name);
                    reasons.push(reason);
                }
                Sending::LeaseLost => lost = true,
            }
        }
        if lost {
            return Err(Error::LeaseLost {
                subject: lease.subject.clone(),
            });
        }
        if !failed.is_empty() {
            return Err(Error::Delivery {
                id: notice.id.clone(),
                failed,
                reasons,
            });
        }
        Ok(report)
    }
}
