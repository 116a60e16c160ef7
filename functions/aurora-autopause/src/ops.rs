//! Carries out a request: sweep, pause, wake, status, and the re-stop after RDS-EVENT-0153.
//!
//! Race safety of the ECS records: the record (desired count, scaling min/max and suspended
//! state) is written to the service's tags BEFORE anything is changed, in one TagResource
//! call, and an existing record is never overwritten. The scaling target is read before and
//! after the service, so a half-finished pause by someone else is always seen. A pause
//! checks afterwards that its record is still there; if a wake removed it meanwhile, the
//! pause puts back what the record said, so a service is never left at 0 after a wake.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use futures::stream::{self, StreamExt};
use groundcrew::Deadline;

use crate::cloud::{Cloud, Ecs, Rds};
use crate::config::Config;
use crate::event::{Action, Request};
use crate::model::{
    self, Cluster, ClusterPlan, Record, Scope, Service, Suspended, Target, PAUSED_AT_TAG,
    RECORD_TAG,
};
use crate::report::{Item, Kind, Report};
use crate::Error;

/// Time kept back for finishing the resource in hand and answering.
const RESERVE: Duration = Duration::from_secs(3);

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

/// Handles one request end to end.
pub async fn run<C: Cloud>(
    cloud: &C,
    config: &Config,
    request: &Request,
    deadline: Deadline,
    now: DateTime<Utc>,
) -> Result<Report, Error> {
    let dry_run = request.dry_run.unwrap_or(config.dry_run);
    let ops = Ops {
        cloud,
        config,
        deadline,
        dry_run,
        now,
    };
    let env = request.environment.as_deref();
    let items = match request.action {
        Action::Sweep => ops.sweep(env).await?,
        Action::Pause => ops.pause(env).await?,
        Action::Wake => ops.wake(env).await?,
        Action::Status => ops.status(env).await?,
        Action::Restop => {
            let id = request
                .cluster
                .as_deref()
                .ok_or_else(|| Error::BadEvent("RDS event names no cluster".into()))?;
            vec![restop(cloud, config, id, deadline, dry_run).await?]
        }
    };
    Ok(Report::new(
        request.action,
        dry_run,
        request.environment.clone(),
        items,
    ))
}

impl<C: Cloud> Ops<'_, C> {
    fn stamp(&self) -> String {
        self.now.to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    fn out_of_time(&self) -> bool {
        !self.deadline.allows(RESERVE)
    }

    /// The clusters in scope (opted in, or protected ones to report), in `env` if given,
    /// with their instance classes.
    async fn clusters(&self, env: Option<&str>) -> Result<Vec<(Cluster, Scope)>, Error> {
        let mut found: Vec<(Cluster, Scope)> = self
            .cloud
            .clusters()
            .await?
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
            let mut classes = Rds::instance_classes(self.cloud, &ids).await?;
            for (c, _) in &mut found {
                c.instance_classes = classes.remove(&c.id).unwrap_or_default();
            }
        }
        Ok(found)
    }

    async fn services(&self, env: Option<&str>) -> Result<Vec<(Service, Scope)>, Error> {
        Ok(Ecs::services(self.cloud, &self.config.ecs_clusters)
            .await?
            .into_iter()
            .filter(|s| env.is_none() || environment_of(self.config, &s.tags).as_deref() == env)
            .filter_map(|s| match model::scope(self.config, &s.tags) {
                Scope::NotOptedIn => None,
                Scope::Protected(_) if !self.config.opt_in.matches(&s.tags) => None,
                sc => Some((s, sc)),
            })
            .collect())
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

    /// Idle clusters are paused; ECS services are only reported (they follow their
    /// environment's sleep and wake).
    /// Runs `act` on every resource, at most `concurrency` at a time.
    async fn each<T, F, Fut>(&self, resources: Vec<T>, act: F) -> Vec<Item>
    where
        F: FnMut(T) -> Fut,
        Fut: std::future::Future<Output = Item>,
    {
        stream::iter(resources)
            .map(act)
            .buffer_unordered(self.config.concurrency)
            .collect()
            .await
    }

    pub async fn sweep(&self, env: Option<&str>) -> Result<Vec<Item>, Error> {
        let clusters = self.clusters(env).await?;
        let wanted: Vec<String> = clusters
            .iter()
            .filter(|(c, s)| *s == Scope::InScope && c.status == "available")
            .map(|(c, _)| c.id.clone())
            .collect();
        let connections = if wanted.is_empty() {
            Default::default()
        } else {
            self.cloud
                .max_connections(&wanted, self.config.idle_window)
                .await?
        };
        let mut items: Vec<Item> = self
            .each(clusters, |(c, scope)| {
                let verdict = model::idle(
                    connections.get(&c.id).copied().flatten(),
                    self.config.idle_max_connections,
                );
                async move {
                    match scope {
                        Scope::Protected(r) => self.cluster_item(&c).skipped(r),
                        _ => {
                            let plan = model::plan_pause(&c, self.config, Some(verdict));
                            self.execute(&c, plan).await
                        }
                    }
                }
            })
            .await;
        for (s, scope) in self.services(env).await? {
            let item = self.service_item(&s);
            items.push(match scope {
                Scope::Protected(r) => item.skipped(r),
                _ => item.skipped("ECS services follow their environment's sleep and wake schedule, not the sweep"),
            });
        }
        Ok(items)
    }

    pub async fn pause(&self, env: Option<&str>) -> Result<Vec<Item>, Error> {
        let clusters = self.clusters(env).await?;
        let services = self.services(env).await?;
        let mut items: Vec<Item> = self
            .each(clusters, |(c, scope)| async move {
                match scope {
                    Scope::Protected(r) => self.cluster_item(&c).skipped(r),
                    _ => {
                        self.execute(&c, model::plan_pause(&c, self.config, None))
                            .await
                    }
                }
            })
            .await;
        let more: Vec<Item> = self
            .each(services, |(s, scope)| async move {
                match scope {
                    Scope::Protected(r) => self.service_item(&s).skipped(r),
                    _ => self.pause_service(&s).await,
                }
            })
            .await;
        items.extend(more);
        Ok(items)
    }

    pub async fn wake(&self, env: Option<&str>) -> Result<Vec<Item>, Error> {
        let clusters = self.clusters(env).await?;
        let services = self.services(env).await?;
        let mut items: Vec<Item> = self
            .each(clusters, |(c, scope)| async move {
                match scope {
                    Scope::Protected(r) => self.cluster_item(&c).skipped(r),
                    _ => self.execute(&c, model::plan_wake(&c)).await,
                }
            })
            .await;
        let more: Vec<Item> = self
            .each(services, |(s, scope)| async move {
                match scope {
                    Scope::Protected(r) => self.service_item(&s).skipped(r),
                    _ => self.wake_service(&s).await,
                }
            })
            .await;
        items.extend(more);
        Ok(items)
    }

    pub async fn status(&self, env: Option<&str>) -> Result<Vec<Item>, Error> {
        let mut items: Vec<Item> = self
            .clusters(env)
            .await?
            .into_iter()
            .map(|(c, scope)| {
                let item = self.cluster_item(&c);
                match scope {
                    Scope::Protected(r) => item.skipped(r),
                    _ if item.paused_at.is_some() => item.skipped("paused by groundcrew"),
                    _ => item.skipped("not paused by groundcrew"),
                }
            })
            .collect();
        let services = self.services(env).await?;
        let ids: Vec<String> = services.iter().map(|(s, _)| s.resource_id()).collect();
        let targets = if ids.is_empty() {
            Default::default()
        } else {
            self.cloud.targets(&ids).await?
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
        Ok(items)
    }

    /// Carries out a cluster plan (or reports it, on a dry run).
    async fn execute(&self, c: &Cluster, plan: ClusterPlan) -> Item {
        let item = self.cluster_item(c);
        let saving = model::hourly_saving(c, &plan, self.config);
        let item = Item {
            hourly_saving_usd: saving,
            ..item
        };
        if let ClusterPlan::Skip(reason) = plan {
            return item.skipped(reason);
        }
        if self.out_of_time() {
            return item.skipped("the invocation deadline is near; left for the next run");
        }
        let rds = self.cloud;
        let dry = self.dry_run;
        match plan {
            ClusterPlan::Skip(_) => item,
            ClusterPlan::Stop { record } => {
                if dry {
                    return item.acted("stop", true);
                }
                if record {
                    let tags = [
                        (RECORD_TAG.to_string(), Record::Stopped.encode()),
                        (PAUSED_AT_TAG.to_string(), self.stamp()),
                    ];
                    if let Err(e) = Rds::tag(rds, &c.arn, &tags).await {
                        return item.failed("stop", e.to_string());
                    }
                }
                match rds.stop(&c.id).await {
                    Ok(()) => {
                        let mut item = item.acted("stop", false);
                        if record {
                            item.paused_at = Some(self.stamp());
                            item.recorded = Some(Record::Stopped.encode());
                        } else {
                            item =
                                item.with_reason("started again after being paused; stopped again");
                        }
                        item
                    }
                    Err(e) => {
                        if record {
                            // Best effort: the cluster was not stopped, so it carries no record.
                            let _ = Rds::untag(rds, &c.arn, &[RECORD_TAG, PAUSED_AT_TAG]).await;
                        }
                        match e.code() {
                            Some("InvalidDBClusterStateFault") => {
                                item.skipped(format!("not stoppable now: {}", e.aws_message()))
                            }
                            Some("InvalidParameterCombination" | "InvalidParameterValue") => item
                                .skipped(format!(
                                    "AWS does not allow stopping it: {}",
                                    e.aws_message()
                                )),
                            _ => item.failed("stop", e.to_string()),
                        }
                    }
                }
            }
            ClusterPlan::AutoPause { previous, seconds } => {
                if dry {
                    return item.acted("auto-pause", true);
                }
                let record = Record::AutoPause(previous).encode();
                let tags = [
                    (RECORD_TAG.to_string(), record.clone()),
                    (PAUSED_AT_TAG.to_string(), self.stamp()),
                ];
                if let Err(e) = Rds::tag(rds, &c.arn, &tags).await {
                    return item.failed("auto-pause", e.to_string());
                }
                let scaling = model::ScalingV2 {
                    min: 0.0,
                    max: previous.max,
                    seconds: Some(seconds),
                };
                match rds.set_scaling(&c.id, scaling).await {
                    Ok(()) => Item {
                        paused_at: Some(self.stamp()),
                        recorded: Some(record),
                        ..item.acted("auto-pause", false)
                    }
                    .with_reason(format!("MinCapacity 0, SecondsUntilAutoPause {seconds}")),
                    Err(e) => {
                        let _ = Rds::untag(rds, &c.arn, &[RECORD_TAG, PAUSED_AT_TAG]).await;
                        item.failed("auto-pause", e.to_string())
                    }
                }
            }
            ClusterPlan::Start => {
                if dry {
                    return item.acted("start", true);
                }
                match rds.start(&c.id).await {
                    Ok(()) => match Rds::untag(rds, &c.arn, &[RECORD_TAG, PAUSED_AT_TAG]).await {
                        Ok(()) => item.acted("start", false),
                        Err(e) => {
                            item.failed("start", format!("started, but its record stays: {e}"))
                        }
                    },
                    Err(e) if e.code() == Some("InvalidDBClusterStateFault") => {
                        item.skipped(format!("not startable now: {}", e.aws_message()))
                    }
                    Err(e) => item.failed("start", e.to_string()),
                }
            }
            ClusterPlan::RestoreScaling(previous) => {
                if dry {
                    return item.acted("restore-scaling", true);
                }
                match rds.set_scaling(&c.id, previous).await {
                    Ok(()) => match Rds::untag(rds, &c.arn, &[RECORD_TAG, PAUSED_AT_TAG]).await {
                        Ok(()) => item.acted("restore-scaling", false),
                        Err(e) => item.failed(
                            "restore-scaling",
                            format!("scaling restored, but its record stays: {e}"),
                        ),
                    },
                    Err(e) => item.failed("restore-scaling", e.to_string()),
                }
            }
            ClusterPlan::ClearRecord(reason) => {
                if dry {
                    return item.acted("clear-record", true).with_reason(reason);
                }
                match Rds::untag(rds, &c.arn, &[RECORD_TAG, PAUSED_AT_TAG]).await {
                    Ok(()) => item.acted("clear-record", false).with_reason(reason),
                    Err(e) => item.failed("clear-record", e.to_string()),
                }
            }
        }
    }

    /// A consistent read of a service and its scaling target: the target is read before
    /// and after the service; if it changed in between, the read is repeated.
    async fn read_service(
        &self,
        cluster: &str,
        name: &str,
    ) -> Result<Option<(Service, Option<Target>)>, Error> {
        let rid = format!("service/{cluster}/{name}");
        let ids = [rid.clone()];
        for _ in 0..5 {
            let before = self.cloud.targets(&ids).await?.remove(&rid);
            let Some(service) = self.cloud.service(cluster, name).await? else {
                return Ok(None);
            };
            let after = self.cloud.targets(&ids).await?.remove(&rid);
            if before == after {
                return Ok(Some((service, after)));
            }
        }
        Err(Error::Aws {
            op: "DescribeScalableTargets",
            code: None,
            message: format!("the scaling target of {cluster}/{name} kept changing; try again"),
        })
    }

    async fn pause_service(&self, hint: &Service) -> Item {
        let item = self.service_item(hint);
        if self.out_of_time() {
            return item.skipped("the invocation deadline is near; left for the next run");
        }
        let (svc, target) = match self.read_service(&hint.cluster, &hint.name).await {
            Ok(Some(x)) => x,
            Ok(None) => return item.skipped("service no longer exists"),
            Err(e) => return item.failed("scale-to-zero", e.to_string()),
        };
        let item = self.service_item(&svc);
        match model::scope(self.config, &svc.tags) {
            Scope::InScope => {}
            Scope::Protected(r) => return item.skipped(r),
            Scope::NotOptedIn => return item.skipped("no longer opted in"),
        }
        let (record, fresh) = match Record::of(&svc.tags) {
            Some(Ok(r @ Record::ScaledToZero { .. })) => (r, false),
            Some(Ok(_)) => {
                return item.skipped(format!("{RECORD_TAG} tag is not a service record"))
            }
            Some(Err(e)) => return item.skipped(e),
            None if svc.desired == 0 => {
                return item.skipped("desired count is already 0 (not paused by groundcrew)")
            }
            None => (
                Record::ScaledToZero {
                    desired: svc.desired,
                    target,
                },
                true,
            ),
        };
        let Record::ScaledToZero {
            target: recorded_target,
            ..
        } = record.clone()
        else {
            return item.skipped("unexpected record");
        };
        let target_done = match (recorded_target, target) {
            (Some(_), Some(t)) => t.min == 0 && t.suspended == Suspended::ALL,
            _ => true,
        };
        if !fresh && svc.desired == 0 && target_done {
            let since = svc
                .tags
                .get(PAUSED_AT_TAG)
                .map(|t| format!(" at {t}"))
                .unwrap_or_default();
            return item.skipped(format!("already scaled to zero by groundcrew{since}"));
        }
        let encoded = record.encode();
        if self.dry_run {
            return Item {
                recorded: Some(encoded),
                ..item.acted("scale-to-zero", true)
            };
        }
        let mut item = item;
        if fresh {
            let tags = [
                (RECORD_TAG.to_string(), encoded.clone()),
                (PAUSED_AT_TAG.to_string(), self.stamp()),
            ];
            if let Err(e) = Ecs::tag(self.cloud, &svc.arn, &tags).await {
                return item.failed("scale-to-zero", e.to_string());
            }
            item.paused_at = Some(self.stamp());
            item.recorded = Some(encoded);
        }
        if let (Some(_), Some(t)) = (recorded_target, target) {
            if !(t.min == 0 && t.suspended == Suspended::ALL) {
                let suspended = Target {
                    min: 0,
                    max: t.max,
                    suspended: Suspended::ALL,
                };
                if let Err(e) = self.cloud.register(&svc.resource_id(), suspended).await {
                    return item.failed(
                        "scale-to-zero",
                        format!("record kept, scaling not suspended: {e}"),
                    );
                }
            }
        }
        if svc.desired != 0 {
            if let Err(e) = self.cloud.set_desired(&svc.cluster, &svc.name, 0).await {
                return item.failed(
                    "scale-to-zero",
                    format!("record kept, scaling suspended, desired count not set: {e}"),
                );
            }
        }
        // A wake that finished meanwhile removed the record: undo, so the wake wins.
        match self.cloud.service(&svc.cluster, &svc.name).await {
            Ok(Some(after)) if Record::of(&after.tags).is_none() => {
                match self.restore_service(&svc, &record).await {
                    Ok(()) => item.skipped(
                        "a wake finished during the pause; the recorded state was put back",
                    ),
                    Err(e) => item.failed(
                        "scale-to-zero",
                        format!("a wake finished during the pause and restoring failed: {e}"),
                    ),
                }
            }
            Ok(_) => item.acted("scale-to-zero", false),
            Err(e) => item.failed(
                "scale-to-zero",
                format!("scaled to zero, but the record could not be checked: {e}"),
            ),
        }
    }

    async fn restore_service(&self, svc: &Service, record: &Record) -> Result<(), Error> {
        let Record::ScaledToZero { desired, target } = record else {
            return Ok(());
        };
        if let Some(t) = target {
            self.cloud.register(&svc.resource_id(), *t).await?;
        }
        self.cloud
            .set_desired(&svc.cluster, &svc.name, *desired)
            .await
    }

    async fn wake_service(&self, hint: &Service) -> Item {
        let item = self.service_item(hint);
        if self.out_of_time() {
            return item.skipped("the invocation deadline is near; left for the next run");
        }
        let svc = match self.cloud.service(&hint.cluster, &hint.name).await {
            Ok(Some(s)) => s,
            Ok(None) => return item.skipped("service no longer exists"),
            Err(e) => return item.failed("restore-service", e.to_string()),
        };
        let item = self.service_item(&svc);
        let record = match Record::of(&svc.tags) {
            None => return item.skipped("not paused by groundcrew"),
            Some(Err(e)) => return item.skipped(e),
            Some(Ok(r @ Record::ScaledToZero { .. })) => r,
            Some(Ok(_)) => {
                return item.skipped(format!("{RECORD_TAG} tag is not a service record"))
            }
        };
        if self.dry_run {
            return item.acted("restore-service", true);
        }
        if let Err(e) = self.restore_service(&svc, &record).await {
            return item.failed("restore-service", e.to_string());
        }
        match Ecs::untag(self.cloud, &svc.arn, &[RECORD_TAG, PAUSED_AT_TAG]).await {
            Ok(()) => item.acted("restore-service", false),
            Err(e) => item.failed(
                "restore-service",
                format!("restored, but its record stays: {e}"),
            ),
        }
    }
}

/// RDS-EVENT-0153: AWS started a cluster that had been stopped for 7 days. If groundcrew
/// stopped it, stop it again, retrying through `starting` until it is `available`
/// (`InvalidDBClusterStateFault` means "not yet"; the state is read from the error), within
/// the deadline. When the deadline comes first, the next sweep finishes the job.
pub async fn restop<R: Rds>(
    rds: &R,
    config: &Config,
    id: &str,
    deadline: Deadline,
    dry_run: bool,
) -> Result<Item, Error> {
    let Some(c) = rds.cluster(id).await? else {
        return Ok(Item::new(Kind::AuroraCluster, id, None, "not-found")
            .skipped("no such DB cluster (deleted?)"));
    };
    let mut item = Item::new(
        Kind::AuroraCluster,
        &c.id,
        environment_of(config, &c.tags),
        &c.status,
    );
    item.paused_at = c.tags.get(PAUSED_AT_TAG).cloned();
    item.recorded = c.tags.get(RECORD_TAG).cloned();
    match model::scope(config, &c.tags) {
        Scope::InScope => {}
        Scope::Protected(r) => return Ok(item.skipped(r)),
        Scope::NotOptedIn => return Ok(item.skipped("not opted in; left alone")),
    }
    match Record::of(&c.tags) {
        Some(Ok(Record::Stopped)) => {}
        Some(Err(e)) => return Ok(item.skipped(e)),
        _ => return Ok(item.skipped("not stopped by groundcrew; left running")),
    }
    if dry_run {
        return Ok(item.acted("stop", true));
    }
    let mut delay = Duration::from_secs(2);
    loop {
        match rds.stop(&c.id).await {
            Ok(()) => {
                return Ok(item
                    .acted("stop", false)
                    .with_reason("started by AWS after 7 days stopped; stopped again"))
            }
            Err(e) if e.code() == Some("InvalidDBClusterStateFault") => {
                let state = model::state_from_message(e.aws_message())
                    .unwrap_or_else(|| "unknown".to_string());
                if matches!(state.as_str(), "stopped" | "stopping") {
                    return Ok(Item { state, ..item }.skipped("already stopped or stopping"));
                }
                tracing::info!(cluster = %c.id, state = %state, "cluster not stoppable yet; waiting");
                if !deadline.allows(delay + RESERVE) {
                    return Ok(Item {
                        state: state.clone(),
                        ..item
                    }
                    .skipped(format!(
                        "still {state} at the deadline; the next sweep stops it once idle"
                    )));
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(config.restop_max_delay.max(Duration::from_secs(1)));
            }
            Err(e) => return Ok(item.failed("stop", e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};
    use std::sync::Mutex;

    /// An RDS whose stop fails with the given states before it succeeds.
    struct FakeRds {
        cluster: Cluster,
        states: Mutex<Vec<&'static str>>,
        stops: Mutex<u32>,
    }

    impl Rds for FakeRds {
        async fn clusters(&self) -> Result<Vec<Cluster>, Error> {
            Ok(vec![self.cluster.clone()])
        }
        async fn cluster(&self, id: &str) -> Result<Option<Cluster>, Error> {
            Ok((id == self.cluster.id).then(|| self.cluster.clone()))
        }
        async fn instance_classes(
            &self,
            _: &[String],
        ) -> Result<HashMap<String, Vec<String>>, Error> {
            Ok(HashMap::new())
        }
        async fn stop(&self, id: &str) -> Result<(), Error> {
            *self.stops.lock().unwrap() += 1;
            let mut states = self.states.lock().unwrap();
            if states.is_empty() {
                return Ok(());
            }
            let s = states.remove(0);
            Err(Error::Aws {
                op: "StopDBCluster",
                code: Some("InvalidDBClusterStateFault".into()),
                message: format!(
                    "DbCluster {id} is in {s} state but expected it to be one of available."
                ),
            })
        }
        async fn start(&self, _: &str) -> Result<(), Error> {
            Ok(())
        }
        async fn set_scaling(&self, _: &str, _: model::ScalingV2) -> Result<(), Error> {
            Ok(())
        }
        async fn tag(&self, _: &str, _: &crate::cloud::Tags) -> Result<(), Error> {
            Ok(())
        }
        async fn untag(&self, _: &str, _: &[&str]) -> Result<(), Error> {
            Ok(())
        }
    }

    fn fake(tags: &[(&str, &str)], states: Vec<&'static str>) -> FakeRds {
        FakeRds {
            cluster: Cluster {
                id: "dev-1".into(),
                arn: "arn".into(),
                status: "starting".into(),
                engine: "aurora-postgresql".into(),
                tags: tags
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>(),
                ..Default::default()
            },
            states: Mutex::new(states),
            stops: Mutex::new(0),
        }
    }

    const OURS: [(&str, &str); 2] = [("groundcrew:autopause", "true"), (RECORD_TAG, "mode=stop")];

    #[tokio::test(start_paused = true)]
    async fn restop_retries_through_starting() {
        let rds = fake(
            &OURS,
            vec!["starting", "starting", "configuring-enhanced-monitoring"],
        );
        let item = restop(
            &rds,
            &Config::default(),
            "dev-1",
            Deadline::after(Duration::from_secs(60)),
            false,
        )
        .await
        .unwrap();
        assert_eq!(
            (item.action, item.outcome),
            ("stop", crate::report::Outcome::Done)
        );
        assert_eq!(*rds.stops.lock().unwrap(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn restop_leaves_it_to_the_sweep_at_the_deadline() {
        let rds = fake(&OURS, vec!["starting"; 100]);
        let start = tokio::time::Instant::now();
        let item = restop(
            &rds,
            &Config::default(),
            "dev-1",
            Deadline::after(Duration::from_secs(20)),
            false,
        )
        .await
        .unwrap();
        assert_eq!(item.outcome, crate::report::Outcome::Skipped);
        assert!(item.reason.unwrap().contains("next sweep"));
        assert!(start.elapsed() < Duration::from_secs(20));
    }

    #[tokio::test(start_paused = true)]
    async fn restop_only_touches_clusters_we_stopped() {
        for tags in [
            vec![("groundcrew:autopause", "true")],
            vec![(RECORD_TAG, "mode=stop")],
            vec![
                ("groundcrew:autopause", "true"),
                (RECORD_TAG, "mode=stop"),
                ("environment", "prod"),
            ],
        ] {
            let rds = fake(&tags, vec![]);
            let item = restop(
                &rds,
                &Config::default(),
                "dev-1",
                Deadline::after(Duration::from_secs(60)),
                false,
            )
            .await
            .unwrap();
            assert_eq!(item.outcome, crate::report::Outcome::Skipped, "{tags:?}");
            assert_eq!(*rds.stops.lock().unwrap(), 0);
        }
        let rds = fake(&OURS, vec![]);
        let item = restop(
            &rds,
            &Config::default(),
            "dev-1",
            Deadline::after(Duration::from_secs(60)),
            true,
        )
        .await
        .unwrap();
        assert_eq!(item.outcome, crate::report::Outcome::DryRun);
        assert_eq!(*rds.stops.lock().unwrap(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn restop_of_an_already_stopped_cluster_is_a_no_op() {
        let rds = fake(&OURS, vec!["stopped"]);
        let item = restop(
            &rds,
            &Config::default(),
            "dev-1",
            Deadline::after(Duration::from_secs(60)),
            false,
        )
        .await
        .unwrap();
        assert_eq!(
            (item.outcome, item.state.as_str()),
            (crate::report::Outcome::Skipped, "stopped")
        );
    }
}
