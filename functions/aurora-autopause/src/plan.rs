//! The pure decisions about one database: how a pause goes (stop or Serverless v2
//! auto-pause) and how a wake restores it. Whether it can be paused at all (AWS's limits)
//! is [`crate::eligibility`]; what the pause saves an hour is [`crate::hourly`].

use crate::config::Config;
use crate::eligibility::{all_serverless, engine_supports_auto_pause, unstoppable};
use crate::model::{Cluster, Record, ScalingV2, PAUSED_AT_TAG, RECORD_TAG};

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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::hourly::hourly_saving;

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
}
