//! power-tuner's scenarios in the simulation tier (a test binary of its own beside
//! `sim.rs`; `SIM_SEED`, `SIM_SEEDS` and `SIM_SCENARIO` select seeds and scenarios).

use sim::kernel::FaultRates;
use sim::scenarios::power_tuner;

/// Tuning runs of 30 to 120 simulated minutes with throttling (3% of Lambda calls), slow
/// updates, SnapStart, WARN logs, a failing value and the tuner killed at random points.
#[test]
fn power_tuner_runs() {
    let rates = FaultRates {
        throttle: 0.03,
        ..FaultRates::NONE
    };
    let (summary, f) = power_tuner::run(20, rates);
    println!(
        "power-tuner-runs figures: runs {} (results {}, failures {}), kills {}, tuner invocations {}, picks exact {} / within noise {}, second runs refused {}, functions in another Region {}, failures by kind {:?}",
        f.runs, f.results, f.failures, f.kills, f.tuner_invocations, f.exact_picks, f.within_noise_picks, f.refused_second_runs, f.other_region,
        f.failure_kinds
    );
    assert!(
        summary.seeds == 0 || summary.checks > 0,
        "no invariant was checked"
    );
}

/// 8 values x 100 invocations at 2 s each: several invocations of the tuner.
#[test]
fn power_tuner_long_run() {
    let (summary, figures) = power_tuner::long_run();
    println!("power-tuner-long-run figures: {figures}");
    assert!(
        summary.seeds == 0 || summary.checks > 0,
        "no invariant was checked"
    );
}
