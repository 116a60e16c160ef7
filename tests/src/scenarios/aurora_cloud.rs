//! aurora-autopause's seams (`aurora_autopause::cloud`) on the models: what the function
//! calls reaches RDS, CloudWatch, ECS, Application Auto Scaling and SQS models here, with
//! the fault plan's throttles, service errors and timeouts (before or after the service
//! acted), and with a little latency per call. Every change is checked against the
//! scenario's own idea of which resources may be touched (never the function's).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aurora_autopause::cloud::{self, MetricRequest, Series, Tags};
use aurora_autopause::model::{Cluster, DbKind, ScalingV2, Service, Target};
use aurora_autopause::Error;
use chrono::{DateTime, DurationRound, Utc};
use groundcrew::aws_error::{AwsError, Fault as AwsFault};

use crate::kernel::{lock, Fault, Sim};
use crate::models::cloudwatch::CloudWatchModel;
use crate::models::ecs::EcsModel;
use crate::models::rds::{RdsModel, Starter};
use crate::models::sqs::QueueModel;

/// Latency of one API call (ASSUMPTION: tens of milliseconds; it only spends the deadline).
const CALL_LATENCY: Duration = Duration::from_millis(60);
/// How long a call that times out waits before it fails (the SDK's operation timeout).
const TIMEOUT: Duration = Duration::from_secs(10);

/// What the scenario knows about each database, independently of the function.
#[derive(Debug, Clone)]
pub struct DbTruth {
    pub env: Option<String>,
    /// Opted in and not protected: the only databases groundcrew may change.
    pub in_scope: bool,
    pub window: chrono::Duration,
}

#[derive(Debug, Clone)]
pub struct ServiceTruth {
    pub env: String,
    pub in_scope: bool,
    pub desired: i32,
    pub target: Option<Target>,
}

/// The kind of invocation running, for the invariants that depend on why a call is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acting {
    Sweep,
    Pause,
    Wake,
    Batch,
}

pub struct World {
    pub rds: RdsModel,
    pub cw: CloudWatchModel,
    pub ecs: EcsModel,
    pub queue: QueueModel,
    pub dbs: BTreeMap<String, DbTruth>,
    pub services: BTreeMap<(String, String), ServiceTruth>,
    pub acting: Option<Acting>,
    pub lag: chrono::Duration,
    /// Figures for the report.
    pub stops_with_unpublished_connection: u64,
    pub sweep_stops: u64,
    pub restops: u64,
    /// Of those, the stops of plain RDS instances.
    pub instance_sweep_stops: u64,
    pub instance_restops: u64,
    pub api_calls: BTreeMap<&'static str, u64>,
    /// A deliberately broken CloudWatch (every minute reads 0 connections), to prove
    /// that the invariants catch a wrong idle check and that a failure replays exactly.
    pub broken_metrics: bool,
}

#[derive(Clone)]
pub struct SimAws {
    pub sim: Arc<Sim>,
    pub world: Arc<Mutex<World>>,
}

/// A service's answer, classified by its code as the function classifies the SDK's.
fn aws_error(op: &'static str, code: &str, message: impl Into<String>) -> Error {
    Error::Aws(AwsError::new(op, message).with_code(code))
}

/// The SDK's operation timeout: transient, and the call may or may not have acted.
fn timed_out(op: &'static str) -> Error {
    Error::Aws(AwsError::new(op, "operation timed out").with_fault(AwsFault::Transient))
}

impl SimAws {
    pub fn world(&self) -> std::sync::MutexGuard<'_, World> {
        lock(&self.world)
    }

    /// One call: latency, then the fault plan. `act` runs unless the fault says the
    /// service never acted; a timeout after the action returns an error all the same.
    async fn call<T>(
        &self,
        op: &'static str,
        resource: &str,
        act: impl FnOnce(&mut World, DateTime<Utc>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        tokio::time::sleep(CALL_LATENCY).await;
        let fault = self.sim.fault(resource, op);
        {
            let mut w = self.world();
            *w.api_calls.entry(op).or_insert(0) += 1;
        }
        match fault {
            Fault::Throttle => return Err(aws_error(op, "ThrottlingException", "Rate exceeded")),
            Fault::ServerError => {
                return Err(aws_error(
                    op,
                    "InternalFailure",
                    "An internal error occurred",
                ))
            }
            Fault::TimeoutBeforeAction => {
                tokio::time::sleep(TIMEOUT).await;
                return Err(timed_out(op));
            }
            Fault::TimeoutAfterAction | Fault::None => {}
        }
        let now = self.sim.now();
        let result = {
            let mut w = self.world();
            let mut rng = self.sim.rng();
            w.rds.advance(now, &mut rng);
            drop(rng);
            act(&mut w, now)
        };
        if fault == Fault::TimeoutAfterAction {
            tokio::time::sleep(TIMEOUT).await;
            return Err(timed_out(op));
        }
        result
    }

    fn check_in_scope_db(&self, w: &World, id: &str, what: &str) {
        let ok = w.dbs.get(id).is_some_and(|d| d.in_scope);
        self.sim
            .check("no untagged or protected resource is changed", ok, || {
                format!("{what} on database {id}, which is not opted in or is protected")
            });
    }

    fn check_in_scope_service(&self, w: &World, cluster: &str, name: &str, what: &str) {
        let ok = w
            .services
            .get(&(cluster.to_string(), name.to_string()))
            .is_some_and(|s| s.in_scope);
        self.sim
            .check("no untagged or protected resource is changed", ok, || {
                format!("{what} on service {cluster}/{name}, which is not opted in or is protected")
            });
    }

    /// The invariants of a stop (or auto-pause) decided by a sweep's idle check.
    fn check_sweep_stop(&self, w: &mut World, id: &str, now: DateTime<Utc>) {
        let Some(state) = w.rds.clusters.get(id) else {
            return;
        };
        if state.last_start == Starter::Aws {
            // AWS's seven-day start, stopped again: a re-stop, not an idle decision.
            return;
        }
        let window = w
            .dbs
            .get(id)
            .map_or(chrono::Duration::minutes(30), |d| d.window);
        let end = now - w.lag;
        let start = end - window;
        // Every published minute that overlaps the window (a minute's datapoint covers it
        // from its start), and what is published after it.
        let from = start
            .duration_trunc(chrono::Duration::minutes(1))
            .unwrap_or(start);
        let published = w.cw.published(id, from, now, now);
        let busy = published.iter().find(|(_, v)| **v > 0.0);
        self.sim.check(
            "no stop while the published data of the window had a connection",
            busy.is_none(),
            || format!("stopped {id} with {busy:?} in its window {start}..{end}"),
        );
        let since = state.available_since;
        self.sim.check(
            "no stop within the idle window after a database became available",
            since.is_some_and(|t| t <= now - window),
            || format!("stopped {id}, available since {since:?}, window {window}"),
        );
        let tail = w.cw.all(id, end, now + chrono::Duration::minutes(1));
        if tail.values().any(|v| *v > 0.0) {
            w.stops_with_unpublished_connection += 1;
        }
        w.sweep_stops += 1;
    }
}

impl cloud::Rds for SimAws {
    async fn clusters(&self) -> Result<Vec<Cluster>, Error> {
        self.call("DescribeDBClusters", "*", |w, _| Ok(w.rds.describe_all()))
            .await
    }

    async fn describe(&self, kind: DbKind, id: &str) -> Result<Option<Cluster>, Error> {
        let op = match kind {
            DbKind::Cluster => "DescribeDBClusters",
            DbKind::Instance => "DescribeDBInstances",
        };
        self.call(op, id, |w, _| Ok(w.rds.describe_kind(kind, id)))
            .await
    }

    async fn instance_classes(
        &self,
        cluster_ids: &[String],
    ) -> Result<HashMap<String, Vec<String>>, Error> {
        self.call("DescribeDBInstances", "*", |w, _| {
            Ok(cluster_ids
                .iter()
                .filter_map(|id| w.rds.describe(id).map(|c| (id.clone(), c.instance_classes)))
                .collect())
        })
        .await
    }

    async fn instances(&self) -> Result<Vec<Cluster>, Error> {
        self.call("DescribeDBInstances", "*", |w, _| {
            Ok(w.rds.describe_all_of(DbKind::Instance))
        })
        .await
    }

    async fn events_since(
        &self,
        kind: DbKind,
        id: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, String)>, Error> {
        self.call("DescribeEvents", id, |w, _| {
            Ok(w.rds
                .events_since(kind, id, since)
                .into_iter()
                .map(|e| (e.at, e.message))
                .collect())
        })
        .await
    }

    async fn recent_events(
        &self,
        kind: DbKind,
        since: DateTime<Utc>,
    ) -> Result<Vec<cloud::DbEvent>, Error> {
        self.call("DescribeEvents", "*", |w, _| {
            Ok(w.rds
                .events_of(kind, since)
                .into_iter()
                .map(|e| cloud::DbEvent {
                    at: e.at,
                    kind: e.kind,
                    source: e.cluster,
                    message: e.message,
                })
                .collect())
        })
        .await
    }

    async fn stop(&self, kind: DbKind, id: &str) -> Result<(), Error> {
        self.stop_db(kind, id).await
    }

    async fn start(&self, kind: DbKind, id: &str) -> Result<(), Error> {
        self.start_db(kind, id).await
    }

    async fn set_scaling(&self, id: &str, scaling: ScalingV2) -> Result<(), Error> {
        self.call("ModifyDBCluster", id, |w, now| {
            self.check_in_scope_db(w, id, "ModifyDBCluster");
            if scaling.min == 0.0 && w.acting == Some(Acting::Sweep) {
                self.check_sweep_stop(w, id, now);
            }
            w.rds
                .set_scaling(id, scaling)
                .map_err(|e| aws_error("ModifyDBCluster", e.code, e.message))
        })
        .await
    }

    async fn tag(&self, arn: &str, tags: &Tags) -> Result<(), Error> {
        let id = arn.rsplit(':').next().unwrap_or(arn).to_string();
        self.call("AddTagsToResource", &id, |w, _| {
            self.check_in_scope_db(w, &id, "AddTagsToResource");
            w.rds
                .tag(arn, tags)
                .map_err(|e| aws_error("AddTagsToResource", e.code, e.message))
        })
        .await
    }

    async fn untag(&self, arn: &str, keys: &[&str]) -> Result<(), Error> {
        let id = arn.rsplit(':').next().unwrap_or(arn).to_string();
        self.call("RemoveTagsFromResource", &id, |w, _| {
            self.check_in_scope_db(w, &id, "RemoveTagsFromResource");
            w.rds
                .untag(arn, keys)
                .map_err(|e| aws_error("RemoveTagsFromResource", e.code, e.message))
        })
        .await
    }
}

impl SimAws {
    /// `StopDBCluster` or `StopDBInstance`, with the invariants of a stop.
    async fn stop_db(&self, kind: DbKind, id: &str) -> Result<(), Error> {
        let op = match kind {
            DbKind::Cluster => "StopDBCluster",
            DbKind::Instance => "StopDBInstance",
        };
        let sim = Arc::clone(&self.sim);
        self.call(op, id, |w, now| {
            self.check_in_scope_db(w, id, op);
            let person_started = w
                .rds
                .clusters
                .get(id)
                .is_some_and(|c| c.last_start == Starter::Person && c.status() == "available");
            if w.acting == Some(Acting::Batch) {
                sim.check(
                    "a 7-day re-stop never stops a database a person started since",
                    !person_started,
                    || format!("re-stop of {id}, started by a person"),
                );
            }
            let available = w
                .rds
                .clusters
                .get(id)
                .is_some_and(|c| c.status() == "available");
            if available {
                let instance = u64::from(kind == DbKind::Instance);
                match w.acting {
                    Some(Acting::Sweep) => {
                        self.check_sweep_stop(w, id, now);
                        w.instance_sweep_stops += instance;
                    }
                    Some(Acting::Batch) => {
                        w.restops += 1;
                        w.instance_restops += instance;
                    }
                    _ => {}
                }
            }
            let mut rng = sim.rng();
            let result = w.rds.stop_kind(kind, id, now, &mut rng);
            drop(rng);
            result.map_err(|e| aws_error(op, e.code, e.message))
        })
        .await
    }

    /// `StartDBCluster` or `StartDBInstance`.
    async fn start_db(&self, kind: DbKind, id: &str) -> Result<(), Error> {
        let op = match kind {
            DbKind::Cluster => "StartDBCluster",
            DbKind::Instance => "StartDBInstance",
        };
        let sim = Arc::clone(&self.sim);
        self.call(op, id, |w, now| {
            self.check_in_scope_db(w, id, op);
            let mut rng = sim.rng();
            w.rds
                .start_kind(kind, id, now, Starter::Groundcrew, &mut rng)
                .map_err(|e| aws_error(op, e.code, e.message))
        })
        .await
    }
}

impl cloud::Metrics for SimAws {
    async fn get_metric_data(
        &self,
        request: &MetricRequest,
    ) -> Result<BTreeMap<String, Series>, Error> {
        self.call("GetMetricData", "*", |w, now| {
            if w.broken_metrics {
                let minutes = (request.end - request.start).num_minutes();
                return Ok(request
                    .queries
                    .iter()
                    .map(|q| {
                        let quiet = (0..minutes)
                            .map(|m| (request.start + chrono::Duration::minutes(m), 0.0))
                            .collect();
                        (q.id.clone(), quiet)
                    })
                    .collect());
            }
            w.cw.get_metric_data(request, now)
                .map_err(|(code, message)| aws_error("GetMetricData", code, message))
        })
        .await
    }
}

impl cloud::Ecs for SimAws {
    async fn cluster_names(&self) -> Result<Vec<String>, Error> {
        self.call("ListClusters", "*", |w, _| Ok(w.ecs.clusters.clone()))
            .await
    }

    async fn services_in(&self, cluster: &str) -> Result<Vec<Service>, Error> {
        self.call("ListServices", cluster, |w, _| {
            w.ecs
                .services_in(cluster)
                .map_err(|e| aws_error("ListServices", e.code, e.message))
        })
        .await
    }

    async fn service(&self, cluster: &str, name: &str) -> Result<Option<Service>, Error> {
        self.call("DescribeServices", name, |w, _| {
            Ok(w.ecs.service(cluster, name))
        })
        .await
    }

    async fn set_desired(&self, cluster: &str, name: &str, desired: i32) -> Result<(), Error> {
        let sim = Arc::clone(&self.sim);
        self.call("UpdateService", name, |w, _| {
            self.check_in_scope_service(w, cluster, name, "UpdateService");
            if desired > 0 {
                let env = w
                    .services
                    .get(&(cluster.to_string(), name.to_string()))
                    .map(|s| s.env.clone());
                let down: Vec<String> = w
                    .dbs
                    .iter()
                    .filter(|(_, d)| d.in_scope && d.env == env)
                    .filter(|(id, _)| {
                        w.rds
                            .clusters
                            .get(*id)
                            .is_some_and(|c| c.status() != "available")
                    })
                    .map(|(id, _)| id.clone())
                    .collect();
                sim.check(
                    "no service is scaled up before its databases are available",
                    down.is_empty(),
                    || {
                        format!(
                            "{cluster}/{name} scaled to {desired} while {down:?} are not available"
                        )
                    },
                );
            }
            w.ecs
                .set_desired(cluster, name, desired)
                .map_err(|e| aws_error("UpdateService", e.code, e.message))
        })
        .await
    }

    async fn tag(&self, arn: &str, tags: &Tags) -> Result<(), Error> {
        self.call("TagResource", arn, |w, _| {
            let Some(s) = w.ecs.find_by_arn(arn) else {
                return Err(aws_error(
                    "TagResource",
                    "InvalidParameterException",
                    "no such resource",
                ));
            };
            let (cluster, name) = (s.cluster.clone(), s.name.clone());
            for (k, v) in tags {
                s.tags.insert(k.clone(), v.clone());
            }
            self.check_in_scope_service(w, &cluster, &name, "TagResource");
            Ok(())
        })
        .await
    }

    async fn untag(&self, arn: &str, keys: &[&str]) -> Result<(), Error> {
        self.call("UntagResource", arn, |w, _| {
            let Some(s) = w.ecs.find_by_arn(arn) else {
                return Err(aws_error(
                    "UntagResource",
                    "InvalidParameterException",
                    "no such resource",
                ));
            };
            let (cluster, name) = (s.cluster.clone(), s.name.clone());
            for k in keys {
                s.tags.remove(*k);
            }
            self.check_in_scope_service(w, &cluster, &name, "UntagResource");
            Ok(())
        })
        .await
    }
}

impl cloud::Scaling for SimAws {
    async fn targets(&self, resource_ids: &[String]) -> Result<HashMap<String, Target>, Error> {
        self.call("DescribeScalableTargets", "*", |w, _| {
            Ok(resource_ids
                .iter()
                .filter_map(|r| w.ecs.targets.get(r).map(|t| (r.clone(), *t)))
                .collect())
        })
        .await
    }

    async fn register(&self, resource_id: &str, target: Target) -> Result<(), Error> {
        self.call("RegisterScalableTarget", resource_id, |w, _| {
            let mut parts = resource_id.splitn(3, '/').skip(1);
            let (cluster, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            self.check_in_scope_service(w, cluster, name, "RegisterScalableTarget");
            w.ecs
                .register(resource_id, target)
                .map_err(|e| aws_error("RegisterScalableTarget", e.code, e.message))
        })
        .await
    }
}

impl cloud::Queue for SimAws {
    async fn send_later(&self, body: &str, delay: Duration) -> Result<(), Error> {
        self.call("SendMessage", "follow-up", |w, now| {
            w.queue
                .send(body.to_string(), delay.as_secs() as u32, now)
                .map(|_| ())
                .map_err(|m| aws_error("SendMessage", "InvalidParameterValue", m))
        })
        .await
    }

    async fn retry_later(&self, receipt_handle: &str, after: Duration) -> Result<(), Error> {
        self.call("ChangeMessageVisibility", "follow-up", |w, now| {
            w.queue
                .change_visibility(receipt_handle, after.as_secs() as u32, now)
                .map_err(|m| aws_error("ChangeMessageVisibility", "ReceiptHandleIsInvalid", m))
        })
        .await
    }
}
