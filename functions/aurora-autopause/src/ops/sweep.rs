//! The sweep: idle verdicts from `DatabaseConnections`, and the pause of what is idle.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::cloud::Cloud;
use crate::idle::{self, IdleWindow};
use crate::model::{Cluster, Record, Scope, PAUSED_AT_TAG};
use crate::plan;
use crate::rds_messages;
use crate::report::Item;
use crate::Error;

use super::{nothing_done, Ops};

impl<C: Cloud> Ops<'_, C> {
    /// The idle verdict of each available in-scope database, by ARN, from one-minute
    /// `DatabaseConnections` over its own window (by `DBClusterIdentifier` or
    /// `DBInstanceIdentifier`), clusters and instances together in as few `GetMetricData`
    /// calls as the service's limits allow.
    pub(super) async fn idle_verdicts(
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
                        c.arn.clone(),
                        (
                            c.kind,
                            c.id.clone(),
                            IdleWindow::ending_before(self.now, self.config.metric_lag, length),
                        ),
                    );
                }
                Err(reason) => {
                    verdicts.insert(c.arn.clone(), Err(reason));
                }
            }
        }
        // Everything published up to now: the windows, and the lag's minutes after them.
        let (Some(start), Some(end)) = (
            windows.values().map(|(_, _, w)| w.start).min(),
            windows
                .values()
                .map(|(_, _, w)| w.end)
                .max()
                .map(|end| end.max(self.now) + chrono::Duration::minutes(1)),
        ) else {
            return verdicts;
        };
        let queries: Vec<(String, &'static str, String)> = windows
            .values()
            .enumerate()
            .map(|(i, (kind, id, _))| (format!("q{i}"), kind.metric_dimension(), id.clone()))
            .collect();
        // Query id -> ARN (an instance and a cluster may share an identifier).
        let arn_of: BTreeMap<String, String> = windows
            .keys()
            .enumerate()
            .map(|(i, arn)| (format!("q{i}"), arn.clone()))
            .collect();
        let mut series = BTreeMap::new();
        for request in idle::requests(&queries, start, end) {
            self.metric_calls
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            match self.cloud.get_metric_data(&request).await {
                Ok(found) => series.extend(found),
                Err(e) => {
                    for arn in request.queries.iter().filter_map(|q| arn_of.get(&q.id)) {
                        verdicts.insert(
                            arn.clone(),
                            Err(format!("idle check failed, so not idle: {e}")),
                        );
                    }
                }
            }
        }
        for (qid, arn) in &arn_of {
            if verdicts.contains_key(arn) {
                continue;
            }
            let Some((_, _, window)) = windows.get(arn) else {
                continue;
            };
            verdicts.insert(
                arn.clone(),
                idle::verdict(series.get(qid), window, self.config.idle_max_connections),
            );
        }
        // The metrics' "idle" stands only if RDS recorded no restart inside the window.
        let starts: BTreeMap<String, DateTime<Utc>> = windows
            .iter()
            .map(|(arn, (_, _, w))| (arn.clone(), w.start))
            .collect();
        let dbs: Vec<&Cluster> = clusters.iter().map(|(c, _)| c).collect();
        self.veto_restarted(&dbs, &starts, &mut verdicts).await;
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
                let verdict = verdicts.get(&c.arn).cloned();
                async move {
                    match scope {
                        Scope::Protected(r) => self.cluster_item(&c).skipped(r),
                        _ => {
                            let restarted = self.restarted_by_aws(&c).await;
                            let plan = plan::plan_pause(
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
    pub(super) async fn restarted_by_aws(&self, c: &Cluster) -> bool {
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
            .events_since(c.kind, &c.id, since.with_timezone(&Utc))
            .await
            .map(|events| rds_messages::started_by_aws(&events))
            .unwrap_or_else(|e| {
                tracing::warn!(cluster = %c.id, error = %e, "DescribeEvents failed; treated as started by a person");
                false
            })
    }
}
