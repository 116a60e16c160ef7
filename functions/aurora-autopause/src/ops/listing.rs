//! What a request is about: the databases and services in scope, and how each is
//! reported (with its hours paused and saving this month).

use std::collections::BTreeMap;

use crate::cloud::{Cloud, Rds};
use crate::hourly;
use crate::model::{self, Cluster, DbKind, Record, Scope, Service, PAUSED_AT_TAG, RECORD_TAG};
use crate::plan;
use crate::report::{Item, Kind};
use crate::savings;

use super::{environment_of, Ops};

impl<C: Cloud> Ops<'_, C> {
    /// The databases in scope (Aurora clusters and plain RDS instances; opted in, or
    /// protected ones to report), in `env` if given, with their instance classes. A
    /// failure to list either kind is an item, not the end.
    pub(super) async fn clusters(
        &self,
        env: Option<&str>,
        failures: &mut Vec<Item>,
    ) -> Vec<(Cluster, Scope)> {
        let mut all = Vec::new();
        for (kind, listed) in [
            (DbKind::Cluster, self.cloud.clusters().await),
            (DbKind::Instance, self.cloud.instances().await),
        ] {
            match listed {
                Ok(found) => all.extend(found),
                Err(e) => failures.push(
                    Item::new(Kind::from(kind), "*", env.map(str::to_string), "unknown")
                        .failed("describe", e.to_string()),
                ),
            }
        }
        let mut found: Vec<(Cluster, Scope)> = all
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
            .filter(|(c, s)| *s == Scope::InScope && c.kind == DbKind::Cluster)
            .map(|(c, _)| c.id.clone())
            .collect();
        if !ids.is_empty() {
            match Rds::instance_classes(self.cloud, &ids).await {
                Ok(mut classes) => {
                    for (c, _) in found.iter_mut().filter(|(c, _)| c.kind == DbKind::Cluster) {
                        c.instance_classes = classes.remove(&c.id).unwrap_or_default();
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "instance classes unknown; savings not estimated")
                }
            }
        }
        found
    }

    /// The services in scope, ECS cluster by ECS cluster: a cluster that cannot be read
    /// (deleted, no access) is reported and the others are still handled.
    pub(super) async fn services(
        &self,
        env: Option<&str>,
        failures: &mut Vec<Item>,
    ) -> Vec<(Service, Scope)> {
        let clusters = if self.config.ecs_clusters.is_empty() {
            match self.cloud.cluster_names().await {
                Ok(names) => names,
                Err(e) => {
                    failures.push(
                        Item::new(Kind::EcsCluster, "*", env.map(str::to_string), "unknown")
                            .failed("describe", e.to_string()),
                    );
                    return Vec::new();
                }
            }
        } else {
            self.config.ecs_clusters.clone()
        };
        let mut found = Vec::new();
        for cluster in clusters {
            match self.cloud.services_in(&cluster).await {
                Ok(services) => found.extend(services.into_iter().filter_map(|s| {
                    if env.is_some() && environment_of(self.config, &s.tags).as_deref() != env {
                        return None;
                    }
                    match model::scope(self.config, &s.tags) {
                        Scope::NotOptedIn => None,
                        Scope::Protected(_) if !self.config.opt_in.matches(&s.tags) => None,
                        sc => Some((s, sc)),
                    }
                })),
                Err(e) => {
                    // A configured cluster that does not exist is reported (a setting to
                    // fix), but not tried again; any other error is.
                    let action = if e.code() == Some("ClusterNotFoundException") {
                        "missing"
                    } else {
                        "describe"
                    };
                    failures.push(
                        Item::new(
                            Kind::EcsCluster,
                            &cluster,
                            env.map(str::to_string),
                            "unknown",
                        )
                        .failed(action, e.to_string()),
                    )
                }
            }
        }
        found
    }

    pub(super) fn cluster_item(&self, c: &Cluster) -> Item {
        let mut item = Item::new(
            Kind::from(c.kind),
            &c.id,
            environment_of(self.config, &c.tags),
            &c.status,
        );
        item.paused_at = c.tags.get(PAUSED_AT_TAG).cloned();
        item.recorded = c.tags.get(RECORD_TAG).cloned();
        let mut item = self.with_month(item, &c.tags, || self.paused_price(c));
        if item.saving_this_month_usd.is_some() {
            item.price_note = hourly::price_note(c, &self.paused_plan(c), self.config);
        }
        item
    }

    /// Hours paused this month and their saving at `price` per hour.
    pub(super) fn with_month(
        &self,
        mut item: Item,
        tags: &BTreeMap<String, String>,
        price: impl FnOnce() -> Option<f64>,
    ) -> Item {
        let hours = savings::paused_hours_this_month(tags, self.now);
        if hours > 0.0 {
            item.paused_hours_this_month = Some(hours);
            item.saving_this_month_usd = price().map(|p| savings::round(p * hours));
        }
        item
    }

    /// What a database saves per hour while paused the way groundcrew pauses it (its
    /// record says how; without one, the way a pause would).
    pub(super) fn paused_price(&self, c: &Cluster) -> Option<f64> {
        hourly::hourly_saving(c, &self.paused_plan(c), self.config)
    }

    /// How groundcrew paused (or would pause) a database, for its price.
    fn paused_plan(&self, c: &Cluster) -> plan::ClusterPlan {
        match Record::of(&c.tags) {
            Some(Ok(Record::AutoPause(previous))) => plan::ClusterPlan::AutoPause {
                previous,
                seconds: 0,
            },
            _ => plan::ClusterPlan::Stop { record: false },
        }
    }

    /// What a service saves per hour at 0 tasks: its recorded (or current) desired count
    /// of tasks at the Fargate or Fargate Spot price of their size.
    pub(super) fn service_price(&self, s: &Service) -> Option<f64> {
        let task = s.task?;
        let desired = match Record::of(&s.tags) {
            Some(Ok(Record::ScaledToZero { desired, .. })) => desired,
            _ => s.desired,
        };
        let one = self
            .config
            .prices
            .fargate_task(task.cpu_units, task.memory_mib, task.spot);
        Some(savings::round(f64::from(desired.max(0)) * one))
    }

    pub(super) fn service_item(&self, s: &Service) -> Item {
        let mut item = Item::new(
            Kind::EcsService,
            format!("{}/{}", s.cluster, s.name),
            environment_of(self.config, &s.tags),
            format!("desired={} running={}", s.desired, s.running),
        );
        item.paused_at = s.tags.get(PAUSED_AT_TAG).cloned();
        item.recorded = s.tags.get(RECORD_TAG).cloned();
        item.hourly_saving_usd = self.service_price(s);
        if s.task.is_some_and(|t| t.spot) && item.hourly_saving_usd.is_some() {
            item.price_note = self.config.prices.unconfirmed_note(crate::price::SPOT_KEYS);
        }
        self.with_month(item, &s.tags, || self.service_price(s))
    }
}
