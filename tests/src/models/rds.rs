//! Amazon RDS: Aurora DB clusters over time.
//!
//! States and transitions (`available` -> `stopping` -> `stopped` -> `starting` ->
//! `available`) and their faults follow the RDS API reference (StopDBCluster,
//! StartDBCluster): a stop of a cluster that is not `available` fails with
//! `InvalidDBClusterStateFault` naming the state, as does a start of one that is not
//! `stopped`. AWS starts a cluster that has been stopped for seven days and records
//! RDS-EVENT-0153 ("DB cluster is being started due to it exceeding the maximum allowed
//! time being stopped.", RDS User Guide, "Stopping and starting an Aurora cluster").
//!
//! ASSUMPTIONS (AWS gives no figures): stopping takes 1-5 minutes and starting 3-15
//! minutes, drawn per transition from the seed.

use std::collections::BTreeMap;
use std::time::Duration;

use aurora_autopause::model::{Cluster, ScalingV2};
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
/// (RDS-EVENT-0150 "DB cluster stopped", RDS-EVENT-0151 "DB cluster started") and AWS's own
/// start after seven days (RDS-EVENT-0153).
#[derive(Debug, Clone, PartialEq)]
pub struct RdsEvent {
    pub at: DateTime<Utc>,
    pub cluster: String,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct RdsModel {
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
                    c.set(at, to);
                    let message = match to {
                        "stopped" => {
                            c.stopped_at = Some(at);
                            "DB cluster stopped."
                        }
                        _ => {
                            c.available_since = Some(at);
                            "DB cluster started."
                        }
                    };
                    self.events.push(RdsEvent {
                        at,
                        cluster: id.clone(),
                        message: message.to_string(),
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
                        c.pending =
                            Some((at + secs(rng.between(STARTING.0, STARTING.1)), "available"));
                        self.events.push(RdsEvent {
                            at,
                            cluster: id.clone(),
                            message: AUTO_START_MESSAGE.to_string(),
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

    pub fn describe(&self, id: &str) -> Option<Cluster> {
        self.clusters.get(id).map(|c| c.cluster.clone())
    }

    pub fn describe_all(&self) -> Vec<Cluster> {
        self.clusters.values().map(|c| c.cluster.clone()).collect()
    }

    /// `DescribeEvents` (RDS keeps 14 days): events of `id` at or after `since`.
    pub fn events_since(&self, id: &str, since: DateTime<Utc>) -> Vec<RdsEvent> {
        self.events
            .iter()
            .filter(|e| e.cluster == id && e.at >= since)
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

    /// The one cluster `id`, in state `from`: the precondition of a stop or a start.
    fn in_state(&mut self, id: &str, from: &str) -> Result<&mut ClusterState, RdsError> {
        let c = self
            .clusters
            .get_mut(id)
            .ok_or_else(|| Self::not_found(id))?;
        if c.cluster.status != from {
            return Err(Self::invalid_state(id, &c.cluster.status, from));
        }
        Ok(c)
    }

    pub fn stop(&mut self, id: &str, now: DateTime<Utc>, rng: &mut SimRng) -> Result<(), RdsError> {
        let c = self.in_state(id, "available")?;
        c.set(now, "stopping");
        c.available_since = None;
        c.pending = Some((now + secs(rng.between(STOPPING.0, STOPPING.1)), "stopped"));
        Ok(())
    }

    pub fn start(
        &mut self,
        id: &str,
        now: DateTime<Utc>,
        by: Starter,
        rng: &mut SimRng,
    ) -> Result<(), RdsError> {
        let c = self.in_state(id, "stopped")?;
        c.set(now, "starting");
        c.last_start = by;
        c.pending = Some((now + secs(rng.between(STARTING.0, STARTING.1)), "available"));
        Ok(())
    }

    pub fn set_scaling(&mut self, id: &str, scaling: ScalingV2) -> Result<(), RdsError> {
        self.in_state(id, "available")?.cluster.serverless_v2 = Some(scaling);
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
        assert!(aurora_autopause::model::is_aws_restart_message(
            &events[0].message
        ));
        assert_eq!(m.clusters["dev-1"].last_start, Starter::Aws);
        assert_eq!(m.describe("dev-1").unwrap().status, "starting");
        assert!(aurora_autopause::model::started_by_aws(
            &m.events_since("dev-1", stopped)
                .into_iter()
                .map(|e| (e.at, e.message))
                .collect::<Vec<_>>()
        ));
        assert!(m.take_events().is_empty(), "each event is handed over once");
    }
}
