//! The idle check's second witness: RDS's own record of restarts. A database that was
//! started, rebooted, created or failed over inside its idle window is not idle, whatever
//! its metrics say. ASSUMPTION: CloudWatch may publish quiet minutes right through a short
//! reboot (AWS documents no gap in `DatabaseConnections` for one), so the metrics alone
//! could call a database idle a minute after someone rebooted it; RDS's event is trusted
//! over them. The quiet minutes before a restart say nothing about the person who just
//! rebooted it.
//!
//! `DescribeEvents` is asked by source type, without an identifier, so that a sweep reads
//! the events of every database in one listing per type (pages of 100), and only when the
//! metrics found at least one database idle. An Aurora cluster's reboot or failover is
//! recorded on its member instances, so a cluster also looks at its members' events.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::cloud::{Cloud, DbEvent};
use crate::model::{Cluster, DbKind};
use crate::rds_messages;

use super::Ops;

/// Whether `e` is about `c`: the database itself, or one of an Aurora cluster's members.
fn concerns(c: &Cluster, e: &DbEvent) -> bool {
    (e.kind == c.kind && e.source == c.id)
        || (c.kind == DbKind::Cluster
            && e.kind == DbKind::Instance
            && c.members.contains(&e.source))
}

/// The first restart RDS recorded for `c` at or after `since`, from the listings of the
/// kinds it needs; an unreadable listing it needs is an error.
pub(super) fn restart_of<'a>(
    c: &Cluster,
    since: DateTime<Utc>,
    listings: &'a BTreeMap<DbKind, Result<Vec<DbEvent>, String>>,
) -> Result<Option<&'a DbEvent>, String> {
    let mut kinds = vec![c.kind];
    if c.kind == DbKind::Cluster && !c.members.is_empty() {
        kinds.push(DbKind::Instance);
    }
    let mut first: Option<&DbEvent> = None;
    for kind in kinds {
        let events = match listings.get(&kind) {
            Some(Ok(events)) => events,
            Some(Err(e)) => return Err(e.clone()),
            None => return Err(format!("{} events were not read", kind.noun())),
        };
        let found = events.iter().find(|e| {
            e.at >= since && concerns(c, e) && rds_messages::is_restart_message(&e.message)
        });
        if let Some(e) = found {
            first = Some(first.map_or(e, |f| if e.at < f.at { e } else { f }));
        }
    }
    Ok(first)
}

impl<C: Cloud> Ops<'_, C> {
    /// Turns the idle verdict of every database RDS recorded a restart of since its
    /// window began into "busy". `windows` holds each database's window start by ARN.
    pub(super) async fn veto_restarted(
        &self,
        clusters: &[&Cluster],
        windows: &BTreeMap<String, DateTime<Utc>>,
        verdicts: &mut BTreeMap<String, Result<(), String>>,
    ) {
        let idle: Vec<(&Cluster, DateTime<Utc>)> = clusters
            .iter()
            .filter(|c| matches!(verdicts.get(&c.arn), Some(Ok(()))))
            .filter_map(|c| Some((*c, *windows.get(&c.arn)?)))
            .collect();
        let Some(since) = idle.iter().map(|(_, start)| *start).min() else {
            return;
        };
        let mut needed = vec![DbKind::Instance];
        if idle.iter().any(|(c, _)| c.kind == DbKind::Cluster) {
            needed.push(DbKind::Cluster);
        }
        let mut listings = BTreeMap::new();
        for kind in needed {
            let listing = self
                .cloud
                .recent_events(kind, since)
                .await
                .map_err(|e| e.to_string());
            listings.insert(kind, listing);
        }
        for (c, start) in idle {
            let verdict = match restart_of(c, start, &listings) {
                Ok(None) => continue,
                Ok(Some(e)) => Err(format!(
                    "busy: RDS recorded \"{}\" for {} at {}, within the idle window (idle again a whole window after it; ASSUMPTION: quiet minutes may be published right through a restart, so RDS's record wins over them)",
                    e.message.trim(),
                    e.source,
                    e.at.format("%H:%M")
                )),
                Err(e) => Err(format!(
                    "RDS events could not be read, so not idle: {e}"
                )),
            };
            verdicts.insert(c.arn.clone(), verdict);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(m: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_790_000_000 + m * 60, 0).unwrap()
    }

    fn ev(m: i64, kind: DbKind, source: &str, message: &str) -> DbEvent {
        DbEvent {
            at: t(m),
            kind,
            source: source.into(),
            message: message.into(),
        }
    }

    fn aurora() -> Cluster {
        Cluster {
            id: "dev-1".into(),
            arn: "arn:cluster:dev-1".into(),
            members: vec!["dev-1-a".into(), "dev-1-b".into()],
            ..Default::default()
        }
    }

    #[test]
    fn a_member_reboot_inside_the_window_counts_for_its_cluster() {
        let listings = BTreeMap::from([
            (
                DbKind::Cluster,
                Ok(vec![ev(1, DbKind::Cluster, "dev-1", "DB cluster stopped")]),
            ),
            (
                DbKind::Instance,
                Ok(vec![
                    ev(5, DbKind::Instance, "other", "DB instance restarted."),
                    ev(20, DbKind::Instance, "dev-1-b", "DB instance restarted."),
                ]),
            ),
        ]);
        let found = restart_of(&aurora(), t(10), &listings).unwrap();
        assert_eq!(found.map(|e| e.source.as_str()), Some("dev-1-b"));
        // Before the window: history, not a reason to wait.
        assert_eq!(restart_of(&aurora(), t(21), &listings), Ok(None));
    }

    #[test]
    fn an_instance_looks_only_at_its_own_events_and_unreadable_events_are_not_idle() {
        let pg = Cluster {
            kind: DbKind::Instance,
            id: "pg".into(),
            ..Default::default()
        };
        let listings = BTreeMap::from([(
            DbKind::Instance,
            Ok(vec![
                ev(3, DbKind::Instance, "pg-2", "DB instance started."),
                ev(4, DbKind::Instance, "pg", "Backing up DB instance."),
            ]),
        )]);
        assert_eq!(restart_of(&pg, t(0), &listings), Ok(None));
        let started = BTreeMap::from([(
            DbKind::Instance,
            Ok(vec![ev(3, DbKind::Instance, "pg", "DB instance started.")]),
        )]);
        assert!(restart_of(&pg, t(0), &started).unwrap().is_some());
        let failed = BTreeMap::from([(DbKind::Instance, Err("throttled".to_string()))]);
        assert_eq!(restart_of(&pg, t(0), &failed), Err("throttled".into()));
        // A cluster needs the cluster listing even when its members' is fine.
        let only_instances = BTreeMap::from([(DbKind::Instance, Ok(Vec::new()))]);
        assert!(restart_of(&aurora(), t(0), &only_instances).is_err());
    }
}
