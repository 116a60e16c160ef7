//! The handler: an event's notices, each under its subject's lease, decided by
//! [`crate::order`], delivered to receivers concurrently, each delivery recorded as it
//! succeeds; and the `redrive` action, which puts the dead-letter queue's events through
//! the same path.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures::future::join_all;
use groundcrew::Invocation;
use serde_json::Value;

use crate::delivery::Sending;
use crate::error::Error;
use crate::event::{parse_input, Input};
use crate::format;
use crate::held::{Held, HeldStore};
use crate::notice::Notice;
use crate::order::{decide, Decision};
use crate::pace::PaceStore;
use crate::receivers::Deliver;
use crate::redrive::DeadLetters;
pub use crate::report::{NoticeReport, Outcome, Policy, Report};
use crate::routing::{Facts, Routing};
use crate::routing_cache::RoutingCache;
use crate::severity::{Severity, SeverityResolver, TagLookup};
use crate::silences::{ActiveSilences, SilenceStore};
use crate::store::{Acquired, Change, Lease, Newest, StaleRecord, Store, Subject};

/// A lease outlives the invocation's deadline by this much (the response still has to go).
const LEASE_MARGIN: Duration = Duration::from_secs(5);
/// Waiting for another invocation's lease stops when less than this would be left to deliver.
const MIN_WORK_TIME: Duration = Duration::from_secs(10);

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

impl<
        St: Store
            + PaceStore
            + HeldStore
            + SilenceStore
            + crate::reminders::ReminderStore
            + crate::inhibition::SourceStore,
        D: Deliver,
        T: TagLookup + 'static,
        Q: DeadLetters,
    > App<St, D, T, Q>
{
    /// Handles one Lambda event: notices (SNS, EventBridge, alarm actions) or an action.
    pub async fn handle(&self, event: &Value, invocation: Invocation) -> Result<Report, Error> {
        let input = parse_input(event)?;
        match input {
            Input::Notices(notices) => {
                let routing = self.routing.current().await?;
                let (reports, errors) = self.handle_notices(&notices, &routing, &invocation).await;
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
                let (mut notices, swept_errors) = self.sweep(&routing, &invocation).await;
                errors.extend(swept_errors);
                let (reminded, remind_errors) = self.remind(&routing, &invocation).await;
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
    pub async fn handle_notices(
        &self,
        notices: &[Notice],
        routing: &Routing,
        invocation: &Invocation,
    ) -> (Vec<NoticeReport>, Vec<Error>) {
        let mut reports = Vec::with_capacity(notices.len());
        let mut errors = Vec::new();
        for notice in notices {
            match self.handle_notice(notice, routing, invocation).await {
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

    pub async fn handle_notice(
        &self,
        notice: &Notice,
        routing: &Routing,
        invocation: &Invocation,
    ) -> Result<NoticeReport, Error> {
        let alarm = notice.alarm();
        let severity = match alarm {
            Some(a) => Some(self.severity.resolve(a).await),
            None => None,
        };
        let (subject_key, change) = match alarm {
            Some(a) => {
                // StateChangeTime; else when the envelope was sent; else now.
                let at = a
                    .time
                    .or(notice.sent_at)
                    .unwrap_or_else(|| invocation.now());
                (
                    format!("alarm#{}", a.key()),
                    Change {
                        state: Some(a.state),
                        at_ms: at.timestamp_millis(),
                    },
                )
            }
            None => (
                format!("msg#{}", notice.id),
                Change {
                    state: None,
                    at_ms: 0,
                },
            ),
        };
        let (lease, subject) = self.acquire(&subject_key, notice, invocation).await?;
        let result = self
            .handle_held(
                notice, routing, severity, change, &lease, &subject, invocation,
            )
            .await;
        if let Err(e) = self.store.release(&lease).await {
            tracing::warn!(error = %e, subject = %lease.subject, "could not release the lease; it expires by itself");
        }
        result
    }

    /// Takes the subject's lease, waiting for another holder while the deadline leaves
    /// time to deliver afterwards. The lease runs to the deadline (plus a margin), taken
    /// with the clock read just before the write.
    pub(crate) async fn acquire(
        &self,
        subject: &str,
        notice: &Notice,
        invocation: &Invocation,
    ) -> Result<(Lease, Subject), Error> {
        let deadline = invocation.deadline;
        let holder = format!(
            "{}/{}",
            invocation.request_id,
            self.holders.fetch_add(1, Ordering::SeqCst)
        );
        let mut wait = Duration::from_millis(200);
        loop {
            let now = invocation.now();
            let now_ms = now.timestamp_millis();
            let lease = Lease {
                subject: subject.to_string(),
                holder: holder.clone(),
                until_ms: now_ms + (deadline.remaining() + LEASE_MARGIN).as_millis() as i64,
            };
            let expires_at = now.timestamp() + self.policy.record_ttl.as_secs() as i64;
            match self.store.acquire(&lease, now_ms, expires_at).await? {
                Acquired::Held(found) => return Ok((lease, found)),
                Acquired::Busy { until_ms } => {
                    let left = Duration::from_millis(until_ms.saturating_sub(now_ms).max(0) as u64);
                    let pause = wait.min(left.max(Duration::from_millis(50)));
                    if !deadline.allows(pause + MIN_WORK_TIME) {
                        return Err(Error::Busy {
                            id: notice.id.clone(),
                        });
                    }
                    tokio::time::sleep(pause).await;
                    wait = (wait * 2).min(Duration::from_secs(2));
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn handle_held(
        &self,
        notice: &Notice,
        routing: &Routing,
        severity: Option<Severity>,
        change: Change,
        lease: &Lease,
        subject: &Subject,
        invocation: &Invocation,
    ) -> Result<NoticeReport, Error> {
        let mut report = NoticeReport {
            id: notice.id.clone(),
            kind: notice.kind(),
            headline: format::headline(notice),
            outcome: Outcome::Delivered,
            severity,
            sent: vec![],
            already_delivered: vec![],
            folded: vec![],
            possible_duplicates: 0,
            superseded_by: None,
            chat_migrations: BTreeMap::new(),
            held: vec![],
        };
        // The alarm's tags, for `match.tags` (read with the severity tag, so cached).
        let tags = match notice.alarm() {
            Some(a) => self.severity.resolve_with_tags(a).await.1,
            None => Default::default(),
        };
        // Receivers of muted routes (time windows) are held back, not dropped; a silence
        // holds the whole notice.
        let facts = Facts::of(notice, severity).with_tags(&tags);
        let mut destinations = routing.destinations(&facts, invocation.now());
        let silences = self.store.silences().await?;
        if let Some(id) = ActiveSilences::at(&silences, invocation.now()).matching(&facts) {
            tracing::info!(id = %notice.id, silence = %id, "silenced: held until the silence ends");
            destinations.hold_all();
        }
        // An inhibited notice is held like a silenced one, until its source leaves ALARM.
        if let Some(source) = self.inhibitor(routing, &lease.subject, &facts).await? {
            tracing::info!(id = %notice.id, source = %source, "inhibited: held until the source alarm leaves ALARM");
            destinations.hold_all();
        }
        let routed: Vec<String> = destinations
            .deliver
            .iter()
            .chain(&destinations.held)
            .cloned()
            .collect();
        let decision = decide(change, &notice.id, &routed, subject, |r| {
            routing.receivers.contains_key(r)
        });
        let (to, already, duplicate_state, advances) = match decision {
            Decision::Stale { newest } => {
                let now = invocation.now().timestamp();
                self.store
                    .record_stale(
                        &StaleRecord {
                            message_id: notice.id.clone(),
                            subject: lease.subject.clone(),
                            change,
                            newest,
                        },
                        now + self.policy.record_ttl.as_secs() as i64,
                    )
                    .await?;
                report.outcome = Outcome::Stale;
                report.superseded_by = Some(describe(newest));
                tracing::warn!(id = %notice.id, superseded_by = ?report.superseded_by, "stale notice recorded, not delivered");
                return Ok(report);
            }
            Decision::Deliver {
                to,
                already,
                duplicate_state,
                advances,
            } => (to, already, duplicate_state, advances),
        };
        if advances && notice.alarm().is_some() {
            self.store
                .set_newest(
                    lease,
                    &Newest {
                        change,
                        message_id: notice.id.clone(),
                    },
                )
                .await?;
            // Reminders: scheduled by an ALARM, cancelled by any later change.
            self.note_for_reminders(notice, routing, &facts, change, lease, invocation)
                .await?;
            self.note_sources(routing, &lease.subject, &facts, change, invocation)
                .await?;
        }
        // An alarm is new when it advances its newest change; another notice, when no
        // receiver has it yet.
        let first_time = match notice.alarm() {
            Some(_) => advances,
            None => already.is_empty(),
        };
        report.already_delivered = already;
        let (to, held): (Vec<String>, Vec<String>) =
            to.into_iter().partition(|r| !destinations.held.contains(r));
        if !held.is_empty() {
            let expires_at = invocation.now().timestamp() + self.policy.record_ttl.as_secs() as i64;
            let record = Held {
                subject: lease.subject.clone(),
                notice: notice.clone(),
                receivers: held.clone(),
            };
            self.store.hold(&record, expires_at).await?;
            tracing::info!(id = %notice.id, held = ?held, "muted receivers: held until their routes are not muted");
            report.held = held;
            if to.is_empty() {
                report.outcome = Outcome::Held;
                return Ok(report);
            }
        }
        if to.is_empty() && !first_time {
            report.outcome = if duplicate_state {
                Outcome::Suppressed
            } else {
                Outcome::Duplicate
            };
            return Ok(report);
        }
        let sev = severity.unwrap_or(self.policy.default_severity);
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

fn describe(change: Change) -> String {
    let state = change.state.map_or("-", |s| s.as_str());
    match chrono::DateTime::from_timestamp_millis(change.at_ms) {
        Some(t) => format!("{state} at {}", t.to_rfc3339()),
        None => state.to_string(),
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
