//! The pure decisions about one database: whether it can be paused at all (AWS's
//! limits), how (stop or Serverless v2 auto-pause), how a wake restores it, and what the
//! pause saves an hour.

use crate::config::Config;
use crate::model::{Cluster, DbKind, Record, ScalingV2, PAUSED_AT_TAG, RECORD_TAG};

/// Whether this engine version supports Serverless v2 auto-pause (`MinCapacity 0`):
/// Aurora PostgreSQL 13.15+, 14.12+, 15.7+, 16.3+ and later majors; Aurora MySQL 3.08.0+.
pub fn engine_supports_auto_pause(engine: &str, version: &str) -> bool {
    fn nums(s: &str) -> Vec<u32> {
        s.split('.').map_while(|p| p.parse().ok()).collect()
    }
    match engine {
        "aurora-postgresql" => {
            let v = nums(version);
            let (major, minor) = (
                v.first().copied().unwrap_or(0),
                v.get(1).copied().unwrap_or(0),
            );
            match major {
                13 => minor >= 15,
                14 => minor >= 12,
                15 => minor >= 7,
                16 => minor >= 3,
                m => m >= 17,
            }
        }
        "aurora-mysql" => match version.split_once("mysql_aurora.") {
            Some((_, aurora)) => nums(aurora) >= vec![3, 8, 0],
            None => false,
        },
        _ => false,
    }
}

/// What to do with a cluster.
#[derive(Debug, Clone, PartialEq)]
pub enum ClusterPlan {
    /// `StopDBCluster`; `record` is false when groundcrew's record is already there (a re-stop).
    Stop {
        record: bool,
    },
    /// Serverless v2: `MinCapacity 0` with `SecondsUntilAutoPause`; remember `previous`.
    AutoPause {
        previous: ScalingV2,
        seconds: i32,
    },
    Start,
    RestoreScaling(ScalingV2),
    /// Running again already: only groundcrew's record is removed.
    ClearRecord(String),
    Skip(String),
}

/// Whether an RDS instance can be stopped at all, whatever its state: AWS's list in the
/// RDS User Guide, "Stopping an Amazon RDS DB instance temporarily" (engines MariaDB,
/// Microsoft SQL Server, MySQL, Oracle and PostgreSQL; not a read replica nor an instance
/// with one; not SQL Server in a Multi-AZ configuration; not RDS Custom, which
/// `StopDBInstance` does not apply to).
fn unstoppable_instance(c: &Cluster) -> Option<String> {
    let engine = c.engine.as_str();
    if engine.starts_with("custom-") {
        return Some(format!(
            "engine {engine} is RDS Custom; StopDBInstance does not apply"
        ));
    }
    let listed = matches!(engine, "mariadb" | "mysql" | "postgres")
        || engine.starts_with("oracle-")
        || engine.starts_with("sqlserver-");
    if !listed {
        return Some(format!(
            "engine {engine} is not one AWS can stop (MariaDB, SQL Server, MySQL, Oracle, PostgreSQL)"
        ));
    }
    if engine.starts_with("sqlserver-") && c.multi_az {
        return Some("SQL Server in a Multi-AZ configuration cannot be stopped".to_string());
    }
    if let Some(src) = &c.replication_source {
        return Some(format!(
            "read replica of {src}; read replicas cannot be stopped"
        ));
    }
    if c.read_replicas > 0 {
        return Some(format!(
            "has {} read replica(s); an instance with read replicas cannot be stopped",
            c.read_replicas
        ));
    }
    None
}

/// Whether the database can be stopped at all, whatever its state.
fn unstoppable(c: &Cluster) -> Option<String> {
    if c.kind == DbKind::Instance {
        return unstoppable_instance(c);
    }
    if !c.engine.starts_with("aurora") {
        return Some(format!("engine {} is not Aurora", c.engine));
    }
    if c.engine_mode == "serverless" {
        return Some("Aurora Serverless v1 cannot be stopped or auto-paused".to_string());
    }
    if let Some(g) = &c.global_cluster {
        return Some(format!(
            "member of global database {g}; global clusters cannot be stopped"
        ));
    }
    if let Some(src) = &c.replication_source {
        return Some(format!(
            "read replica of {src}; replica clusters cannot be stopped"
        ));
    }
    if c.read_replicas > 0 {
        return Some("has cross-Region read replicas; cannot be stopped".to_string());
    }
    None
}

fn all_serverless(c: &Cluster) -> bool {
    c.instance_classes.iter().all(|k| k == "db.serverless")
}

/// The pause plan for an in-scope cluster. `idle` is `Some` for a sweep (the idle check's
/// verdict) and `None` for an environment's scheduled or requested sleep.
/// `restarted_by_aws`: for a cluster groundcrew stopped that is running again, whether RDS
/// recorded AWS's seven-day automatic start since the pause (else a person started it).
pub fn plan_pause(
    c: &Cluster,
    config: &Config,
    idle: Option<Result<(), String>>,
    restarted_by_aws: bool,
) -> ClusterPlan {
    if let Some(reason) = unstoppable(c) {
        return ClusterPlan::Skip(reason);
    }
    let record = match Record::of(&c.tags) {
        Some(Err(e)) => return ClusterPlan::Skip(e),
        Some(Ok(r)) => Some(r),
        None => None,
    };
    let since = c
        .tags
        .get(PAUSED_AT_TAG)
        .map(|t| format!(" at {t}"))
        .unwrap_or_default();
    match (&record, c.status.as_str()) {
        (Some(Record::AutoPause(_)), _) => {
            return ClusterPlan::Skip(format!("already set to auto-pause by groundcrew{since}"))
        }
        (Some(Record::Stopped), "stopped" | "stopping") => {
            return ClusterPlan::Skip(format!("already {} by groundcrew{since}", c.status))
        }
        (_, "available") => {}
        (None, "stopped") => {
            return ClusterPlan::Skip("already stopped (not by groundcrew)".to_string())
        }
        (_, other) => return ClusterPlan::Skip(format!("status is {other}, not available")),
    }
    if record == Some(Record::Stopped) {
        if idle.is_none() || restarted_by_aws {
            // The environment's sleep, or AWS's seven-day start: stop it again.
            return ClusterPlan::Stop { record: false };
        }
        // A person started it since the pause: it is theirs now. Forget the pause; the
        // idle check decides from here on, with a new record.
        return ClusterPlan::ClearRecord(format!(
            "started since groundcrew paused it{since}, not by AWS: left running"
        ));
    }
    if let Some(Err(reason)) = idle {
        return ClusterPlan::Skip(reason);
    }
    if let Some(s) = c.serverless_v2 {
        if all_serverless(c) {
            if s.min == 0.0 {
                return ClusterPlan::Skip(
                    "Serverless v2 already auto-pauses (MinCapacity 0)".to_string(),
                );
            }
            if engine_supports_auto_pause(&c.engine, &c.engine_version) {
                return ClusterPlan::AutoPause {
                    previous: s,
                    seconds: config.auto_pause_seconds(),
                };
            }
        }
    }
    ClusterPlan::Stop { record: true }
}

/// The wake plan for an in-scope cluster.
pub fn plan_wake(c: &Cluster) -> ClusterPlan {
    match Record::of(&c.tags) {
        None => ClusterPlan::Skip("not paused by groundcrew".to_string()),
        Some(Err(e)) => ClusterPlan::Skip(e),
        Some(Ok(Record::AutoPause(previous))) => ClusterPlan::RestoreScaling(previous),
        Some(Ok(Record::Stopped)) => match c.status.as_str() {
            "stopped" => ClusterPlan::Start,
            "available" | "starting" => ClusterPlan::ClearRecord(format!("already {}", c.status)),
            other => ClusterPlan::Skip(format!("status is {other}; wake again once it is stopped")),
        },
        Some(Ok(Record::ScaledToZero { .. })) => {
            ClusterPlan::Skip(format!("{RECORD_TAG} tag is not a cluster record"))
        }
    }
}

/// Estimated USD per hour saved by pausing a cluster this way.
pub fn hourly_saving(c: &Cluster, plan: &ClusterPlan, config: &Config) -> Option<f64> {
    let prices = &config.prices;
    match plan {
        ClusterPlan::Stop { .. } if c.kind == DbKind::Instance => {
            let class = c.instance_classes.first()?;
            // Multi-AZ: the standby is billed like the primary.
            let copies = if c.multi_az { 2.0 } else { 1.0 };
            Some(prices.instance_class(class)? * copies)
        }
        ClusterPlan::Stop { .. } => {
            let mut total = 0.0;
            for class in &c.instance_classes {
                if class == "db.serverless" {
                    total += c.serverless_v2.map_or(0.5, |s| s.min.max(0.5)) * prices.acu_hour;
                } else {
                    total += prices.class(class)?;
                }
            }
            Some(total)
        }
        ClusterPlan::AutoPause { previous, .. } => {
            let n = c.instance_classes.len().max(1) as f64;
            Some(previous.min * prices.acu_hour * n)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn cluster(status: &str, t: &[(&str, &str)]) -> Cluster {
        Cluster {
            id: "dev-1".into(),
            arn: "arn:aws:rds:us-east-1:1:cluster:dev-1".into(),
            status: status.into(),
            engine: "aurora-postgresql".into(),
            engine_version: "16.4".into(),
            engine_mode: "provisioned".into(),
            tags: tags(t),
            instance_classes: vec!["db.r6g.large".into()],
            ..Default::default()
        }
    }

    const OPT: (&str, &str) = ("groundcrew:autopause", "true");

    #[test]
    fn pause_plan_for_provisioned_cluster() {
        let c = Config::default();
        assert_eq!(
            plan_pause(&cluster("available", &[OPT]), &c, Some(Ok(())), false),
            ClusterPlan::Stop { record: true }
        );
        assert_eq!(
            plan_pause(&cluster("available", &[OPT]), &c, None, false),
            ClusterPlan::Stop { record: true }
        );
        let busy = plan_pause(
            &cluster("available", &[OPT]),
            &c,
            Some(Err("busy: up to 3".into())),
            false,
        );
        assert_eq!(busy, ClusterPlan::Skip("busy: up to 3".into()));
        for s in ["modifying", "starting", "backing-up"] {
            assert!(
                matches!(plan_pause(&cluster(s, &[OPT]), &c, Some(Ok(())), false), ClusterPlan::Skip(r) if r.contains(s))
            );
        }
    }

    #[test]
    fn unstoppable_clusters_are_skipped_with_a_reason() {
        let c = Config::default();
        let mut v1 = cluster("available", &[OPT]);
        v1.engine_mode = "serverless".into();
        assert!(
            matches!(plan_pause(&v1, &c, None, false), ClusterPlan::Skip(r) if r.contains("Serverless v1"))
        );
        let mut g = cluster("available", &[OPT]);
        g.global_cluster = Some("orders-global".into());
        assert!(
            matches!(plan_pause(&g, &c, None, false), ClusterPlan::Skip(r) if r.contains("global"))
        );
        let mut r = cluster("available", &[OPT]);
        r.replication_source = Some("arn:src".into());
        assert!(
            matches!(plan_pause(&r, &c, None, false), ClusterPlan::Skip(x) if x.contains("replica"))
        );
        let mut neptune = cluster("available", &[OPT]);
        neptune.engine = "neptune".into();
        assert!(
            matches!(plan_pause(&neptune, &c, None, false), ClusterPlan::Skip(x) if x.contains("not Aurora"))
        );
    }

    #[test]
    fn serverless_v2_gets_auto_pause_once() {
        let c = Config::default();
        let mut s = cluster("available", &[OPT]);
        s.instance_classes = vec!["db.serverless".into(), "db.serverless".into()];
        s.serverless_v2 = Some(ScalingV2 {
            min: 0.5,
            max: 8.0,
            seconds: None,
        });
        let plan = plan_pause(&s, &c, Some(Ok(())), false);
        assert_eq!(
            plan,
            ClusterPlan::AutoPause {
                previous: ScalingV2 {
                    min: 0.5,
                    max: 8.0,
                    seconds: None
                },
                seconds: 1800
            }
        );
        assert_eq!(hourly_saving(&s, &plan, &c), Some(0.5 * 0.12 * 2.0));
        // Already min 0 (by someone else): nothing to do.
        s.serverless_v2 = Some(ScalingV2 {
            min: 0.0,
            max: 8.0,
            seconds: Some(300),
        });
        assert!(
            matches!(plan_pause(&s, &c, None, false), ClusterPlan::Skip(r) if r.contains("already auto-pauses"))
        );
        // Already done by groundcrew: never recorded twice.
        s.tags.insert(
            RECORD_TAG.into(),
            "mode=auto-pause min=0.5 max=8 pause=-".into(),
        );
        assert!(
            matches!(plan_pause(&s, &c, None, false), ClusterPlan::Skip(r) if r.contains("already set to auto-pause"))
        );
        // Old engine: stopped instead.
        let mut old = cluster("available", &[OPT]);
        old.engine_version = "15.4".into();
        old.instance_classes = vec!["db.serverless".into()];
        old.serverless_v2 = Some(ScalingV2 {
            min: 1.0,
            max: 4.0,
            seconds: None,
        });
        assert_eq!(
            plan_pause(&old, &c, None, false),
            ClusterPlan::Stop { record: true }
        );
        // Mixed cluster (provisioned writer): auto-pause would not pause the writer.
        let mut mixed = s.clone();
        mixed.tags.remove(RECORD_TAG);
        mixed.serverless_v2 = Some(ScalingV2 {
            min: 0.5,
            max: 8.0,
            seconds: None,
        });
        mixed.instance_classes = vec!["db.r6g.large".into(), "db.serverless".into()];
        assert_eq!(
            plan_pause(&mixed, &c, None, false),
            ClusterPlan::Stop { record: true }
        );
        assert_eq!(
            hourly_saving(&mixed, &ClusterPlan::Stop { record: true }, &c),
            Some(0.26 + 0.06)
        );
    }

    #[test]
    fn restarted_cluster_we_stopped_is_stopped_again_without_a_new_record() {
        let c = Config::default();
        let restarted = cluster(
            "available",
            &[
                OPT,
                (RECORD_TAG, "mode=stop"),
                (PAUSED_AT_TAG, "2026-11-14T20:00:00Z"),
            ],
        );
        assert_eq!(
            plan_pause(&restarted, &c, Some(Ok(())), true),
            ClusterPlan::Stop { record: false }
        );
        // Running again, but not by AWS: a person started it; the pause is forgotten, and
        // it is not stopped again even when the window looks idle.
        assert!(matches!(
            plan_pause(&restarted, &c, Some(Ok(())), false),
            ClusterPlan::ClearRecord(r) if r.contains("not by AWS")
        ));
        assert!(matches!(
            plan_pause(&restarted, &c, Some(Err("busy".into())), false),
            ClusterPlan::ClearRecord(_)
        ));
        let stopped = cluster(
            "stopped",
            &[
                OPT,
                (RECORD_TAG, "mode=stop"),
                (PAUSED_AT_TAG, "2026-11-14T20:00:00Z"),
            ],
        );
        assert!(
            matches!(plan_pause(&stopped, &c, None, false), ClusterPlan::Skip(r) if r.contains("2026-11-14T20:00:00Z"))
        );
        let foreign = cluster("stopped", &[OPT]);
        assert!(
            matches!(plan_pause(&foreign, &c, None, false), ClusterPlan::Skip(r) if r.contains("not by groundcrew"))
        );
    }

    #[test]
    fn wake_plan() {
        assert!(matches!(
            plan_wake(&cluster("stopped", &[OPT])),
            ClusterPlan::Skip(_)
        ));
        assert_eq!(
            plan_wake(&cluster("stopped", &[OPT, (RECORD_TAG, "mode=stop")])),
            ClusterPlan::Start
        );
        assert!(matches!(
            plan_wake(&cluster("available", &[OPT, (RECORD_TAG, "mode=stop")])),
            ClusterPlan::ClearRecord(_)
        ));
        assert!(matches!(
            plan_wake(&cluster("stopping", &[OPT, (RECORD_TAG, "mode=stop")])),
            ClusterPlan::Skip(_)
        ));
        assert_eq!(
            plan_wake(&cluster(
                "available",
                &[
                    OPT,
                    (RECORD_TAG, "mode=auto-pause min=1.5 max=16 pause=600")
                ]
            )),
            ClusterPlan::RestoreScaling(ScalingV2 {
                min: 1.5,
                max: 16.0,
                seconds: Some(600)
            })
        );
        assert!(
            matches!(plan_wake(&cluster("available", &[OPT, (RECORD_TAG, "garbage")])), ClusterPlan::Skip(r) if r.contains("unreadable"))
        );
    }

    #[test]
    fn engine_support_table() {
        assert!(engine_supports_auto_pause("aurora-postgresql", "16.4"));
        assert!(engine_supports_auto_pause("aurora-postgresql", "13.15"));
        assert!(!engine_supports_auto_pause("aurora-postgresql", "13.12"));
        assert!(engine_supports_auto_pause("aurora-postgresql", "17.1"));
        assert!(engine_supports_auto_pause(
            "aurora-mysql",
            "8.0.mysql_aurora.3.08.0"
        ));
        assert!(!engine_supports_auto_pause(
            "aurora-mysql",
            "8.0.mysql_aurora.3.05.2"
        ));
        assert!(!engine_supports_auto_pause(
            "aurora-mysql",
            "5.7.mysql_aurora.2.11.2"
        ));
        assert!(!engine_supports_auto_pause("neptune", "1.3"));
    }

    #[test]
    fn provisioned_saving_needs_known_prices() {
        let c = Config::default();
        let mut x = cluster("available", &[OPT]);
        x.instance_classes = vec!["db.r6g.large".into(), "db.r6g.large".into()];
        assert_eq!(
            hourly_saving(&x, &ClusterPlan::Stop { record: true }, &c),
            Some(0.52)
        );
        x.instance_classes.push("db.x99.huge".into());
        assert_eq!(
            hourly_saving(&x, &ClusterPlan::Stop { record: true }, &c),
            None
        );
    }
}
