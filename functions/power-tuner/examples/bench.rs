//! Benchmark: a run of 6 power values x 50 invocations, parallel, against the Lambda API
//! stand-in (tests/common) with a fixed invocation latency; the wall time as a ratio to
//! the lower bound, and our cost per run against Power Tuning's Step Functions charge.
//!
//! `cargo run -p power-tuner --example bench --profile measure`

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{LambdaSim, MemStore, Model};
use groundcrew::Invocation;
use power_tuner::handler::Tuner;
use power_tuner::lambda::SdkLambda;
use power_tuner::price::{step_functions_cost, PriceModel};
use power_tuner::Config;
use serde_json::json;

const LATENCY: Duration = Duration::from_millis(200);
const CONTROL_LATENCY: Duration = Duration::from_millis(20);
const VALUES: usize = 6;
const NUM: usize = 50;
const CONCURRENCY: usize = 50;
/// Control-plane calls per power value when an update is immediately Successful:
/// wait (GET), update (PUT), wait (GET), wait before publish (GET), publish (POST),
/// alias (PUT, then POST on the first run).
const CALLS_PER_SETUP: u32 = 7;
/// power-tuner's memory size in template.yaml.
const TUNER_MEMORY_MB: u32 = 256;

fn figure(name: &str, value: f64, unit: &str, how: &str) {
    println!(
        "{}",
        json!({"figure": name, "value": value, "unit": unit, "how": how})
    );
}

#[tokio::main]
async fn main() {
    let model = Model {
        latency: LATENCY,
        control_latency: CONTROL_LATENCY,
        in_progress_reads: 0,
        ..Model::default()
    };
    let (_server, sim, sdk) = common::start(model).await;
    let name = "groundcrew-dev-bench";
    sim.add_function(name, 1024, "arm64");
    let settings = Config {
        setup_estimate: Duration::from_millis(200),
        default_report_s3: Some("s3://bench-state/reports".into()),
        ..Config::default()
    };
    let tuner = Tuner {
        lambda: SdkLambda::new(&sdk),
        store: MemStore::default(),
        config: settings,
    };
    let input = json!({
        "lambdaARN": LambdaSim::arn(name),
        "num": NUM,
        "powerValues": [128, 256, 512, 1024, 1536, 3008],
        "parallelInvocation": true,
        "concurrency": CONCURRENCY,
        "strategy": "cost",
    });
    let mut ratios = Vec::new();
    let mut walls = Vec::new();
    for run in 0..3 {
        let started = Instant::now();
        let out = tuner
            .handle(
                &input,
                &Invocation::with_budget(format!("bench-{run}"), Duration::from_secs(300)),
            )
            .await;
        let wall = started.elapsed();
        let out = serde_json::to_value(out.expect("the benchmark run succeeds")).unwrap();
        assert_eq!(out["report"]["invocations"], json!(VALUES * NUM));
        let invocations = (VALUES * NUM) as f64;
        let lower = invocations / CONCURRENCY as f64 * LATENCY.as_secs_f64()
            + VALUES as f64 * f64::from(CALLS_PER_SETUP) * CONTROL_LATENCY.as_secs_f64();
        ratios.push(wall.as_secs_f64() / lower);
        walls.push(wall.as_secs_f64());
    }
    let best = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let median = {
        let mut r = ratios.clone();
        r.sort_by(f64::total_cmp);
        r[r.len() / 2]
    };
    let lower = (VALUES * NUM) as f64 / CONCURRENCY as f64 * LATENCY.as_secs_f64()
        + VALUES as f64 * f64::from(CALLS_PER_SETUP) * CONTROL_LATENCY.as_secs_f64();
    figure(
        "wall_time_ratio_to_lower_bound",
        median,
        "ratio",
        &format!(
            "median of 3 runs ({:?} s wall; best ratio {best:.3}) of 6 power values x 50 invocations, parallel, concurrency 50, against the in-process Lambda stand-in with 200 ms per invocation and 20 ms per control call; lower bound {lower:.2} s = 300/50 x 0.2 s + 6 setups x 7 calls x 20 ms; the wall includes the dry estimate invocation, cleanup and restore",
            walls.iter().map(|w| (w * 1000.0).round() / 1000.0).collect::<Vec<_>>()
        ),
    );
    let strict = (VALUES * NUM) as f64 / CONCURRENCY as f64 * LATENCY.as_secs_f64();
    figure(
        "wall_time_ratio_to_invocation_bound",
        walls[walls.len() / 2] / strict,
        "ratio",
        &format!("the median run's wall over {strict:.2} s = 300/50 x 0.2 s, the invocations alone (no configuration, estimate, cleanup or restore)"),
    );
    figure(
        "wall_time_seconds",
        walls[walls.len() / 2],
        "s",
        "the median run's wall time, in-process, handler entry to response",
    );

    // Cost: our one invocation at 256 MB arm64 for the run's wall time, plus the request,
    // against Power Tuning's Step Functions transitions for the same 6 values.
    let prices = PriceModel::default();
    let wall_ms = walls[walls.len() / 2] * 1000.0;
    let ours = prices.invocation_cost(
        power_tuner::architecture::Architecture::Arm64,
        TUNER_MEMORY_MB,
        wall_ms.ceil(),
    );
    let theirs = step_functions_cost(VALUES, false, NUM as u32);
    figure(
        "our_cost_per_run_usd",
        ours,
        "USD",
        "power-tuner's own Lambda charge: ceil(wall ms) x 256 MB arm64 at 0.0000133334 USD/GB-s + 0.2 USD per million requests (the tuned function's invocations cost the same with either tool and are excluded)",
    );
    figure(
        "power_tuning_step_functions_cost_usd",
        theirs,
        "USD",
        "(6 + 3 x 6) state transitions x 0.000025 USD (docs/reference.md), excluding its own Lambda functions' charges",
    );
    figure(
        "cost_ratio_ours_to_power_tuning",
        ours / theirs,
        "ratio",
        "our_cost_per_run_usd / power_tuning_step_functions_cost_usd",
    );
}
