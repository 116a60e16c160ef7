//! Whether a database can be paused at all, whatever its state: AWS's limits on stopping
//! clusters and instances, and which engines support Serverless v2 auto-pause.

use crate::model::{Cluster, DbKind};

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
pub fn unstoppable(c: &Cluster) -> Option<String> {
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

pub fn all_serverless(c: &Cluster) -> bool {
    c.instance_classes.iter().all(|k| k == "db.serverless")
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn instances_aws_cannot_stop_are_named() {
        let pg = Cluster {
            kind: DbKind::Instance,
            engine: "postgres".into(),
            ..Default::default()
        };
        assert_eq!(unstoppable(&pg), None);
        let replica = Cluster {
            replication_source: Some("pg-main".into()),
            ..pg.clone()
        };
        assert!(unstoppable(&replica).unwrap().contains("read replica"));
        let sqlserver = Cluster {
            engine: "sqlserver-se".into(),
            multi_az: true,
            ..pg.clone()
        };
        assert!(unstoppable(&sqlserver).unwrap().contains("Multi-AZ"));
        let custom = Cluster {
            engine: "custom-oracle-ee".into(),
            ..pg
        };
        assert!(unstoppable(&custom).unwrap().contains("RDS Custom"));
    }
}
