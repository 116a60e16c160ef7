//! Measurement against a stand-in of the Lambda API whose invocations follow a known model
//! (tests/common): each strategy's winner is computed by hand, and cleanup and restore are
//! checked after every run, including failures mid-run and an approaching deadline.
//!
//! Model (defaults): duration = 20 + 80 * 1024 / min(mem, 1024) ms:
//!   128: 660, 256: 340, 512: 180, 1024: 100, 2048: 100 (1536 always errors).
//! With num 10 and discardTopBottom 0.2 the cold start (the largest sample) is trimmed,
//! so averageDuration is the model's and averagePrice is ceil(ms) * p * mem/128 with
//! p = 1.666675e-9 (arm64): 128: 660p, 256: 680p, 512: 720p, 1024: 800p, 2048: 1600p.
//!   cost            -> 128  (cheapest)
//!   speed           -> 1024 (1024 and 2048 tie at 100 ms; the cheaper wins)
//!   balanced w=0.5  -> 1024 (scores .70625 .47008 .36136 .32576 .57576)
//!   balanced w=0.8  -> 512  (scores .53 .44303 .41455 .43030 .83)

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{LambdaSim, MemStore, Model};
use groundcrew::Invocation;
use power_tuner::handler::Tuner;
use power_tuner::lambda::SdkLambda;
use power_tuner::{Config, Error};
use serde_json::{json, Value};

const FN: &str = "groundcrew-dev-target";
/// The bucket of the runs' state and locks (GC_REPORT_S3's).
const STATE: &str = "tuning-state";

fn settings() -> Config {
    Config {
        function_prefix: Some("groundcrew-dev-".into()),
        cleanup_reserve: Duration::from_secs(2),
        setup_estimate: Duration::from_millis(100),
        default_report_s3: Some(format!("s3://{STATE}/reports")),
        ..Config::default()
    }
}

async fn run(
    model: Model,
    input: Value,
    deadline: Duration,
    settings: Config,
) -> (Result<Value, Error>, LambdaSim, MemStore) {
    let (_server, sim, sdk) = common::start(model).await;
    sim.add_function(FN, 1024, "arm64");
    let store = MemStore::default();
    let tuner = Tuner {
        lambda: SdkLambda::new(&sdk),
        store: store.clone(),
        config: settings,
    };
    let out = tuner
        .handle(&input, &Invocation::with_budget("run-1", deadline))
        .await
        .map(common::wire);
    (out, sim, store)
}

/// Every alias and version the run created is gone, version 1 (there before) is kept,
/// and memory, architecture and environment are as before.
fn assert_clean(sim: &LambdaSim) {
    let st = sim.state.lock().unwrap();
    let f = &st.functions[FN];
    assert!(f.aliases.is_empty(), "aliases left: {:?}", f.aliases);
    assert_eq!(
        f.versions.keys().copied().collect::<Vec<_>>(),
        vec![1],
        "versions left"
    );
    assert_eq!(f.latest.memory, 1024, "memory restored");
    assert_eq!(f.latest.arch, "arm64");
    assert_eq!(
        f.latest.env,
        BTreeMap::from([("MODE".to_string(), "demo".to_string())]),
        "environment restored"
    );
}

fn input(strategy: &str, weight: f64) -> Value {
    json!({
        "lambdaARN": LambdaSim::arn(FN),
        "num": 10,
        "powerValues": [128, 256, 512, 1024, 1536, 2048],
        "strategy": strategy,
        "balancedWeight": weight,
        "parallelInvocation": true,
        "includeOutputResults": true,
        "payload": {"hello": "world"},
    })
}

fn failing_model() -> Model {
    Model {
        failing_memory: Some(1536),
        throttle_every: Some(7),
        ..Model::default()
    }
}

#[tokio::test]
async fn each_strategy_picks_the_hand_computed_winner() {
    for (strategy, weight, expected) in [
        ("cost", 0.5, 128),
        ("speed", 0.5, 1024),
        ("balanced", 0.5, 1024),
        ("balanced", 0.8, 512),
    ] {
        let (out, sim, _) = run(
            failing_model(),
            input(strategy, weight),
            Duration::from_secs(60),
            settings(),
        )
        .await;
        let out = out.unwrap_or_else(|e| panic!("{strategy}: {e}"));
        assert_eq!(
            out["power"],
            json!(expected),
            "{strategy} {weight}: {out:#}"
        );
        assert_eq!(out["architecture"], json!("arm64"));
        assert_eq!(out["stateMachine"]["executionCost"], json!(0));
        assert!(out["stateMachine"]["visualization"]
            .as_str()
            .unwrap()
            .starts_with("https://lambda-power-tuning.show/#"));
        // the failing value is reported and excluded, not fatal
        let failed = out["report"]["failed"].as_array().unwrap();
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert_eq!(failed[0]["value"], json!(1536));
        assert!(failed[0]["reason"]
            .as_str()
            .unwrap()
            .contains("Runtime.OutOfMemory"));
        let stats = out["stats"].as_array().unwrap();
        assert_eq!(stats.len(), 5);
        let s128 = stats.iter().find(|s| s["value"] == json!(128)).unwrap();
        assert_eq!(s128["averageDuration"], json!(660.0));
        let p = 1.666675e-9;
        assert!((s128["averagePrice"].as_f64().unwrap() - 660.0 * p).abs() < 1e-18);
        assert!(
            sim.state.lock().unwrap().throttled > 0,
            "throttles were served and retried"
        );
        assert_clean(&sim);
    }
}

#[tokio::test]
async fn noise_verdicts_by_hand() {
    // speed: 1024 and 2048 have identical samples -> within noise
    let (out, _, _) = run(
        failing_model(),
        input("speed", 0.5),
        Duration::from_secs(60),
        settings(),
    )
    .await;
    let rec = &out.unwrap()["report"]["recommendation"];
    assert_eq!(rec["runnerUp"], json!(2048));
    assert_eq!(rec["withinNoise"], json!(true));
    // cost: 128 (9 x 660p, 1 x 710p) vs 256 (9 x 680p, 1 x 780p): difference 25p > 2 SE 22.4p
    let (out, _, _) = run(
        failing_model(),
        input("cost", 0.5),
        Duration::from_secs(60),
        settings(),
    )
    .await;
    let rec = &out.unwrap()["report"]["recommendation"];
    assert_eq!(rec["runnerUp"], json!(256));
    assert_eq!(rec["withinNoise"], json!(false));
}

#[tokio::test]
async fn json_logs_sequential_runs_and_init_statistics() {
    let model = Model {
        json_logs: true,
        ..Model::default()
    };
    let mut req = input("speed", 0.5);
    req["parallelInvocation"] = json!(false);
    req["powerValues"] = json!([256, 1024]);
    req["num"] = json!(5);
    let (out, sim, _) = run(model, req, Duration::from_secs(60), settings()).await;
    let out = out.unwrap();
    assert_eq!(out["power"], json!(1024));
    let values = out["report"]["values"].as_array().unwrap();
    for v in values {
        assert_eq!(v["coldStarts"], json!(1));
        assert_eq!(v["init"]["mean"], json!(50.0));
        assert_eq!(v["invocations"], json!(5));
    }
    // n = 5, floor(5 * 0.2) = 1 trimmed from each end: the cold start goes
    assert_eq!(values[0]["averageDuration"], json!(340.0));
    assert_clean(&sim);
}

#[tokio::test]
async fn a_publish_failure_mid_run_is_isolated_and_cleaned_up() {
    let model = Model {
        fail_publish_at: Some(512),
        ..Model::default()
    };
    let (out, sim, _) = run(
        model,
        input("cost", 0.5),
        Duration::from_secs(60),
        settings(),
    )
    .await;
    let out = out.unwrap();
    assert_eq!(out["power"], json!(128));
    let failed = out["report"]["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]["reason"]
            .as_str()
            .unwrap()
            .contains("configuring 512 MB failed"),
        "{failed:?}"
    );
    assert_eq!(out["report"]["cleanup"]["complete"], json!(true));
    assert_clean(&sim);
}

#[tokio::test]
async fn an_approaching_deadline_stops_measuring_then_cleans_up_and_restores() {
    // Tiny modelled durations keep the estimate small; real latency 600 ms from 512 MB up.
    let model = Model {
        overhead_ms: 1.0,
        work_ms: 1.0,
        init_ms: 1.0,
        slow_from_mb: Some((512, Duration::from_millis(600))),
        ..Model::default()
    };
    let mut req = input("cost", 0.5);
    req["parallelInvocation"] = json!(false);
    req["powerValues"] = json!([128, 256, 512, 1024]);
    // Generous margins: the fast values must finish even on a loaded CI machine.
    let s = Config {
        cleanup_reserve: Duration::from_millis(1600),
        setup_estimate: Duration::ZERO,
        ..settings()
    };
    let (out, sim, _) = run(model, req, Duration::from_millis(5600), s).await;
    let out = out.unwrap();
    assert_eq!(out["report"]["deadlineReached"], json!(true));
    let failed = out["report"]["failed"].as_array().unwrap();
    let failed_values: Vec<u64> = failed
        .iter()
        .map(|f| f["value"].as_u64().unwrap())
        .collect();
    assert_eq!(failed_values, vec![512, 1024], "{failed:?}");
    assert!(failed[0]["reason"]
        .as_str()
        .unwrap()
        .contains("interrupted by the deadline"));
    assert_eq!(out["report"]["cleanup"]["complete"], json!(true));
    assert_clean(&sim);
}

#[tokio::test]
async fn a_run_that_cannot_finish_is_refused_before_anything_changes() {
    let model = Model {
        latency: Duration::from_millis(200),
        ..Model::default()
    };
    let mut req = input("cost", 0.5);
    req["num"] = json!(50);
    req["parallelInvocation"] = json!(false);
    let (out, sim, _) = run(model, req, Duration::from_secs(10), settings()).await;
    let err = out.unwrap_err().to_string();
    assert!(err.contains("would not finish"), "{err}");
    assert_eq!(sim.state.lock().unwrap().updates, 0, "nothing configured");
    assert_clean(&sim);
}

#[tokio::test]
async fn every_value_failing_fails_the_run_after_cleanup() {
    let mut req = input("cost", 0.5);
    req["powerValues"] = json!([1536]);
    let (out, sim, _) = run(failing_model(), req, Duration::from_secs(60), settings()).await;
    let err = out.unwrap_err().to_string();
    assert!(
        err.starts_with("every power value failed") && err.contains("1536 MB"),
        "{err}"
    );
    assert_clean(&sim);
}

/// The tuner in us-east-1, allowed eu-west-1 too.
fn in_us_east_1() -> Config {
    Config {
        region: Some("us-east-1".into()),
        tuning_regions: vec!["eu-west-1".into()],
        ..settings()
    }
}

#[tokio::test]
async fn functions_in_regions_not_listed_are_refused_before_any_call() {
    let mut req = input("cost", 0.5);
    req["lambdaARN"] = json!(LambdaSim::arn(FN).replace("us-east-1", "ap-south-1"));
    let (out, sim, _) = run(
        Model::default(),
        req,
        Duration::from_secs(60),
        in_us_east_1(),
    )
    .await;
    let err = out.unwrap_err();
    assert_eq!(err.kind(), "NotAllowed");
    let text = err.to_string();
    assert!(
        text.starts_with("lambdaARN: the function is in ap-south-1")
            && text.contains("us-east-1, eu-west-1")
            && text.contains("PowerTunerTuningRegions"),
        "{text}"
    );
    assert!(sim.state.lock().unwrap().calls.is_empty());
}

#[tokio::test]
async fn a_zip_function_in_another_region_keeps_its_architecture() {
    // Its package could be kept only in the report bucket's Region, from where Lambda
    // cannot deploy it back: refused before the first change, the lock given back.
    let mut req = input("cost", 0.5);
    req["lambdaARN"] = json!(LambdaSim::arn(FN).replace("us-east-1", "eu-west-1"));
    req["architectures"] = json!(["arm64", "x86_64"]);
    req["codeLocations"] = json!({"x86_64": "s3://builds/x86_64.zip"});
    let (out, sim, store) = run(
        Model::default(),
        req,
        Duration::from_secs(60),
        in_us_east_1(),
    )
    .await;
    let text = out.unwrap_err().to_string();
    assert!(
        text.starts_with("invalid input: architectures: the function is in eu-west-1")
            && text.contains("tuner deployed in eu-west-1"),
        "{text}"
    );
    assert_clean(&sim);
    assert_eq!(sim.state.lock().unwrap().updates, 0, "nothing was changed");
    assert!(store.body(STATE, "tuner-state/code/run-1.zip").is_none());
}

#[tokio::test]
async fn functions_outside_the_prefix_are_refused() {
    let mut req = input("cost", 0.5);
    req["lambdaARN"] = json!(LambdaSim::arn("someone-elses-fn"));
    let (out, sim, _) = run(Model::default(), req, Duration::from_secs(60), settings()).await;
    assert!(out.unwrap_err().to_string().contains("groundcrew-dev-"));
    assert!(sim.state.lock().unwrap().calls.is_empty());
}

#[tokio::test]
async fn processors_outside_the_prefix_are_refused_before_any_call() {
    for field in ["preProcessorARN", "postProcessorARN"] {
        let mut req = input("cost", 0.5);
        req[field] = json!(LambdaSim::arn("someone-elses-processor"));
        let (out, sim, _) = run(Model::default(), req, Duration::from_secs(60), settings()).await;
        let err = out.unwrap_err().to_string();
        assert!(
            err.starts_with(field) && err.contains("groundcrew-dev-"),
            "{err}"
        );
        assert!(sim.state.lock().unwrap().calls.is_empty(), "{field}");
    }
}

#[tokio::test]
async fn auto_optimize_points_the_alias_at_the_winner() {
    let mut req = input("cost", 0.5);
    req["autoOptimize"] = json!(true);
    req["autoOptimizeAlias"] = json!("live");
    let (out, sim, _) = run(failing_model(), req, Duration::from_secs(60), settings()).await;
    let out = out.unwrap();
    assert_eq!(
        out["report"]["autoOptimize"]["applied"],
        json!(true),
        "{out:#}"
    );
    let st = sim.state.lock().unwrap();
    let f = &st.functions[FN];
    assert_eq!(f.latest.memory, 128, "$LATEST at the winner");
    let live = f.aliases["live"];
    assert_eq!(f.versions[&live].memory, 128);
    assert_eq!(f.aliases.len(), 1, "only the live alias is left");
}

#[tokio::test]
async fn report_is_written_as_json_and_svg() {
    let mut req = input("balanced", 0.5);
    req["reportS3"] = json!("s3://tuning-reports/runs");
    let (out, sim, store) = run(failing_model(), req, Duration::from_secs(60), settings()).await;
    let out = out.unwrap();
    let keys = &out["reportS3"];
    assert_eq!(keys["bucket"], json!("tuning-reports"));
    let json_key = keys["json"].as_str().unwrap();
    let svg_key = keys["svg"].as_str().unwrap();
    assert!(
        json_key.starts_with(&format!("runs/{FN}/")) && json_key.ends_with("run-1.json"),
        "{json_key}"
    );
    let report: Value =
        serde_json::from_slice(&store.body("tuning-reports", json_key).unwrap()).unwrap();
    assert_eq!(report["recommendation"]["power"], json!(1024));
    let svg = String::from_utf8(store.body("tuning-reports", svg_key).unwrap()).unwrap();
    assert!(svg.contains("best: 1024 MB") && svg.contains("failed: 1536 MB"));
    assert_clean(&sim);
}

#[tokio::test]
async fn both_architectures_are_compared_and_the_original_is_restored() {
    // x86_64 is 25 % slower and 25 % dearer per ms: 128 MB x86_64 = 825 ms, billed
    // 825 x 2.0833375e-9; arm64 128 MB (660p) stays the cheapest of all.
    // The stand-in's functions run provided.al2023 (a native binary): each architecture
    // needs its own build.
    let mut req = input("cost", 0.5);
    req["architectures"] = json!(["x86_64", "arm64"]);
    req["powerValues"] = json!([128, 256, 1024]);
    req["codeLocations"] =
        json!({"x86_64": "s3://builds/x86_64.zip", "arm64": "s3://builds/arm64.zip"});
    let (out, sim, store) = run(Model::default(), req, Duration::from_secs(60), settings()).await;
    let out = out.unwrap();
    assert_eq!(out["power"], json!(128));
    assert_eq!(out["architecture"], json!("arm64"));
    let archs = out["report"]["architectures"].as_array().unwrap();
    assert_eq!(archs.len(), 2, "{:#}", out["report"]["failed"]);
    let x86 = archs
        .iter()
        .find(|a| a["architecture"] == json!("x86_64"))
        .unwrap();
    assert_eq!(x86["power"], json!(128));
    assert_eq!(x86["averageDuration"], json!(825.0));
    assert!((x86["averagePrice"].as_f64().unwrap() - 825.0 * 2.0833375e-9).abs() < 1e-18);
    assert_eq!(out["stats"].as_array().unwrap().len(), 6);
    assert_clean(&sim);
    assert_eq!(
        sim.state.lock().unwrap().functions[FN].latest.code_sha,
        "sha-arm64",
        "the original package went back (the run's copy of it), not a build named in codeLocations"
    );
    let kept = store.body(STATE, "tuner-state/code/run-1.zip");
    assert!(
        kept.is_some(),
        "the original package is kept in the report bucket"
    );
}
