//! The re-stop after AWS's automatic start (RDS-EVENT-0153 for a cluster, RDS-EVENT-0154
//! for an instance).

use std::time::Duration;

use groundcrew::Deadline;

use crate::cloud::Rds;
use crate::config::Config;
use crate::model::{self, Cluster, DbKind, Record, Scope, PAUSED_AT_TAG, RECORD_TAG};
use crate::rds_messages;
use crate::report::{Item, Kind};
use crate::Error;

use super::{environment_of, RESERVE};

/// Moves `paused-at` to `now`: when groundcrew last stopped the cluster, so that an AWS
/// start before it no longer counts as the reason it runs (the sweep asks DescribeEvents
/// for AWS starts since `paused-at`).
pub(super) async fn stamp_paused_at<R: Rds>(
    rds: &R,
    c: &Cluster,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<String> {
    let stamp = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    // The hours of the pause so far are kept in the same call ([`crate::savings`]).
    let tags = [
        (PAUSED_AT_TAG.to_string(), stamp.clone()),
        crate::savings::closing_tag(&c.tags, now),
    ];
    match rds.tag(&c.arn, &tags).await {
        Ok(()) => Some(stamp),
        Err(e) => {
            tracing::warn!(database = %c.id, error = %e, "stopped again, but its paused-at stays");
            None
        }
    }
}

/// What a re-stop attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Restop {
    pub item: Item,
    /// `Some(state)` when the cluster could not be stopped yet (still `starting`): the
    /// queued message is to come back later.
    pub not_yet: Option<String>,
}

impl Restop {
    fn done(item: Item) -> Self {
        Self {
            item,
            not_yet: None,
        }
    }
}

/// RDS-EVENT-0153 / 0154: AWS started a cluster or an instance that had been stopped for 7
/// days. If groundcrew stopped it, stop it again, retrying through `starting` until it is
/// `available` (a state fault means "not yet"; the state is read from the error, or from a
/// describe when the message does not name it), until
/// `deadline`. A start can outlast an invocation: then the answer is "not yet", and the
/// queued message that brought the event comes back a few minutes later (for up to a day,
/// then its dead-letter queue and alarm).
#[allow(clippy::too_many_arguments)]
pub async fn restop<R: Rds>(
    rds: &R,
    config: &Config,
    kind: DbKind,
    id: &str,
    deadline: Deadline,
    dry_run: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Restop, Error> {
    let Some(c) = rds.describe(kind, id).await? else {
        return Ok(Restop::done(
            Item::new(Kind::from(kind), id, None, "not-found")
                .skipped(format!("no such {} (deleted?)", kind.noun())),
        ));
    };
    let mut item = Item::new(
        Kind::from(kind),
        &c.id,
        environment_of(config, &c.tags),
        &c.status,
    );
    item.paused_at = c.tags.get(PAUSED_AT_TAG).cloned();
    item.recorded = c.tags.get(RECORD_TAG).cloned();
    match model::scope(config, &c.tags) {
        Scope::InScope => {}
        Scope::Protected(r) => return Ok(Restop::done(item.skipped(r))),
        Scope::NotOptedIn => return Ok(Restop::done(item.skipped("not opted in; left alone"))),
    }
    match Record::of(&c.tags) {
        Some(Ok(Record::Stopped)) => {}
        Some(Err(e)) => return Ok(Restop::done(item.skipped(e))),
        _ => {
            return Ok(Restop::done(
                item.skipped("not stopped by groundcrew; left running"),
            ))
        }
    }
    if dry_run {
        return Ok(Restop::done(item.acted("stop", true)));
    }
    let mut delay = Duration::from_secs(2);
    loop {
        match rds.stop(kind, &c.id).await {
            Ok(()) => {
                item.paused_at = stamp_paused_at(rds, &c, now).await;
                return Ok(Restop::done(item.acted("stop", false).with_reason(
                    "started by AWS after 7 days stopped; stopped again",
                )));
            }
            Err(e) if rds_messages::is_state_fault(e.code()) => {
                // A cluster's fault names its state; an instance's ("Instance x is not in
                // available state.") does not: then the state is read.
                let state = match rds_messages::state_from_message(e.aws_message()) {
                    Some(state) => state,
                    None => rds
                        .describe(kind, &c.id)
                        .await
                        .ok()
                        .flatten()
                        .map_or_else(|| "unknown".to_string(), |now| now.status),
                };
                if matches!(state.as_str(), "stopped" | "stopping") {
                    // Stopped since AWS's start (by an earlier attempt whose answer was
                    // lost, or by anyone): that start is history from now on.
                    stamp_paused_at(rds, &c, now).await;
                    return Ok(Restop::done(
                        Item { state, ..item }.skipped("already stopped or stopping"),
                    ));
                }
                tracing::info!(cluster = %c.id, state = %state, "cluster not stoppable yet; waiting");
                if !deadline.allows(delay + RESERVE) {
                    return Ok(Restop {
                        item: Item {
                            state: state.clone(),
                            ..item
                        }
                        .skipped(format!("still {state}; tried again later from the queue")),
                        not_yet: Some(state),
                    });
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(config.restop_max_delay.max(Duration::from_secs(1)));
            }
            // Throttled, a service error or a timeout: the stop may or may not have
            // happened. Try again later; the next attempt sees which.
            Err(e) if e.is_transient() || e.code().is_none() => {
                return Ok(Restop {
                    item: item.failed("stop", e.to_string()),
                    not_yet: Some(c.status.clone()),
                })
            }
            Err(e) => return Ok(Restop::done(item.failed("stop", e.to_string()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};
    use std::sync::Mutex;

    /// An RDS whose stop fails with the given states before it succeeds.
    struct FakeRds {
        cluster: Cluster,
        states: Mutex<Vec<&'static str>>,
        stops: Mutex<u32>,
    }

    impl Rds for FakeRds {
        async fn clusters(&self) -> Result<Vec<Cluster>, Error> {
            Ok(vec![self.cluster.clone()])
        }
        async fn describe(&self, kind: DbKind, id: &str) -> Result<Option<Cluster>, Error> {
            Ok((kind == DbKind::Cluster && id == self.cluster.id).then(|| self.cluster.clone()))
        }
        async fn instance_classes(
            &self,
            _: &[String],
        ) -> Result<HashMap<String, Vec<String>>, Error> {
            Ok(HashMap::new())
        }
        async fn instances(&self) -> Result<Vec<Cluster>, Error> {
            Ok(Vec::new())
        }
        async fn events_since(
            &self,
            _: DbKind,
            _: &str,
            _: chrono::DateTime<chrono::Utc>,
        ) -> Result<Vec<(chrono::DateTime<chrono::Utc>, String)>, Error> {
            Ok(Vec::new())
        }
        async fn recent_events(
            &self,
            _: DbKind,
            _: chrono::DateTime<chrono::Utc>,
        ) -> Result<Vec<crate::cloud::DbEvent>, Error> {
            Ok(Vec::new())
        }
        async fn stop(&self, _: DbKind, id: &str) -> Result<(), Error> {
            *self.stops.lock().unwrap() += 1;
            let mut states = self.states.lock().unwrap();
            if states.is_empty() {
                return Ok(());
            }
            let s = states.remove(0);
            Err(Error::Aws(
                groundcrew::aws_error::AwsError::new(
                    "StopDBCluster",
                    format!(
                        "DbCluster {id} is in {s} state but expected it to be one of available."
                    ),
                )
                .with_code("InvalidDBClusterStateFault"),
            ))
        }
        async fn start(&self, _: DbKind, _: &str) -> Result<(), Error> {
            Ok(())
        }
        async fn set_scaling(&self, _: &str, _: model::ScalingV2) -> Result<(), Error> {
            Ok(())
        }
        async fn tag(&self, _: &str, _: &crate::cloud::Tags) -> Result<(), Error> {
            Ok(())
        }
        async fn untag(&self, _: &str, _: &[&str]) -> Result<(), Error> {
            Ok(())
        }
    }

    fn fake(tags: &[(&str, &str)], states: Vec<&'static str>) -> FakeRds {
        FakeRds {
            cluster: Cluster {
                id: "dev-1".into(),
                arn: "arn".into(),
                status: "starting".into(),
                engine: "aurora-postgresql".into(),
                tags: tags
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>(),
                ..Default::default()
            },
            states: Mutex::new(states),
            stops: Mutex::new(0),
        }
    }

    const OURS: [(&str, &str); 2] = [("groundcrew:autopause", "true"), (RECORD_TAG, "mode=stop")];

    /// A re-stop of `dev-1` with `secs` left and the default settings.
    async fn run(rds: &FakeRds, secs: u64, dry_run: bool) -> Restop {
        restop(
            rds,
            &Config::default(),
            DbKind::Cluster,
            "dev-1",
            Deadline::after(Duration::from_secs(secs)),
            dry_run,
            chrono::Utc::now(),
        )
        .await
        .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn restop_retries_through_starting() {
        let rds = fake(
            &OURS,
            vec!["starting", "starting", "configuring-enhanced-monitoring"],
        );
        let item = run(&rds, 60, false).await.item;
        assert_eq!(
            (item.action, item.outcome),
            ("stop", crate::report::Outcome::Done)
        );
        assert_eq!(*rds.stops.lock().unwrap(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn restop_says_not_yet_at_the_deadline() {
        let rds = fake(&OURS, vec!["starting"; 100]);
        let start = tokio::time::Instant::now();
        let r = run(&rds, 20, false).await;
        assert_eq!(r.not_yet.as_deref(), Some("starting"));
        let item = r.item;
        assert_eq!(item.outcome, crate::report::Outcome::Skipped);
        assert!(item.reason.unwrap().contains("tried again later"));
        assert!(start.elapsed() < Duration::from_secs(20));
    }

    #[tokio::test(start_paused = true)]
    async fn restop_only_touches_clusters_we_stopped() {
        for tags in [
            vec![("groundcrew:autopause", "true")],
            vec![(RECORD_TAG, "mode=stop")],
            vec![
                ("groundcrew:autopause", "true"),
                (RECORD_TAG, "mode=stop"),
                ("environment", "prod"),
            ],
        ] {
            let rds = fake(&tags, vec![]);
            let item = run(&rds, 60, false).await.item;
            assert_eq!(item.outcome, crate::report::Outcome::Skipped, "{tags:?}");
            assert_eq!(*rds.stops.lock().unwrap(), 0);
        }
        let rds = fake(&OURS, vec![]);
        let item = run(&rds, 60, true).await.item;
        assert_eq!(item.outcome, crate::report::Outcome::DryRun);
        assert_eq!(*rds.stops.lock().unwrap(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn restop_of_an_already_stopped_cluster_is_a_no_op() {
        let rds = fake(&OURS, vec!["stopped"]);
        let item = run(&rds, 60, false).await.item;
        assert_eq!(
            (item.outcome, item.state.as_str()),
            (crate::report::Outcome::Skipped, "stopped")
        );
    }
}
