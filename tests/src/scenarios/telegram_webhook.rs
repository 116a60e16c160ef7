//! telegram-webhook: two weeks of the scheduled health check against the Telegram model.
//!
//! The function's real logic (its Bot API client with its retry and 429 handling, the
//! custom resource's Create/Update/Delete, the health check and its repair) runs against
//! [`TelegramModel`] through the client's transport seam, with the secrets and the SSM
//! registration record in [`SimVault`]. The check runs every 15 minutes (the template's
//! `rate(15 minutes)`) for 14 days; each invocation has the template's 60 s timeout.
//!
//! What happens (times drawn from the seed): CloudFormation creates the webhook at the
//! start, updates `MaxConnections` 40 → 60 on day 3, moves the webhook to a new URL on day 6
//! (the function's environment changes with it, then CloudFormation deletes the old
//! resource), and deletes the stack at the end. Meanwhile the bot token is revoked and put
//! back hours later; someone changes the webhook by hand three times; the bot's endpoint
//! fails for hours twice while updates keep arriving (the endpoint probe, on here, finds it
//! down too: [`EndpointModel`]); a deploy of the bot stops checking the secret token for
//! hours; SNS refuses the function's notices for 1-3 hours during the first endpoint failure
//! ([`SimTopic`]; `ALARM_TOPIC_ARN` is set here); Telegram has two outages; the secrets
//! are unreadable for a while; and a share of every call fails (throttling with
//! `retry_after`, 5xx, timeouts before and after the call took effect).
//!
//! Invariants, after every check:
//! - every lasting problem (token revoked, secrets unreadable, Telegram down, a recent
//!   delivery error, a backlog over 100, a webhook that differs from the registration and
//!   was not repaired, an endpoint down, an endpoint taking unsigned updates, SNS refusing
//!   a notice) has its finding in that check's EMF line, unless a finding that
//!   stops the check before it could see the problem is there (an unreadable secret, then
//!   Telegram unreachable, then the token revoked) or the check says it could not tell
//!   (the metric left out): so it is raised at the first check
//!   after it became observable, within one interval;
//! - no finding without a cause: each is a lasting problem or a call of that check that
//!   failed (a false alarm otherwise; counted, must be 0);
//! - after a check, the webhook is the registered one (URL, max connections, allowed
//!   updates, the SHA-256 of the secret token) or `WebhookDrifted` (or a masking finding)
//!   was raised; a repair restores exactly the registration;
//! - a publish that failed is an `AlertUndelivered` finding in that check's metrics, and a
//!   check with problems either published its notice or raised it: never silence;
//! - no `setWebhook` is ever sent with a revoked token;
//! - every CloudFormation request is answered (SUCCESS or FAILED with a reason) before
//!   the invocation's deadline less the response reserve.
//!
//! The files: `world.rs` sets the world up (the function, its models, CloudFormation's
//! requests), `plan.rs` draws what happens when, `steps.rs` plays it out, `invariants.rs`
//! judges each check and each alarm evaluation; [`Figures`] is the run's report.

pub mod alarms;
pub mod endpoint;
mod invariants;
mod plan;
mod steps;
pub mod topic;
mod vault;
mod world;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use telegram_webhook::health::Finding;

use self::alarms::Alarms;
use self::endpoint::EndpointModel;
use self::topic::SimTopic;
use self::vault::SimVault;
use self::world::SimApp;
use crate::kernel::{self, lock, FaultRates, Sim, Summary};
use crate::models::telegram::TelegramModel;

pub const SCENARIO: &str = "telegram-webhook-weeks";
const TOKEN: &str = "7000000001:AAsim-bot_token0";
const BOT_SECRET: &str = "gc-sim/telegram-bot-token";
const WEBHOOK_SECRET: &str = "gc-sim/telegram-webhook-secret-token";
const PREFIX: &str = "/gc-sim/telegram-webhook";
const URL: &str = "https://bot.example.com/telegram/webhook";
const URL2: &str = "https://bot2.example.com/telegram/webhook";
const STRANGER_URL: &str = "https://old-server.example.net/hook";
/// The schedule (template: `rate(15 minutes)`).
const INTERVAL: chrono::Duration = chrono::Duration::minutes(15);
/// The function's timeout (template).
const BUDGET: Duration = Duration::from_secs(60);
const DAYS: i64 = 14;
/// The function's defaults (`PENDING_UPDATES_THRESHOLD`, `RECENT_ERROR_SECONDS`).
const BACKLOG: u64 = 100;
const RECENT_ERROR: i64 = 900;

/// What a run measured.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub checks: u64,
    /// Checks that raised each finding.
    pub findings: BTreeMap<String, u64>,
    /// Findings of a lasting problem.
    pub true_findings: u64,
    /// Findings caused only by a call of that check that failed (a throttle beyond the
    /// client's patience, an exhausted retry): the bot itself was healthy.
    pub transient_findings: u64,
    /// Findings with no cause at all (must be 0).
    pub false_alarms: u64,
    /// Lasting problems hidden behind another finding in a check.
    pub masked: u64,
    /// Seconds from each problem's cause to the first check that raised it, per finding.
    pub detect_seconds: BTreeMap<String, Vec<i64>>,
    pub repairs: u64,
    pub drifts_by_hand: u64,
    pub cfn_requests: u64,
    pub cfn_failed: u64,
    pub telegram_calls: u64,
    pub updates_delivered: u64,
    pub updates_expired: u64,
    /// ALARM notices per alarm (the template's alarms evaluated on the checks' metrics).
    pub pages: BTreeMap<String, u64>,
    /// ALARMs of a finding's alarm with no lasting problem behind them: calls that failed
    /// in a row on a healthy bot.
    pub pages_for_a_healthy_bot: u64,
    /// The same with every finding alarming on one run (the template before 2 of 2).
    pub pages_for_a_healthy_bot_one_of_one: u64,
    /// Periods in which the schedule did not run the check.
    pub periods_without_a_check: u64,
    /// Per-run notices published to `ALARM_TOPIC_ARN`, and publishes that failed.
    pub alerts_delivered: u64,
    pub alerts_undelivered: u64,
}

/// A stretch of simulated time (from, until) during which something is down.
type Window = (DateTime<Utc>, DateTime<Utc>);

/// The lasting problems at a moment, as the models know them.
#[derive(Debug, Default, Clone, Copy)]
struct Truth {
    secrets_down: bool,
    outage: bool,
    revoked: bool,
    delivery_error: bool,
    backlog: bool,
    endpoint_down: bool,
    accepts_unsigned: bool,
}

/// The state of one run.
struct World {
    sim: Arc<Sim>,
    model: TelegramModel,
    vault: SimVault,
    endpoint: EndpointModel,
    topic: SimTopic,
    app: SimApp,
    /// The secret holds a revoked token.
    revoked: bool,
    physical_id: Option<String>,
    figures: Figures,
    /// When each problem's cause began, until a check raises it.
    causes: BTreeMap<Finding, DateTime<Utc>>,
    requests: u64,
    /// The template's alarms, and the same with every finding alarming on one run.
    alarms: Alarms,
    one_of_one: Alarms,
    /// The latest checks, newest last.
    runs: VecDeque<Run>,
    /// Checks since the alarms last evaluated a period.
    checks_in_period: u64,
    /// Problems whose current episode already paged.
    paged: BTreeMap<Finding, bool>,
    /// Periods in a row without a check.
    missed_in_row: u64,
}

/// What one check saw and published, for the alarm invariants.
#[derive(Debug, Clone, Default)]
struct Run {
    /// Findings whose problem lasted (the models' truth), masked or not.
    lasting: Vec<Finding>,
    /// Findings whose metric the check published (1 or 0); the others it could not see.
    published: Vec<Finding>,
    raised: Vec<Finding>,
}

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T00:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// Runs the scenario's seeds.
pub fn run(seeds: u64, rates: FaultRates) -> (Summary, Vec<Figures>) {
    let all = Arc::new(Mutex::new(Vec::new()));
    let collected = all.clone();
    let summary = kernel::run(SCENARIO, seeds, start(), rates, move |sim| {
        let collected = collected.clone();
        async move {
            let f = steps::weeks(sim).await;
            lock(&collected).push(f);
        }
    });
    let figures = lock(&all).clone();
    (summary, figures)
}
