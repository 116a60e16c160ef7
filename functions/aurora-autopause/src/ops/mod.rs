//! Carries out a request: sweep, pause, wake, status, the re-stop after RDS-EVENT-0153, and
//! a batch from the follow-up queue. Clusters are in [`clusters`], ECS services in
//! [`services`], the re-stop in [`restop`].
//!
//! One bad resource never stops the rest: a database or ECS cluster that cannot be read or
//! changed is reported with its reason and the others go on. An invocation fails only when
//! nothing at all could be read.

mod clusters;
mod restop;
mod services;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use futures::stream::{self, StreamExt};
use groundcrew::{Deadline, Invocation};

use crate::cloud::{Cloud, Rds};
use crate::config::Config;
use crate::event::{Action, Incoming, Queued, Request};
use crate::idle::{self, IdleWindow};
use crate::model::{self, Cluster, Record, Scope, Service, Suspended, PAUSED_AT_TAG, RECORD_TAG};
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
                return Err(Error::Aws {
                    op: "wake",
                    code: None,
                    message: format!(
                        "services of {} are still down and no follow-up could be queued",
                        env.unwrap_or("?")
                    ),
                });
            }
            follow_ups.extend(follow_up);
            items
        }
        Action::Status => ops.status(env).await?,
        Action::Restop | Action::Batch => {
            let id = request
                .cluster
                .as_deref()
                .ok_or_else(|| Error::BadEvent("RDS event names no cluster".into()))?;
            vec![
                restop(
                    cloud,
                    config,
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
                let Some(id) = request.cluster.as_deref() else {
                    failures.push(message.message_id);
                    continue;
                };
                let attempt = invocation.deadline.less(RESERVE).within(RESTOP_ATTEMPT);
                let dry_run = request.dry_run.unwrap_or(config.dry_run);
                match restop(cloud, config, id, attempt, dry_run, invocation.now()).await {
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
                            Item::new(Kind::AuroraCluster, id, None, "unknown")
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
    fn stamp(&self) -> String {
        self.now.to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    fn out_of_time(&self) -> bool {
        !self.deadline.allows(RESERVE)
    }

    /// The clusters in scope (opted in, or protected ones to report), in `env` if given,
    /// with their instance classes. A failure to list them is an item, not the end.
    async fn clusters(&self, env: Option<&str>, failures: &mut Vec<Item>) -> Vec<(Cluster, Scope)> {
        let all = match self.cloud.clusters().await {
            Ok(all) => all,
            Err(e) => {
                failures.push(
                    Item::new(Kind::AuroraCluster, "*", env.map(str::to_string), "unknown")
                        .failed("describe", e.to_string()),
                );
                return Vec::new();
            }
        };
        let mut found: Vec<(Cluster, Scope)> = all
            .into_iter()
            .filter(|c| env.is_none() || environment_of(self.config, &c.tags).as_deref() == env)
            .filter_map(|c| match model::scope(self.config, &c.tags) {
                Scope::NotOptedIn => None,
                // Protected and not opted in: not ours to report either.
                Scope::Protected(_) if !self.config.opt_in.matches(&c.tags) => None,
                s => Some((c, s)),
            })
            .collect();
        let ids: Vec<String> = found
            .iter()
            .filter(|(_, s)| *s == Scope::InScope)
            .map(|(c, _)| c.id.clone())
            .collect();
        if !ids.is_empty() {
            match Rds::instance_classes(self.cloud, &ids).await {
                Ok(mut classes) => {
                    for (c, _) in &mut found {
                        c.instance_classes = classes.remove(&c.id).unwrap_or_default();
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "instance classes unknown; savings not estimated")
                }
            }
        }
        found
    }

    /// The services in scope, ECS cluster by ECS cluster: a cluster that cannot be read
    /// (deleted, no access) is reported and the others are still handled.
    async fn services(&self, env: Option<&str>, failures: &mut Vec<Item>) -> Vec<(Service, Scope)> {
        let clusters = if self.config.ecs_clusters.is_empty() {
            match self.cloud.cluster_names().await {
                Ok(names) => names,
                Err(e) => {
                    failures.push(
                        Item::new(Kind::EcsCluster, "*", env.map(str::to_string), "unknown")
                            .failed("describe", e.to_string()),
                    );
                    return Vec::new();
                }
            }
        } else {
            self.config.ecs_clusters.clone()
        };
        let mut found = Vec::new();
        for cluster in clusters {
            match self.cloud.services_in(&cluster).await {
                Ok(services) => found.extend(services.into_iter().filter_map(|s| {
                    if env.is_some() && environment_of(self.config, &s.tags).as_deref() != env {
                        return None;
                    }
                    match model::scope(self.config, &s.tags) {
                        Scope::NotOptedIn => None,
                        Scope::Protected(_) if !self.config.opt_in.matches(&s.tags) => None,
                        sc => Some((s, sc)),
                    }
                })),
                Err(e) => {
                    // A configured cluster that does not exist is reported (a setting to
                    // fix), but not tried again; any other error is.
                    let action = if e.code() == Some("ClusterNotFoundException") {
                        "missing"
                    } else {
                        "describe"
                    };
                    failures.push(
                        Item::new(
                            Kind::EcsCluster,
                            &cluster,
                            env.map(str::to_string),
                            "unknown",
                        )
                        .failed(action, e.to_string()),
                    )
                }
            }
        }
        found
    }

    fn cluster_item(&self, c: &Cluster) -> Item {
        let mut item = Item::new(
            Kind::AuroraCluster,
            &c.id,
            environment_of(self.config, &c.tags),
            &c.status,
        );
        item.paused_at = c.tags.get(PAUSED_AT_TAG).cloned();
        item.recorded = c.tags.get(RECORD_TAG).cloned();
        item
    }

    fn service_item(&self, s: &Service) -> Item {
        let mut item = Item::new(
            Kind::EcsService,
            format!("{}/{}", s.cluster, s.name),
            environment_of(self.config, &s.tags),
            format!("desired={} running={}", s.desired, s.running),
        );
        item.paused_at = s.tags.get(PAUSED_AT_TAG).cloned();
        item.recorded = s.tags.get(RECORD_TAG).cloned();
        item
    }

    /// Runs `act` on every resource, at most `concurrency` at a time, in a stable order.
    async fn each<T, F, Fut>(&self, resources: Vec<T>, act: F) -> Vec<Item>
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

    /// The idle verdict of each available in-scope cluster, from one-minute
    /// `DatabaseConnections` over its own window, fetched in as few `GetMetricData` calls
    /// as the service's limits allow.
    async fn idle_verdicts(
        &self,
        clusters: &[(Cluster, Scope)],
        requested: Option<Duration>,
    ) -> BTreeMap<String, Result<(), String>> {
        let mut verdicts = BTreeMap::new();
        let mut windows = BTreeMap::new();
        for (c, _) in clusters
            .iter()
            .filter(|(c, s)| *s == Scope::InScope && c.status == "available")
        {
            match idle::window_for(&c.tags, requested, self.config.idle_window) {
                Ok(length) => {
                    windows.insert(
                        c.id.clone(),
                        IdleWindow::ending_before(self.now, self.config.metric_lag, length),
                    );
                }
                Err(reason) => {
                    verdicts.insert(c.id.clone(), Err(reason));
                }
            }
        }
        // Everything published up to now: the windows, and the lag's minutes after them.
        let (Some(start), Some(end)) = (
            windows.values().map(|w| w.start).min(),
            windows
                .values()
                .map(|w| w.end)
                .max()
                .map(|end| end.max(self.now) + chrono::Duration::minutes(1)),
        ) else {
            return verdicts;
        };
        let queries: Vec<(String, &'static str, String)> = windows
            .keys()
            .enumerate()
            .map(|(i, id)| (format!("q{i}"), "DBClusterIdentifier", id.clone()))
            .collect();
        let mut series = BTreeMap::new();
        for request in idle::requests(&queries, start, end) {
            match self.cloud.get_metric_data(&request).await {
                Ok(found) => series.extend(found),
                Err(e) => {
                    for q in &request.queries {
                        verdicts.insert(
                            q.value.clone(),
                            Err(format!("idle check failed, so not idle: {e}")),
                        );
                    }
                }
            }
        }
        for (qid, _, id) in &queries {
            if verdicts.contains_key(id) {
                continue;
            }
            let Some(window) = windows.get(id) else {
                continue;
            };
            verdicts.insert(
                id.clone(),
                idle::verdict(series.get(qid), window, self.config.idle_max_connections),
            );
        }
        verdicts
    }

    /// Idle clusters are paused; ECS services are only reported (they follow their
    /// environment's sleep and wake).
    pub async fn sweep(
        &self,
        env: Option<&str>,
        requested_window: Option<Duration>,
    ) -> Result<Vec<Item>, Error> {
        let mut items = Vec::new();
        let clusters = self.clusters(env, &mut items).await;
        let verdicts = self.idle_verdicts(&clusters, requested_window).await;
        let acted: Vec<Item> = self
            .each(clusters, |(c, scope)| {
                let verdict = verdicts.get(&c.id).cloned();
                async move {
                    match scope {
                        Scope::Protected(r) => self.cluster_item(&c).skipped(r),
                        _ => {
                            let restarted = self.restarted_by_aws(&c).await;
                            let plan = model::plan_pause(
                                &c,
                                self.config,
                                Some(verdict.unwrap_or_else(|| Err("no idle verdict".into()))),
                                restarted,
                            );
                            self.execute(&c, plan).await
                        }
                    }
                }
            })
            .await;
        items.extend(acted);
        for (s, scope) in self.services(env, &mut items).await {
            let item = self.service_item(&s);
            items.push(match scope {
                Scope::Protected(r) => item.skipped(r),
                _ => item.skipped("ECS services follow their environment's sleep and wake schedule, not the sweep"),
            });
        }
        nothing_done(items)
    }

    /// For a cluster groundcrew stopped that is running again: did AWS start it (its
    /// seven-day limit) rather than a person? Asked only then; an unreadable history
    /// counts as "a person", which leaves the database running.
    async fn restarted_by_aws(&self, c: &Cluster) -> bool {
        if c.status != "available" || !matches!(Record::of(&c.tags), Some(Ok(Record::Stopped))) {
            return false;
        }
        let Some(since) = c
            .tags
            .get(PAUSED_AT_TAG)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        else {
            return false;
        };
        self.cloud
            .events_since(&c.id, since.with_timezone(&Utc))
            .await
            .map(|events| model::started_by_aws(&events))
            .unwrap_or_else(|e| {
                tracing::warn!(cluster = %c.id, error = %e, "DescribeEvents failed; treated as started by a person");
                false
            })
    }

    pub async fn pause(&self, env: Option<&str>) -> Result<Vec<Item>, Error> {
        let mut items = Vec::new();
        let clusters = self.clusters(env, &mut items).await;
        let services = self.services(env, &mut items).await;
        // Services first: their tasks stop before the databases they use.
        let paused: Vec<Item> = self
            .each(services, |(s, scope)| async move {
                match scope {
                    Scope::Protected(r) => self.service_item(&s).skipped(r),
                    _ => self.pause_service(&s).await,
                }
            })
            .await;
        items.extend(paused);
        let stopped: Vec<Item> = self
            .each(clusters, |(c, scope)| async move {
                match scope {
                    Scope::Protected(r) => self.cluster_item(&c).skipped(r),
                    _ => {
                        self.execute(&c, model::plan_pause(&c, self.config, None, false))
                            .await
                    }
                }
            })
            .await;
        items.extend(stopped);
        nothing_done(items)
    }

    /// Databases first; the environment's services scale up only once every database of
    /// the environment that this wake started (or found starting) is `available`. The wake
    /// waits for them while the invocation allows, then hands the services on to a
    /// follow-up through the queue, so that no service starts before its databases and
    /// none stays at 0.
    pub async fn wake(&self, env: Option<&str>) -> Result<(Vec<Item>, Option<String>), Error> {
        let mut items = Vec::new();
        let clusters = self.clusters(env, &mut items).await;
        let services = self.services(env, &mut items).await;
        // The databases the services must wait for: every in-scope one of the environment
        // that groundcrew stopped or that is on its way up or down. One that someone else
        // stopped is not ours to start, nor to wait for.
        let waiting_for: Vec<String> = clusters
            .iter()
            .filter(|(c, scope)| {
                *scope == Scope::InScope
                    && c.status != "available"
                    && (matches!(Record::of(&c.tags), Some(Ok(Record::Stopped)))
                        || matches!(c.status.as_str(), "starting" | "stopping"))
            })
            .map(|(c, _)| c.id.clone())
            .collect();
        let woken: Vec<Item> = self
            .each(clusters, |(c, scope)| async move {
                match scope {
                    Scope::Protected(r) => self.cluster_item(&c).skipped(r),
                    _ => self.execute(&c, model::plan_wake(&c)).await,
                }
            })
            .await;
        items.extend(woken);
        let to_wake: Vec<(Service, Scope)> = services
            .into_iter()
            .filter(|(s, scope)| {
                *scope == Scope::InScope && matches!(Record::of(&s.tags), Some(Ok(_)))
            })
            .collect();
        let unread_services = items
            .iter()
            .any(|i| i.kind == Kind::EcsCluster && retry_after_wake(i));
        if self.dry_run || (to_wake.is_empty() && !unread_services) {
            return Ok((self.wake_services(to_wake, items).await, None));
        }
        let mut not_ready = self.wait_available(&waiting_for).await;
        // Without the databases' list their states are unknown: the services wait too.
        if items
            .iter()
            .any(|i| i.kind == Kind::AuroraCluster && i.id == "*")
        {
            not_ready.push("(the DB cluster list could not be read)".to_string());
        }
        if not_ready.is_empty() {
            let items = self.wake_services(to_wake, items).await;
            // A service whose restore failed, or an ECS cluster whose services could not be
            // read, is not left at 0: the follow-up tries again.
            let retry = items.iter().any(retry_after_wake);
            let follow_up = if retry {
                self.follow_up(env).await
            } else {
                None
            };
            return Ok((items, follow_up));
        }
        let reason = format!(
            "waiting for its databases to be available ({})",
            not_ready.join(", ")
        );
        let follow_up = self.follow_up(env).await;
        for (s, _) in to_wake {
            let item = self.service_item(&s);
            items.push(match &follow_up {
                Some(f) => item.skipped(format!("{reason}; follow-up queued: {f}")),
                None => item.failed(
                    "restore-service",
                    format!("{reason}; no follow-up could be queued: wake the environment again"),
                ),
            });
        }
        Ok((items, follow_up))
    }

    /// Queues a wake of `env` a few minutes from now (at most SQS's 15-minute delay).
    async fn follow_up(&self, env: Option<&str>) -> Option<String> {
        let (Some(env), Some(_)) = (env, &self.config.follow_up_queue_url) else {
            return None;
        };
        let body = serde_json::json!({"action": "wake", "environment": env}).to_string();
        match self.cloud.send_later(&body, WAKE_FOLLOW_UP).await {
            Ok(()) => Some(format!("wake {env} in {} s", WAKE_FOLLOW_UP.as_secs())),
            Err(e) => {
                tracing::error!(error = %e, "could not queue the wake's follow-up");
                None
            }
        }
    }

    async fn wake_services(
        &self,
        services: Vec<(Service, Scope)>,
        mut items: Vec<Item>,
    ) -> Vec<Item> {
        let woken: Vec<Item> = self
            .each(
                services,
                |(s, _)| async move { self.wake_service(&s).await },
            )
            .await;
        items.extend(woken);
        items
    }

    /// Waits (polling) until every cluster in `ids` is `available`, while the deadline
    /// allows, starting any that has meanwhile finished stopping with groundcrew's record;
    /// returns those that are not available.
    async fn wait_available(&self, ids: &[String]) -> Vec<String> {
        let mut pending: Vec<String> = ids.to_vec();
        loop {
            let mut still = Vec::new();
            for id in &pending {
                match self.cloud.cluster(id).await {
                    Ok(Some(c)) if c.status == "available" => {}
                    Ok(None) => {}
                    Ok(Some(c)) if c.status == "stopped" => {
                        let plan = model::plan_wake(&c);
                        if plan == model::ClusterPlan::Start {
                            let item = self.execute(&c, plan).await;
                            tracing::info!(cluster = %c.id, outcome = ?item.outcome, "started once it had stopped");
                        }
                        still.push(id.clone());
                    }
                    _ => still.push(id.clone()),
                }
            }
            pending = still;
            if pending.is_empty() || !self.deadline.allows(WAKE_POLL + RESERVE * 4) {
                return pending;
            }
            tokio::time::sleep(WAKE_POLL).await;
        }
    }

    pub async fn status(&self, env: Option<&str>) -> Result<Vec<Item>, Error> {
        let mut items = Vec::new();
        let clusters = self.clusters(env, &mut items).await;
        items.extend(clusters.into_iter().map(|(c, scope)| {
            let item = self.cluster_item(&c);
            match scope {
                Scope::Protected(r) => item.skipped(r),
                _ if item.paused_at.is_some() => item.skipped("paused by groundcrew"),
                _ => item.skipped("not paused by groundcrew"),
            }
        }));
        let services = self.services(env, &mut items).await;
        let ids: Vec<String> = services.iter().map(|(s, _)| s.resource_id()).collect();
        let targets = if ids.is_empty() {
            Default::default()
        } else {
            self.cloud.targets(&ids).await.unwrap_or_default()
        };
        for (s, scope) in services {
            let mut item = self.service_item(&s);
            if let Some(t) = targets.get(&s.resource_id()) {
                item.state = format!(
                    "{} scaling min={} max={}{}",
                    item.state,
                    t.min,
                    t.max,
                    if t.suspended == Suspended::default() {
                        ""
                    } else {
                        " suspended"
                    }
                );
            }
            items.push(match scope {
                Scope::Protected(r) => item.skipped(r),
                _ if item.paused_at.is_some() => item.skipped("paused by groundcrew"),
                _ => item.skipped("not paused by groundcrew"),
            });
        }
        nothing_done(items)
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
        return Err(Error::Aws {
            op: "Describe",
            code: None,
            message: format!("nothing could be read: {}", reasons.join("; ")),
        });
    }
    Ok(items)
}
