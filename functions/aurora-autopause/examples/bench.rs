//! Benchmark: a sweep over 50 Aurora clusters and 50 ECS services on the local AWS (moto),
//! then an environment pause and wake of the 50 services. Prints each figure as one JSON
//! line. Run: `cargo run -p aurora-autopause --example bench --profile measure`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use serde_json::json;

const CLUSTERS: usize = 50;
const SERVICES: usize = 50;

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
        "seeded {CLUSTERS} clusters and {SERVICES} services in {:?}",
        setup.elapsed()
    );

    let deadline = || groundcrew::Invocation::with_budget("bench", Duration::from_secs(900));
    let run = |event: serde_json::Value| {
        let handler = aurora_autopause::Handler {
            cloud: e.aws.clone(),
            config: e.config.clone(),
        };
        async move {
            handler
                .handle(&event, &deadline())
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
        let start = Instant::now();
        let report = run(event).await;
        let wall = start.elapsed();
        let by_op = e.aws.calls_by_op();
        let how = format!("{label} over {CLUSTERS} opted-in clusters (1 instance each, 10 Serverless v2) and {SERVICES} services in one ECS cluster, moto on 127.0.0.1:4566, concurrency {}", e.config.concurrency);
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
            "one call per 500 clusters",
        );
        figure(
            &format!("{label} paused"),
            json!(report.summary.paused),
            "clusters",
            &how,
        );
        // moto does not age or aggregate metrics, so a busy cluster stays busy.
    }

    for (label, event) in [
        (
            "pause 50 services",
            json!({"action": "pause", "environment": e.env}),
        ),
        (
            "wake 50 services",
            json!({"action": "wake", "environment": e.env}),
        ),
    ] {
        e.aws.reset_calls();
        let start = Instant::now();
        let report = run(event).await;
        let wall = start.elapsed();
        let how = format!("{label}: environment {} with {SERVICES} services (25 with scaling targets) and the {CLUSTERS} clusters", "bench");
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
