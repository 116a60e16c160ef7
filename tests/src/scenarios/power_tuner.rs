//! power-tuner's tuning runs of 30 to 120 simulated minutes against the Lambda model:
//! slow targets, `onlyColdStarts`, 8 power values, one or both architectures, throttling,
//! slow configuration updates, SnapStart `Pending`, a failing power value, JSON logs at
//! system level WARN, functions in another Region than the tuner's (reached through a
//! client for that Region, built once), and the tuner's own invocations killed at random points (a killed
//! continuation is retried by Lambda a minute later; a killed first invocation leaves its
//! run to the next run, which takes the expired lock over and cleans up after it).
//!
//! Invariants: every run ends with a result or a clear failure; after every run, finished
//! or killed and then cleaned up, the function has its original configuration (memory,
//! architecture, environment, log level and the very code package, by `CodeSha256`),
//! alias and log settings and no version or alias of the tuner's remains; a function in
//! another Region is reached only through that Region's client; two runs never tune the
//! function at once (checked by the model at every publish); a second run is refused
//! while one holds the function; no version is invoked before it is Active; the pick is
//! the model's cost optimum or within its noise.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use groundcrew::Invocation;
use power_tuner::answer::{Answer, Handed};
use power_tuner::architecture::Architecture;
use power_tuner::handler::Tuner;
use power_tuner::output::Response;
use power_tuner::price::PriceModel;
use power_tuner::regions::Regional;
use power_tuner::store::MemStore;
use power_tuner::Config as TunerConfig;
use serde_json::{json, Value};

use crate::kernel::{self, FaultRates, Sim, Summary};
use crate::models::lambda_control::{Config, Curve, LambdaModel, Shared, DEPLOYED_SHA};

const TARGET: &str = "groundcrew-dev-target";
const POWER: [u32; 8] = [128, 256, 512, 1024, 1536, 2048, 3008, 4096];
/// Lambda's maximum timeout: each of the tuner's invocations gets this budget.
const BUDGET: Duration = Duration::from_secs(900);
/// Lambda retries a failed asynchronous invocation after about a minute, then two
/// (Lambda Developer Guide, "Asynchronous invocation"); at most two retries.
const ASYNC_RETRY: Duration = Duration::from_secs(60);

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Figures {
    pub runs: u64,
    pub results: u64,
    pub failures: u64,
    pub kills: u64,
    pub tuner_invocations: u64,
    pub exact_picks: u64,
    pub within_noise_picks: u64,
    pub refused_second_runs: u64,
    /// Seeds whose function is in another Region than the tuner.
    pub other_region: u64,
    /// Why runs failed (their error kinds), with counts.
    pub failure_kinds: BTreeMap<String, u64>,
}

/// The tuner's own Region; the other Region some seeds put the function in.
const HOME: &str = "us-east-1";
const ELSEWHERE: &str = "eu-west-1";

fn settings() -> TunerConfig {
    TunerConfig {
        function_prefix: Some("groundcrew-dev-".into()),
        default_report_s3: Some("s3://groundcrew-dev-tuning/reports".into()),
        self_function: Some("groundcrew-dev-power-tuner".into()),
        cleanup_reserve: Duration::from_secs(30),
        setup_estimate: Duration::from_secs(5),
        region: Some(HOME.into()),
        tuning_regions: vec![ELSEWHERE.into()],
        ..TunerConfig::default()
    }
}

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// The cost of one invocation as the tuner's `cost` strategy ranks it (Power Tuning's
/// average price), from the model's curve without noise.
fn exact_cost(curve: &Curve, memory: u32, arch: Architecture, cold: bool) -> f64 {
    let init = if cold { curve.init_ms } else { 0.0 };
    PriceModel::default().power_tuning_price(arch, memory, curve.duration_ms(memory, arch) + init)
}

struct Run {
    model: Arc<LambdaModel>,
    tuner: Tuner<Regional<Shared>, MemStore>,
    original: Config,
}

/// The tuner's Lambda client: the home Region's model for plain names and home ARNs, the
/// target's model (built on first use) for its Region when that is another.
fn regional(home: &Arc<LambdaModel>, target: &Arc<LambdaModel>) -> Regional<Shared> {
    let target = Arc::clone(target);
    Regional::new(
        Some(HOME.into()),
        Shared(Arc::clone(home)),
        move |_region| Shared(Arc::clone(&target)),
    )
}

impl Run {
    async fn invoke(
        &self,
        sim: &Sim,
        event: &Value,
        request_id: &str,
        kill_after: Option<Duration>,
    ) -> Option<Result<Answer, power_tuner::Error>> {
        let invocation =
            Invocation::new(request_id, groundcrew::Deadline::after(BUDGET), sim.clock());
        let run = self.tuner.handle(event, &invocation);
        match kill_after {
            None => Some(run.await),
            Some(after) => tokio::time::timeout(after, run).await.ok(),
        }
    }

    fn check_clean(&self, sim: &Sim, when: &str) {
        let latest = self.model.latest();
        sim.check(
            "the original configuration is back",
            latest == self.original,
            || format!("{when}: {latest:?} instead of {:?}", self.original),
        );
        let (versions, aliases) = self.model.leftovers();
        sim.check(
            "no version or alias of the tuner's remains",
            versions.is_empty() && aliases.is_empty(),
            || format!("{when}: versions {versions:?}, aliases {aliases:?}"),
        );
        let built = self.tuner.lambda.built();
        let expected: Vec<String> = if self.model.region == HOME {
            Vec::new()
        } else {
            vec![self.model.region.clone()]
        };
        sim.check(
            "another Region's function is reached through that Region's client only",
            built.is_empty() || built == expected,
            || {
                format!(
                    "{when}: clients built for {built:?}, function in {}",
                    self.model.region
                )
            },
        );
    }
}

/// One seed: one function, one tuning run (and the runs after kills), to the end.
async fn one(sim: Arc<Sim>, figures: &mut Figures) {
    let (curve, snapstart, warn_logs, failing, cold_only, both, num, parallel) = {
        let mut rng = sim.rng();
        let knee = *rng.pick(&[512u32, 1024, 2048]).unwrap_or(&1024);
        let curve = Curve {
            overhead_ms: rng.between(50, 400) as f64,
            work_ms: rng.between(500, 2500) as f64,
            knee_mb: knee,
            x86_factor: 1.1 + rng.unit() * 0.3,
            init_ms: rng.between(100, 1500) as f64,
            noise: 0.03,
        };
        (
            curve,
            rng.chance(0.4),
            rng.chance(0.5),
            rng.chance(0.3).then_some(1536),
            rng.chance(0.3),
            rng.chance(0.4),
            rng.between(20, 60) as u32,
            rng.chance(0.5),
        )
    };
    // A separate draw, after the others, so that the seeds' other choices stay as
    // they were.
    let elsewhere = sim.rng().chance(0.3);
    // A function in another Region is tuned for memory only: its .zip package cannot be
    // kept where Lambda would deploy it back from (`power_tuner::package`).
    let both = both && !elsewhere;
    let original = Config {
        memory: 1024,
        arch: Architecture::Arm64,
        env: BTreeMap::from([("MODE".to_string(), "live".to_string())]),
        system_log_level: if warn_logs {
            "WARN".into()
        } else {
            "INFO".into()
        },
        code_sha: DEPLOYED_SHA.into(),
    };
    let mut model = LambdaModel::new(Arc::clone(&sim), TARGET, curve, original.clone());
    model.snapstart = snapstart;
    model.failing_memory = failing;
    if elsewhere {
        model.region = ELSEWHERE.into();
    }
    let model = Arc::new(model);
    let home = if elsewhere {
        let mut me = LambdaModel::new(
            Arc::clone(&sim),
            "groundcrew-dev-power-tuner",
            curve,
            original.clone(),
        );
        me.region = HOME.into();
        Arc::new(me)
    } else {
        Arc::clone(&model)
    };
    let run = Run {
        model: Arc::clone(&model),
        tuner: Tuner {
            lambda: regional(&home, &model),
            store: MemStore::default(),
            config: settings(),
        },
        original,
    };
    let mut input = json!({
        "lambdaARN": model.arn(),
        "num": if cold_only { num / 4 + 5 } else { num },
        "powerValues": POWER,
        "strategy": "cost",
        "parallelInvocation": parallel,
        "onlyColdStarts": cold_only,
        "concurrency": 10,
    });
    if both {
        input["architectures"] = json!(["arm64", "x86_64"]);
    }
    sim.trace(format!("tuning {curve:?} snapstart {snapstart} warn {warn_logs} failing {failing:?} cold {cold_only} both {both} num {num} parallel {parallel} region {}", model.region));
    figures.other_region += u64::from(elsewhere);

    // The events to deliver: (event, request id, retries left).
    let mut queue: Vec<(Value, String, u32)> = vec![(input.clone(), "run-1".into(), 0)];
    let mut next_id = 2;
    let mut outcome: Option<Result<Box<Response>, String>> = None;
    let mut tried_second = false;
    while let Some((event, id, retries)) = queue.pop() {
        sim.step();
        // Two statements: the random source is one lock.
        let killed = sim.rng().chance(0.12);
        let kill = if killed {
            Some(Duration::from_secs(
                sim.rng().between(1, BUDGET.as_secs() - 1),
            ))
        } else {
            None
        };
        figures.tuner_invocations += 1;
        let answer = run.invoke(&sim, &event, &id, kill).await;
        for body in home.take_continuations() {
            let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            queue.push((event, format!("async-{next_id}"), 2));
            next_id += 1;
        }
        match answer {
            None => {
                figures.kills += 1;
                sim.trace(format!("killed {id}"));
                if event.get("action").is_some() && retries > 0 {
                    // Lambda retries the asynchronous invocation, same request id.
                    tokio::time::sleep(ASYNC_RETRY).await;
                    queue.push((event, id, retries - 1));
                } else {
                    // The run is dead: after its lock expires, the next run takes over.
                    tokio::time::sleep(BUDGET + settings().lock_grace).await;
                    queue.push((input.clone(), format!("run-{next_id}"), 0));
                    next_id += 1;
                    figures.runs += 1;
                }
            }
            Some(Ok(Answer::Status(s))) if s.status == Some(Handed::Continuing) => {
                if !tried_second {
                    tried_second = true;
                    let second = run.invoke(&sim, &input, "intruder", None).await;
                    let refused = matches!(&second, Some(Err(e)) if e.kind() == "RunInProgress");
                    sim.check(
                        "a second run is refused while one holds the function",
                        refused,
                        || format!("{second:?}"),
                    );
                    figures.refused_second_runs += u64::from(refused);
                }
            }
            // A continuation that found nothing to do (a duplicate, a run taken over).
            Some(Ok(Answer::Status(_))) => {}
            Some(Ok(Answer::Done(r))) => outcome = Some(Ok(r)),
            // Only `cleanup` answers these, and the queue holds runs and continuations.
            Some(Ok(other)) => outcome = Some(Err(format!("not a run's answer: {other:?}"))),
            Some(Err(e)) => outcome = Some(Err(e.to_string())),
        }
    }
    figures.runs += 1;
    // A run killed with nothing after it: the operator's cleanup after its lock expired.
    tokio::time::sleep(BUDGET + settings().lock_grace).await;
    let _ = run
        .invoke(
            &sim,
            &json!({"action": "cleanup", "lambdaARN": model.arn()}),
            "ops",
            None,
        )
        .await;
    run.check_clean(&sim, "after the run");
    sim.check(
        "no version is invoked before it is Active",
        model.invoked_pending() == 0,
        || {
            format!(
                "{} invocations of Pending versions",
                model.invoked_pending()
            )
        },
    );
    let Some(outcome) = outcome else {
        sim.check(
            "every run ends with a result or a clear failure",
            false,
            || "no answer".into(),
        );
        return;
    };
    match outcome {
        Err(e) => {
            figures.failures += 1;
            let kind: String = e.chars().take(200).collect();
            *figures.failure_kinds.entry(kind).or_insert(0) += 1;
            sim.check("a failure says why", !e.is_empty(), || e.clone());
        }
        Ok(r) => {
            figures.results += 1;
            let pick = (
                r.power.unwrap_or(0),
                r.architecture.unwrap_or(Architecture::Arm64),
            );
            let archs: &[Architecture] = if both {
                &[Architecture::Arm64, Architecture::X86_64]
            } else {
                &[Architecture::Arm64]
            };
            let candidates: Vec<(u32, Architecture)> = archs
                .iter()
                .flat_map(|a| {
                    POWER
                        .iter()
                        .filter(|m| Some(**m) != failing)
                        .map(move |m| (*m, *a))
                })
                .collect();
            let cost = |(m, a): (u32, Architecture)| exact_cost(&curve, m, a, cold_only);
            let best = candidates
                .iter()
                .copied()
                .min_by(|x, y| cost(*x).total_cmp(&cost(*y)))
                .unwrap_or(pick);
            if pick == best {
                figures.exact_picks += 1;
            } else {
                figures.within_noise_picks += 1;
            }
            // Within the noise: per-invocation noise of 3% (plus ceil's 1 ms) bounds how
            // far the measured means can be from the curve.
            sim.check(
                "the pick is the optimum or within the noise of it",
                cost(pick) <= cost(best) * 1.07 + 1e-12,
                || {
                    format!(
                        "picked {pick:?} at {:.3e}, optimum {best:?} at {:.3e}",
                        cost(pick),
                        cost(best)
                    )
                },
            );
        }
    }
}

pub fn run(seeds: u64, rates: FaultRates) -> (Summary, Figures) {
    let figures = std::sync::Mutex::new(Figures::default());
    let summary = kernel::run("power-tuner-runs", seeds, start(), rates, |sim| {
        let figures = &figures;
        async move {
            let mut f = Figures::default();
            one(sim, &mut f).await;
            let mut all = kernel::lock(figures);
            all.runs += f.runs;
            all.results += f.results;
            all.failures += f.failures;
            all.kills += f.kills;
            all.tuner_invocations += f.tuner_invocations;
            all.exact_picks += f.exact_picks;
            all.within_noise_picks += f.within_noise_picks;
            all.refused_second_runs += f.refused_second_runs;
            all.other_region += f.other_region;
            for (k, n) in f.failure_kinds {
                *all.failure_kinds.entry(k).or_insert(0) += n;
            }
        }
    });
    let figures = kernel::lock(&figures).clone();
    (summary, figures)
}

/// The measured figure: 8 values x 100 invocations at 2 s each, one at a time, no faults:
/// simulated time over the lower bound (the invocations alone), the tuner's invocations,
/// and its cost against Power Tuning's Step Functions charge for the same run.
pub fn long_run() -> (Summary, Value) {
    let out = std::sync::Mutex::new(Value::Null);
    let summary = kernel::run(
        "power-tuner-long-run",
        1,
        start(),
        FaultRates::NONE,
        |sim| {
            let out = &out;
            async move {
                let curve = Curve {
                    overhead_ms: 2000.0,
                    work_ms: 0.0,
                    knee_mb: 128,
                    x86_factor: 1.0,
                    init_ms: 0.0,
                    noise: 0.0,
                };
                let original = Config {
                    memory: 1024,
                    arch: Architecture::Arm64,
                    env: BTreeMap::new(),
                    system_log_level: "INFO".into(),
                    code_sha: DEPLOYED_SHA.into(),
                };
                let model = Arc::new(LambdaModel::new(
                    Arc::clone(&sim),
                    TARGET,
                    curve,
                    original.clone(),
                ));
                let run = Run {
                    model: Arc::clone(&model),
                    tuner: Tuner {
                        lambda: regional(&model, &model),
                        store: MemStore::default(),
                        config: settings(),
                    },
                    original,
                };
                // One invocation in flight: the run takes 1,600 s of invocations, more than one
                // 900 s invocation of the tuner.
                let input = json!({"lambdaARN": model.arn(), "num": 100, "powerValues": POWER, "strategy": "cost", "concurrency": 1});
                let began = sim.now();
                let mut queue = vec![input];
                let mut last: Result<Box<Response>, String> = Err("no answer".into());
                let mut n = 0;
                while let Some(event) = queue.pop() {
                    n += 1;
                    last = match run.invoke(&sim, &event, &format!("long-{n}"), None).await {
                        Some(Ok(Answer::Done(r))) => Ok(r),
                        other => Err(format!("{other:?}")),
                    };
                    for body in model.take_continuations() {
                        queue.push(serde_json::from_slice(&body).unwrap_or(Value::Null));
                    }
                }
                run.check_clean(&sim, "after the long run");
                let elapsed = (sim.now() - began).num_milliseconds() as f64 / 1000.0;
                let bound = 8.0 * 100.0 * 2.0;
                let report = last.as_ref().ok().map(|r| &r.report);
                *kernel::lock(out) = json!({
                    "simulatedSeconds": elapsed,
                    "lowerBoundSeconds": bound,
                    "ratio": elapsed / bound,
                    "tunerInvocations": report.map(|r| r.tuner_invocations),
                    "tunerCost": report.map(|r| r.tuner_cost),
                    "powerTuningExecutionCost": report.map(|r| r.power_tuning_execution_cost),
                    "power": last.as_ref().ok().and_then(|r| r.power),
                });
                sim.check(
                    "the long run ends with a result",
                    matches!(&last, Ok(r) if r.power.is_some()),
                    || format!("{last:#?}"),
                );
            }
        },
    );
    let v = kernel::lock(&out).clone();
    (summary, v)
}
