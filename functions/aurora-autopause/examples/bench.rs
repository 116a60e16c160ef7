//! Benchmark: a sweep over 50 Aurora clusters, 50 plain RDS instances and 50 ECS services on
//! the local AWS (moto), then a pause and a wake of their environment (all 150). Prints each
//! figure as one JSON line. Run: `cargo run -p aurora-autopause --example bench --profile measure`.
//!
//! The `GetMetricData` figure is set beside the fewest calls the service's limits allow
//! (500 queries and 100,800 datapoints a call) for the same databases and time range.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use aurora_autopause::report::{Kind, Outcome};
use serde_json::json;

const CLUSTERS: usize = 50;
const INSTANCES: usize = 50;
const SERVICES: usize = 50;
/// The RDS instance classes the estate cycles through, Multi-AZ or not: the classes the
/// issue's users run.
const INSTANCE_CLASSES: [(&str, bool); 5] = [
    ("db.t3.small", false),
    ("db.t4g.medium", false),
    ("db.r6g.large", true),
    ("db.m6g.large", false),
    ("db.t3.micro", false),
];

fn figure(name: &str, value: serde_json::Value, unit: &str, how: &str) {
    println!(
        "{}",
        json!({"figure": name, "value": value, "unit": unit, "how": how})
    );
}

#[tokio::main]
async fn main() {
    let Some(sdk) = groundcrew::testing::local_aws().await else {
        eprintln!("the local AWS is not running (scripts/local-aws.sh start)");
        std::process::exit(1);
    };
    let e = common::Estate::new(&sdk, "bench").await;
    let setup = Instant::now();
    let mut ids = Vec::new();
    for i in 0..CLUSTERS {
        let id = e
            .cluster(
                &format!("c{i}"),
                &e.tags(true, &[]),
                if i % 5 == 0 { Some((0.5, 4.0)) } else { None },
            )
            .await;
        // Two thirds idle, one third busy.
        e.connections(&id, if i % 3 == 2 { 4.0 } else { 0.0 }).await;
        ids.push(id);
    }
    for i in 0..INSTANCES {
        let (class, multi_az) = INSTANCE_CLASSES[i % INSTANCE_CLASSES.len()];
        let id = e
            .instance(&format!("i{i}"), &e.tags(true, &[]), class, multi_az)
            .await;
        // Two thirds idle, one third busy, as the clusters.
        e.instance_connections(&id, if i % 3 == 2 { 4.0 } else { 0.0 })
            .await;
    }
    for i in 0..SERVICES {
        e.service(
            &format!("s{i}"),
            1 + (i as i32 % 4),
            &e.tags(true, &[]),
            if i % 2 == 0 { Some((1, 8)) } else { None },
        )
        .await;
    }
    eprintln!(
        "seeded {CLUSTERS} clusters, {INSTANCES} instances and {SERVICES} services in {:?}",
        setup.elapsed()
    );

    // The function runs `common::LATER` (45 minutes) ahead of the seeding, as the tests
    // do: moto records each database's creation ("DB instance created") as it is seeded,
    // and a sweep at that moment rightly finds every database started within its window
    // (it would pause none). The metrics are seeded to ten minutes past that time.
    let run = |event: serde_json::Value| {
        let e = &e;
        async move {
            e.invoke_within(event, common::LATER, Duration::from_secs(900))
                .await
                .expect("invocation")
        }
    };

    // Dry-run sweep first (reads only), then the real one.
    for (label, event) in [
        ("dry-run sweep", json!({"action": "sweep", "dry_run": true})),
        ("sweep", json!({"action": "sweep"})),
    ] {
        e.aws.reset_calls();
        let now = common::Estate::later();
        let start = Instant::now();
        let report = run(event).await;
        let wall = start.elapsed();
        let by_op = e.aws.calls_by_op();
        let how = format!("{label} over {CLUSTERS} opted-in Aurora clusters (1 instance each, 10 Serverless v2), {INSTANCES} opted-in RDS instances (t3.small, t4g.medium, r6g.large Multi-AZ, m6g.large, t3.micro) and {SERVICES} services in one ECS cluster, moto on 127.0.0.1:4566, concurrency {}", e.config.concurrency);
        // The sweep's metric range: from its window's start to a minute past now.
        let window = aurora_autopause::idle::IdleWindow::ending_before(
            now,
            e.config.metric_lag,
            e.config.idle_window,
        );
        let fewest = aurora_autopause::idle::fewest_calls(
            CLUSTERS + INSTANCES,
            window.start,
            now + chrono::Duration::minutes(1),
        );
        figure(
            &format!("{label} wall time"),
            json!(wall.as_millis() as u64),
            "ms",
            &how,
        );
        figure(
            &format!("{label} AWS API calls"),
            json!(e.aws.calls()),
            "calls",
            &format!("{how}; by operation {}", json!(by_op)),
        );
        figure(
            &format!("{label} GetMetricData calls"),
            json!(by_op.get("GetMetricData").copied().unwrap_or(0)),
            "calls",
            &format!(
                "{} databases, one-minute periods over a {}-minute window, {}-minute lag ({} periods read a database: the window, the lag and the minute under way): the limits (500 queries, 100,800 datapoints a call) allow {fewest} at the fewest; the report's own count: {}",
                CLUSTERS + INSTANCES,
                e.config.idle_window.as_secs() / 60,
                e.config.metric_lag.as_secs() / 60,
                ((now + chrono::Duration::minutes(1) - window.start).num_seconds().max(0) as u64).div_ceil(60),
                json!(report.summary.get_metric_data_calls)
            ),
        );
        for (kind, unit, of) in [
            (Kind::AuroraCluster, "clusters", CLUSTERS),
            (Kind::RdsInstance, "instances", INSTANCES),
        ] {
            let paused = report
                .resources
                .iter()
                .filter(|i| i.kind == kind && i.action != "none")
                .filter(|i| matches!(i.outcome, Outcome::Done | Outcome::DryRun))
                .count();
            figure(
                &format!("{label} paused {unit}"),
                json!(paused),
                unit,
                &format!("of {of} opted in, two thirds idle; {how}"),
            );
        }
        // moto does not age or aggregate metrics, so a busy cluster stays busy.
    }

    for (label, event) in [
        (
            "environment pause",
            json!({"action": "pause", "environment": e.env}),
        ),
        (
            "environment wake",
            json!({"action": "wake", "environment": e.env}),
        ),
    ] {
        e.aws.reset_calls();
        let start = Instant::now();
        let report = run(event).await;
        let wall = start.elapsed();
        let how = format!("{label}: environment {} with {SERVICES} services (25 with scaling targets), the {CLUSTERS} clusters and the {INSTANCES} instances", "bench");
        figure(
            &format!("{label} wall time"),
            json!(wall.as_millis() as u64),
            "ms",
            &how,
        );
        figure(
            &format!("{label} AWS API calls"),
            json!(e.aws.calls()),
            "calls",
            &format!("{how}; by operation {}", json!(e.aws.calls_by_op())),
        );
        figure(
            &format!("{label} resources acted on"),
            json!(report.summary.paused + report.summary.woken),
            "resources",
            &how,
        );
    }
}
