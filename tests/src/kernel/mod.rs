//! The simulation kernel: one [`Sim`] per seed, and [`run`], which runs a scenario's seeds.
//!
//! Determinism rules, which every model and scenario follows:
//! - time is tokio's paused time; calendar time is a [`TokioClock`] over it, so sleeps,
//!   timeouts, deadlines and `Invocation::now` all move together, and only when every task
//!   is waiting (tokio then jumps to the next timer);
//! - each seed runs on its own current-thread runtime, so tasks are polled in one order;
//! - every random choice comes from the seed: a stream ([`SimRng`]) for the scenario's own
//!   draws, and keyed draws for faults ([`FaultPlan`]);
//! - no `HashMap` iteration decides an order that reaches a model (models use `BTreeMap`);
//! - the jitter of every retry backoff replays: the AWS SDK's standard retry draws it from
//!   `fastrand`'s thread-local generator, and groundcrew's `retry` (backon with its `std`
//!   feature) forks each backoff's generator from it; [`run_one`] seeds it from the run's
//!   seed on the runtime's one thread (unseeded, it starts from the time and the thread's
//!   id, as in production, and a replay would sleep for other durations).

pub mod faults;
pub mod rng;
pub mod timeline;
pub mod trace;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use groundcrew::invocation::TokioClock;
use groundcrew::{Clock, Deadline, Invocation};

pub use faults::{lock, Fault, FaultPlan, FaultRates};
pub use rng::SimRng;
pub use timeline::{Schedule, Timeline, WEEKDAYS};
pub use trace::Trace;

/// One run of one scenario with one seed.
pub struct Sim {
    pub scenario: String,
    pub seed: u64,
    start: DateTime<Utc>,
    clock: Arc<TokioClock>,
    rng: Mutex<SimRng>,
    faults: FaultPlan,
    trace: Mutex<Trace>,
    steps: AtomicU64,
    checks: AtomicU64,
    invocations: AtomicU64,
}

impl Sim {
    /// Must be called inside the run's tokio runtime (the clock starts from its time).
    pub fn new(scenario: &str, seed: u64, start: DateTime<Utc>, rates: FaultRates) -> Self {
        Self::with_trace(scenario, seed, start, rates, Trace::new(false))
    }

    fn with_trace(
        scenario: &str,
        seed: u64,
        start: DateTime<Utc>,
        rates: FaultRates,
        trace: Trace,
    ) -> Self {
        Self {
            scenario: scenario.to_string(),
            seed,
            start,
            clock: Arc::new(TokioClock::starting_at(start)),
            rng: Mutex::new(SimRng::new(seed)),
            faults: FaultPlan::new(seed, rates),
            trace: Mutex::new(trace),
            steps: AtomicU64::new(0),
            checks: AtomicU64::new(0),
            invocations: AtomicU64::new(0),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// Waits (virtually) until `at`; returns at once if it is not in the future.
    pub async fn sleep_until(&self, at: DateTime<Utc>) {
        if let Ok(wait) = (at - self.now()).to_std() {
            tokio::time::sleep(wait).await;
        }
    }

    /// An invocation with `budget` left before its deadline, on the virtual clock. The
    /// deadline has the same margin as in Lambda ([`groundcrew::deadline::DEFAULT_MARGIN`]).
    pub fn invocation(&self, budget: Duration) -> Invocation {
        let n = self.invocations.fetch_add(1, Ordering::SeqCst);
        Invocation::new(
            format!("sim-{}-{n}", self.seed),
            Deadline::after(budget.saturating_sub(groundcrew::deadline::DEFAULT_MARGIN)),
            self.clock(),
        )
    }

    /// The scenario's own random stream.
    pub fn rng(&self) -> std::sync::MutexGuard<'_, SimRng> {
        lock(&self.rng)
    }

    pub fn faults(&self) -> &FaultPlan {
        &self.faults
    }

    /// A fault for this call (keyed by resource, operation and count), traced when drawn.
    pub fn fault(&self, resource: &str, operation: &str) -> Fault {
        let f = self.faults.draw(resource, operation);
        if f.is_fault() {
            self.trace(format!("fault {f:?} on {operation} {resource}"));
        }
        f
    }

    /// Records what happened, for the violation report.
    pub fn trace(&self, what: impl Into<String>) {
        // Milliseconds: a retry's jitter moves an attempt by less than a second.
        let line = format!(
            "{} {}",
            self.now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            what.into()
        );
        lock(&self.trace).push(line);
    }

    /// A digest of every trace line so far, in order, and their number: two runs of one
    /// seed agree on it.
    pub fn trace_digest(&self) -> (u64, u64) {
        let t = lock(&self.trace);
        (t.lines(), t.digest())
    }

    /// Counts one step of the scenario (a happening handled).
    pub fn step(&self) -> u64 {
        self.steps.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Checks an invariant. A violation panics with everything needed to replay it.
    pub fn check(&self, invariant: &str, holds: bool, detail: impl FnOnce() -> String) {
        self.checks.fetch_add(1, Ordering::SeqCst);
        if !holds {
            panic!("{}", self.violation(invariant, &detail()));
        }
    }

    fn violation(&self, invariant: &str, detail: &str) -> String {
        let trace = lock(&self.trace).last();
        format!(
            "INVARIANT VIOLATED: {invariant}\n  {detail}\n  scenario {} seed {} step {} at {} ({} simulated)\n  last events:\n    {}\n  replay: scripts/sim.sh --scenario {} --seed {}",
            self.scenario,
            self.seed,
            self.steps.load(Ordering::SeqCst),
            self.now().format("%Y-%m-%dT%H:%M:%SZ"),
            human(self.now() - self.start),
            trace.join("\n    "),
            self.scenario,
            self.seed,
        )
    }

    fn totals(&self) -> Summary {
        Summary {
            seeds: 1,
            simulated: (self.now() - self.start).to_std().unwrap_or_default(),
            steps: self.steps.load(Ordering::SeqCst),
            faults: self.faults.injected(),
            checks: self.checks.load(Ordering::SeqCst),
            violations: 0,
            wall: Duration::ZERO,
        }
    }
}

/// What a scenario's seeds covered.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Summary {
    pub seeds: u64,
    pub simulated: Duration,
    pub steps: u64,
    pub faults: u64,
    pub checks: u64,
    pub violations: u64,
    pub wall: Duration,
}

impl Summary {
    fn add(&mut self, o: &Summary) {
        self.seeds += o.seeds;
        self.simulated += o.simulated;
        self.steps += o.steps;
        self.faults += o.faults;
        self.checks += o.checks;
        self.violations += o.violations;
    }

    pub fn line(&self, scenario: &str) -> String {
        let ratio = self.simulated.as_secs_f64() / self.wall.as_secs_f64().max(1e-9);
        format!(
            "sim {scenario}: {} seeds, {} simulated, {} steps, {} faults injected, {} invariant checks, {} violations, {:.1} s wall ({:.0} simulated s per wall s)",
            self.seeds,
            human(chrono::Duration::from_std(self.simulated).unwrap_or_default()),
            self.steps,
            self.faults,
            self.checks,
            self.violations,
            self.wall.as_secs_f64(),
            ratio
        )
    }
}

fn human(d: chrono::Duration) -> String {
    let mins = d.num_minutes();
    if mins >= 48 * 60 {
        format!("{:.1} days", mins as f64 / 1440.0)
    } else if mins >= 120 {
        format!("{:.1} h", mins as f64 / 60.0)
    } else {
        format!("{} min", mins)
    }
}

/// The seeds to run: `SIM_SEED` (one seed, replay), else `SIM_SEEDS` (a count), else the
/// scenario's default count; starting at `SIM_FIRST_SEED` (default 1).
pub fn seeds(default_count: u64) -> Vec<u64> {
    if let Some(seed) = env_u64("SIM_SEED") {
        return vec![seed];
    }
    let count = env_u64("SIM_SEEDS").unwrap_or(default_count);
    let first = env_u64("SIM_FIRST_SEED").unwrap_or(1);
    (first..first + count).collect()
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// Whether `SIM_SCENARIO` selects this scenario (unset selects all).
pub fn selected(scenario: &str) -> bool {
    std::env::var("SIM_SCENARIO").map_or(true, |s| s.is_empty() || s == scenario)
}

/// Runs `body` once per seed, each on its own current-thread runtime with paused time,
/// and prints the scenario's summary. A violation fails the test with its replay line.
pub fn run<F, Fut>(
    scenario: &str,
    default_seeds: u64,
    start: DateTime<Utc>,
    rates: FaultRates,
    body: F,
) -> Summary
where
    F: Fn(Arc<Sim>) -> Fut,
    Fut: Future<Output = ()>,
{
    if !selected(scenario) {
        println!("sim {scenario}: not selected (SIM_SCENARIO)");
        return Summary::default();
    }
    run_seeds(scenario, &seeds(default_seeds), start, rates, body)
}

/// Runs `body` once for each of `seeds` (no environment variables read), and prints the
/// summary: [`run`] without the selection, for the kernel's own tests.
pub fn run_seeds<F, Fut>(
    scenario: &str,
    seeds: &[u64],
    start: DateTime<Utc>,
    rates: FaultRates,
    body: F,
) -> Summary
where
    F: Fn(Arc<Sim>) -> Fut,
    Fut: Future<Output = ()>,
{
    let wall = std::time::Instant::now();
    let mut total = Summary::default();
    for &seed in seeds {
        total.add(&run_one(scenario, seed, start, rates, &body));
    }
    total.wall = wall.elapsed();
    println!("{}", total.line(scenario));
    total
}

/// One seed on its own current-thread runtime with paused time.
fn run_one<F, Fut>(
    scenario: &str,
    seed: u64,
    start: DateTime<Utc>,
    rates: FaultRates,
    body: F,
) -> Summary
where
    F: FnOnce(Arc<Sim>) -> Fut,
    Fut: Future<Output = ()>,
{
    run_one_traced(scenario, seed, start, rates, Trace::new(false), body).0
}

/// The `fastrand` seed of a run: the backoff jitter of the functions' retries and the
/// SDK's (see the module's determinism rules).
pub fn jitter_seed(seed: u64) -> u64 {
    rng::mix(seed ^ 0x0071_77E5)
}

fn run_one_traced<F, Fut>(
    scenario: &str,
    seed: u64,
    start: DateTime<Utc>,
    rates: FaultRates,
    trace: Trace,
    body: F,
) -> (Summary, Vec<String>)
where
    F: FnOnce(Arc<Sim>) -> Fut,
    Fut: Future<Output = ()>,
{
    // A current-thread runtime polls every task on this thread, so this one seed governs
    // every jitter drawn in the run.
    fastrand::seed(jitter_seed(seed));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap_or_else(|e| panic!("cannot build the simulation runtime: {e}"));
    runtime.block_on(async {
        let sim = Arc::new(Sim::with_trace(scenario, seed, start, rates, trace));
        body(Arc::clone(&sim)).await;
        let all = lock(&sim.trace).all().unwrap_or_default();
        (sim.totals(), all)
    })
}

/// Runs one seed keeping every line of its trace, and returns them: for tests that prove
/// a seed replays event for event.
pub fn run_traced<F, Fut>(
    scenario: &str,
    seed: u64,
    start: DateTime<Utc>,
    rates: FaultRates,
    body: F,
) -> (Summary, Vec<String>)
where
    F: FnOnce(Arc<Sim>) -> Fut,
    Fut: Future<Output = ()>,
{
    run_one_traced(scenario, seed, start, rates, Trace::new(true), body)
}

/// Runs one seed and returns its violation report instead of panicking: for tests that
/// prove a failure replays exactly.
pub fn run_seed<F, Fut>(
    scenario: &str,
    seed: u64,
    start: DateTime<Utc>,
    rates: FaultRates,
    body: F,
) -> Result<Summary, String>
where
    F: FnOnce(Arc<Sim>) -> Fut,
    Fut: Future<Output = ()>,
{
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_one(scenario, seed, start, rates, body)
    }));
    outcome.map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-02T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_run_covers_its_simulated_time_and_counts() {
        let s = run_seeds(
            "kernel-smoke",
            &(1..=3).collect::<Vec<_>>(),
            start(),
            FaultRates::NONE,
            |sim| async move {
                for _ in 0..24 {
                    sim.step();
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    sim.check("time moves", sim.now() > sim.start(), String::new);
                }
            },
        );
        assert_eq!(s.seeds, 3);
        assert_eq!(s.steps, 72);
        assert_eq!(s.checks, 72);
        assert_eq!(s.simulated, Duration::from_secs(3 * 24 * 3600));
    }

    #[test]
    fn a_violation_names_seed_step_time_and_replay() {
        let result = std::panic::catch_unwind(|| {
            run_seeds(
                "kernel-violation",
                &(1..=1).collect::<Vec<_>>(),
                start(),
                FaultRates::NONE,
                |sim| async move {
                    sim.trace("about to fail");
                    sim.step();
                    tokio::time::sleep(Duration::from_secs(90)).await;
                    sim.check("never", false, || "on purpose".into());
                },
            )
        });
        let message = result
            .err()
            .and_then(|e| e.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        assert!(message.contains("INVARIANT VIOLATED: never"), "{message}");
        assert!(message.contains("seed 1 step 1 at 2026-03-02T00:01:30Z"));
        assert!(message.contains("about to fail"));
        assert!(message.contains("scripts/sim.sh --scenario kernel-violation --seed 1"));
    }

    #[test]
    fn invocations_get_a_deadline_on_the_virtual_clock() {
        run_seeds(
            "kernel-deadline",
            &(1..=1).collect::<Vec<_>>(),
            start(),
            FaultRates::NONE,
            |sim| async move {
                let inv = sim.invocation(Duration::from_secs(300));
                assert_eq!(inv.now(), sim.start());
                assert!(inv.deadline.allows(Duration::from_secs(290)));
                tokio::time::sleep(Duration::from_secs(299)).await;
                assert!(inv.deadline.is_past());
            },
        );
    }
}
