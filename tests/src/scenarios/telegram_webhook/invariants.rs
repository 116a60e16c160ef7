//! The invariants: after every health check ([`World::check`]), and after every alarm
//! evaluation ([`World::evaluate`]).

use serde_json::Value;
use telegram_webhook::health::{Finding, MetricsSink, HEALTH_CHECK_OK};

use super::alarms::State;
use super::{Run, World, BACKLOG, BUDGET, RECENT_ERROR};
use crate::kernel::lock;
use crate::models::telegram::TokenState;

impl World {
    /// One scheduled check and its invariants.
    pub(super) async fn check(&mut self) {
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
    pub(super) fn evaluate(&mut self) {
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
}
