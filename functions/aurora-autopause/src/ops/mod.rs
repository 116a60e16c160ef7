//! Carries out a request: sweep, pause, wake, status, the re-stop after RDS-EVENT-0153 /
//! 0154, and a batch from the follow-up queue. What is in scope is found in [`listing`],
//! the sweep's idle decisions in [`sweep`] (with RDS's record of
//! restarts in [`restarts`]), an environment's sleep and wake in [`schedule`],
//! `status` in [`status`]; a database's plan is carried out in [`clusters`], a service's in
//! [`services`], the re-stop in [`restop`].
//!
//! One bad resource never stops the rest: a database or ECS cluster that cannot be read or
//! changed is reported with its reason and the others go on. An invocation fails only when
//! nothing at all could be read.

mod clusters;
mod listing;
mod restarts;
mod restop;
mod schedule;
mod services;
mod status;
mod sweep;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use futures::stream::{self, StreamExt};
use groundcrew::{Deadline, Invocation};

use crate::cloud::Cloud;
use crate::config::Config;
use crate::event::{Action, Incoming, Queued, Request};
use crate::report::{Item, Kind, Report};
use crate::Error;

pub use restop::{restop, Restop};

/// Time kept back for finishing the resource in hand and answering.
const RESERVE: Duration = Duration::from_secs(3);
/// How often a wake looks at its databases while it waits for them.
const WAKE_POLL: Duration = Duration::from_secs(30);
/// When a wake hands its services on, the follow-up comes this much later.
const WAKE_FOLLOW_UP: Duration = Duration::from_secs(5 * 60);
/// The longest a re-stop keeps one queued message in hand before handing it back.
const RESTOP_ATTEMPT: Duration = Duration::from_secs(60);

pub struct Ops<'a, C> {
    pub cloud: &'a C,
    pub config: &'a Config,
    pub deadline: Deadline,
    pub dry_run: bool,
    pub now: DateTime<Utc>,
    /// `GetMetricData` requests a sweep sent, for its report (the issue asks for the calls
    /// per sweep, to be held at the fewest the service's limits allow).
    pub metric_calls: AtomicUsize,
}

fn environment_of(
    config: &Config,
    tags: &std::collections::BTreeMap<String, String>,
) -> Option<String> {
    tags.get(&config.environment_tag).cloned()
}

/// Handles one event end to end.
pub async fn handle<C: Cloud>(
    cloud: &C,
    config: &Config,
    incoming: Incoming,
    invocation: &Invocation,
) -> Result<Report, Error> {
    match incoming {
        Incoming::One(request) => run(cloud, config, &request, invocation).await,
        Incoming::Queue(batch) => run_batch(cloud, config, batch, invocation).await,
    }
}

/// Handles one request.
pub async fn run<C: Cloud>(
    cloud: &C,
    config: &Config,
    request: &Request,
    invocation: &Invocation,
) -> Result<Report, Error> {
    let dry_run = request.dry_run.unwrap_or(config.dry_run);
    let ops = Ops {
        cloud,
        config,
        deadline: invocation.deadline,
        dry_run,
        now: invocation.now(),
        metric_calls: AtomicUsize::new(0),
    };
    let env = request.environment.as_deref();
    let mut follow_ups = Vec::new();
    let items = match request.action {
        Action::Sweep => ops.sweep(env, request.idle_window).await?,
        Action::Pause => ops.pause(env).await?,
        Action::Wake => {
            let (items, follow_up) = ops.wake(env).await?;
            let left_down = items.iter().any(retry_after_wake);
            if left_down && follow_up.is_none() && config.follow_up_queue_url.is_some() {
                // Services would stay at 0 and no follow-up could be queued: fail the
                // invocation, so that Lambda's asynchronous retries run the wake again.
                return Err(Error::aws(
                    "wake",
                    format!(
                        "services of {} are still down and no follow-up could be queued",
                        env.unwrap_or("?")
                    ),
                ));
            }
            follow_ups.extend(follow_up);
            items
        }
        Action::Status => ops.status(env).await?,
        Action::Restop | Action::Batch => {
            let id = request
                .database
                .as_deref()
                .ok_or_else(|| Error::BadEvent("RDS event names no database".into()))?;
            vec![
                restop(
                    cloud,
                    config,
                    request.database_kind,
                    id,
                    invocation.deadline,
                    dry_run,
                    invocation.now(),
                )
                .await?
                .item,
            ]
        }
    };
    let mut report = Report::new(request.action, dry_run, request.environment.clone(), items);
    report.follow_ups = follow_ups;
    if request.action == Action::Sweep {
        report.summary.get_metric_data_calls = Some(ops.metric_calls.load(Ordering::Relaxed));
    }
    Ok(report)
}

/// A batch from the follow-up queue: re-stops and handed-on wakes. A message whose work
/// is not finished (a database still starting) comes back later: its visibility is set to
/// the re-stop interval and it is reported in `batchItemFailures`, so SQS keeps it (up to
/// the queue's `maxReceiveCount`, then its dead-letter queue and alarm). Messages are never
/// re-sent by the function itself, which Lambda's recursive-loop detection would stop.
async fn run_batch<C: Cloud>(
    cloud: &C,
    config: &Config,
    batch: Vec<Queued>,
    invocation: &Invocation,
) -> Result<Report, Error> {
    let mut items = Vec::new();
    let mut failures = Vec::new();
    let mut follow_ups = Vec::new();
    for message in batch {
        let request = match message.request {
            Ok(r) => r,
            Err(reason) => {
                tracing::error!(message_id = %message.message_id, %reason, "unreadable queued message");
                items.push(
                    Item::new(Kind::QueueMessage, &message.message_id, None, "unreadable")
                        .failed("none", reason),
                );
                failures.push(message.message_id);
                continue;
            }
        };
        if !invocation.deadline.allows(RESERVE * 2) {
            failures.push(message.message_id);
            continue;
        }
        match request.action {
            Action::Restop => {
                let Some(id) = request.database.as_deref() else {
                    failures.push(message.message_id);
                    continue;
                };
                let attempt = invocation.deadline.less(RESERVE).within(RESTOP_ATTEMPT);
                let dry_run = request.dry_run.unwrap_or(config.dry_run);
                let kind = request.database_kind;
                match restop(cloud, config, kind, id, attempt, dry_run, invocation.now()).await {
                    Ok(r) => {
                        if r.not_yet.is_some() {
                            if let Err(e) = cloud
                                .retry_later(&message.receipt_handle, config.restop_retry_after)
                                .await
                            {
                                tracing::warn!(error = %e, "could not delay the re-stop message; it returns after the queue's visibility timeout");
                            }
                            failures.push(message.message_id);
                        }
                        items.push(r.item);
                    }
                    Err(e) => {
                        items.push(
                            Item::new(Kind::from(kind), id, None, "unknown")
                                .failed("stop", e.to_string()),
                        );
                        failures.push(message.message_id);
                    }
                }
            }
            _ => match run(cloud, config, &request, invocation).await {
                Ok(r) => {
                    items.extend(r.resources);
                    follow_ups.extend(r.follow_ups);
                }
                Err(e) => {
                    items.push(
                        Item::new(Kind::QueueMessage, &message.message_id, None, "failed")
                            .failed(request.action.as_str(), e.to_string()),
                    );
                    failures.push(message.message_id);
                }
            },
        }
    }
    let mut report = Report::new(Action::Batch, config.dry_run, None, items);
    report.follow_ups = follow_ups;
    report.batch_item_failures = Some(failures);
    Ok(report)
}

impl<C: Cloud> Ops<'_, C> {
    pub(super) fn stamp(&self) -> String {
        self.now.to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    pub(super) fn out_of_time(&self) -> bool {
        !self.deadline.allows(RESERVE)
    }

    /// Runs `act` on every resource, at most `concurrency` at a time, in a stable order.
    pub(super) async fn each<T, F, Fut>(&self, resources: Vec<T>, act: F) -> Vec<Item>
    where
        F: FnMut(T) -> Fut,
        Fut: std::future::Future<Output = Item>,
    {
        stream::iter(resources)
            .map(act)
            .buffered(self.config.concurrency)
            .collect()
            .await
    }
}

/// Whether a wake's item leaves services possibly down, so that a follow-up must try again:
/// a service that failed, or an ECS cluster whose services could not be read (one that
/// does not exist is a setting to fix, not something to retry).
fn retry_after_wake(i: &Item) -> bool {
    i.outcome == crate::report::Outcome::Failed
        && (i.kind == Kind::EcsService || (i.kind == Kind::EcsCluster && i.action != "missing"))
}

/// An invocation fails only when everything it tried failed: a listing that could not be
/// read alongside resources that were handled is reported, not raised.
fn nothing_done(items: Vec<Item>) -> Result<Vec<Item>, Error> {
    let all_failed = !items.is_empty()
        && items
            .iter()
            .all(|i| i.outcome == crate::report::Outcome::Failed);
    let listing_failed = items
        .iter()
        .any(|i| i.id == "*" && i.outcome == crate::report::Outcome::Failed);
    if all_failed && listing_failed {
        let reasons: Vec<String> = items.iter().filter_map(|i| i.reason.clone()).collect();
        return Err(Error::aws(
            "Describe",
            format!("nothing could be read: {}", reasons.join("; ")),
        ));
    }
    Ok(items)
}
