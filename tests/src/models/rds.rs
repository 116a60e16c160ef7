//! Amazon RDS: Aurora DB clusters and plain RDS DB instances over time.
//!
//! States and transitions (`available` -> `stopping` -> `stopped` -> `starting` ->
//! `available`) and their faults follow the RDS API reference (StopDBCluster,
//! StartDBCluster): a stop of a cluster that is not `available` fails with
//! `InvalidDBClusterStateFault` naming the state, as does a start of one that is not
//! `stopped`. AWS starts a cluster that has been stopped for seven days and records
//! RDS-EVENT-0153 ("DB cluster is being started due to it exceeding the maximum allowed
//! time being stopped.", RDS User Guide, "Stopping and starting an Aurora cluster").
//!
//! DB instances (RDS User Guide, "Stopping an Amazon RDS DB instance temporarily", and the
//! StopDBInstance/StartDBInstance API reference): the same states; a stop of an instance
//! that is not `available` fails with `InvalidDBInstanceState` ("Instance x is not in
//! available state."), a start of one that is not `stopped` likewise ("Instance x is not
//! stopped, it cannot be started."); neither message names the state. AWS starts an
//! instance stopped for seven days and records RDS-EVENT-0154; "DB instance stopped" is
//! RDS-EVENT-0087 and "DB instance started" RDS-EVENT-0088. AWS lists what cannot be
//! stopped (read replicas, instances with read replicas, SQL Server Multi-AZ) without the
//! error it answers: ASSUMPTION, as moto answers, `InvalidDBClusterStateFault`.
//!
//! ASSUMPTIONS (AWS gives no figures): a cluster stops in 1-5 minutes and starts in 3-15;
//! an instance stops in 1-5 minutes (Multi-AZ 3-15: AWS warns that a Multi-AZ stop can take
//! "a large amount of time") and starts in 5-20 (AWS: "from minutes to hours"; dev-sized
//! instances take minutes), drawn per transition from the seed.

use std::collections::BTreeMap;
use std::time::Duration;

use aurora_autopause::model::{Cluster, DbKind, ScalingV2};
use chrono::{DateTime, Utc};

use crate::kernel::SimRng;

/// ASSUMPTION: how long a stop takes (no AWS figure).
pub const STOPPING: (u64, u64) = (60, 5 * 60);
/// ASSUMPTION: how long a start takes (no AWS figure; Aurora and Multi-AZ take minutes).
pub const STARTING: (u64, u64) = (3 * 60, 15 * 60);
/// AWS starts a cluster that has been stopped this long (RDS User Guide).
pub const AUTO_START_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);
/// RDS-EVENT-0153's message, as `DescribeEvents` returns it.
pub const AUTO_START_MESSAGE: &str =
    "DB cluster is being started due to it exceeding the maximum allowed time being stopped.";
/// RDS-EVENT-0154's message (an instance).
pub const INSTANCE_AUTO_START_MESSAGE: &str =
    "DB instance is being started due to it exceeding the maximum allowed time being stopped.";
/// ASSUMPTION: how long an instance's stop takes, Single-AZ and Multi-AZ.
pub const INSTANCE_STOPPING: (u64, u64) = (60, 5 * 60);
pub const INSTANCE_STOPPING_MULTI_AZ: (u64, u64) = (3 * 60, 15 * 60);
/// ASSUMPTION: how long an instance's start takes.
pub const INSTANCE_STARTING: (u64, u64) = (5 * 60, 20 * 60);
/// ASSUMPTION: how long a reboot takes (AWS: "usually a few minutes"; dev-sized databases
/// come back in one or two).
pub const REBOOTING: (u64, u64) = (40, 150);
/// RDS-EVENT-0006's message, recorded on the instance that restarted (an Aurora cluster's
/// reboot is its writer instance's: RDS records it on the instance, not the cluster).
pub const RESTARTED_MESSAGE: &str = "DB instance restarted.";

fn stopping(c: &Cluster) -> (u64, u64) {
    match (c.kind, c.multi_az) {
        (DbKind::Cluster, _) => STOPPING,
        (DbKind::Instance, false) => INSTANCE_STOPPING,
        (DbKind::Instance, true) => INSTANCE_STOPPING_MULTI_AZ,
    }
}

fn starting(c: &Cluster) -> (u64, u64) {
    match c.kind {
        DbKind::Cluster => STARTING,
        DbKind::Instance => INSTANCE_STARTING,
    }
}

/// Who started a cluster last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Starter {
    Created,
    Aws,
    Groundcrew,
    Person,
}

#[derive(Debug, Clone)]
pub struct ClusterState {
    pub cluster: Cluster,
    /// A transition under way: (when it ends, the state it ends in).
    pending: Option<(DateTime<Utc>, &'static str)>,
    /// When it last became `stopped`.
    pub stopped_at: Option<DateTime<Utc>>,
    /// When it last became `available`.
    pub available_since: Option<DateTime<Utc>>,
    pub last_start: Starter,
    /// Every status change: (when, status), oldest first.
    history: Vec<(DateTime<Utc>, String)>,
}

impl ClusterState {
    pub fn status(&self) -> &str {
        &self.cluster.status
    }

    /// The status at `t` (the last change at or before it).
    pub fn status_at(&self, t: DateTime<Utc>) -> &str {
        self.history
            .iter()
            .rev()
            .find(|(at, _)| *at <= t)
            .map_or(self.cluster.status.as_str(), |(_, s)| s.as_str())
    }

    fn set(&mut self, at: DateTime<Utc>, status: &str) {
        self.cluster.status = status.to_string();
        self.history.push((at, status.to_string()));
    }
}

/// An RDS event (what `DescribeEvents` lists and EventBridge delivers): stops and starts
/// (RDS-EVENT-0150 "DB cluster stopped", RDS-EVENT-0151 "DB cluster started"; 0087 and 0088
/// for an instance) and AWS's own start after seven days (RDS-EVENT-0153 / 0154).
#[derive(Debug, Clone, PartialEq)]
pub struct RdsEvent {
    pub at: DateTime<Utc>,
    pub kind: DbKind,
    /// The cluster's or the instance's identifier.
    pub cluster: String,
    pub message: String,
}

impl RdsEvent {
    /// The EventBridge `EventID` of AWS's seven-day start, if this is one.
    pub fn restart_event_id(&self) -> Option<&'static str> {
        match self.kind {
            DbKind::Cluster if self.message == AUTO_START_MESSAGE => Some("RDS-EVENT-0153"),
            DbKind::Instance if self.message == INSTANCE_AUTO_START_MESSAGE => {
                Some("RDS-EVENT-0154")
            }
            _ => None,
        }
    }
}

#[derive(Debug, Default)]
pub struct RdsModel {
    /// Clusters and instances by identifier (the scenarios keep the two apart by name).
    pub clusters: BTreeMap<String, ClusterState>,
    events: Vec<RdsEvent>,
    delivered: usize,
}

/// An RDS error: code and message, as the service sends them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdsError {
    pub code: &'static str,
    pub message: String,
}

impl RdsModel {
    pub fn add(&mut self, cluster: Cluster, now: DateTime<Utc>) {
        let history = vec![(now, cluster.status.clone())];
        self.clusters.insert(
            cluster.id.clone(),
            ClusterState {
                cluster,
                pending: None,
                stopped_at: None,
                available_since: Some(now),
                last_start: Starter::Created,
                history,
            },
        );
    }

    /// Applies every transition due by `now`, including AWS's seven-day start.
    pub fn advance(&mut self, now: DateTime<Utc>, rng: &mut SimRng) {
        for (id, c) in self.clusters.iter_mut() {
            loop {
                if let Some((at, to)) = c.pending {
                    if at > now {
                        break;
                    }
                    c.pending = None;
                    let rebooted = c.cluster.status == "rebooting";
                    c.set(at, to);
                    let noun = c.cluster.kind.noun();
                    let (kind, source, message) = match to {
                        "stopped" => {
                            c.stopped_at = Some(at);
                            (c.cluster.kind, id.clone(), format!("{noun} stopped."))
                        }
                        _ if rebooted => {
                            c.available_since = Some(at);
                            let source = c.cluster.members.first().unwrap_or(id).clone();
                            (DbKind::Instance, source, RESTARTED_MESSAGE.to_string())
                        }
                        _ => {
                            c.available_since = Some(at);
                            (c.cluster.kind, id.clone(), format!("{noun} started."))
                        }
                    };
                    self.events.push(RdsEvent {
                        at,
                        kind,
                        cluster: source,
                        message,
                    });
                    continue;
                }
                let auto = c
                    .stopped_at
                    .filter(|_| c.cluster.status == "stopped")
                    .map(|t| t + chrono::Duration::from_std(AUTO_START_AFTER).unwrap_or_default());
                match auto {
                    Some(at) if at <= now => {
                        c.set(at, "starting");
                        c.last_start = Starter::Aws;
                        let (lo, hi) = starting(&c.cluster);
                        c.pending = Some((at + secs(rng.between(lo, hi)), "available"));
                        let message = match c.cluster.kind {
                            DbKind::Cluster => AUTO_START_MESSAGE,
                            DbKind::Instance => INSTANCE_AUTO_START_MESSAGE,
                        };
                        self.events.push(RdsEvent {
                            at,
                            kind: c.cluster.kind,
                            cluster: id.clone(),
                            message: message.to_string(),
                        });
                    }
                    _ => break,
                }
            }
        }
    }

    /// Events not yet handed to the scenario.
    pub fn take_events(&mut self) -> Vec<RdsEvent> {
        let new = self.events[self.delivered..].to_vec();
        self.delivered = self.events.len();
        new
    }

    /// `DescribeDBClusters` of one cluster.
    pub fn describe(&self, id: &str) -> Option<Cluster> {
        self.describe_kind(DbKind::Cluster, id)
    }

    /// `DescribeDBClusters` or `DescribeDBInstances` of one database.
    pub fn describe_kind(&self, kind: DbKind, id: &str) -> Option<Cluster> {
        self.clusters
            .get(id)
            .filter(|c| c.cluster.kind == kind)
            .map(|c| c.cluster.clone())
    }

    /// Every cluster.
    pub fn describe_all(&self) -> Vec<Cluster> {
        self.describe_all_of(DbKind::Cluster)
    }

    /// Every database of one kind.
    pub fn describe_all_of(&self, kind: DbKind) -> Vec<Cluster> {
        self.clusters
            .values()
            .filter(|c| c.cluster.kind == kind)
            .map(|c| c.cluster.clone())
            .collect()
    }

    /// `DescribeEvents` (RDS keeps 14 days): events of `id` at or after `since`.
    pub fn events_since(&self, kind: DbKind, id: &str, since: DateTime<Utc>) -> Vec<RdsEvent> {
        self.events
            .iter()
            .filter(|e| e.kind == kind && e.cluster == id && e.at >= since)
            .cloned()
            .collect()
    }

    /// `DescribeEvents` by source type: every database's events of `kind` at or after
    /// `since`.
    pub fn events_of(&self, kind: DbKind, since: DateTime<Utc>) -> Vec<RdsEvent> {
        self.events
            .iter()
            .filter(|e| e.kind == kind && e.at >= since)
            .cloned()
            .collect()
    }

    fn invalid_state(id: &str, state: &str, expected: &str) -> RdsError {
        RdsError {
            code: "InvalidDBClusterStateFault",
            message: format!(
                "DbCluster {id} is in {state} state but expected it to be one of {expected}."
            ),
        }
    }

    fn not_found(id: &str) -> RdsError {
        RdsError {
            code: "DBClusterNotFoundFault",
            message: format!("DBCluster {id} not found."),
        }
    }

    fn instance_not_found(id: &str) -> RdsError {
        RdsError {
            code: "DBInstanceNotFound",
            message: format!("DBInstance {id} not found."),
        }
    }

    /// The one database `id` of `kind`, in state `from`: the precondition of a stop or a
    /// start. An instance's fault does not name its state (see the module docs).
    fn in_state(
        &mut self,
        kind: DbKind,
        id: &str,
        from: &str,
    ) -> Result<&mut ClusterState, RdsError> {
        let c = self
            .clusters
            .get_mut(id)
            .filter(|c| c.cluster.kind == kind)
            .ok_or_else(|| match kind {
                DbKind::Cluster => Self::not_found(id),
                DbKind::Instance => Self::instance_not_found(id),
            })?;
        if c.cluster.status != from {
            return Err(match kind {
                DbKind::Cluster => Self::invalid_state(id, &c.cluster.status, from),
                DbKind::Instance => RdsError {
                    code: "InvalidDBInstanceState",
                    message: if from == "available" {
                        format!("Instance {id} is not in available state.")
                    } else {
                        format!("Instance {id} is not stopped, it cannot be started.")
                    },
                },
            });
        }
        Ok(c)
    }

    pub fn stop(&mut self, id: &str, now: DateTime<Utc>, rng: &mut SimRng) -> Result<(), RdsError> {
        self.stop_kind(DbKind::Cluster, id, now, rng)
    }

    /// `StopDBCluster` or `StopDBInstance`.
    pub fn stop_kind(
        &mut self,
        kind: DbKind,
        id: &str,
        now: DateTime<Utc>,
        rng: &mut SimRng,
    ) -> Result<(), RdsError> {
        if kind == DbKind::Instance {
            let c = self
                .clusters
                .get(id)
                .filter(|c| c.cluster.kind == kind)
                .ok_or_else(|| Self::instance_not_found(id))?;
            let sql_server_multi_az =
                c.cluster.engine.starts_with("sqlserver") && c.cluster.multi_az;
            if c.cluster.replication_source.is_some()
                || c.cluster.read_replicas > 0
                || sql_server_multi_az
            {
                return Err(RdsError {
                    code: "InvalidDBClusterStateFault",
                    message: format!(
                        "Invalid DB type, when trying to perform StopDBInstance on {id}"
                    ),
                });
            }
        }
        let c = self.in_state(kind, id, "available")?;
        c.set(now, "stopping");
        c.available_since = None;
        let (lo, hi) = stopping(&c.cluster);
        c.pending = Some((now + secs(rng.between(lo, hi)), "stopped"));
        Ok(())
    }

    pub fn start(
        &mut self,
        id: &str,
        now: DateTime<Utc>,
        by: Starter,
        rng: &mut SimRng,
    ) -> Result<(), RdsError> {
        self.start_kind(DbKind::Cluster, id, now, by, rng)
    }

    /// `StartDBCluster` or `StartDBInstance`.
    pub fn start_kind(
        &mut self,
        kind: DbKind,
        id: &str,
        now: DateTime<Utc>,
        by: Starter,
        rng: &mut SimRng,
    ) -> Result<(), RdsError> {
        let c = self.in_state(kind, id, "stopped")?;
        c.set(now, "starting");
        c.last_start = by;
        let (lo, hi) = starting(&c.cluster);
        c.pending = Some((now + secs(rng.between(lo, hi)), "available"));
        Ok(())
    }

    /// `RebootDBInstance` (of an instance, or of an Aurora cluster's writer): `rebooting`
    /// for a minute or two, then available again, and RDS-EVENT-0006 on the instance.
    pub fn reboot(
        &mut self,
        kind: DbKind,
        id: &str,
        now: DateTime<Utc>,
        rng: &mut SimRng,
    ) -> Result<(), RdsError> {
        let c = self.in_state(kind, id, "available")?;
        c.set(now, "rebooting");
        c.pending = Some((
            now + secs(rng.between(REBOOTING.0, REBOOTING.1)),
            "available",
        ));
        Ok(())
    }

    pub fn set_scaling(&mut self, id: &str, scaling: ScalingV2) -> Result<(), RdsError> {
        self.in_state(DbKind::Cluster, id, "available")?
            .cluster
            .serverless_v2 = Some(scaling);
        Ok(())
    }

    pub fn tag(&mut self, arn: &str, tags: &[(String, String)]) -> Result<(), RdsError> {
        let c = self
            .clusters
            .values_mut()
            .find(|c| c.cluster.arn == arn)
            .ok_or_else(|| Self::not_found(arn))?;
        for (k, v) in tags {
            c.cluster.tags.insert(k.clone(), v.clone());
        }
        Ok(())
    }

    pub fn untag(&mut self, arn: &str, keys: &[&str]) -> Result<(), RdsError> {
        let c = self
            .clusters
            .values_mut()
            .find(|c| c.cluster.arn == arn)
            .ok_or_else(|| Self::not_found(arn))?;
        for k in keys {
            c.cluster.tags.remove(*k);
        }
        Ok(())
    }
}

fn secs(s: u64) -> chrono::Duration {
    chrono::Duration::seconds(s as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn model() -> (RdsModel, SimRng) {
        let mut m = RdsModel::default();
        m.add(
            Cluster {
                id: "dev-1".into(),
                arn: "arn:aws:rds:us-east-1:1:cluster:dev-1".into(),
                status: "available".into(),
                engine: "aurora-postgresql".into(),
                ..Default::default()
            },
            t("2026-03-02T00:00:00Z"),
        );
        (m, SimRng::new(1))
    }

    #[test]
    fn stop_and_start_take_minutes_and_refuse_other_states() {
        let (mut m, mut rng) = model();
        let now = t("2026-03-02T10:00:00Z");
        m.stop("dev-1", now, &mut rng).unwrap();
        assert_eq!(m.describe("dev-1").unwrap().status, "stopping");
        let e = m.stop("dev-1", now, &mut rng).unwrap_err();
        assert_eq!(e.code, "InvalidDBClusterStateFault");
        assert!(e.message.contains("is in stopping state"));
        m.advance(now + chrono::Duration::seconds(59), &mut rng);
        assert_eq!(m.describe("dev-1").unwrap().status, "stopping");
        m.advance(now + chrono::Duration::minutes(5), &mut rng);
        assert_eq!(m.describe("dev-1").unwrap().status, "stopped");
        let later = now + chrono::Duration::minutes(10);
        m.start("dev-1", later, Starter::Person, &mut rng).unwrap();
        m.advance(later + chrono::Duration::minutes(2), &mut rng);
        assert_eq!(m.describe("dev-1").unwrap().status, "starting");
        m.advance(later + chrono::Duration::minutes(15), &mut rng);
        assert_eq!(m.describe("dev-1").unwrap().status, "available");
        let c = &m.clusters["dev-1"];
        assert_eq!(c.status_at(now - chrono::Duration::seconds(1)), "available");
        assert_eq!(c.status_at(now), "stopping");
        assert_eq!(c.status_at(later), "starting");
        assert_eq!(
            m.stop("nope", later, &mut rng).unwrap_err().code,
            "DBClusterNotFoundFault"
        );
    }

    #[test]
    fn aws_starts_a_cluster_after_seven_days_and_records_rds_event_0153() {
        let (mut m, mut rng) = model();
        let now = t("2026-03-02T10:00:00Z");
        m.stop("dev-1", now, &mut rng).unwrap();
        m.advance(now + chrono::Duration::minutes(5), &mut rng);
        let stopped = m.clusters["dev-1"].stopped_at.unwrap();
        m.advance(
            stopped + chrono::Duration::days(7) - chrono::Duration::seconds(1),
            &mut rng,
        );
        let before: Vec<String> = m.take_events().into_iter().map(|e| e.message).collect();
        assert_eq!(before, vec!["DB cluster stopped.".to_string()]);
        m.advance(stopped + chrono::Duration::days(7), &mut rng);
        let events: Vec<RdsEvent> = m
            .take_events()
            .into_iter()
            .filter(|e| e.message == AUTO_START_MESSAGE)
            .collect();
        assert_eq!(events.len(), 1);
        assert!(aurora_autopause::rds_messages::is_aws_restart_message(
            &events[0].message
        ));
        assert_eq!(m.clusters["dev-1"].last_start, Starter::Aws);
        assert_eq!(m.describe("dev-1").unwrap().status, "starting");
        assert!(aurora_autopause::rds_messages::started_by_aws(
            &m.events_since(DbKind::Cluster, "dev-1", stopped)
                .into_iter()
                .map(|e| (e.at, e.message))
                .collect::<Vec<_>>()
        ));
        assert!(m.take_events().is_empty(), "each event is handed over once");
    }

    fn instance(id: &str, multi_az: bool) -> Cluster {
        Cluster {
            kind: DbKind::Instance,
            multi_az,
            id: id.into(),
            arn: format!("arn:aws:rds:us-east-1:1:db:{id}"),
            status: "available".into(),
            engine: "postgres".into(),
            instance_classes: vec!["db.t3.small".into()],
            ..Default::default()
        }
    }

    #[test]
    fn instances_stop_and_start_with_instance_faults_and_rds_event_0154() {
        let (mut m, mut rng) = model();
        let start = t("2026-03-02T00:00:00Z");
        m.add(instance("pg-1", true), start);
        let now = t("2026-03-02T10:00:00Z");
        // Not a cluster: the cluster calls do not find it, and the reverse.
        assert_eq!(
            m.stop("pg-1", now, &mut rng).unwrap_err().code,
            "DBClusterNotFoundFault"
        );
        assert_eq!(
            m.stop_kind(DbKind::Instance, "dev-1", now, &mut rng)
                .unwrap_err()
                .code,
            "DBInstanceNotFound"
        );
        m.stop_kind(DbKind::Instance, "pg-1", now, &mut rng)
            .unwrap();
        let e = m
            .stop_kind(DbKind::Instance, "pg-1", now, &mut rng)
            .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (
                "InvalidDBInstanceState",
                "Instance pg-1 is not in available state."
            )
        );
        // Multi-AZ: at least three minutes to stop.
        m.advance(now + chrono::Duration::seconds(179), &mut rng);
        assert_eq!(
            m.describe_kind(DbKind::Instance, "pg-1").unwrap().status,
            "stopping"
        );
        m.advance(now + chrono::Duration::minutes(15), &mut rng);
        assert_eq!(
            m.describe_kind(DbKind::Instance, "pg-1").unwrap().status,
            "stopped"
        );
        let stopped = m.clusters["pg-1"].stopped_at.unwrap();
        m.advance(stopped + chrono::Duration::days(7), &mut rng);
        let restarts: Vec<RdsEvent> = m
            .take_events()
            .into_iter()
            .filter(|e| e.restart_event_id() == Some("RDS-EVENT-0154"))
            .collect();
        assert_eq!(restarts.len(), 1);
        assert_eq!(restarts[0].cluster, "pg-1");
        assert!(aurora_autopause::rds_messages::started_by_aws(
            &m.events_since(DbKind::Instance, "pg-1", stopped)
                .into_iter()
                .map(|e| (e.at, e.message))
                .collect::<Vec<_>>()
        ));
        assert!(m.events_since(DbKind::Cluster, "pg-1", stopped).is_empty());
    }

    #[test]
    fn replicas_and_sql_server_multi_az_cannot_be_stopped() {
        let (mut m, mut rng) = model();
        let now = t("2026-03-02T10:00:00Z");
        let mut replica = instance("replica", false);
        replica.replication_source = Some("pg-src".into());
        let mut source = instance("source", false);
        source.read_replicas = 1;
        let mut mssql = instance("mssql", true);
        mssql.engine = "sqlserver-se".into();
        for c in [replica, source, mssql] {
            let id = c.id.clone();
            m.add(c, now);
            assert_eq!(
                m.stop_kind(DbKind::Instance, &id, now, &mut rng)
                    .unwrap_err()
                    .code,
                "InvalidDBClusterStateFault",
                "{id}"
            );
        }
    }
}
