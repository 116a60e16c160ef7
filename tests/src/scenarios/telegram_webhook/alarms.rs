//! The template's alarms on the health check's metrics, evaluated as CloudWatch evaluates
//! them, so that the scenario's invariants speak of what a person is told (one ALARM when a
//! problem starts, one OK when it ends) rather than of single EMF lines.
//!
//! What is taken from CloudWatch's documentation (User Guide, "Using Amazon CloudWatch
//! alarms": "Evaluating an alarm", "Configuring how CloudWatch alarms treat missing data";
//! API reference, `PutMetricAlarm`), each an assumption of this model:
//!
//! - ASSUMPTION (period aggregation): each period's datapoint is the alarm's `Statistic`
//!   over the values put in that `Period` (900 s here): `Maximum` for the findings (a run
//!   that found it makes the period breach), `Minimum` for `HealthCheckOk` (one run that was
//!   not OK makes it breach). [`Alarm::put`] keeps that running statistic.
//! - ASSUMPTION (threshold): a finding breaches when `Maximum > 0`
//!   (`GreaterThanThreshold 0`), `HealthCheckOk` when `Minimum < 1`
//!   (`LessThanThreshold 1`).
//! - ASSUMPTION (M of N): the alarm is in ALARM when at least `DatapointsToAlarm` (M) of the
//!   last `EvaluationPeriods` (N) datapoints breach, and OK otherwise; without
//!   `DatapointsToAlarm`, M = N (the template's 1-of-1 alarms).
//! - ASSUMPTION (TreatMissingData `ignore`, every finding's alarm): a period without a
//!   datapoint is not evaluated: the state stays. The documentation says the evaluation
//!   range then reaches back over the missing periods to the last N with data; the model
//!   keeps exactly those (the last N periods that have data), so an alarm goes back to OK as
//!   soon as fewer than M of them breach. A check that could not look leaves a metric out
//!   (`HealthReport::unknown`): that is a missing datapoint, not a 0.
//! - ASSUMPTION (TreatMissingData `breaching`, `HealthCheckOk`): a period without a datapoint
//!   counts as breaching, so a schedule that stops running alarms after M missed periods.
//! - ASSUMPTION (timing): CloudWatch evaluates a period once, some minutes after it ends,
//!   with every datapoint of it in (the scenario evaluates 5 minutes after each run; late
//!   data, which CloudWatch may evaluate again, is not modelled).
//! - ASSUMPTION (start): an alarm starts in INSUFFICIENT_DATA and its first evaluation moves
//!   it to OK or ALARM; the change out of INSUFFICIENT_DATA to OK notifies no one here
//!   (the template has no `InsufficientDataActions`).
//! - ASSUMPTION (notices): every state change runs the `AlarmActions` / `OKActions` once;
//!   a notice that the alarms topic fails to deliver is not modelled here (the function's
//!   own publishes are: `topic.rs`).
//!
//! Checked against the template: `alarms_match_the_template` reads each alarm's
//! `Statistic`, `Period`, `EvaluationPeriods`, `DatapointsToAlarm`, threshold and
//! `TreatMissingData` from `template.yaml`. Checked against moto (5.2.1, the local AWS):
//! only what it implements, by reading its CloudWatch backend: `PutMetricAlarm` stores these
//! settings and `DescribeAlarms` returns them, `SetAlarmState` validates the state name and
//! records a history item, and nothing more: moto never evaluates datapoints against an
//! alarm, runs no alarm actions, and starts a new alarm in OK ("Unchecked: Initial alarm
//! creation") where CloudWatch starts it in INSUFFICIENT_DATA. So none of the evaluation
//! semantics above could be checked against it; they rest on the documentation.

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
    use std::collections::BTreeMap;

    /// The template's alarms on the health metrics: metric name → their top-level
    /// properties (`Key: value` lines), read as text (the simulation tier has no YAML crate;
    /// these alarms are plain one-line properties).
    fn template_health_alarms() -> BTreeMap<String, BTreeMap<String, String>> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
        let text = std::fs::read_to_string(path).expect("template.yaml");
        let mut alarms = BTreeMap::new();
        let mut block: Vec<&str> = Vec::new();
        let mut flush = |block: &mut Vec<&str>| {
            let props: BTreeMap<String, String> = block
                .iter()
                .filter(|l| l.starts_with("      ") && !l.starts_with("       "))
                .filter_map(|l| l.trim().split_once(": "))
                .map(|(k, v)| (k.to_string(), v.trim().to_string()))
                .collect();
            if props.get("Namespace").map(String::as_str) == Some("groundcrew/telegram-webhook") {
                if let Some(metric) = props.get("MetricName") {
                    alarms.insert(metric.clone(), props);
                }
            }
            block.clear();
        };
        for line in text.lines() {
            let resource =
                line.starts_with("  ") && !line.starts_with("   ") && line.ends_with(':');
            if resource {
                flush(&mut block);
            }
            block.push(line);
        }
        flush(&mut block);
        alarms
    }

    #[test]
    fn alarms_match_the_template() {
        let template = template_health_alarms();
        let specs = template_alarms();
        assert_eq!(
            template.keys().cloned().collect::<Vec<_>>().len(),
            specs.len(),
            "one alarm per metric: {:?}",
            template.keys()
        );
        for spec in specs {
            let p = template
                .get(spec.metric)
                .unwrap_or_else(|| panic!("no alarm on {} in template.yaml", spec.metric));
            let get = |k: &str| p.get(k).map(String::as_str);
            assert_eq!(get("Period"), Some("900"), "{}", spec.metric);
            assert_eq!(
                get("EvaluationPeriods"),
                Some(spec.n.to_string().as_str()),
                "{}",
                spec.metric
            );
            let m = get("DatapointsToAlarm").unwrap_or(get("EvaluationPeriods").unwrap_or(""));
            assert_eq!(m, spec.m.to_string(), "{}", spec.metric);
            let missing = if spec.missing_breaches {
                "breaching"
            } else {
                "ignore"
            };
            assert_eq!(get("TreatMissingData"), Some(missing), "{}", spec.metric);
            let (statistic, threshold, comparison) = if spec.below_one {
                ("Minimum", "1", "LessThanThreshold")
            } else {
                ("Maximum", "0", "GreaterThanThreshold")
            };
            assert_eq!(get("Statistic"), Some(statistic), "{}", spec.metric);
            assert_eq!(get("Threshold"), Some(threshold), "{}", spec.metric);
            assert_eq!(
                get("ComparisonOperator"),
                Some(comparison),
                "{}",
                spec.metric
            );
        }
    }

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
