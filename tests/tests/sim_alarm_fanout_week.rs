//! alarm-fanout's on-call week in the simulation tier (issue #14; `SIM_SEED`, `SIM_SEEDS`
//! and `SIM_SCENARIO` select seeds and scenarios as in `sim.rs`).

use sim::scenarios::alarm_fanout_week::{self, FAULTS};

/// A week across Berlin's daylight-saving change: office-hours and night routes, a
/// maintenance silence, an inhibition by a critical database alarm, hourly reminders,
/// threaded OKs, alarm pictures in a second Telegram group, the sweep every 5 minutes; receivers that answer 429 with Retry-After,
/// 5xx and time out (before and after acting), and Lambda's asynchronous retries, dead
/// letters and their redrive.
///
/// It found that a notice held while muted (time window, inhibition, silence) and released
/// by the sweep was followed within a sweep by a reminder: the release did not restart
/// `repeat_interval` (seed 1, 2026-10-22 07:00 UTC). The sweep now restarts it.
#[test]
fn alarm_fanout_on_call_week() {
    let (summary, f) = alarm_fanout_week::run(2, FAULTS);
    println!(
        "alarm-fanout-on-call-week figures: notices {}, messages shown {}, held {}, released after a mute {}, reminders {}, OK replies {}, pictures {}, digests {}, sweeps {}, failed invocations {}, dead letters {}, possible duplicates {}, faults {}, checks {}, violations 0",
        f.notices, f.delivered, f.held, f.released, f.reminders, f.replies, f.pictures, f.digests, f.sweeps,
        f.failed_invocations, f.dead_letters, f.possible_duplicates, summary.faults, summary.checks,
    );
    assert!(
        summary.seeds == 0 || summary.checks > 0 && f.pictures > 0,
        "no invariant was checked, or no picture was sent"
    );
}

/// The same week with Slack's `update_message` (receiver `edit`) on the office route too.
/// Invariants beyond the week's: an edited Slack message is its ALARM's own message (the
/// episode's first, not a reminder) and shows the OK; and, on every receiver, no OK of an
/// episode the receiver was muted for from its ALARM to its OK.
///
/// Ignored: it finds two violations, reported, not fixed here (the function's code is
/// another change's):
/// - a reminder takes over the thread: the OK edits the last reminder, not the ALARM
///   (seed 1, 2026-10-23 07:00 UTC, api-5xx: messages ...030 ALARM, ...033 and ...036
///   reminders, ...036 edited; seed 2, 2026-10-22 11:25 UTC, db-orders-cpu). Telegram's OK
///   likewise replies to the last reminder (the week's reply check accepts any message of
///   the episode). Of 25 edits in 2 seeds, 7 were of the ALARM itself.
/// - a held OK reaches receivers muted for its whole episode (seed 1, 2026-10-27 11:10
///   UTC; seed 2, 11:15): db-orders-lag fired 10:16-10:43 while db-orders-cpu inhibited
///   it, so no receiver showed that ALARM, yet when the inhibition ended the sweep sent
///   its OK to all four office receivers, in seed 1 as replies to the previous day's
///   episode's messages, and `edit` re-edited that day-old message. src/handler/notice.rs
///   says a held OK goes only to receivers shown the alarm's trouble. The week above does
///   not see it: its reply check exempts an OK whose ALARM the receiver never showed.
///
/// With both exempted, the 2 seeds pass: 1,753 checks, 469 messages, 25 edits, 32
/// pictures, 186 faults, 1.9 s wall.
/// Replay: `SIM_SEED=1 cargo nextest run -p groundcrew-sim --test sim_alarm_fanout_week --run-ignored only --no-capture`.
#[test]
#[ignore = "finds violations: a reminder takes over the thread (the OK edits it, not the ALARM), and a held OK reaches receivers muted for the whole episode"]
fn alarm_fanout_on_call_week_with_edits_and_pictures() {
    let (summary, f) = alarm_fanout_week::run_with_extras(2, FAULTS);
    println!(
        "alarm-fanout-on-call-week-extras figures: notices {}, messages shown {}, reminders {}, OK replies {}, edits {} (of the ALARM itself {}), pictures {}, possible duplicates {}, faults {}, checks {}, violations 0",
        f.notices, f.delivered, f.reminders, f.replies, f.edits, f.edits_of_the_alarm,
        f.pictures, f.possible_duplicates, summary.faults, summary.checks,
    );
    assert!(
        summary.seeds == 0 || f.edits > 0 && f.pictures > 0,
        "no edit or no picture was made"
    );
}
