//! The template's alarms on the health check's metrics, evaluated as CloudWatch evaluates
//! them, so that the scenario's invariants speak of what a person is told (one ALARM when a
//! problem starts, one OK when it ends) rather than of single EMF lines.
//!
//! CloudWatch User Guide, "Evaluating an alarm": each period's datapoint is the alarm's
//! statistic over the period; the alarm is in ALARM when at least `DatapointsToAlarm` (M)
//! of the last `EvaluationPeriods` (N) datapoints breach. "Configuring how CloudWatch
//! alarms treat missing data": `breaching` counts a period without data as breaching,
//! `ignore` keeps the current state (the evaluation range reaches back over the missing
//! periods).
//! ASSUMPTION (simplified): with `ignore`, the range is the last N periods that have data;
//! an alarm goes back to OK as soon as fewer than M of them breach.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use serde_json::Value;
use telegram_webhook::health::{Finding, HEALTH_CHECK_OK};

/// How an alarm is set in `template.yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlarmSpec {
    pub metric: &'static str,
    /// `DatapointsToAlarm` (M) of `EvaluationPeriods` (N).
    pub m: usize,
    pub n: usize,
    /// `TreatMissingData: breaching` (else `ignore`).
    pub missing_breaches: bool,
    /// `HealthCheckOk`: `Minimum < 1`; every finding: `Maximum > 0`.
    pub below_one: bool,
}

/// The template's alarms (`TelegramWebhook*Alarm`): findings that do not mend themselves
/// alarm on one run, the others on two in a row; `HealthCheckOk` on two, missing data
/// breaching.
pub fn template_alarms() -> Vec<AlarmSpec> {
    let mut specs: Vec<AlarmSpec> = Finding::ALL
        .into_iter()
        .map(|f| {
            let at_once = matches!(
                f,
                Finding::TokenRevoked | Finding::ConfigInvalid | Finding::EndpointAcceptsUnsigned
            );
            let runs = if at_once { 1 } else { 2 };
            AlarmSpec {
                metric: f.metric(),
                m: runs,
                n: runs,
                missing_breaches: false,
                below_one: false,
            }
        })
        .collect();
    specs.push(AlarmSpec {
        metric: HEALTH_CHECK_OK,
        m: 2,
        n: 2,
        missing_breaches: true,
        below_one: true,
    });
    specs
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    InsufficientData,
    Ok,
    Alarm,
}

/// One alarm: its datapoints per period and its state changes.
#[derive(Debug, Clone)]
pub struct Alarm {
    pub spec: AlarmSpec,
    /// Breaching or not, per evaluated period (the last N kept).
    range: VecDeque<bool>,
    /// The datapoint of the period in progress (the statistic so far).
    current: Option<f64>,
    pub state: State,
    /// (when, new state) for every change.
    pub changes: Vec<(DateTime<Utc>, State)>,
}

impl Alarm {
    pub fn new(spec: AlarmSpec) -> Self {
        Self {
            spec,
            range: VecDeque::new(),
            current: None,
            state: State::InsufficientData,
            changes: Vec::new(),
        }
    }

    /// A value published in the period in progress (an EMF line's metric).
    pub fn put(&mut self, value: f64) {
        self.current = Some(match (self.current, self.spec.below_one) {
            (None, _) => value,
            (Some(v), true) => v.min(value),
            (Some(v), false) => v.max(value),
        });
    }

    /// Closes the period ending at `at` and evaluates the alarm.
    pub fn evaluate(&mut self, at: DateTime<Utc>) {
        let breaching = match self.current.take() {
            Some(v) if self.spec.below_one => v < 1.0,
            Some(v) => v > 0.0,
            None if self.spec.missing_breaches => true,
            None => return,
        };
        self.range.push_back(breaching);
        while self.range.len() > self.spec.n {
            self.range.pop_front();
        }
        let breaches = self.range.iter().filter(|b| **b).count();
        let next = if breaches >= self.spec.m {
            State::Alarm
        } else {
            State::Ok
        };
        if next != self.state {
            self.state = next;
            self.changes.push((at, next));
        }
    }
}

/// Every alarm of the template.
#[derive(Debug, Clone)]
pub struct Alarms {
    pub alarms: Vec<Alarm>,
}

impl Alarms {
    pub fn of_template() -> Self {
        Self::of(template_alarms())
    }

    pub fn of(specs: Vec<AlarmSpec>) -> Self {
        Self {
            alarms: specs.into_iter().map(Alarm::new).collect(),
        }
    }

    /// One EMF line of a check.
    pub fn publish(&mut self, line: &Value) {
        for alarm in &mut self.alarms {
            if let Some(v) = line[alarm.spec.metric].as_f64() {
                alarm.put(v);
            }
        }
    }

    /// Closes the period ending at `at`.
    pub fn evaluate(&mut self, at: DateTime<Utc>) {
        for alarm in &mut self.alarms {
            alarm.evaluate(at);
        }
    }

    pub fn get(&self, metric: &str) -> Option<&Alarm> {
        self.alarms.iter().find(|a| a.spec.metric == metric)
    }

    pub fn state(&self, metric: &str) -> State {
        self.get(metric)
            .map_or(State::InsufficientData, |a| a.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(minutes: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(minutes * 60, 0).unwrap()
    }

    #[test]
    fn two_of_two_ignores_one_breach_and_alarms_on_two() {
        let mut a = Alarm::new(AlarmSpec {
            metric: "Backlog",
            m: 2,
            n: 2,
            missing_breaches: false,
            below_one: false,
        });
        for (i, v) in [0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0].into_iter().enumerate() {
            a.put(v);
            a.evaluate(t(15 * i as i64));
        }
        let states: Vec<State> = a.changes.iter().map(|(_, s)| *s).collect();
        assert_eq!(states, [State::Ok, State::Alarm, State::Ok]);
        assert_eq!(a.changes[1].0, t(60));
        // Missing data (ignore) keeps the state.
        a.evaluate(t(120));
        assert_eq!(a.changes.len(), 3);
    }

    #[test]
    fn a_check_that_stops_running_breaches_health_check_ok() {
        let mut a = Alarm::new(template_alarms().pop().unwrap());
        assert_eq!(a.spec.metric, HEALTH_CHECK_OK);
        a.put(1.0);
        a.evaluate(t(15));
        assert_eq!(a.state, State::Ok);
        a.evaluate(t(30));
        assert_eq!(a.state, State::Ok, "one missing period is not two");
        a.evaluate(t(45));
        assert_eq!(a.state, State::Alarm);
    }
}
