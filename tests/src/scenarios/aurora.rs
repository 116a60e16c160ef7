//! aurora-autopause over four simulated weeks.
//!
//! The estate: 20 Aurora clusters (provisioned and Serverless v2; some protected with
//! mixed-case production tags, some not opted in, four in no environment so that only the
//! sweep and AWS's seven-day start touch them), 5 plain RDS for PostgreSQL instances
//! (`db.t3.small` Single-AZ and `db.r6g.large` Multi-AZ; one protected by `Environment=PROD`)
//! and 10 ECS services in two environments
//! whose office hours are in two time zones, both changing to summer time in the period
//! (New York on 8 March 2026, Berlin on 29 March 2026). Developers connect at random
//! times, including just after a wake and just before a sweep; they wake their
//! environment or start a database by hand when they find it stopped. Schedules: a sweep
//! every 15 minutes; each environment sleeps at 19:00 and wakes at 07:30 on weekdays.
//! AWS starts what has been stopped for seven days; the re-stop rule routes RDS-EVENT-0153
//! (clusters) and RDS-EVENT-0154 (instances) to the follow-up queue. API calls are throttled, fail and time out from the seed.
//!
//! Invariants (checked on every call and every simulated minute): see [`crate::scenarios`]
//! and the `check` calls here and in [`super::aurora_cloud`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aurora_autopause::model::{
    Cluster, DbKind, ScalingV2, Service, Suspended, Target, TaskSize, RECORD_TAG,
};
use aurora_autopause::Config;
use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::aurora_cloud::{Acting, DbTruth, ServiceTruth, SimAws, World};
use crate::kernel::{lock, FaultRates, Schedule, Sim, Summary, Timeline, WEEKDAYS};
use crate::models::cloudwatch::{CloudWatchModel, PUBLISH_LAG};
use crate::models::ecs::EcsModel;
use crate::models::rds::{RdsModel, Starter};
use crate::models::sqs::QueueModel;

pub const SCENARIO: &str = "aurora-weeks";
const OPT_IN: (&str, &str) = ("groundcrew:autopause", "true");
const ENV_TAG: &str = "groundcrew:environment";
/// The function's timeout in the template.
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(300);
const SWEEP_EVERY: Duration = Duration::from_secs(15 * 60);

/// Figures over all seeds, for the report.
#[derive(Debug, Default, Clone, Copy)]
pub struct Figures {
    pub capturable_minutes: u64,
    pub captured_minutes: u64,
    pub sweep_stops: u64,
    pub restops: u64,
    pub aws_restarts: u64,
    pub stops_with_unpublished_connection: u64,
    pub service_minutes_crash_looping: u64,
    pub invocations: u64,
    pub failed_invocations: u64,
    pub follow_ups: u64,
    pub dead_letters: u64,
    pub sweeps: u64,
    pub get_metric_data_calls: u64,
    /// Reboots of running databases (by people and by AWS's maintenance).
    pub reboots: u64,
    /// The plain RDS instances' share of the figures above.
    pub instances: InstanceFigures,
}

/// The figures of the plain RDS instances alone (they are also counted in [`Figures`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct InstanceFigures {
    pub capturable_minutes: u64,
    pub captured_minutes: u64,
    pub sweep_stops: u64,
    pub restops: u64,
}

impl InstanceFigures {
    pub fn capture_share(&self) -> f64 {
        self.captured_minutes as f64 / (self.capturable_minutes.max(1)) as f64
    }
}

impl Figures {
    fn add(&mut self, o: &Figures) {
        self.capturable_minutes += o.capturable_minutes;
        self.captured_minutes += o.captured_minutes;
        self.sweep_stops += o.sweep_stops;
        self.restops += o.restops;
        self.aws_restarts += o.aws_restarts;
        self.stops_with_unpublished_connection += o.stops_with_unpublished_connection;
        self.service_minutes_crash_looping += o.service_minutes_crash_looping;
        self.invocations += o.invocations;
        self.failed_invocations += o.failed_invocations;
        self.follow_ups += o.follow_ups;
        self.dead_letters += o.dead_letters;
        self.sweeps += o.sweeps;
        self.get_metric_data_calls += o.get_metric_data_calls;
        self.reboots += o.reboots;
        self.instances.capturable_minutes += o.instances.capturable_minutes;
        self.instances.captured_minutes += o.instances.captured_minutes;
        self.instances.sweep_stops += o.instances.sweep_stops;
        self.instances.restops += o.instances.restops;
    }

    pub fn capture_share(&self) -> f64 {
        self.captured_minutes as f64 / (self.capturable_minutes.max(1)) as f64
    }
}

#[derive(Debug, Clone)]
enum Happening {
    Sweep,
    Sleep(String),
    Wake(String),
    /// Lambda's asynchronous retry of a failed scheduled invocation.
    Retry(serde_json::Value, u32),
    /// A developer wants a database from now for `minutes`.
    Session {
        db: String,
        minutes: i64,
    },
    /// A database is rebooted while it runs: by a person (who then connects within the
    /// hour, or not at all) or by AWS's maintenance at night.
    Reboot {
        db: String,
        by_person: bool,
    },
}

/// One environment's office hours.
struct Office {
    env: &'static str,
    tz: Tz,
}

const OFFICES: [Office; 2] = [
    Office {
        env: "dev",
        tz: chrono_tz::Europe::Berlin,
    },
    Office {
        env: "qa",
        tz: chrono_tz::America::New_York,
    },
];

pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

pub fn config() -> Config {
    Config {
        follow_up_queue_url: Some("https://sqs.us-east-1.amazonaws.com/1/follow-up".into()),
        ecs_clusters: vec!["dev-apps".into(), "qa-apps".into(), "legacy-gone".into()],
        ..Config::default()
    }
}

fn cluster(id: &str, tags: &[(&str, &str)], serverless: Option<(&str, f64)>) -> Cluster {
    Cluster {
        id: id.to_string(),
        arn: format!("arn:aws:rds:us-east-1:123456789012:cluster:{id}"),
        status: "available".into(),
        engine: "aurora-postgresql".into(),
        engine_version: serverless.map_or("16.4", |(v, _)| v).to_string(),
        engine_mode: "provisioned".into(),
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        serverless_v2: serverless.map(|(_, min)| ScalingV2 {
            min,
            max: 8.0,
            seconds: None,
        }),
        instance_classes: vec![if serverless.is_some() {
            "db.serverless".into()
        } else {
            "db.r6g.large".into()
        }],
        members: vec![format!("{id}-1")],
        ..Default::default()
    }
}

/// A plain RDS for PostgreSQL instance of `class`.
fn instance(id: &str, class: &str, multi_az: bool, tags: &[(&str, &str)]) -> Cluster {
    Cluster {
        kind: DbKind::Instance,
        multi_az,
        id: id.to_string(),
        arn: format!("arn:aws:rds:us-east-1:123456789012:db:{id}"),
        status: "available".into(),
        engine: "postgres".into(),
        engine_version: "16.4".into(),
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        instance_classes: vec![class.to_string()],
        ..Default::default()
    }
}

/// The estate: (database, in scope) pairs, and the services.
fn estate(world: &mut World, now: DateTime<Utc>) {
    let mut dbs: Vec<(Cluster, bool)> = Vec::new();
    for office in &OFFICES {
        let env = office.env;
        for i in 0..5 {
            let mut tags = vec![OPT_IN, (ENV_TAG, env)];
            let id = format!("{env}-db{i}");
            if i == 4 {
                tags.push(("groundcrew:idleMinutesBeforePause", "60"));
            }
            dbs.push((cluster(&id, &tags, None), true));
        }
        // Serverless v2: one on an engine with native auto-pause, one without.
        dbs.push((
            cluster(
                &format!("{env}-sv2-new"),
                &[OPT_IN, (ENV_TAG, env)],
                Some(("16.4", 0.5)),
            ),
            true,
        ));
        dbs.push((
            cluster(
                &format!("{env}-sv2-old"),
                &[OPT_IN, (ENV_TAG, env)],
                Some(("15.4", 1.0)),
            ),
            true,
        ));
    }
    // Protected however the tag is spelt, opted in or not; and not opted in at all.
    dbs.push((
        cluster(
            "orders-prod",
            &[OPT_IN, ("Environment", "Production"), (ENV_TAG, "dev")],
            None,
        ),
        false,
    ));
    dbs.push((
        cluster(
            "billing-live",
            &[OPT_IN, ("STAGE", "Live"), (ENV_TAG, "qa")],
            None,
        ),
        false,
    ));
    dbs.push((cluster("shared-untagged", &[(ENV_TAG, "dev")], None), false));
    // Plain RDS instances: a small Single-AZ one and a Multi-AZ one in each environment,
    // and a Multi-AZ one that is opted in but protected (`Environment=PROD`).
    for office in &OFFICES {
        let env = office.env;
        dbs.push((
            instance(
                &format!("{env}-pg-small"),
                "db.t3.small",
                false,
                &[OPT_IN, (ENV_TAG, env)],
            ),
            true,
        ));
        dbs.push((
            instance(
                &format!("{env}-pg-multi-az"),
                "db.r6g.large",
                true,
                &[OPT_IN, (ENV_TAG, env)],
            ),
            true,
        ));
    }
    dbs.push((
        instance(
            "reports-prod",
            "db.r6g.large",
            true,
            &[OPT_IN, ("Environment", "PROD"), (ENV_TAG, "qa")],
        ),
        false,
    ));
    // In no environment: only the sweep and AWS's seven-day start touch these.
    for i in 0..3 {
        dbs.push((cluster(&format!("orphan-{i}"), &[OPT_IN], None), true));
    }
    for (c, in_scope) in dbs {
        let window = c
            .tags
            .get("groundcrew:idleMinutesBeforePause")
            .and_then(|m| m.parse::<i64>().ok())
            .map_or(chrono::Duration::minutes(30), chrono::Duration::minutes);
        world.dbs.insert(
            c.id.clone(),
            DbTruth {
                env: c.tags.get(ENV_TAG).cloned(),
                in_scope,
                window,
            },
        );
        world.rds.add(c, now);
    }
    for office in &OFFICES {
        let env = office.env;
        for i in 0..5 {
            let name = format!("svc{i}");
            let cluster = format!("{env}-apps");
            let mut tags: BTreeMap<String, String> = [
                (OPT_IN.0.to_string(), OPT_IN.1.to_string()),
                (ENV_TAG.to_string(), env.to_string()),
            ]
            .into();
            let in_scope = i != 4;
            if !in_scope {
                tags.insert("env".into(), "PROD".into());
            }
            let desired = 1 + (i % 3);
            let target = (i % 2 == 0).then_some(Target {
                min: 1,
                max: 6,
                suspended: Suspended::default(),
            });
            world.services.insert(
                (cluster.clone(), name.clone()),
                ServiceTruth {
                    env: env.to_string(),
                    in_scope,
                    desired,
                    target,
                },
            );
            world.ecs.add(
                Service {
                    arn: format!("arn:aws:ecs:us-east-1:123456789012:service/{cluster}/{name}"),
                    cluster,
                    name,
                    desired,
                    running: desired,
                    tags,
                    // Half a vCPU and 1 GB; every other service on Fargate Spot.
                    task: Some(TaskSize {
                        cpu_units: 512,
                        memory_mib: 1024,
                        spot: i % 2 == 1,
                    }),
                },
                target,
            );
        }
    }
}

/// Developer sessions over the period, drawn from the seed.
fn sessions(sim: &Sim, world: &World, timeline: &mut Timeline<Happening>, end: DateTime<Utc>) {
    let mut rng = sim.rng();
    let mut day = sim.start();
    while day < end {
        for (id, truth) in &world.dbs {
            let tz = OFFICES
                .iter()
                .find(|o| Some(o.env.to_string()) == truth.env)
                .map_or(chrono_tz::UTC, |o| o.tz);
            let local_midnight = day.with_timezone(&tz).date_naive();
            let weekday = WEEKDAYS.contains(&chrono::Datelike::weekday(&local_midnight));
            let at_local = |h: u64, m: u64| {
                let t = local_midnight
                    .and_time(NaiveTime::from_hms_opt(h as u32, m as u32, 0).unwrap_or_default());
                tz.from_local_datetime(&t)
                    .earliest()
                    .map(|t| t.with_timezone(&Utc))
            };
            let count = if truth.env.is_none() {
                u64::from(rng.chance(0.08))
            } else if weekday {
                rng.between(0, 3)
            } else {
                u64::from(rng.chance(0.1))
            };
            for _ in 0..count {
                let (h, m) = (rng.between(8, 17), rng.between(0, 59));
                if let Some(t) = at_local(h, m) {
                    let minutes = rng.between(5, 150) as i64;
                    timeline.push(
                        t,
                        Happening::Session {
                            db: id.clone(),
                            minutes,
                        },
                    );
                }
            }
            if truth.env.is_some() && weekday && rng.chance(0.15) {
                // Just after the morning wake.
                if let Some(t) = at_local(7, rng.between(31, 45)) {
                    timeline.push(
                        t,
                        Happening::Session {
                            db: id.clone(),
                            minutes: rng.between(2, 20) as i64,
                        },
                    );
                }
            }
            if rng.chance(0.1) {
                // Just before a sweep: a short connection the sweep cannot see yet.
                let h = rng.between(9, 20);
                if let Some(t) = at_local(h, 14) {
                    timeline.push(
                        t + chrono::Duration::seconds(rng.between(0, 50) as i64),
                        Happening::Session {
                            db: id.clone(),
                            minutes: 1,
                        },
                    );
                }
            }
            if rng.chance(0.06) {
                // A reboot (a parameter change, a stuck session) during office hours.
                if let Some(t) = at_local(rng.between(9, 18), rng.between(0, 59)) {
                    timeline.push(
                        t,
                        Happening::Reboot {
                            db: id.clone(),
                            by_person: true,
                        },
                    );
                }
            }
            if rng.chance(0.03) {
                // AWS's maintenance: a reboot in the night.
                if let Some(t) = at_local(rng.between(0, 5), rng.between(0, 59)) {
                    timeline.push(
                        t,
                        Happening::Reboot {
                            db: id.clone(),
                            by_person: false,
                        },
                    );
                }
            }
            if rng.chance(0.04) {
                // Late at night.
                if let Some(t) = at_local(rng.between(20, 23), rng.between(0, 59)) {
                    timeline.push(
                        t,
                        Happening::Session {
                            db: id.clone(),
                            minutes: rng.between(10, 90) as i64,
                        },
                    );
                }
            }
        }
        day += chrono::Duration::days(1);
    }
}

struct Run {
    sim: Arc<Sim>,
    aws: SimAws,
    config: Config,
    timeline: Timeline<Happening>,
    /// Minutes each database has a developer session, by minute index.
    active: BTreeMap<String, Vec<bool>>,
    paused: BTreeMap<String, Vec<bool>>,
    /// Sessions running: db -> until.
    open: BTreeMap<String, DateTime<Utc>>,
    /// AWS restarts of databases groundcrew had paused: (db, when).
    restarts: Vec<(String, DateTime<Utc>)>,
    figures: Figures,
    minute: DateTime<Utc>,
}

impl Run {
    fn minute_index(&self, t: DateTime<Utc>) -> usize {
        (t - self.sim.start()).num_minutes().max(0) as usize
    }

    /// Everything that happens each simulated minute up to `until`: transitions, AWS's
    /// events, metrics, tasks, sessions, and the invariants that hold at all times.
    fn tick_until(&mut self, until: DateTime<Utc>) {
        while self.minute + chrono::Duration::minutes(1) <= until {
            let minute = self.minute;
            let next = minute + chrono::Duration::minutes(1);
            let mut w = self.aws.world();
            {
                let mut rng = self.sim.rng();
                w.rds.advance(next, &mut rng);
            }
            for e in w.rds.take_events() {
                let Some(event_id) = e.restart_event_id() else {
                    continue;
                };
                let ours = w
                    .rds
                    .clusters
                    .get(&e.cluster)
                    .is_some_and(|c| c.cluster.tags.contains_key(RECORD_TAG));
                self.sim
                    .trace(format!("AWS started {} ({event_id})", e.cluster));
                self.figures.aws_restarts += 1;
                if ours {
                    self.restarts.push((e.cluster.clone(), e.at));
                }
                // The template's rule sends RDS-EVENT-0153 / 0154 to the follow-up queue.
                let (detail_type, source_type) = match e.kind {
                    DbKind::Cluster => ("RDS DB Cluster Event", "CLUSTER"),
                    DbKind::Instance => ("RDS DB Instance Event", "DB_INSTANCE"),
                };
                let body = serde_json::json!({
                    "version": "0", "id": format!("ev-{}", e.at.timestamp()),
                    "detail-type": detail_type, "source": "aws.rds",
                    "time": e.at.to_rfc3339(),
                    "detail": {"EventCategories": ["notification"], "SourceType": source_type,
                        "SourceIdentifier": e.cluster, "Message": e.message, "EventID": event_id}
                });
                let _ = w.queue.send(body.to_string(), 0, e.at);
            }
            let index = self.minute_index(minute);
            let ids: Vec<String> = w.dbs.keys().cloned().collect();
            for id in &ids {
                // As it was at the end of that minute (ticks may catch up after a long
                // invocation, when the model has moved on).
                // ASSUMPTION: CloudWatch may publish quiet minutes right through a short
                // reboot (AWS does not say it leaves a gap): the worst case for the idle
                // check, which must then learn of the reboot from RDS's events.
                let available = w
                    .rds
                    .clusters
                    .get(id)
                    .is_some_and(|c| matches!(c.status_at(next), "available" | "rebooting"));
                let in_session = self.open.get(id).is_some_and(|until| *until > minute);
                if let Some(v) = self.active.get_mut(id) {
                    v[index] |= in_session;
                }
                if let Some(v) = self.paused.get_mut(id) {
                    v[index] = w
                        .rds
                        .clusters
                        .get(id)
                        .is_some_and(|c| matches!(c.status_at(next), "stopped" | "stopping"));
                }
                if available {
                    let lag = self.sim.rng().between(PUBLISH_LAG.0, PUBLISH_LAG.1);
                    // The environment's running services hold connections to its main
                    // database (`<env>-db0`); developers' sessions add theirs.
                    let services = if id.ends_with("-db0") {
                        let env = id.trim_end_matches("-db0");
                        w.ecs
                            .services
                            .values()
                            .filter(|s| s.cluster == format!("{env}-apps") && s.running > 0)
                            .count()
                    } else {
                        0
                    };
                    let value = services as f64
                        + if in_session {
                            1.0 + (index % 3) as f64
                        } else {
                            0.0
                        };
                    w.cw.record(id, minute, value, lag);
                    // A minute with any connection is not idle, whoever holds it.
                    if value > 0.0 {
                        if let Some(v) = self.active.get_mut(id) {
                            v[index] = true;
                        }
                    }
                }
            }
            // Tasks run only while their environment's main database is up.
            let down_envs: Vec<Option<String>> = w
                .dbs
                .iter()
                .filter(|(id, _)| id.ends_with("-db0"))
                .filter(|(id, _)| {
                    w.rds
                        .clusters
                        .get(*id)
                        .is_some_and(|c| c.status_at(next) != "available")
                })
                .map(|(_, d)| d.env.clone())
                .collect();
            w.ecs.apply_scaling();
            let services: Vec<((String, String), String, bool)> = w
                .services
                .iter()
                .map(|(k, s)| (k.clone(), s.env.clone(), s.in_scope))
                .collect();
            for (key, env, in_scope) in services {
                if let Some(s) = w.ecs.services.get_mut(&key) {
                    if down_envs.contains(&Some(env)) && s.desired > 0 {
                        s.running = 0;
                        // Counted for the services groundcrew manages (a protected one
                        // left running on a sleeping database is the user's choice).
                        if in_scope {
                            self.figures.service_minutes_crash_looping += 1;
                        }
                    } else {
                        s.running = s.desired;
                    }
                }
            }
            // Every seven-day start of a database groundcrew paused is stopped again within
            // an hour, unless a person started it since.
            let now = next;
            let mut still = Vec::new();
            for (id, at) in std::mem::take(&mut self.restarts) {
                let c = &w.rds.clusters[&id];
                if matches!(c.status(), "stopping" | "stopped") || c.last_start == Starter::Person {
                    continue;
                }
                self.sim.check(
                    "every 7-day restart of a database groundcrew paused is stopped again within 1 hour",
                    now - at <= chrono::Duration::hours(1),
                    || format!("{id} started by AWS at {at}, still {} at {now}", c.status()),
                );
                still.push((id, at));
            }
            self.restarts = still;
            drop(w);
            self.minute = next;
        }
    }

    /// A wake (asked for by a schedule or a person) ends an idle stretch: what comes after
    /// it is a new stretch, which the function cannot be expected to pause at once.
    fn mark_wake(&mut self, env: &str) {
        let index = self.minute_index(self.sim.now());
        let ids: Vec<String> = self
            .aws
            .world()
            .dbs
            .iter()
            .filter(|(_, d)| d.env.as_deref() == Some(env))
            .map(|(id, _)| id.clone())
            .collect();
        for id in ids {
            if let Some(v) = self.active.get_mut(&id).and_then(|v| v.get_mut(index)) {
                *v = true;
            }
        }
    }

    async fn invoke(
        &mut self,
        acting: Acting,
        event: serde_json::Value,
    ) -> Result<aurora_autopause::Report, aurora_autopause::Error> {
        self.aws.world().acting = Some(acting);
        self.figures.invocations += 1;
        if acting == Acting::Sweep {
            self.figures.sweeps += 1;
        }
        let invocation = self.sim.invocation(FUNCTION_TIMEOUT);
        let handler = aurora_autopause::Handler {
            cloud: self.aws.clone(),
            config: self.config.clone(),
        };
        let result = handler.handle(&event, &invocation).await;
        self.aws.world().acting = None;
        match &result {
            Ok(r) => {
                self.figures.follow_ups += r.follow_ups.len() as u64;
                self.sim.trace(format!(
                    "{} {}: paused {} woken {} failed {}",
                    acting_name(acting),
                    event
                        .get("environment")
                        .and_then(|e| e.as_str())
                        .unwrap_or(""),
                    r.summary.paused,
                    r.summary.woken,
                    r.summary.failed
                ));
            }
            Err(e) => {
                self.figures.failed_invocations += 1;
                self.sim
                    .trace(format!("{} failed: {e}", acting_name(acting)));
            }
        }
        result
    }

    /// A scheduled (asynchronous) invocation: on an error Lambda retries twice, about one
    /// and two minutes later.
    async fn scheduled(&mut self, acting: Acting, event: serde_json::Value, attempt: u32) {
        if self.invoke(acting, event.clone()).await.is_err() && attempt < 2 {
            let at = self.sim.now() + chrono::Duration::minutes(i64::from(attempt) + 1);
            self.timeline.push(at, Happening::Retry(event, attempt + 1));
        }
    }

    /// Lambda's SQS poller: batches of visible messages, partial batch responses.
    async fn poll_queue(&mut self) {
        loop {
            let now = self.sim.now();
            let batch = self.aws.world().queue.receive(now, 10);
            if batch.is_empty() {
                return;
            }
            let records: Vec<serde_json::Value> = batch
                .iter()
                .map(|m| serde_json::json!({"messageId": m.id, "receiptHandle": m.receipt_handle,
                    "body": m.body, "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:1:follow-up"}))
                .collect();
            let result = self
                .invoke(Acting::Batch, serde_json::json!({"Records": records}))
                .await;
            let failed: Vec<String> = match &result {
                Ok(r) => r.batch_item_failures.clone().unwrap_or_default(),
                Err(_) => batch.iter().map(|m| m.id.clone()).collect(),
            };
            {
                let mut w = self.aws.world();
                for m in &batch {
                    if !failed.contains(&m.id) {
                        w.queue.delete(&m.receipt_handle);
                    }
                }
            }
            for m in &batch {
                if !failed.contains(&m.id) {
                    if let Some(env) = serde_json::from_str::<serde_json::Value>(&m.body)
                        .ok()
                        .and_then(|b| {
                            b.get("environment")
                                .and_then(|e| e.as_str())
                                .map(str::to_string)
                        })
                    {
                        self.wake_finished(&env);
                    }
                }
            }
            self.tick_until(self.sim.now());
        }
    }

    /// Called when a wake (or its last follow-up) has run: unless another follow-up is
    /// queued, every service of the environment is back exactly as it was.
    fn wake_finished(&mut self, env: &str) {
        let w = self.aws.world();
        // A follow-up for this environment still waiting in the queue?
        let queued = w
            .queue
            .bodies()
            .iter()
            .any(|b| b.contains(&format!("\"environment\":\"{env}\"")));
        if queued {
            return;
        }
        for ((cluster, name), truth) in w
            .services
            .iter()
            .filter(|(_, s)| s.env == env && s.in_scope)
        {
            let s = w.ecs.service(cluster, name);
            let target = w
                .ecs
                .targets
                .get(&format!("service/{cluster}/{name}"))
                .copied();
            self.sim.check(
                "after every wake every service has its recorded desired count and scaling limits",
                s.as_ref().is_some_and(|s| s.desired == truth.desired) && target == truth.target,
                || format!("{cluster}/{name}: {s:?} target {target:?}, expected desired {} target {:?}", truth.desired, truth.target),
            );
        }
    }

    async fn handle(&mut self, happening: Happening) {
        match happening {
            Happening::Sweep => {
                self.scheduled(Acting::Sweep, serde_json::json!({"version": "0", "id": "sweep", "detail-type": "Scheduled Event", "source": "aws.scheduler", "detail": {}}), 0).await;
            }
            Happening::Sleep(env) => {
                self.scheduled(
                    Acting::Pause,
                    serde_json::json!({"action": "pause", "environment": env}),
                    0,
                )
                .await;
            }
            Happening::Wake(env) => {
                self.mark_wake(&env);
                let event = serde_json::json!({"action": "wake", "environment": env});
                if self.invoke(Acting::Wake, event.clone()).await.is_ok() {
                    self.wake_finished(&env);
                } else {
                    self.timeline.push(
                        self.sim.now() + chrono::Duration::minutes(1),
                        Happening::Retry(event, 1),
                    );
                }
            }
            Happening::Retry(event, attempt) => {
                let acting = match event.get("action").and_then(|a| a.as_str()) {
                    Some("pause") => Acting::Pause,
                    Some("wake") => Acting::Wake,
                    _ => Acting::Sweep,
                };
                let env = event
                    .get("environment")
                    .and_then(|e| e.as_str())
                    .map(str::to_string);
                if self.invoke(acting, event.clone()).await.is_ok() {
                    if let (Acting::Wake, Some(env)) = (acting, env) {
                        self.wake_finished(&env);
                    }
                } else if attempt < 2 {
                    self.timeline.push(
                        self.sim.now() + chrono::Duration::minutes(2),
                        Happening::Retry(event, attempt + 1),
                    );
                }
            }
            Happening::Reboot { db, by_person } => {
                let now = self.sim.now();
                let mut w = self.aws.world();
                let mut rng = self.sim.rng();
                let kind = w
                    .rds
                    .clusters
                    .get(&db)
                    .map_or(DbKind::Cluster, |c| c.cluster.kind);
                // Only a running database is rebooted; otherwise nothing happens.
                if w.rds.reboot(kind, &db, now, &mut rng).is_ok() {
                    let follow_up = by_person && rng.chance(0.5);
                    let (after, minutes) = (rng.between(5, 50) as i64, rng.between(5, 60) as i64);
                    drop(rng);
                    drop(w);
                    let who = if by_person {
                        "a person"
                    } else {
                        "AWS's maintenance"
                    };
                    self.sim.trace(format!("{who} rebooted {db}"));
                    self.figures.reboots += 1;
                    if by_person {
                        // Rebooting it is using it: that minute is not idle.
                        let index = self.minute_index(now);
                        if let Some(v) = self.active.get_mut(&db).and_then(|v| v.get_mut(index)) {
                            *v = true;
                        }
                    }
                    if follow_up {
                        self.timeline.push(
                            now + chrono::Duration::minutes(after),
                            Happening::Session { db, minutes },
                        );
                    }
                }
            }
            Happening::Session { db, minutes } => {
                let now = self.sim.now();
                let (status, env) = {
                    let w = self.aws.world();
                    (
                        w.rds.clusters.get(&db).map(|c| c.status().to_string()),
                        w.dbs.get(&db).and_then(|d| d.env.clone()),
                    )
                };
                if status.as_deref() == Some("stopped") {
                    let choice = self.sim.rng().unit();
                    if choice < 0.4 && env.is_some() {
                        // Wakes the environment, then connects once it is up.
                        self.timeline
                            .push(now, Happening::Wake(env.unwrap_or_default()));
                        self.timeline.push(
                            now + chrono::Duration::minutes(20),
                            Happening::Session { db, minutes },
                        );
                        return;
                    } else if choice < 0.7 {
                        // Starts it by hand in the console.
                        let mut w = self.aws.world();
                        let mut rng = self.sim.rng();
                        let kind = w
                            .rds
                            .clusters
                            .get(&db)
                            .map_or(DbKind::Cluster, |c| c.cluster.kind);
                        let _ = w.rds.start_kind(kind, &db, now, Starter::Person, &mut rng);
                        drop(rng);
                        drop(w);
                        self.sim.trace(format!("a person started {db}"));
                        let index = self.minute_index(now);
                        if let Some(v) = self.active.get_mut(&db).and_then(|v| v.get_mut(index)) {
                            *v = true;
                        }
                        self.timeline.push(
                            now + chrono::Duration::minutes(16),
                            Happening::Session { db, minutes },
                        );
                        return;
                    }
                    return;
                }
                let until = now + chrono::Duration::minutes(minutes);
                let entry = self.open.entry(db).or_insert(until);
                *entry = (*entry).max(until);
            }
        }
    }
}

fn acting_name(a: Acting) -> &'static str {
    match a {
        Acting::Sweep => "sweep",
        Acting::Pause => "sleep",
        Acting::Wake => "wake",
        Acting::Batch => "queue batch",
    }
}

/// Idle stretches per database, from the per-minute session log, and how much of each
/// that could be captured was: a stretch longer than the window plus the lag plus the
/// sweep interval can be paused from that point to its end.
fn capture(active: &[bool], paused: &[bool], window_minutes: usize) -> (u64, u64) {
    let lead = window_minutes + 3 + 15;
    let (mut capturable, mut captured) = (0u64, 0u64);
    let mut i = 0;
    while i < active.len() {
        if active[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < active.len() && !active[i] {
            i += 1;
        }
        if i - start > lead {
            capturable += (i - start - lead) as u64;
            captured += paused[start + lead..i].iter().filter(|p| **p).count() as u64;
        }
    }
    (capturable, captured)
}

/// Runs the scenario for `days` simulated days on `sim`; returns its figures.
pub async fn run_one(sim: Arc<Sim>, days: i64) -> Figures {
    run_with(sim, days, false).await
}

/// The scenario with a deliberately broken CloudWatch (`broken_metrics`): every minute
/// reads idle, so the function stops busy databases and an invariant must say so.
pub async fn run_with(sim: Arc<Sim>, days: i64, broken_metrics: bool) -> Figures {
    let config = config();
    let world = World {
        rds: RdsModel::default(),
        cw: CloudWatchModel::default(),
        ecs: EcsModel::default(),
        queue: QueueModel::new(chrono::Duration::minutes(30), 288),
        dbs: BTreeMap::new(),
        services: BTreeMap::new(),
        acting: None,
        lag: chrono::Duration::from_std(config.metric_lag).unwrap_or_default(),
        stops_with_unpublished_connection: 0,
        sweep_stops: 0,
        restops: 0,
        instance_sweep_stops: 0,
        instance_restops: 0,
        api_calls: BTreeMap::new(),
        broken_metrics,
    };
    let aws = SimAws {
        sim: Arc::clone(&sim),
        world: Arc::new(Mutex::new(world)),
    };
    let start = sim.start();
    let end = start + chrono::Duration::days(days);
    estate(&mut aws.world(), start);
    let minutes = (end - start).num_minutes() as usize + 1;
    let ids: Vec<String> = aws.world().dbs.keys().cloned().collect();
    let mut run = Run {
        sim: Arc::clone(&sim),
        aws,
        config,
        timeline: Timeline::default(),
        active: ids
            .iter()
            .map(|id| (id.clone(), vec![false; minutes]))
            .collect(),
        paused: ids
            .iter()
            .map(|id| (id.clone(), vec![false; minutes]))
            .collect(),
        open: BTreeMap::new(),
        restarts: Vec::new(),
        figures: Figures::default(),
        minute: start,
    };
    let mut schedules = vec![(
        Schedule::Rate {
            period: SWEEP_EVERY,
            start,
        },
        Happening::Sweep,
    )];
    for office in &OFFICES {
        let at = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default();
        schedules.push((
            Schedule::DailyAt {
                at: at(19, 0),
                weekdays: WEEKDAYS.to_vec(),
                tz: office.tz,
            },
            Happening::Sleep(office.env.to_string()),
        ));
        schedules.push((
            Schedule::DailyAt {
                at: at(7, 30),
                weekdays: WEEKDAYS.to_vec(),
                tz: office.tz,
            },
            Happening::Wake(office.env.to_string()),
        ));
    }
    for (schedule, happening) in &schedules {
        let mut t = start;
        while let Some(next) = schedule.next_after(t) {
            if next > end {
                break;
            }
            // EventBridge Scheduler invokes within the minute (60-second precision).
            let jitter = sim.rng().between(0, 59) as i64;
            run.timeline
                .push(next + chrono::Duration::seconds(jitter), happening.clone());
            t = next;
        }
    }
    {
        let w = run.aws.world();
        sessions(&sim, &w, &mut run.timeline, end);
    }
    loop {
        let next_queue = run.aws.world().queue.next_visible();
        let next = match (run.timeline.peek_time(), next_queue) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => break,
        };
        if next > end {
            break;
        }
        sim.sleep_until(next).await;
        run.tick_until(sim.now());
        if next_queue.is_some_and(|q| q <= sim.now()) {
            sim.step();
            run.poll_queue().await;
        }
        if run.timeline.peek_time().is_some_and(|t| t <= sim.now()) {
            if let Some((_, happening)) = run.timeline.pop() {
                sim.step();
                run.handle(happening).await;
                run.tick_until(sim.now());
            }
        }
    }
    sim.sleep_until(end).await;
    run.tick_until(end);
    let w = run.aws.world();
    let mut f = run.figures;
    f.sweep_stops = w.sweep_stops;
    f.restops = w.restops;
    f.instances.sweep_stops = w.instance_sweep_stops;
    f.instances.restops = w.instance_restops;
    f.stops_with_unpublished_connection = w.stops_with_unpublished_connection;
    f.dead_letters = w.queue.dead_letters.len() as u64;
    f.get_metric_data_calls = w.api_calls.get("GetMetricData").copied().unwrap_or(0);
    for (id, truth) in &w.dbs {
        let sv2_auto = id.ends_with("sv2-new");
        if !truth.in_scope || sv2_auto {
            continue;
        }
        let (a, b) = capture(
            &run.active[id],
            &run.paused[id],
            truth.window.num_minutes() as usize,
        );
        f.capturable_minutes += a;
        f.captured_minutes += b;
        if w.rds
            .clusters
            .get(id)
            .is_some_and(|c| c.cluster.kind == DbKind::Instance)
        {
            f.instances.capturable_minutes += a;
            f.instances.captured_minutes += b;
        }
    }
    f
}

/// The scenario as the test tier runs it: `seeds` seeds of `days` days each.
pub fn run(seeds: u64, days: i64, rates: FaultRates) -> (Summary, Figures) {
    let totals = Arc::new(Mutex::new(Figures::default()));
    let summary = crate::kernel::run(SCENARIO, seeds, start(), rates, |sim| {
        let totals = Arc::clone(&totals);
        async move {
            let f = run_one(sim, days).await;
            lock(&totals).add(&f);
        }
    });
    let figures = *lock(&totals);
    (summary, figures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_counts_only_what_could_be_paused() {
        // 100 idle minutes with a 30-minute window: the first 48 cannot be captured.
        let active = [vec![true], vec![false; 100], vec![true]].concat();
        let mut paused = vec![false; 102];
        for p in paused.iter_mut().take(101).skip(60) {
            *p = true;
        }
        assert_eq!(capture(&active, &paused, 30), (52, 41));
    }
}
