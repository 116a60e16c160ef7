//! alarm-fanout's on-call week in the simulation tier (issue #14; `SIM_SEED`, `SIM_SEEDS`
//! and `SIM_SCENARIO` select seeds and scenarios as in `sim.rs`).

use sim::scenarios::alarm_fanout_week;

/// A week across Berlin's daylight-saving change: office-hours and night routes, a
/// maintenance silence, an inhibition by a critical database alarm, hourly reminders,
/// threaded OKs, the sweep every 5 minutes.
///
/// Ignored until alarm-fanout is fixed: the violation it finds (seed 1, 2026-10-22
/// 07:00 UTC) is a notice held while muted (time window, inhibition, silence) and released
/// by the sweep, followed in the same or the next sweep by a reminder, as if the release
/// were not a send that restarts `repeat_interval`.
#[test]
#[ignore = "finds a violation in alarm-fanout: a held ALARM released after a mute is followed within a sweep by a reminder (repeat_interval not restarted by the release); replay: scripts/sim.sh --scenario alarm-fanout-on-call-week --seed 1"]
fn alarm_fanout_on_call_week() {
    let (summary, f) = alarm_fanout_week::run(2);
    println!(
        "alarm-fanout-on-call-week figures: notices {}, messages shown {}, held {}, released after a mute {}, reminders {}, OK replies {}, digests {}, sweeps {}, checks {}, violations 0",
        f.notices, f.delivered, f.held, f.released, f.reminders, f.replies, f.digests, f.sweeps, summary.checks,
    );
    assert!(
        summary.seeds == 0 || summary.checks > 0,
        "no invariant was checked"
    );
}
