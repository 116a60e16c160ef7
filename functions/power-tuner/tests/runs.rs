//! Runs of any length and crash safety, against the Lambda API stand-in (tests/common)
//! and the in-memory S3 with conditional writes: continuation across invocations, the
//! per-function lock, cleanup after a kill, the waits, and Power Tuning compatibility.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{LambdaSim, MemStore, Model};
use groundcrew::Invocation;
use power_tuner::handler::Tuner;
use power_tuner::lambda::SdkLambda;
use power_tuner::Config;
use serde_json::{json, Value};

const FN: &str = "groundcrew-dev-target";
const STATE: &str = "tuning-state";
const ME: &str = "groundcrew-dev-power-tuner";

fn settings() -> Config {
    Config {
        function_prefix: Some("groundcrew-dev-".into()),
        cleanup_reserve: Duration::from_secs(1),
        setup_estimate: Duration::from_millis(100),
        default_report_s3: Some(format!("s3://{STATE}/reports")),
        self_function: Some(ME.into()),
        ..Config::default()
    }
}

/// One value per invocation: the estimate of a value (60 s of setup) never fits the
/// 20 s budget, and the first value of an invocation is always measured.
fn one_value_per_invocation() -> Config {
    Config {
        setup_estimate: Duration::from_secs(60),
        ..settings()
    }
}

fn input() -> Value {
    json!({
        "lambdaARN": LambdaSim::arn(FN),
        "num": 5,
        "powerValues": [128, 256, 512, 1024],
        "strategy": "cost",
        "parallelInvocation": true,
        "payload": {"hello": "world"},
    })
}

struct World {
    _server: wiremock::MockServer,
    sim: LambdaSim,
    store: MemStore,
    tuner: Tuner<SdkLambda, MemStore>,
}

async fn world(model: Model, settings: Config) -> World {
    let (server, sim, sdk) = common::start(model).await;
    sim.add_function(FN, 1024, "arm64");
    sim.add_function(ME, 256, "arm64");
    let store = MemStore::default();
    let tuner = Tuner {
        lambda: SdkLambda::new(&sdk),
        store: store.clone(),
        config: settings,
    };
    World {
        _server: server,
        sim,
        store,
        tuner,
    }
}

impl World {
    fn clean(&self) {
        let st = self.sim.state.lock().unwrap();
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

    fn lock(&self) -> Option<Value> {
        let key = format!("tuner-state/locks/us-east-1/123456789012/{FN}.json");
        self.store
            .body(STATE, &key)
            .map(|b| serde_json::from_slice(&b).unwrap())
    }

    /// The continuation events the tuner sent itself, taken.
    fn take_continuations(&self) -> Vec<Value> {
        let mut st = self.sim.state.lock().unwrap();
        std::mem::take(&mut st.async_invokes)
            .into_iter()
            .map(|(name, body)| {
                assert_eq!(name, ME, "the tuner continues itself");
                serde_json::from_slice(&body).unwrap()
            })
            .collect()
    }

    async fn invoke(&self, event: &Value, request_id: &str) -> Result<Value, power_tuner::Error> {
        self.tuner
            .handle(
                event,
                &Invocation::with_budget(request_id, Duration::from_secs(20)),
            )
            .await
            .map(common::wire)
    }
}

#[tokio::test]
async fn a_run_longer_than_an_invocation_continues_itself_and_picks_the_same_winner() {
    let w = world(Model::default(), one_value_per_invocation()).await;
    let first = w.invoke(&input(), "req-0").await.unwrap();
    assert_eq!(first["status"], json!("continuing"), "{first:#}");
    assert_eq!(first["valuesMeasured"], json!(1));
    let run_id = first["runId"].as_str().unwrap().to_string();
    assert_eq!(run_id, "req-0");
    // Between invocations the function is as it was, and the run holds the lock.
    w.clean();
    assert_eq!(w.lock().unwrap()["runId"], json!("req-0"));
    assert_eq!(w.lock().unwrap()["holder"], json!(""));

    let mut out = first;
    let mut n = 1;
    while out["status"] == json!("continuing") {
        let next = w.take_continuations();
        assert_eq!(next, vec![json!({"action": "continue", "runId": run_id})]);
        let status = w
            .invoke(&json!({"action": "status", "runId": run_id}), "req-status")
            .await
            .unwrap();
        assert_eq!(status["phase"], json!("measuring"));
        assert_eq!(status["valuesMeasured"], json!(n));
        out = w.invoke(&next[0], &format!("req-{n}")).await.unwrap();
        n += 1;
        w.clean();
        assert!(n <= 4, "one value per invocation: {out:#}");
    }
    assert_eq!(n, 4, "4 values, 4 invocations");
    assert_eq!(out["power"], json!(128), "{out:#}");
    assert_eq!(out["report"]["tunerInvocations"], json!(4));
    assert_eq!(out["report"]["invocations"], json!(20));
    assert!(out["report"]["failed"].as_array().unwrap().is_empty());
    assert!(out["report"]["tunerCost"].as_f64().unwrap() > 0.0);
    assert!(
        w.take_continuations().is_empty(),
        "no continuation after the last"
    );
    assert_eq!(w.lock().unwrap()["released"], json!(true));
    // status after the end carries the result
    let status = w
        .invoke(&json!({"action": "status", "runId": run_id}), "req-status")
        .await
        .unwrap();
    assert_eq!(status["phase"], json!("done"));
    assert_eq!(status["result"]["power"], json!(128));
    // a late duplicate of a continuation changes nothing
    let late = w
        .invoke(&json!({"action": "continue", "runId": run_id}), "req-late")
        .await
        .unwrap();
    assert_eq!(late["phase"], json!("done"));
    w.clean();
}

#[tokio::test]
async fn a_second_run_on_the_same_function_is_refused_naming_the_first() {
    let w = world(Model::default(), one_value_per_invocation()).await;
    let first = w.invoke(&input(), "run-a").await.unwrap();
    assert_eq!(first["status"], json!("continuing"));
    let calls_before = w.sim.state.lock().unwrap().updates;
    let err = w.invoke(&input(), "run-b").await.unwrap_err();
    assert_eq!(err.kind(), "RunInProgress");
    assert!(
        err.to_string()
            .contains("run run-a is tuning this function"),
        "{err}"
    );
    assert_eq!(
        w.sim.state.lock().unwrap().updates,
        calls_before,
        "nothing changed"
    );
    // a duplicate delivery of run-a's continuation while another invocation works on it
    // is skipped: simulated by a lock that names a live holder
    w.clean();
}

#[tokio::test]
async fn autooptimize_applies_only_a_complete_run() {
    // No continuation possible (no own function name) and a deadline that cuts the run:
    // the partial run's winner is not applied.
    let model = Model {
        overhead_ms: 1.0,
        work_ms: 1.0,
        init_ms: 1.0,
        slow_from_mb: Some((512, Duration::from_millis(700))),
        ..Model::default()
    };
    let s = Config {
        self_function: None,
        cleanup_reserve: Duration::from_millis(1500),
        setup_estimate: Duration::ZERO,
        ..settings()
    };
    let w = world(model, s).await;
    let mut req = input();
    req["parallelInvocation"] = json!(false);
    req["autoOptimize"] = json!(true);
    let out = w
        .tuner
        .handle(
            &req,
            &Invocation::with_budget("r", Duration::from_millis(5000)),
        )
        .await
        .map(common::wire)
        .unwrap();
    assert_eq!(
        out["report"]["autoOptimize"]["applied"],
        json!(false),
        "{out:#}"
    );
    assert!(out["report"]["autoOptimize"]["error"]
        .as_str()
        .unwrap()
        .contains("incomplete"));
    w.clean();
}

#[tokio::test]
async fn a_killed_run_is_put_back_by_the_cleanup_action() {
    // Each invocation of a tuned version takes 400 ms; the run is killed mid-value.
    let model = Model {
        slow_from_mb: Some((128, Duration::from_millis(400))),
        ..Model::default()
    };
    let s = Config {
        lock_grace: Duration::ZERO,
        ..settings()
    };
    let w = world(model, s).await;
    let mut req = input();
    req["parallelInvocation"] = json!(false);
    req["onlyColdStarts"] = json!(false);
    let budget = Duration::from_secs(3);
    let killed = tokio::time::timeout(
        Duration::from_millis(1500),
        w.tuner
            .handle(&req, &Invocation::with_budget("victim", budget)),
    )
    .await;
    assert!(killed.is_err(), "the run was killed");
    {
        let st = w.sim.state.lock().unwrap();
        let f = &st.functions[FN];
        assert!(
            !f.aliases.is_empty() || f.latest.memory != 1024,
            "the kill left the function changed"
        );
    }
    // While the killed invocation's lock lives, cleanup is refused, naming it.
    let err = w
        .invoke(&json!({"action": "cleanup", "runId": "victim"}), "ops")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "RunInProgress", "{err}");
    tokio::time::sleep(budget).await;
    let out = w
        .invoke(
            &json!({"action": "cleanup", "lambdaARN": LambdaSim::arn(FN)}),
            "ops",
        )
        .await
        .unwrap();
    assert_eq!(out["cleanup"]["complete"], json!(true), "{out:#}");
    w.clean();
    let status = w
        .invoke(&json!({"action": "status", "runId": "victim"}), "ops")
        .await
        .unwrap();
    assert_eq!(status["phase"], json!("failed"));
    assert_eq!(w.lock().unwrap()["released"], json!(true));
}

#[tokio::test]
async fn the_next_run_cleans_up_after_a_run_that_died() {
    let model = Model {
        slow_from_mb: Some((128, Duration::from_millis(400))),
        ..Model::default()
    };
    let s = Config {
        lock_grace: Duration::ZERO,
        ..settings()
    };
    let w = world(model, s).await;
    let mut req = input();
    req["parallelInvocation"] = json!(false);
    let budget = Duration::from_secs(2);
    let _ = tokio::time::timeout(
        Duration::from_millis(1200),
        w.tuner
            .handle(&req, &Invocation::with_budget("dead", budget)),
    )
    .await;
    tokio::time::sleep(budget).await;
    // A fast run takes the expired lock over, puts the function back first, then tunes.
    let mut fast = input();
    fast["powerValues"] = json!([1024]);
    let out = w.invoke(&fast, "next").await.unwrap();
    assert_eq!(out["power"], json!(1024), "{out:#}");
    w.clean();
    let status = w
        .invoke(&json!({"action": "status", "runId": "dead"}), "ops")
        .await
        .unwrap();
    assert_eq!(status["phase"], json!("failed"));
    assert!(
        status["failure"]
            .as_str()
            .unwrap()
            .contains("run next cleaned up"),
        "{status:#}"
    );
}

#[tokio::test]
async fn snapstart_versions_are_invoked_only_once_active() {
    let model = Model {
        pending_version_reads: 3,
        ..Model::default()
    };
    let w = world(model, settings()).await;
    let mut req = input();
    req["onlyColdStarts"] = json!(true);
    req["powerValues"] = json!([256, 1024]);
    let out = w.invoke(&req, "snap").await.unwrap();
    assert_eq!(out["power"], json!(256), "{out:#}");
    assert_eq!(w.sim.state.lock().unwrap().invoked_pending, 0);
    w.clean();
}

#[tokio::test]
async fn payloads_are_sent_as_power_tuning_sends_them() {
    for (payload, sent) in [
        (json!("just a string"), br#""just a string""#.to_vec()),
        (json!("{\"a\":1}"), br#"{"a":1}"#.to_vec()),
        (json!([1, 2]), b"[1,2]".to_vec()),
        (json!({"k": "v"}), br#"{"k":"v"}"#.to_vec()),
    ] {
        let w = world(Model::default(), settings()).await;
        let mut req = input();
        req["payload"] = payload.clone();
        req["powerValues"] = json!([1024]);
        w.invoke(&req, "p").await.unwrap();
        let st = w.sim.state.lock().unwrap();
        assert!(!st.payloads.is_empty());
        assert!(
            st.payloads.iter().all(|p| *p == sent),
            "{payload}: {:?}",
            String::from_utf8_lossy(&st.payloads[0])
        );
    }
}

#[tokio::test]
async fn disable_payload_logs_keeps_the_payload_out_of_errors() {
    let model = Model {
        failing_memory: Some(512),
        ..Model::default()
    };
    for (disable, shown) in [(false, true), (true, false)] {
        let w = world(model.clone(), settings()).await;
        let mut req = input();
        req["payload"] = json!({"secret-ish": "payload-marker"});
        req["powerValues"] = json!([512, 1024]);
        req["disablePayloadLogs"] = json!(disable);
        let out = w.invoke(&req, "d").await.unwrap();
        let reason = out["report"]["failed"][0]["reason"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(reason.contains("Runtime.OutOfMemory"), "{reason}");
        assert_eq!(reason.contains("payload-marker"), shown, "{reason}");
        w.clean();
    }
}

#[tokio::test]
async fn qualified_arns_are_tuned_only_with_latest_s_code() {
    let w = world(Model::default(), settings()).await;
    let mut req = input();
    req["powerValues"] = json!([1024]);
    req["lambdaARN"] = json!(format!("{}:1", LambdaSim::arn(FN)));
    let out = w.invoke(&req, "q1").await.unwrap();
    let warnings = out["report"]["warnings"].as_array().unwrap();
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .contains("same code as $LATEST"),
        "{warnings:?}"
    );
    w.clean();
    // $LATEST gets other code: version 1 can no longer be tuned
    w.sim
        .state
        .lock()
        .unwrap()
        .functions
        .get_mut(FN)
        .unwrap()
        .latest
        .code_sha = "sha-new".into();
    let updates = w.sim.state.lock().unwrap().updates;
    let err = w.invoke(&req, "q2").await.unwrap_err().to_string();
    assert!(
        err.contains("other code than $LATEST") && err.contains("sha-new"),
        "{err}"
    );
    assert_eq!(w.sim.state.lock().unwrap().updates, updates);
}

#[tokio::test]
async fn a_native_binary_is_not_switched_without_a_build_for_the_other_architecture() {
    let w = world(Model::default(), settings()).await;
    let mut req = input();
    req["architectures"] = json!(["arm64", "x86_64"]);
    let err = w.invoke(&req, "arch").await.unwrap_err().to_string();
    assert!(
        err.contains("codeLocations") && err.contains("provided.al2023") && err.contains("x86_64"),
        "{err}"
    );
    assert_eq!(w.sim.state.lock().unwrap().updates, 0);
    // the refusal gave the lock back
    assert_eq!(w.lock().unwrap()["released"], json!(true));
    // an interpreted runtime runs the same package on both
    w.sim
        .state
        .lock()
        .unwrap()
        .functions
        .get_mut(FN)
        .unwrap()
        .runtime = "python3.12".into();
    req["powerValues"] = json!([1024]);
    let out = w.invoke(&req, "arch2").await.unwrap();
    assert_eq!(
        out["report"]["architectures"].as_array().unwrap().len(),
        2,
        "{out:#}"
    );
    w.clean();
}

#[tokio::test]
async fn json_logs_at_system_level_warn_are_raised_for_the_run_and_put_back() {
    let model = Model {
        json_logs: true,
        ..Model::default()
    };
    let w = world(model, settings()).await;
    w.sim
        .state
        .lock()
        .unwrap()
        .functions
        .get_mut(FN)
        .unwrap()
        .latest
        .system_log_level = "WARN".into();
    let mut req = input();
    req["powerValues"] = json!([256, 1024]);
    let out = w.invoke(&req, "logs").await.unwrap();
    assert!(
        out["report"]["failed"].as_array().unwrap().is_empty(),
        "every value had its REPORT record: {out:#}"
    );
    assert_eq!(out["power"], json!(256));
    w.clean();
    assert_eq!(
        w.sim.state.lock().unwrap().functions[FN]
            .latest
            .system_log_level,
        "WARN",
        "the log settings are put back"
    );
}
