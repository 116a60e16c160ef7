//! An environment's sleep and wake: services down before their databases stop (and the
//! databases left up while a service may still run), databases up before their services
//! start.

use crate::cloud::Cloud;
use crate::model::{DbKind, Record, Scope, Service};
use crate::plan::{self, ClusterPlan};
use crate::report::{Item, Kind, Outcome};
use crate::Error;

use super::{nothing_done, retry_after_wake, Ops, RESERVE, WAKE_FOLLOW_UP, WAKE_POLL};

impl<C: Cloud> Ops<'_, C> {
    pub async fn pause(&self, env: Option<&str>) -> Result<Vec<Item>, Error> {
        let mut items = Vec::new();
        let clusters = self.clusters(env, &mut items).await;
        let services = self.services(env, &mut items).await;
        // Services first: their tasks stop before the databases they use.
        let mut paused: Vec<Item> = self
            .each(services.clone(), |(s, scope)| async move {
                match scope {
                    Scope::Protected(r) => self.service_item(&s).skipped(r),
                    _ => self.pause_service(&s).await,
                }
            })
            .await;
        // A scale-to-zero that failed (throttled, a timeout) is tried once more: its
        // databases wait for it. `each` keeps the order, so items and services pair up.
        for (item, (s, _)) in paused.iter_mut().zip(&services) {
            if item.outcome == Outcome::Failed && !self.out_of_time() {
                *item = self.pause_service(s).await;
            }
        }
        // Services that may still run (their scale-to-zero failed, or their ECS cluster
        // could not be read) would fail against a stopped database all night: the
        // environment's databases stay up, and the next sleep tries again.
        let still_up: Vec<String> = paused
            .iter()
            .chain(items.iter())
            .filter(|i| i.outcome == Outcome::Failed)
            .filter(|i| {
                i.kind == Kind::EcsService || (i.kind == Kind::EcsCluster && i.action != "missing")
            })
            .map(|i| i.id.clone())
            .collect();
        items.extend(paused);
        let stopped: Vec<Item> = self
            .each(clusters, |(c, scope)| {
                let still_up = &still_up;
                async move {
                    match scope {
                        Scope::Protected(r) => self.cluster_item(&c).skipped(r),
                        _ => {
                            let plan = plan::plan_pause(&c, self.config, None, false);
                            // Serverless v2 auto-pause resumes on a connection; a stop does not.
                            if !still_up.is_empty() && matches!(plan, ClusterPlan::Stop { .. }) {
                                return self.cluster_item(&c).skipped(format!(
                                    "left running: {} of its environment could not be scaled to zero and would fail against a stopped database",
                                    still_up.join(", ")
                                ));
                            }
                            self.execute(&c, plan).await
                        }
                    }
                }
            })
            .await;
        items.extend(stopped);
        nothing_done(items)
    }

    /// Databases first; the environment's services scale up only once every database of
    /// the environment that this wake started (or found starting) is `available`. The wake
    /// waits for them while the invocation allows, then hands the services on to a
    /// follow-up through the queue, so that no service starts before its databases and
    /// none stays at 0.
    pub async fn wake(&self, env: Option<&str>) -> Result<(Vec<Item>, Option<String>), Error> {
        let mut items = Vec::new();
        let clusters = self.clusters(env, &mut items).await;
        let services = self.services(env, &mut items).await;
        // The databases the services must wait for: every in-scope one of the environment
        // that groundcrew stopped or that is on its way up or down. One that someone else
        // stopped is not ours to start, nor to wait for.
        let waiting_for: Vec<(DbKind, String)> = clusters
            .iter()
            .filter(|(c, scope)| {
                *scope == Scope::InScope
                    && c.status != "available"
                    && (matches!(Record::of(&c.tags), Some(Ok(Record::Stopped)))
                        || matches!(c.status.as_str(), "starting" | "stopping"))
            })
            .map(|(c, _)| (c.kind, c.id.clone()))
            .collect();
        let woken: Vec<Item> = self
            .each(clusters, |(c, scope)| async move {
                match scope {
                    Scope::Protected(r) => self.cluster_item(&c).skipped(r),
                    _ => self.execute(&c, plan::plan_wake(&c)).await,
                }
            })
            .await;
        items.extend(woken);
        let to_wake: Vec<(Service, Scope)> = services
            .into_iter()
            .filter(|(s, scope)| {
                *scope == Scope::InScope && matches!(Record::of(&s.tags), Some(Ok(_)))
            })
            .collect();
        let unread_services = items
            .iter()
            .any(|i| i.kind == Kind::EcsCluster && retry_after_wake(i));
        if self.dry_run || (to_wake.is_empty() && !unread_services) {
            return Ok((self.wake_services(to_wake, items).await, None));
        }
        let mut not_ready = self.wait_available(&waiting_for).await;
        // Without the databases' list their states are unknown: the services wait too.
        if items
            .iter()
            .any(|i| matches!(i.kind, Kind::AuroraCluster | Kind::RdsInstance) && i.id == "*")
        {
            not_ready.push("(the database list could not be read)".to_string());
        }
        if not_ready.is_empty() {
            let items = self.wake_services(to_wake, items).await;
            // A service whose restore failed, or an ECS cluster whose services could not be
            // read, is not left at 0: the follow-up tries again.
            let retry = items.iter().any(retry_after_wake);
            let follow_up = if retry {
                self.follow_up(env).await
            } else {
                None
            };
            return Ok((items, follow_up));
        }
        let reason = format!(
            "waiting for its databases to be available ({})",
            not_ready.join(", ")
        );
        let follow_up = self.follow_up(env).await;
        for (s, _) in to_wake {
            let item = self.service_item(&s);
            items.push(match &follow_up {
                Some(f) => item.skipped(format!("{reason}; follow-up queued: {f}")),
                None => item.failed(
                    "restore-service",
                    format!("{reason}; no follow-up could be queued: wake the environment again"),
                ),
            });
        }
        Ok((items, follow_up))
    }

    /// Queues a wake of `env` a few minutes from now (at most SQS's 15-minute delay).
    pub(super) async fn follow_up(&self, env: Option<&str>) -> Option<String> {
        let (Some(env), Some(_)) = (env, &self.config.follow_up_queue_url) else {
            return None;
        };
        let body = serde_json::json!({"action": "wake", "environment": env}).to_string();
        match self.cloud.send_later(&body, WAKE_FOLLOW_UP).await {
            Ok(()) => Some(format!("wake {env} in {} s", WAKE_FOLLOW_UP.as_secs())),
            Err(e) => {
                tracing::error!(error = %e, "could not queue the wake's follow-up");
                None
            }
        }
    }

    pub(super) async fn wake_services(
        &self,
        services: Vec<(Service, Scope)>,
        mut items: Vec<Item>,
    ) -> Vec<Item> {
        let woken: Vec<Item> = self
            .each(
                services,
                |(s, _)| async move { self.wake_service(&s).await },
            )
            .await;
        items.extend(woken);
        items
    }

    /// Waits (polling) until every cluster in `ids` is `available`, while the deadline
    /// allows, starting any that has meanwhile finished stopping with groundcrew's record;
    /// returns those that are not available.
    pub(super) async fn wait_available(&self, ids: &[(DbKind, String)]) -> Vec<String> {
        let mut pending: Vec<(DbKind, String)> = ids.to_vec();
        loop {
            let mut still = Vec::new();
            for (kind, id) in &pending {
                match self.cloud.describe(*kind, id).await {
                    Ok(Some(c)) if c.status == "available" => {}
                    Ok(None) => {}
                    Ok(Some(c)) if c.status == "stopped" => {
                        let plan = plan::plan_wake(&c);
                        if plan == plan::ClusterPlan::Start {
                            let item = self.execute(&c, plan).await;
                            tracing::info!(cluster = %c.id, outcome = ?item.outcome, "started once it had stopped");
                        }
                        still.push((*kind, id.clone()));
                    }
                    _ => still.push((*kind, id.clone())),
                }
            }
            pending = still;
            if pending.is_empty() || !self.deadline.allows(WAKE_POLL + RESERVE * 4) {
                return pending.into_iter().map(|(_, id)| id).collect();
            }
            tokio::time::sleep(WAKE_POLL).await;
        }
    }
}
