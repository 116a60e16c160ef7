//! What happens when: the happenings of two weeks, drawn from the seed, in time order.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{World, DAYS, INTERVAL};
use crate::kernel::{lock, Sim};

/// Happenings, in time order.
#[derive(Debug, Clone)]
pub(super) enum Happening {
    Check,
    /// CloudWatch evaluates the alarms on the period that just ended.
    Evaluate,
    /// Someone disables the schedule until then (no check runs).
    SchedulePaused(DateTime<Utc>),
    /// CloudFormation's requests (each retried while it fails).
    Create,
    Update(u32),
    MoveUrl,
    /// The clean-up Delete of the resource a move replaced: its properties and id.
    DeleteReplaced(Value, Option<String>),
    DeleteStack,
    Revoke,
    Restore,
    Drift(u32),
    SecretsDown,
    OutageStarts,
    EndpointFails,
    EndpointRecovers,
    /// The bot's endpoint takes updates without the secret token, then checks it again.
    StopsCheckingToken,
    ChecksTokenAgain,
    /// SNS refuses the function's publishes for a while.
    SnsDown,
}

/// The operator retries a failed stack operation this long after it failed.
pub(super) const RETRY_AFTER: chrono::Duration = chrono::Duration::minutes(30);
/// Attempts of one CloudFormation request before the run calls it stuck: a day of
/// retries, longer than any of the scenario's problems lasts (8 hours at most).
pub(super) const MAX_ATTEMPTS: u32 = 48;

/// The happenings still to come, in time order; at the same moment everything else comes
/// before the health check, then in the order planned.
#[derive(Default)]
pub(super) struct Plan {
    queue: BTreeMap<(DateTime<Utc>, bool, u64), Happening>,
    planned: u64,
    /// Attempts per CloudFormation request (keyed by its happening's name).
    attempts: BTreeMap<String, u32>,
}

impl Plan {
    pub(super) fn at(&mut self, at: DateTime<Utc>, happening: Happening) {
        self.planned += 1;
        let is_check = matches!(happening, Happening::Check);
        self.queue.insert((at, is_check, self.planned), happening);
    }

    pub(super) fn next(&mut self) -> Option<(DateTime<Utc>, Happening)> {
        self.queue.pop_first().map(|((at, _, _), h)| (at, h))
    }

    /// Plans the retry of a request that failed; false once it failed [`MAX_ATTEMPTS`] times.
    pub(super) fn retry(&mut self, now: DateTime<Utc>, happening: Happening) -> bool {
        let key = format!("{happening:?}");
        let attempts = self.attempts.entry(key).or_insert(0);
        *attempts += 1;
        if *attempts >= MAX_ATTEMPTS {
            return false;
        }
        self.at(now + RETRY_AFTER, happening);
        true
    }
}

/// Draws the run's happenings (the draws in this order: a seed replays the same run) and
/// sets the models' trouble windows that go with them.
pub(super) fn schedule(w: &mut World, sim: &Sim, start: DateTime<Utc>) -> Plan {
    let (minute, hour, day) = (
        chrono::Duration::minutes(1),
        chrono::Duration::hours(1),
        chrono::Duration::days(1),
    );
    let draw = |lo: i64, hi: i64| -> i64 { sim.rng().between(lo as u64, hi as u64) as i64 };
    let mut plan = Plan::default();
    // CloudFormation creates the webhook at the start.
    plan.at(start, Happening::Create);
    // Windows of trouble.
    for _ in 0..2 {
        let from = start + minute * draw(60, 13 * 24 * 60) as i32;
        w.model.outage(from, from + minute * draw(10, 60) as i32);
        plan.at(from, Happening::OutageStarts);
    }
    let secrets_from = start + minute * draw(24 * 60, 12 * 24 * 60) as i32;
    let secrets_to = secrets_from + minute * draw(30, 90) as i32;
    lock(&w.vault.down).push((secrets_from, secrets_to));
    plan.at(secrets_from, Happening::SecretsDown);
    let mut at = start + INTERVAL;
    while at < start + day * DAYS as i32 {
        plan.at(at, Happening::Check);
        // ASSUMPTION: CloudWatch evaluates a 15-minute period a few minutes after it ends,
        // once the run's EMF line is in; each period holds one run.
        plan.at(at + minute * 5, Happening::Evaluate);
        at += INTERVAL;
    }
    plan.at(start + day * 3 + hour * 10, Happening::Update(60));
    plan.at(start + day * 6 + hour * 11, Happening::MoveUrl);
    let revoke = start + minute * draw(2 * 24 * 60, 10 * 24 * 60) as i32;
    plan.at(revoke, Happening::Revoke);
    plan.at(revoke + minute * draw(120, 480) as i32, Happening::Restore);
    for kind in 0..3 {
        plan.at(
            start + minute * draw(60, 13 * 24 * 60) as i32,
            Happening::Drift(kind),
        );
    }
    let mut endpoint_down = Vec::new();
    for _ in 0..2 {
        let from = start + minute * draw(60, 13 * 24 * 60) as i32;
        let to = from + minute * draw(60, 10 * 60) as i32;
        endpoint_down.push(from);
        plan.at(from, Happening::EndpointFails);
        plan.at(to, Happening::EndpointRecovers);
        // The probe finds the same endpoint down.
        w.endpoint.down_during((from, to));
    }
    // (Drawn last: the draws before keep their seed-1 values, an Update while the token
    // is revoked.) Someone disables the schedule for 1-3 hours.
    let paused = start + minute * draw(24 * 60, 12 * 24 * 60) as i32;
    plan.at(
        paused,
        Happening::SchedulePaused(paused + minute * draw(60, 180) as i32),
    );
    // (Drawn after the pause.) A deploy of the bot stops checking the secret token for
    // 1-6 hours, then a fix puts the check back.
    let unsigned = start + minute * draw(24 * 60, 12 * 24 * 60) as i32;
    let fixed = unsigned + minute * draw(60, 6 * 60) as i32;
    w.endpoint.unsigned_during((unsigned, fixed));
    plan.at(unsigned, Happening::StopsCheckingToken);
    plan.at(fixed, Happening::ChecksTokenAgain);
    // SNS refuses every publish for 1-3 hours, from half an hour into the first endpoint
    // failure (so that there are notices to lose).
    let sns_from = endpoint_down[0] + minute * 30;
    let sns_to = sns_from + minute * draw(60, 180) as i32;
    w.topic.down_during((sns_from, sns_to));
    plan.at(sns_from, Happening::SnsDown);
    // The stack is deleted at the end: the webhook goes.
    plan.at(start + day * DAYS as i32, Happening::DeleteStack);
    plan
}
