//! The simulation tier: every scenario with its default seeds. `scripts/sim.sh` runs more
//! seeds or replays one (`SIM_SEED`, `SIM_SEEDS`, `SIM_SCENARIO`).

use sim::kernel::{run_seed, FaultRates};
use sim::scenarios::aurora;

/// Four simulated weeks of the aurora estate, with 2% of API calls failing.
#[test]
fn aurora_weeks() {
    let (summary, figures) = aurora::run(2, 28, FaultRates::uniform(0.02));
    println!(
        "aurora-weeks figures: idle minutes captured {} of {} ({:.1}%), sweep stops {}, re-stops {}, AWS 7-day starts {}, stops with a connection in the unpublished tail {}, service-minutes crash-looping {}, invocations {} ({} failed), follow-ups {}, dead letters {}, GetMetricData calls {} in {} sweeps, reboots of running databases {}; of which RDS instances: idle minutes captured {} of {} ({:.1}%), sweep stops {}, re-stops {}",
        figures.captured_minutes,
        figures.capturable_minutes,
        figures.capture_share() * 100.0,
        figures.sweep_stops,
        figures.restops,
        figures.aws_restarts,
        figures.stops_with_unpublished_connection,
        figures.service_minutes_crash_looping,
        figures.invocations,
        figures.failed_invocations,
        figures.follow_ups,
        figures.dead_letters,
        figures.get_metric_data_calls,
        figures.sweeps,
        figures.reboots,
        figures.instances.captured_minutes,
        figures.instances.capturable_minutes,
        figures.instances.capture_share() * 100.0,
        figures.instances.sweep_stops,
        figures.instances.restops,
    );
    assert!(
        summary.seeds == 0 || summary.checks > 0,
        "no invariant was checked"
    );
}

/// A deliberately broken CloudWatch (every minute reads idle) makes the function stop a
/// busy database; the invariant says so, and the same seed fails at the same step, at the
/// same simulated time, with the same report, every time.
#[test]
fn a_failing_seed_replays_exactly() {
    let run = || {
        run_seed(
            aurora::SCENARIO,
            7,
            aurora::start(),
            FaultRates::uniform(0.02),
            |sim| async move {
                aurora::run_with(sim, 28, true).await;
            },
        )
    };
    let first = run().expect_err("a broken idle check must violate an invariant");
    let second = run().expect_err("and again");
    assert!(
        first.contains(
            "INVARIANT VIOLATED: no stop while the published data of the window had a connection"
        ),
        "{first}"
    );
    assert!(first.contains("replay: scripts/sim.sh --scenario aurora-weeks --seed 7"));
    assert_eq!(first, second, "the same seed replays identically");
    println!("replayed identically:\n{first}");
}
