//! The function's own view of clusters, instances, services and scaling targets, the tags
//! it keeps its records in, and which resources it may touch at all ([`scope`]). The
//! decisions about one database are in [`crate::plan`], the idle check in [`crate::idle`],
//! and the reading of RDS's messages in [`crate::rds_messages`].

use std::collections::BTreeMap;

use crate::config::Config;

/// Tag holding what groundcrew changed, so that a wake can restore it exactly.
pub const RECORD_TAG: &str = "groundcrew:autopause:record";
/// Tag holding when groundcrew last paused or stopped the resource (RFC 3339, UTC); a
/// re-stop after AWS's seven-day start moves it on, so that only a later AWS start counts.
pub const PAUSED_AT_TAG: &str = "groundcrew:autopause:paused-at";

/// Serverless v2 scaling (ACUs; `seconds` = `SecondsUntilAutoPause`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScalingV2 {
    pub min: f64,
    pub max: f64,
    pub seconds: Option<i32>,
}

/// What kind of database a [`Cluster`] value describes: an Aurora DB cluster
/// (`StopDBCluster`), or a plain RDS DB instance that is no member of a cluster
/// (`StopDBInstance`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum DbKind {
    #[default]
    Cluster,
    Instance,
}

impl DbKind {
    /// The `DatabaseConnections` dimension of this kind.
    pub fn metric_dimension(self) -> &'static str {
        match self {
            DbKind::Cluster => "DBClusterIdentifier",
            DbKind::Instance => "DBInstanceIdentifier",
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            DbKind::Cluster => "DB cluster",
            DbKind::Instance => "DB instance",
        }
    }
}

/// A database groundcrew may pause: an Aurora cluster or a plain RDS instance
/// (`kind`). For an instance, `instance_classes` holds its one class, `replication_source`
/// the instance it replicates and `read_replicas` the replicas it has.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cluster {
    pub kind: DbKind,
    /// A Multi-AZ instance: a standby runs (and is billed) beside the primary.
    pub multi_az: bool,
    pub id: String,
    pub arn: String,
    pub status: String,
    pub engine: String,
    pub engine_version: String,
    pub engine_mode: String,
    pub tags: BTreeMap<String, String>,
    pub serverless_v2: Option<ScalingV2>,
    pub global_cluster: Option<String>,
    pub replication_source: Option<String>,
    pub read_replicas: usize,
    /// Instance classes of the cluster's members (filled by the sweep).
    pub instance_classes: Vec<String>,
    /// An Aurora cluster's member instances (`DBClusterMembers`): RDS records a reboot
    /// or failover of a member as an event of the instance, not of the cluster.
    pub members: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Service {
    /// ECS cluster name.
    pub cluster: String,
    pub name: String,
    pub arn: String,
    pub desired: i32,
    pub running: i32,
    pub tags: BTreeMap<String, String>,
    /// The size of one task, when its task definition says (Fargate prices by it).
    pub task: Option<TaskSize>,
}

/// One task's size (`cpu` units: 1,024 = 1 vCPU; memory in MiB) and whether it runs on
/// Fargate Spot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TaskSize {
    pub cpu_units: u32,
    pub memory_mib: u32,
    pub spot: bool,
}

impl Service {
    /// Application Auto Scaling resource id: `service/<cluster>/<service>`.
    pub fn resource_id(&self) -> String {
        format!("service/{}/{}", self.cluster, self.name)
    }
}

pub use crate::record::{Record, Suspended, Target};

/// Whether groundcrew may touch a resource with these tags at all.
pub fn scope(config: &Config, tags: &BTreeMap<String, String>) -> Scope {
    if let Some(rule) = config.protected_by(tags) {
        return Scope::Protected(format!("protected by tag {}", rule.describe()));
    }
    if !config.opt_in.matches(tags) {
        return Scope::NotOptedIn;
    }
    Scope::InScope
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    InScope,
    /// Opt-in or not, a protection rule matched; reported with this reason.
    Protected(String),
    /// Never considered, never reported.
    NotOptedIn,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const OPT: (&str, &str) = ("groundcrew:autopause", "true");

    #[test]
    fn scope_needs_opt_in_and_protection_wins() {
        let c = Config::default();
        assert_eq!(scope(&c, &tags(&[])), Scope::NotOptedIn);
        assert_eq!(
            scope(&c, &tags(&[("groundcrew:autopause", "false")])),
            Scope::NotOptedIn
        );
        assert_eq!(scope(&c, &tags(&[OPT])), Scope::InScope);
        assert_eq!(
            scope(&c, &tags(&[("groundcrew:autopause", "TRUE")])),
            Scope::InScope
        );
        assert!(matches!(
            scope(&c, &tags(&[OPT, ("environment", "production")])),
            Scope::Protected(_)
        ));
        assert!(matches!(
            scope(&c, &tags(&[("environment", "prod")])),
            Scope::Protected(_)
        ));
    }

    fn arb_target() -> impl Strategy<Value = Option<Target>> {
        proptest::option::of(
            (0..1000i32, 0..1000i32, any::<(bool, bool, bool)>()).prop_map(|(a, b, (i, o, s))| {
                Target {
                    min: a.min(b),
                    max: a.max(b),
                    suspended: Suspended {
                        scale_in: i,
                        scale_out: o,
                        scheduled: s,
                    },
                }
            }),
        )
    }

    proptest! {
        #[test]
        fn service_records_round_trip(desired in 0..10_000i32, target in arb_target()) {
            let r = Record::ScaledToZero { desired, target };
            let text = r.encode();
            prop_assert!(text.len() <= 256);
            prop_assert!(text.chars().all(|c| c.is_ascii_alphanumeric() || " +-=._:/@".contains(c)));
            prop_assert_eq!(Record::decode(&text), Some(r));
        }

        #[test]
        fn cluster_records_round_trip(min_halves in 0..512u32, extra in 0..256u32, seconds in proptest::option::of(300..86_400i32)) {
            let min = f64::from(min_halves) / 2.0;
            let r = Record::AutoPause(ScalingV2 { min, max: min + f64::from(extra) / 2.0, seconds });
            prop_assert_eq!(Record::decode(&r.encode()), Some(r));
        }

        #[test]
        fn untagged_or_protected_is_never_in_scope(env in "[a-z]{0,8}", opt in proptest::bool::ANY, prod in prop_oneof![Just("prod"), Just("production"), Just("PROD")]) {
            let c = Config::default();
            let mut t = tags(&[("environment", prod)]);
            if opt { t.insert("groundcrew:autopause".into(), "true".into()); }
            t.insert("groundcrew:environment".into(), env);
            prop_assert!(scope(&c, &t) != Scope::InScope);
            prop_assert_eq!(scope(&c, &tags(&[])), Scope::NotOptedIn);
        }
    }
}
