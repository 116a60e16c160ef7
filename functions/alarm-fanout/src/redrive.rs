//! The `redrive` action: events that ended in the dead-letter queue (Lambda's after its
//! retries, and the EventBridge rule's) are handled again through the same leases, order
//! and per-receiver records as any other, then deleted from the queue; a failed scheduled
//! flush (`{"action":"flush"}`) is done again. A dead letter that still fails, or is not
//! an event at all, stays in the queue and is reported.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use groundcrew::Invocation;
use serde::Serialize;
use serde_json::Value;

use crate::error::Error;
use crate::event::{parse_input, Input, RedriveRequest};
use crate::handler::{fold_errors, App, Report};
use crate::receivers::Deliver;
use crate::severity::TagLookup;
use crate::store::Store;

/// Receiving stops when less than this is left before the deadline.
const MIN_WORK_TIME: Duration = Duration::from_secs(10);
/// SQS returns at most 10 messages a call.
const BATCH: u32 = 10;

/// One message of the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
}

/// The dead-letter queue (SQS in production).
pub trait DeadLetters: Send + Sync {
    /// Up to `max` messages, hidden from other readers for `visibility`.
    fn receive(
        &self,
        max: u32,
        visibility: Duration,
    ) -> impl Future<Output = Result<Vec<DeadLetter>, Error>> + Send;
    fn delete(&self, receipt_handle: &str) -> impl Future<Output = Result<(), Error>> + Send;
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LeftLetter {
    pub message_id: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
pub struct RedriveReport {
    /// Dead letters read.
    pub received: u32,
    /// Handled and deleted from the queue.
    pub redelivered: u32,
    /// Still in the queue, and why.
    pub left: Vec<LeftLetter>,
}

pub async fn run<
    St: Store
        + crate::pace::PaceStore
        + crate::held::HeldStore
        + crate::silences::SilenceStore
        + crate::reminders::ReminderStore
        + crate::inhibition::SourceStore,
    D: Deliver,
    T: TagLookup + 'static,
    Q: DeadLetters,
>(
    app: &App<St, D, T, Q>,
    request: &RedriveRequest,
    routing: &crate::routing::Routing,
    invocation: &Invocation,
) -> Result<Report, Error> {
    let deadline = invocation.deadline;
    let mut report = RedriveReport::default();
    let mut notices = Vec::new();
    let mut seen = BTreeSet::new();
    let mut digests = Vec::new();
    // A flush done by this redrive: `Some(None)` when it succeeded.
    let mut flushed: Option<Option<String>> = None;
    // One read of the silences for every notice the redrive hands back.
    let silences = crate::silences::InvocationSilences::default();
    while report.received < request.max_messages && deadline.allows(MIN_WORK_TIME) {
        let want = BATCH.min(request.max_messages - report.received);
        // Hidden until well after this invocation ends, so a failure is retried by a later one.
        let visibility = deadline.remaining() + Duration::from_secs(30);
        let batch = app.dead_letters.receive(want, visibility).await?;
        let fresh: Vec<DeadLetter> = batch
            .into_iter()
            .filter(|l| seen.insert(l.message_id.clone()))
            .collect();
        if fresh.is_empty() {
            break;
        }
        for letter in fresh {
            report.received += 1;
            let parsed = serde_json::from_str::<Value>(&letter.body)
                .map_err(|e| Error::BadEvent {
                    reason: format!("the dead letter is not JSON: {e}"),
                })
                .and_then(|event| parse_input(&event));
            let event_notices = match parsed {
                Ok(Input::Notices(n)) => n,
                // A scheduled flush that failed: flush now (once per redrive, whatever
                // number of them waits), then it is done.
                Ok(Input::Flush) => {
                    let failed = match &flushed {
                        Some(failed) => failed.clone(),
                        None => {
                            let (sent, errors) = app.flush_all(routing, invocation).await;
                            digests.extend(sent);
                            let failed = fold_errors(errors).map(|e| e.to_string());
                            flushed = Some(failed.clone());
                            failed
                        }
                    };
                    match failed {
                        None => {
                            app.dead_letters.delete(&letter.receipt_handle).await?;
                            report.redelivered += 1;
                        }
                        Some(reason) => report.left.push(LeftLetter {
                            message_id: letter.message_id,
                            reason: format!("flush: {reason}"),
                        }),
                    }
                    continue;
                }
                Ok(Input::Redrive(_) | Input::Silence(_) | Input::Silences | Input::Expire(_)) => {
                    report.left.push(LeftLetter {
                        message_id: letter.message_id,
                        reason: "a redrive request is not redriven: invoke it again".into(),
                    });
                    continue;
                }
                Err(e) => {
                    report.left.push(LeftLetter {
                        message_id: letter.message_id,
                        reason: e.to_string(),
                    });
                    continue;
                }
            };
            let (reports, errors) = app
                .handle_notices(&event_notices, routing, invocation, &silences)
                .await;
            notices.extend(reports);
            match fold_errors(errors) {
                None => {
                    app.dead_letters.delete(&letter.receipt_handle).await?;
                    report.redelivered += 1;
                }
                Some(e) => report.left.push(LeftLetter {
                    message_id: letter.message_id,
                    reason: e.to_string(),
                }),
            }
        }
    }
    tracing::info!(
        received = report.received,
        redelivered = report.redelivered,
        left = report.left.len(),
        "redrive done"
    );
    crate::metrics::emit(
        &notices,
        report.left.len(),
        invocation.now().timestamp_millis(),
    );
    Ok(Report {
        notices,
        redrive: Some(report),
        digests,
        ..Report::default()
    })
}
