//! alarm-fanout's scenarios in the simulation tier (a test binary of its own beside
//! `sim.rs`; `SIM_SEED`, `SIM_SEEDS` and `SIM_SCENARIO` select seeds and scenarios the same way).

use sim::kernel::FaultRates;
use sim::scenarios::alarm_fanout;

/// alarm-fanout's storm hour: 50 flapping alarms, about 2,000 state changes, six receivers
/// failing 30% of their requests (the webhook down for ten minutes), Lambda retries, the
/// dead-letter queue and a redrive.
#[test]
fn alarm_fanout_storm_hour() {
    let (summary, f) = alarm_fanout::run(2, FaultRates::uniform(0.3));
    println!(
        "alarm-fanout-storm-hour figures: state changes {}, SNS deliveries {}, invocations {} ({} failed), dead letters {}, redriven {}, alarms shown {}, duplicates {} after {} ambiguous failures, Telegram peak {} messages/minute, digests {}, requests over a chat's limits {}",
        f.state_changes, f.sns_deliveries, f.invocations, f.failed_invocations, f.dead_letters, f.redriven, f.shown, f.duplicates, f.ambiguous, f.telegram_peak_per_minute, f.digests, f.over_limit,
    );
    assert!(
        summary.seeds == 0 || summary.checks > 0,
        "no invariant was checked"
    );
}

/// 500 alarms within a minute to one Telegram group (which enforces its limits) and four
/// other receivers: how long until the group has shown or counted every one (goal: at most
/// 2 minutes), with no dead letter and no request over the group's limits.
#[test]
fn alarm_fanout_telegram_burst() {
    let (summary, f) = alarm_fanout::burst(1, 500);
    println!(
        "alarm-fanout-telegram-burst figures: alarms {}, shown one by one in the group {}, listed in digests {}, counted in digests {}, digests {}, dead letters {}, every alarm shown or counted {} s after the first, peak {} messages/minute, 429s {}",
        f.alarms, f.shown_on_telegram, f.listed_in_digests, f.counted_in_digests, f.digests, f.dead_letters, f.seconds_to_last_shown, f.peak_per_minute, f.telegram_429,
    );
    assert!(
        summary.seeds == 0 || summary.checks > 0,
        "no invariant was checked"
    );
}
