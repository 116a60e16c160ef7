//! One notice under its subject's lease: the receivers its routes name (held back while
//! muted, silenced or inhibited), the order decision ([`crate::order`]), the records it
//! advances, then the sends ([`super::send`]).

use groundcrew::Invocation;

use super::{App, Stores};
use crate::error::Error;
use crate::format;
use crate::held::Held;
use crate::notice::{Notice, State};
use crate::order::{decide, Decision};
use crate::receivers::Deliver;
use crate::redrive::DeadLetters;
use crate::report::{NoticeReport, Outcome};
use crate::routing::{Facts, Routing};
use crate::severity::{Severity, TagLookup};
use crate::silences::{ActiveSilences, InvocationSilences};
use crate::store::{Change, Lease, Newest, StaleRecord, Subject};

/// Where a notice comes from: an event, or the sweep releasing it to the receivers it was
/// held for.
#[derive(Debug, Clone, Copy)]
enum Via<'a> {
    Event,
    Sweep { held_for: &'a [String] },
}

impl<St: Stores, D: Deliver, T: TagLookup + 'static, Q: DeadLetters> App<St, D, T, Q> {
    pub async fn handle_notice(
        &self,
        notice: &Notice,
        routing: &Routing,
        invocation: &Invocation,
        silences: &InvocationSilences,
    ) -> Result<NoticeReport, Error> {
        self.handle_notice_via(notice, routing, invocation, silences, Via::Event)
            .await
    }

    /// A held notice, handed back by the sweep; `held_for` are the receivers it was held for.
    pub async fn release_notice(
        &self,
        notice: &Notice,
        held_for: &[String],
        routing: &Routing,
        invocation: &Invocation,
        silences: &InvocationSilences,
    ) -> Result<NoticeReport, Error> {
        let via = Via::Sweep { held_for };
        self.handle_notice_via(notice, routing, invocation, silences, via)
            .await
    }

    async fn handle_notice_via(
        &self,
        notice: &Notice,
        routing: &Routing,
        invocation: &Invocation,
        silences: &InvocationSilences,
        via: Via<'_>,
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
                notice, routing, severity, change, &lease, &subject, invocation, silences, via,
            )
            .await;
        if let Err(e) = self.store.release(&lease).await {
            tracing::warn!(error = %e, subject = %lease.subject, "could not release the lease; it expires by itself");
        }
        result
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
        silences: &InvocationSilences,
        via: Via<'_>,
    ) -> Result<NoticeReport, Error> {
        let mut report = NoticeReport::delivering(notice, format::headline(notice), severity);
        // The alarm's tags, for `match.tags` (read with the severity tag, so cached).
        let tags = match notice.alarm() {
            Some(a) => self.severity.resolve_with_tags(a).await.1,
            None => Default::default(),
        };
        // Receivers of muted routes (time windows) are held back, not dropped; a silence
        // holds the whole notice.
        let facts = Facts::of(notice, severity).with_tags(&tags);
        let mut destinations = routing.destinations(&facts, invocation.now());
        let silences = silences.get(&self.store).await?;
        if let Some(id) = ActiveSilences::at(silences, invocation.now()).matching(&facts) {
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
        // A held OK goes, when its mute ends, only to the receivers that were shown the
        // alarm's trouble (one still muted stays held). One muted from the firing to the OK
        // (an alarm that fired and cleared overnight, shown only to the pager; a warning
        // inhibited throughout) would otherwise get the OK of an ALARM it never showed.
        // That holds for a receiver the record is no longer held for too: an earlier sweep
        // dropped it from the record while another receiver stayed muted. Alertmanager
        // likewise sends a resolved notification only to a receiver it notified of the
        // firing.
        let to = match via {
            Via::Sweep { held_for } if change.state == Some(State::Ok) => {
                let (to, unseen): (Vec<String>, Vec<String>) = to
                    .into_iter()
                    .partition(|r| shows_trouble(subject, r) || destinations.held.contains(r));
                // Those the record no longer names were reported when they left it.
                let unseen: Vec<String> = unseen
                    .into_iter()
                    .filter(|r| held_for.contains(r))
                    .collect();
                if !unseen.is_empty() {
                    tracing::info!(id = %notice.id, receivers = ?unseen, "held OK not sent: these receivers never showed its ALARM");
                }
                report.resolved_while_muted = unseen;
                to
            }
            _ => to,
        };
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
        if to.is_empty() && !report.resolved_while_muted.is_empty() {
            report.outcome = Outcome::ResolvedWhileMuted;
            return Ok(report);
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
        self.send_all(
            to, routing, notice, sev, change, lease, subject, invocation, report,
        )
        .await
    }
}

/// Whether the last change `receiver` was given of this alarm is a trouble state.
fn shows_trouble(subject: &Subject, receiver: &str) -> bool {
    subject
        .delivered
        .get(receiver)
        .is_some_and(|last| last.state.is_some_and(|s| s != State::Ok))
}

fn describe(change: Change) -> String {
    let state = change.state.map_or("-", |s| s.as_str());
    match chrono::DateTime::from_timestamp_millis(change.at_ms) {
        Some(t) => format!("{state} at {}", t.to_rfc3339()),
        None => state.to_string(),
    }
}
