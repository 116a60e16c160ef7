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

pub mod alarms;
pub mod endpoint;
pub mod topic;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use groundcrew::config::Env;
use groundcrew::custom_resource::{Claim, Request, ResponderSettings};
use groundcrew::secrets::{SecretError, SecretRef};
use secrecy::SecretString;
use serde_json::{json, Value};
use telegram_webhook::health::{Finding, MetricsSink, HEALTH_CHECK_OK};
use telegram_webhook::registration::{parameter_name, sha256, Registration};
use telegram_webhook::telegram::Telegram;
use telegram_webhook::vault::{MemoryVault, Stored, Vault};
use telegram_webhook::{App, Config, Error};

use self::alarms::{AlarmSpec, Alarms, State};
use self::endpoint::EndpointModel;
use self::topic::SimTopic;
use crate::kernel::{self, lock, FaultRates, Sim, Summary};
use crate::models::telegram::{TelegramModel, TokenState};

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

/// Secrets Manager and SSM for the function: the bot token, the webhook's secret token and
/// the registration record, with faults drawn per call (the SDK's standard retry mode makes
/// up to 3 attempts, so a call fails only when 3 draws in a row do) and outage windows in
/// which every read is refused.
#[derive(Clone)]
pub struct SimVault {
    sim: Arc<Sim>,
    inner: MemoryVault,
    down: Arc<Mutex<Vec<Window>>>,
    /// Calls that failed, for the invariants (reset per check).
    failed: Arc<Mutex<u64>>,
}

impl SimVault {
    fn new(sim: Arc<Sim>) -> Self {
        Self {
            sim,
            inner: MemoryVault::default().with(BOT_SECRET, TOKEN),
            down: Arc::default(),
            failed: Arc::default(),
        }
    }

    fn is_down(&self) -> bool {
        let now = self.sim.now();
        lock(&self.down).iter().any(|(a, b)| *a <= now && now < *b)
    }

    /// One SDK call with its retries: `Err(reason)` when every attempt failed.
    fn call(&self, resource: &str, operation: &str) -> Result<(), String> {
        if self.is_down() {
            *lock(&self.failed) += 1;
            return Err("AccessDeniedException: not authorized (outage window)".into());
        }
        for _ in 0..3 {
            if !self.sim.fault(resource, operation).is_fault() {
                return Ok(());
            }
        }
        *lock(&self.failed) += 1;
        Err(format!(
            "{operation} failed 3 times (throttling, 5xx or timeouts)"
        ))
    }
}

impl Vault for SimVault {
    async fn read(&self, reference: &SecretRef) -> Result<SecretString, SecretError> {
        self.call(&reference.display(), "GetSecretValue")
            .map_err(|reason| SecretError::Unreadable {
                reference: reference.display(),
                reason,
            })?;
        self.inner.read(reference).await
    }

    async fn create(&self, reference: &SecretRef, value: &SecretString) -> Result<Stored, Error> {
        self.call(&reference.display(), "CreateSecret")
            .map_err(|reason| Error::SecretCreate {
                reference: reference.display(),
                reason,
            })?;
        self.inner.create(reference, value).await
    }

    async fn load_record(&self, name: &str) -> Result<Option<String>, Error> {
        self.call(name, "GetParameter")
            .map_err(|r| Error::Registry(format!("could not read {name}: {r}")))?;
        self.inner.load_record(name).await
    }

    async fn store_record(&self, name: &str, value: &str) -> Result<(), Error> {
        self.call(name, "PutParameter")
            .map_err(|r| Error::Registry(format!("could not store {name}: {r}")))?;
        self.inner.store_record(name, value).await
    }

    async fn delete_record(&self, name: &str) -> Result<(), Error> {
        self.call(name, "DeleteParameter")
            .map_err(|r| Error::Registry(format!("could not delete {name}: {r}")))?;
        self.inner.delete_record(name).await
    }
}

type SimApp = App<SimVault, SimTopic, TelegramModel, EndpointModel>;

fn app(
    model: &TelegramModel,
    vault: &SimVault,
    endpoint: &EndpointModel,
    topic: &SimTopic,
    webhook_url: &str,
) -> Result<SimApp, String> {
    let vars: BTreeMap<&str, &str> = [
        ("TELEGRAM_API_BASE_URL", "https://api.telegram.org"),
        ("BOT_TOKEN_SECRET", BOT_SECRET),
        ("WEBHOOK_URL", webhook_url),
        ("SECRET_TOKEN_SECRET", WEBHOOK_SECRET),
        ("ALLOWED_UPDATES", "message,callback_query"),
        ("REGISTRATION_PARAMETER_PREFIX", PREFIX),
        // The opt-in probe of the bot's endpoint, and its health URL.
        ("PROBE_ENDPOINT", "true"),
        ("HEALTH_URL", "https://bot.example.com/api/telegram/health"),
        // The template leaves it unset; an operator who wants a notice every run sets it.
        (
            "ALARM_TOPIC_ARN",
            "arn:aws:sns:us-east-1:123456789012:gc-sim-alarms",
        ),
        ("AWS_LAMBDA_FUNCTION_NAME", "gc-sim-telegram-webhook"),
    ]
    .into_iter()
    .collect();
    let vars: std::collections::HashMap<String, String> = vars
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let config = Config::from_env(&Env::new(vars)).map_err(|e| e.to_string())?;
    let http = groundcrew::http::client(groundcrew::http::HttpSettings::default())
        .map_err(|e| e.to_string())?;
    Ok(App {
        telegram: Telegram::over(model.clone(), &config.api_base),
        http,
        endpoint: endpoint.clone(),
        vault: vault.clone(),
        alerts: topic.clone(),
        responder: ResponderSettings {
            response_reserve: telegram_webhook::handler::RESPONSE_RESERVE,
            ..ResponderSettings::default()
        },
        config,
        config_error: None,
        metrics: MetricsSink::memory(),
    })
}

fn props(url: &str, max_connections: u32) -> Value {
    json!({
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:gc-sim-telegram-webhook",
        "ServiceTimeout": "300",
        "BotTokenSecret": BOT_SECRET,
        "WebhookUrl": url,
        "SecretTokenSecret": WEBHOOK_SECRET,
        "AllowedUpdates": ["message", "callback_query"],
        "MaxConnections": max_connections.to_string(),
    })
}

fn request(kind: &str, n: u64, props: Value, old: Option<Value>, physical: Option<&str>) -> Value {
    let mut e = json!({
        "RequestType": kind,
        "ServiceToken": props["ServiceToken"],
        "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/sim",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/gc-sim/guid",
        "RequestId": format!("sim-request-{n}"),
        "ResourceType": "Custom::TelegramWebhook",
        "LogicalResourceId": "TelegramBotWebhook",
        "ResourceProperties": props,
    });
    if let Some(p) = physical {
        e["PhysicalResourceId"] = json!(p);
    }
    if let Some(o) = old {
        e["OldResourceProperties"] = o;
    }
    e
}

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

impl World {
    fn truth(&self) -> Truth {
        let now = self.sim.now();
        Truth {
            secrets_down: self.vault.is_down(),
            outage: self.model.in_outage(now),
            revoked: self.revoked,
            delivery_error: self
                .model
                .last_error_date()
                .is_some_and(|at| (now - at).num_seconds() <= RECENT_ERROR),
            backlog: self.model.pending() > BACKLOG,
            endpoint_down: self.endpoint.is_down(),
            accepts_unsigned: self.endpoint.accepts_unsigned(),
        }
    }

    /// The registration the check holds Telegram to: the record, else the environment's.
    async fn registration(&self) -> Option<Registration> {
        let name = parameter_name(PREFIX, "7000000001");
        let text = self.vault.inner.load_record(&name).await.ok().flatten()?;
        Registration::parse(&name, &text).ok()
    }

    fn cause(&mut self, finding: Finding) {
        self.causes.entry(finding).or_insert(self.sim.now());
    }

    /// One scheduled check and its invariants.
    async fn check(&mut self) {
        self.sim.step();
        let before = self.truth();
        let drifted_before = !self.matches_registration().await;
        let calls_from = self.model.calls_len();
        *lock(&self.vault.failed) = 0;
        *lock(&self.endpoint.faulted) = 0;
        *lock(&self.topic.failed) = 0;
        let topic_down_before = self.topic.is_down();
        let invocation = self.sim.invocation(BUDGET);
        let report = self
            .app
            .scheduled_check(invocation.deadline, invocation.now().timestamp())
            .await;
        self.figures.checks += 1;
        let lines = self.app.metrics.lines();
        let line = lines.last().cloned().unwrap_or(Value::Null);
        if let MetricsSink::Memory(store) = &self.app.metrics {
            lock(store).clear();
        }
        let raised: Vec<Finding> = Finding::ALL
            .into_iter()
            .filter(|f| line[f.metric()] == 1)
            .collect();
        self.alarms.publish(&line);
        self.one_of_one.publish(&line);
        self.checks_in_period += 1;
        self.sim.check(
            "every check publishes its EMF line",
            !line.is_null(),
            || "no metrics line".into(),
        );
        self.sim.check(
            "HealthCheckOk is 1 exactly when nothing was found",
            (line[HEALTH_CHECK_OK] == 1) == raised.is_empty(),
            || format!("{line}"),
        );
        let calls = &self.model.calls()[calls_from..];
        let telegram_failed = calls.iter().any(|c| {
            c.status
                .is_none_or(|s| !(200..300).contains(&s) && s != 401)
        });
        let vault_failed = *lock(&self.vault.failed) > 0;
        let endpoint_failed = *lock(&self.endpoint.faulted) > 0;
        let publish_failed = *lock(&self.topic.failed) > 0;
        if report.alert_published {
            self.figures.alerts_delivered += 1;
        }
        if publish_failed {
            self.figures.alerts_undelivered += 1;
        }
        self.sim.check(
            "a failed alert publish is a finding, never silence",
            publish_failed == raised.contains(&Finding::AlertUndelivered),
            || format!("publish failed: {publish_failed}; raised {raised:?}"),
        );
        self.sim.check(
            "a check with problems publishes its notice or raises AlertUndelivered",
            report.problems.is_empty()
                || report.alert_published
                || raised.contains(&Finding::AlertUndelivered),
            || format!("{report:?}"),
        );
        self.sim.check(
            "no setWebhook is sent with a revoked token",
            !calls
                .iter()
                .any(|c| c.method == "setWebhook" && c.token == TokenState::Revoked),
            || "setWebhook with a revoked token".into(),
        );
        if report.repaired {
            self.figures.repairs += 1;
            let exact = self.matches_registration().await;
            let registration = self.registration().await;
            self.sim.check(
                "a repair restores exactly the registered settings",
                exact,
                || format!("webhook {:?} vs {registration:?}", self.model.webhook()),
            );
        }
        // Lasting problems: raised, or hidden behind a finding that stopped the check first.
        let masking = |order: usize| {
            [
                Finding::SecretUnreadable,
                Finding::CheckFailed,
                Finding::TelegramUnreachable,
                Finding::TokenRevoked,
            ][..order]
                .iter()
                .any(|f| raised.contains(f))
        };
        let drifted_after = !self.matches_registration().await;
        // The endpoint's state through the whole check (a window may end during it).
        let after = self.truth();
        let endpoint_down = before.endpoint_down && after.endpoint_down;
        let accepts_unsigned = before.accepts_unsigned && after.accepts_unsigned;
        // SNS down through the check while it had something to say.
        let alert_lost = topic_down_before && self.topic.is_down() && !report.problems.is_empty();
        let expected = [
            (before.secrets_down, Finding::SecretUnreadable, 0),
            (before.outage, Finding::TelegramUnreachable, 2),
            (before.revoked, Finding::TokenRevoked, 3),
            (before.delivery_error, Finding::DeliveryErrors, 4),
            (before.backlog, Finding::Backlog, 4),
            (drifted_after, Finding::WebhookDrifted, 4),
            (endpoint_down, Finding::EndpointProbeFailed, 4),
            (accepts_unsigned, Finding::EndpointAcceptsUnsigned, 4),
            (alert_lost, Finding::AlertUndelivered, 0),
        ];
        self.runs.push_back(Run {
            lasting: expected
                .iter()
                .filter(|(lasting, _, _)| *lasting)
                .map(|(_, f, _)| *f)
                .collect(),
            published: Finding::ALL
                .into_iter()
                .filter(|f| line[f.metric()].is_number())
                .collect(),
            raised: raised.clone(),
        });
        if self.runs.len() > 4 {
            self.runs.pop_front();
        }
        for (lasting, finding, order) in expected {
            if !lasting {
                continue;
            }
            // Or the check says it could not tell (the metric is left out).
            let ok =
                raised.contains(&finding) || masking(order) || report.unknown.contains(&finding);
            if !raised.contains(&finding) && ok {
                self.figures.masked += 1;
            }
            self.sim.check(
                "every lasting problem raises its finding at the first check that can see it",
                ok,
                || format!("{finding:?} not raised; raised {raised:?}; report {report:?}"),
            );
        }
        // Every finding has a cause.
        for finding in &raised {
            let lasting = match finding {
                Finding::SecretUnreadable => before.secrets_down,
                Finding::TelegramUnreachable => before.outage,
                Finding::TokenRevoked => before.revoked,
                Finding::DeliveryErrors => before.delivery_error,
                Finding::Backlog => before.backlog,
                Finding::WebhookDrifted => drifted_before && drifted_after,
                Finding::EndpointProbeFailed => before.endpoint_down || after.endpoint_down,
                Finding::EndpointAcceptsUnsigned => {
                    before.accepts_unsigned || after.accepts_unsigned
                }
                Finding::AlertUndelivered => alert_lost,
                _ => false,
            };
            let transient = match finding {
                Finding::SecretUnreadable | Finding::CheckFailed => vault_failed,
                Finding::TelegramUnreachable => telegram_failed,
                // A repair that a failed call stopped.
                Finding::WebhookDrifted => drifted_before && (telegram_failed || vault_failed),
                Finding::DeliveryErrors => self
                    .model
                    .last_error_date()
                    .is_some_and(|at| (self.sim.now() - at).num_seconds() <= RECENT_ERROR),
                Finding::Backlog => self.model.pending() > BACKLOG,
                // The signed probe failed twice on drawn faults (it tries once more).
                Finding::EndpointProbeFailed => endpoint_failed,
                Finding::AlertUndelivered => publish_failed,
                _ => false,
            };
            *self
                .figures
                .findings
                .entry(finding.metric().to_string())
                .or_insert(0) += 1;
            if lasting {
                self.figures.true_findings += 1;
            } else if transient {
                self.figures.transient_findings += 1;
            } else {
                self.figures.false_alarms += 1;
            }
            self.sim
                .check("no finding without a cause", lasting || transient, || {
                    format!("{finding:?} raised for a healthy bot: {report:?}")
                });
            if let Some(since) = self.causes.remove(finding) {
                self.figures
                    .detect_seconds
                    .entry(finding.metric().to_string())
                    .or_default()
                    .push((self.sim.now() - since).num_seconds());
            }
        }
        self.sim.trace(format!(
            "check: raised {raised:?}, repaired {}, pending {}",
            report.repaired, report.pending_update_count
        ));
    }

    /// CloudWatch evaluates the period that just ended (one check in it, or none while the
    /// schedule did not run); then the alarm invariants of issue #16: every problem puts
    /// its alarm into ALARM within two runs and back to OK within two runs after it ends,
    /// once per problem; a check that stops running puts `HealthCheckOk`'s into ALARM.
    fn evaluate(&mut self) {
        let now = self.sim.now();
        let checked = self.checks_in_period > 0;
        self.checks_in_period = 0;
        if checked {
            self.missed_in_row = 0;
        } else {
            self.missed_in_row += 1;
            self.figures.periods_without_a_check += 1;
        }
        let before: Vec<State> = self.alarms.alarms.iter().map(|a| a.state).collect();
        self.alarms.evaluate(now);
        let old_before: Vec<State> = self.one_of_one.alarms.iter().map(|a| a.state).collect();
        self.one_of_one.evaluate(now);
        let latest = self.runs.back().cloned().filter(|_| checked);
        if let Some(run) = &latest {
            for f in Finding::ALL {
                if !run.lasting.contains(&f) {
                    self.paged.remove(&f);
                }
            }
        }
        let recent = |n: usize| -> Vec<&Run> { self.runs.iter().rev().take(n).collect() };
        let mut pages = Vec::new();
        for (alarm, was) in self.alarms.alarms.iter().zip(before) {
            let spec = alarm.spec;
            let to_alarm = was != State::Alarm && alarm.state == State::Alarm;
            if to_alarm {
                pages.push(spec.metric);
            }
            if spec.metric == HEALTH_CHECK_OK {
                if self.missed_in_row >= spec.m as u64 {
                    self.sim.check(
                        "a check that stops running puts HealthCheckOk's alarm into ALARM",
                        alarm.state == State::Alarm,
                        || format!("{} periods without a check", self.missed_in_row),
                    );
                }
                continue;
            }
            let Some(finding) = Finding::ALL.into_iter().find(|f| f.metric() == spec.metric) else {
                continue;
            };
            if latest.is_none() {
                continue;
            }
            let window = recent(spec.m.max(spec.n));
            let caused = recent(spec.m).iter().any(|r| r.lasting.contains(&finding));
            if to_alarm && !caused {
                self.figures.pages_for_a_healthy_bot += 1;
            }
            if to_alarm && caused {
                self.sim.check(
                    "a problem gives one ALARM, not one per check",
                    !self.paged.get(&finding).copied().unwrap_or(false),
                    || format!("{finding:?} paged twice in one episode"),
                );
                self.paged.insert(finding, true);
            }
            let alarming = recent(spec.m);
            if alarming.len() == spec.m
                && alarming
                    .iter()
                    .all(|r| r.lasting.contains(&finding) && r.published.contains(&finding))
            {
                self.sim.check(
                    "every problem puts its alarm into ALARM within two runs",
                    alarm.state == State::Alarm,
                    || {
                        format!(
                            "{finding:?} lasted {} runs, alarm {:?}",
                            spec.m, alarm.state
                        )
                    },
                );
            }
            if window.len() == spec.n
                && window.iter().all(|r| {
                    // A check that stopped before it could look keeps the state: the
                    // problem's end is seen by the next check that can look.
                    !r.lasting.contains(&finding)
                        && !r.raised.contains(&finding)
                        && r.published.contains(&finding)
                })
            {
                self.sim.check(
                    "an alarm is back to OK within two runs after its problem ends (and can be seen)",
                    alarm.state != State::Alarm,
                    || format!("{finding:?} still in ALARM"),
                );
            }
        }
        for metric in pages {
            *self.figures.pages.entry(metric.to_string()).or_insert(0) += 1;
            self.sim.trace(format!("ALARM {metric}"));
        }
        for (alarm, was) in self.one_of_one.alarms.iter().zip(old_before) {
            let to_alarm = was != State::Alarm && alarm.state == State::Alarm;
            let finding = Finding::ALL
                .into_iter()
                .find(|f| f.metric() == alarm.spec.metric);
            if let (true, Some(f), Some(run)) = (to_alarm, finding, &latest) {
                if !run.lasting.contains(&f) {
                    self.figures.pages_for_a_healthy_bot_one_of_one += 1;
                }
            }
        }
    }

    /// Whether Telegram's webhook is exactly the registration (record, else environment).
    async fn matches_registration(&self) -> bool {
        let Some(webhook) = self.model.webhook() else {
            return false;
        };
        let Some(reg) = self.registration().await else {
            return webhook.url
                == self
                    .app
                    .config
                    .defaults
                    .webhook_url
                    .clone()
                    .unwrap_or_default();
        };
        let secret = self
            .vault
            .inner
            .get(WEBHOOK_SECRET)
            .map(|s| sha256(&s))
            .unwrap_or_default();
        webhook.url == reg.webhook_url
            && Some(webhook.max_connections) == reg.max_connections.or(Some(40))
            && webhook.allowed_updates == reg.allowed_updates
            && webhook.secret_token.as_deref().map(sha256) == Some(reg.secret_token_sha256.clone())
            && secret == reg.secret_token_sha256
    }

    /// One CloudFormation request through the custom resource's logic. A FAILED answer is
    /// retried by the operator [`RETRY_AFTER`] later, as a happening of its own: the world
    /// (a token put back, an outage ending) goes on meanwhile.
    async fn cloudformation(&mut self, kind: &str, event: Value) -> Result<String, String> {
        self.requests += 1;
        self.figures.cfn_requests += 1;
        self.sim.step();
        let request: Request = serde_json::from_value(event)
            .map_err(|e| format!("the simulated request does not parse: {e}"))?;
        let invocation = self.sim.invocation(BUDGET);
        let work = invocation
            .deadline
            .less(self.app.responder.response_reserve);
        let claim = Claim::default();
        let answered = work
            .run(self.app.custom_resource(request, work, claim.clone()))
            .await;
        self.sim.check(
            "every CloudFormation request is answered before the deadline",
            answered.is_ok(),
            || format!("{kind} ran past its deadline"),
        );
        match answered {
            Ok(Ok(outcome)) => {
                self.sim.trace(format!(
                    "CloudFormation {kind}: SUCCESS {}",
                    outcome.physical_resource_id
                ));
                Ok(outcome.physical_resource_id)
            }
            Ok(Err(failure)) => {
                self.figures.cfn_failed += 1;
                self.sim.check(
                    "a FAILED answer says why",
                    !failure.reason.is_empty(),
                    String::new,
                );
                self.sim
                    .trace(format!("CloudFormation {kind}: FAILED {}", failure.reason));
                Err(failure.reason)
            }
            Err(_) => Err("timed out".into()),
        }
    }
}

/// Happenings, in time order.
#[derive(Debug, Clone)]
enum Happening {
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
const RETRY_AFTER: chrono::Duration = chrono::Duration::minutes(30);
/// Attempts of one CloudFormation request before the run calls it stuck: a day of
/// retries, longer than any of the scenario's problems lasts (8 hours at most).
const MAX_ATTEMPTS: u32 = 48;

/// The happenings still to come, in time order; at the same moment everything else comes
/// before the health check, then in the order planned.
#[derive(Default)]
struct Plan {
    queue: BTreeMap<(DateTime<Utc>, bool, u64), Happening>,
    planned: u64,
    /// Attempts per CloudFormation request (keyed by its happening's name).
    attempts: BTreeMap<String, u32>,
}

impl Plan {
    fn at(&mut self, at: DateTime<Utc>, happening: Happening) {
        self.planned += 1;
        let is_check = matches!(happening, Happening::Check);
        self.queue.insert((at, is_check, self.planned), happening);
    }

    fn next(&mut self) -> Option<(DateTime<Utc>, Happening)> {
        self.queue.pop_first().map(|((at, _, _), h)| (at, h))
    }

    /// Plans the retry of a request that failed; false once it failed [`MAX_ATTEMPTS`] times.
    fn retry(&mut self, now: DateTime<Utc>, happening: Happening) -> bool {
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

async fn weeks(sim: Arc<Sim>) -> Figures {
    let start = sim.now();
    let model = TelegramModel::new(sim.clone(), TOKEN, 0.3);
    let vault = SimVault::new(sim.clone());
    let endpoint = EndpointModel::new(sim.clone(), vault.inner.clone(), WEBHOOK_SECRET);
    let topic = SimTopic::new(sim.clone());
    let built = match app(&model, &vault, &endpoint, &topic, URL) {
        Ok(built) => built,
        Err(e) => {
            sim.check("the simulated function builds", false, || e);
            return Figures::default();
        }
    };
    let mut w = World {
        sim: sim.clone(),
        model,
        vault,
        endpoint,
        topic,
        app: built,
        revoked: false,
        physical_id: None,
        figures: Figures::default(),
        causes: BTreeMap::new(),
        requests: 0,
        alarms: Alarms::of_template(),
        one_of_one: Alarms::of(
            alarms::template_alarms()
                .into_iter()
                .map(|spec| match spec.metric {
                    HEALTH_CHECK_OK => spec,
                    _ => AlarmSpec { m: 1, n: 1, ..spec },
                })
                .collect(),
        ),
        runs: VecDeque::new(),
        checks_in_period: 0,
        paged: BTreeMap::new(),
        missed_in_row: 0,
    };
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

    let mut url = URL;
    let mut max = 40;
    let mut stack_deleted = false;
    let mut paused_until: Option<DateTime<Utc>> = None;
    while let Some((at, happening)) = plan.next() {
        sim.sleep_until(at).await;
        // A request that failed: retried later, unless it has failed for a day.
        let failed = |plan: &mut Plan, happening: Happening| {
            let retried = plan.retry(sim.now(), happening.clone());
            sim.check(
                "a CloudFormation request succeeds once what stopped it has ended",
                retried,
                || format!("{happening:?} failed {MAX_ATTEMPTS} times"),
            );
        };
        match happening {
            Happening::Check => {
                if paused_until.is_some_and(|until| at < until) {
                    sim.trace("the schedule is disabled: no check");
                } else {
                    w.check().await;
                }
            }
            Happening::Evaluate => w.evaluate(),
            Happening::SchedulePaused(until) => {
                paused_until = Some(until);
                sim.trace("someone disables the health check's schedule");
            }
            Happening::Create => {
                let event = request("Create", 0, props(URL, 40), None, None);
                match w.cloudformation("Create", event).await {
                    Ok(id) => w.physical_id = Some(id),
                    Err(_) => failed(&mut plan, Happening::Create),
                }
            }
            Happening::Update(n) => {
                let id = w.physical_id.clone();
                let event = request(
                    "Update",
                    1,
                    props(url, n),
                    Some(props(url, max)),
                    id.as_deref(),
                );
                match w.cloudformation("Update", event).await {
                    Ok(new) => {
                        max = n;
                        sim.check(
                            "an Update of the same URL keeps the physical id",
                            Some(&new) == w.physical_id.as_ref(),
                            || new.clone(),
                        );
                    }
                    Err(_) => failed(&mut plan, Happening::Update(n)),
                }
            }
            Happening::MoveUrl => {
                // The deploy changes the function's environment, then the resource.
                match app(&w.model, &w.vault, &w.endpoint, &w.topic, URL2) {
                    Ok(next) => w.app = next,
                    Err(e) => sim.check("the simulated function builds", false, || e),
                }
                let old = props(url, max);
                let old_id = w.physical_id.clone();
                let event = request(
                    "Update",
                    2,
                    props(URL2, max),
                    Some(old.clone()),
                    old_id.as_deref(),
                );
                match w.cloudformation("Update", event).await {
                    Ok(new) => {
                        sim.check(
                            "a new URL is a new physical id",
                            Some(&new) != old_id.as_ref(),
                            || new.clone(),
                        );
                        url = URL2;
                        w.physical_id = Some(new);
                        // CloudFormation's clean-up deletes the old resource.
                        plan.at(sim.now(), Happening::DeleteReplaced(old, old_id));
                    }
                    Err(_) => failed(&mut plan, Happening::MoveUrl),
                }
            }
            Happening::DeleteReplaced(old, old_id) => {
                let before = w.model.webhook();
                let event = request("Delete", 3, old.clone(), None, old_id.as_deref());
                match w.cloudformation("Delete", event).await {
                    // Its webhook was replaced already: whatever the bot has now stays.
                    Ok(_) => sim.check(
                        "deleting the replaced resource leaves the new webhook alone",
                        w.model.webhook() == before,
                        || format!("{before:?} became {:?}", w.model.webhook()),
                    ),
                    Err(_) => failed(&mut plan, Happening::DeleteReplaced(old, old_id)),
                }
            }
            Happening::DeleteStack => {
                let id = w.physical_id.clone();
                let event = request("Delete", 4, props(url, max), None, id.as_deref());
                match w.cloudformation("Delete", event).await {
                    Ok(_) => {
                        stack_deleted = true;
                        sim.check(
                            "the stack's Delete removes the webhook",
                            w.model.webhook().is_none(),
                            || format!("{:?}", w.model.webhook()),
                        );
                    }
                    Err(_) => failed(&mut plan, Happening::DeleteStack),
                }
            }
            Happening::Revoke => {
                w.model.revoke();
                w.revoked = true;
                w.cause(Finding::TokenRevoked);
                sim.trace("the bot token is revoked");
            }
            Happening::Restore => {
                let token = w.model.token();
                // MemoryVault's values are shared: the app's vault sees the new token.
                let _ = w.vault.inner.clone().with(BOT_SECRET, &token);
                w.revoked = false;
                sim.trace("the operator stores the new bot token");
            }
            Happening::SecretsDown => w.cause(Finding::SecretUnreadable),
            Happening::OutageStarts => w.cause(Finding::TelegramUnreachable),
            Happening::Drift(kind) => {
                let Some(mut hook) = w.model.webhook() else {
                    continue;
                };
                match kind {
                    0 => hook.url = STRANGER_URL.to_string(),
                    1 => hook.max_connections = 100,
                    _ => hook.allowed_updates = None,
                }
                w.model.set_by_hand(hook);
                w.figures.drifts_by_hand += 1;
                sim.trace(format!("someone changes the webhook by hand ({kind})"));
            }
            Happening::EndpointFails => {
                for u in [URL, URL2] {
                    w.model.endpoint_failing(u, true);
                }
                w.cause(Finding::DeliveryErrors);
                w.cause(Finding::EndpointProbeFailed);
                sim.trace("the bot's endpoint starts failing");
            }
            Happening::EndpointRecovers => {
                for u in [URL, URL2] {
                    w.model.endpoint_failing(u, false);
                }
                sim.trace("the bot's endpoint recovers");
            }
            Happening::StopsCheckingToken => {
                w.cause(Finding::EndpointAcceptsUnsigned);
                sim.trace("the bot's endpoint stops checking the secret token");
            }
            Happening::ChecksTokenAgain => {
                sim.trace("the bot's endpoint checks the secret token again");
            }
            Happening::SnsDown => {
                w.cause(Finding::AlertUndelivered);
                sim.trace("SNS refuses every publish");
            }
        }
        if w.model.pending() > BACKLOG {
            w.cause(Finding::Backlog);
        }
    }
    sim.check("the stack is deleted at the end", stack_deleted, || {
        "the stack's Delete never succeeded".into()
    });
    let mut figures = w.figures;
    figures.telegram_calls = w.model.calls_len() as u64;
    (figures.updates_delivered, figures.updates_expired) = w.model.deliveries();
    figures
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
            let f = weeks(sim).await;
            lock(&collected).push(f);
        }
    });
    let figures = lock(&all).clone();
    (summary, figures)
}
