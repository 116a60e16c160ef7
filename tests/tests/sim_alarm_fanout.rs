//! alarm-fanout's scenarios in the simulation tier (a test binary of its own beside
//! `sim.rs`; `SIM_SEED`, `SIM_SEEDS` and `SIM_SCENARIO` select seeds and scenarios the same way).

use sim::kernel::FaultRates;
use sim::scenarios::alarm_fanout::{self, Records};

/// alarm-fanout's storm hour on its real DynamoDB adapter: 20 flapping alarms for an hour,
/// six receivers failing 30% of their requests (the webhook down for ten minutes), Lambda
/// retries, the dead-letter queue and a redrive; the records in `DynamoStore` over the
/// DynamoDB model, its conditional writes racing between concurrent invocations. Smaller
/// than the in-memory storm below: each SDK request costs about 3 ms of CPU in this debug
/// build, so 50 alarms would take minutes. The table answers without faults here; the
/// ignored test below adds them.
#[test]
fn alarm_fanout_storm_hour() {
    let (summary, f) = alarm_fanout::run(
        alarm_fanout::SCENARIO,
        alarm_fanout::Storm {
            alarms: 16,
            minutes: 60,
        },
        1,
        FaultRates::uniform(0.3),
        Records::Dynamo(FaultRates::NONE),
    );
    print_figures(alarm_fanout::SCENARIO, &f);
    assert!(
        summary.seeds == 0 || summary.checks > 0,
        "no invariant was checked"
    );
}

/// The same storm with the table failing 10% of its requests (throttles, 500s, timeouts
/// before and after the write). It failed at seed 1 step 6 (21:00:59, Slack twice within
/// a second) while a paced receiver's token was dated before the adapter's read and
/// conditional write, SDK retries included (seconds), so another invocation found the
/// bucket full again; now a token the table granted late is left unused and another taken
/// (`alarm_fanout::pace::Pacer`). Passes (seed 1: 0 violations in 6,759 checks, 2,135
/// faults; seed 2 too) but takes about 35 s of wall time a seed, so it stays out of the
/// tier's 3 minutes. Not fixed: with `SIM_SEEDS=3`, seed 3 fails another invariant at the
/// end of the run (`mail` shows storm-05's 21:41:29 change twice with no ambiguous failure
/// of that send), not traced yet; replay with `SIM_SEED=3`.
/// Run it with `cargo nextest run -p groundcrew-sim --test sim_alarm_fanout --run-ignored
/// only --no-capture` (scripts/sim.sh skips ignored tests).
#[test]
#[ignore = "slow: about 35 s wall (the DynamoDB storm hour with table faults)"]
fn alarm_fanout_storm_hour_table_faults() {
    let scenario = "alarm-fanout-storm-hour-table-faults";
    let (summary, f) = alarm_fanout::run(
        scenario,
        alarm_fanout::Storm {
            alarms: 16,
            minutes: 60,
        },
        1,
        FaultRates::uniform(0.3),
        Records::Dynamo(FaultRates::uniform(0.1)),
    );
    print_figures(scenario, &f);
    assert!(summary.seeds == 0 || summary.checks > 0);
}

/// The full storm hour (50 alarms, about 1,850 state changes a seed) on the function's
/// in-memory store: the load the DynamoDB variant cannot afford, digests included.
#[test]
fn alarm_fanout_storm_hour_memory() {
    let scenario = "alarm-fanout-storm-hour-memory";
    let (summary, f) = alarm_fanout::run(
        scenario,
        alarm_fanout::HOUR,
        2,
        FaultRates::uniform(0.3),
        Records::Memory,
    );
    print_figures(scenario, &f);
    assert!(
        summary.seeds == 0 || summary.checks > 0,
        "no invariant was checked"
    );
}

fn print_figures(scenario: &str, f: &alarm_fanout::Figures) {
    println!(
        "{scenario} figures: state changes {}, SNS deliveries {}, invocations {} ({} failed), dead letters {}, redriven {}, alarms shown {}, duplicates {} after {} ambiguous failures, Telegram peak {} messages/minute, digests {}, requests over a chat's limits {}, DynamoDB requests {} ({} faults, {} conditional checks failed)",
        f.state_changes, f.sns_deliveries, f.invocations, f.failed_invocations, f.dead_letters, f.redriven, f.shown, f.duplicates, f.ambiguous, f.telegram_peak_per_minute, f.digests, f.over_limit, f.table_requests, f.table_faults, f.table_conditions_failed,
    );
}

/// 500 alarms within a minute to one Telegram group (which enforces its limits) and four
/// other receivers: how long until the group has shown or counted every one (goal: at most
/// 2 minutes), with no dead letter and no request over the group's limits.
#[test]
fn alarm_fanout_telegram_burst() {
    let (summary, f) = alarm_fanout::burst(1, 500, Records::Memory);
    println!(
        "alarm-fanout-telegram-burst figures: alarms {}, shown one by one in the group {}, listed in digests {}, counted in digests {}, digests {}, dead letters {}, every alarm shown or counted {} s after the first, peak {} messages/minute, 429s {}",
        f.alarms, f.shown_on_telegram, f.listed_in_digests, f.counted_in_digests, f.digests, f.dead_letters, f.seconds_to_last_shown, f.peak_per_minute, f.telegram_429,
    );
    assert!(
        summary.seeds == 0 || summary.checks > 0,
        "no invariant was checked"
    );
}
