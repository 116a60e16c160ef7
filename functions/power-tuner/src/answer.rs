//! What the handler answers: a finished run's output, a run's status (also the answer
//! to a hand-off and to a continuation that found nothing to do), and the `cleanup`
//! action's report.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::cleanup::CleanupReport;
use crate::output::Response;
use crate::state::{Phase, RunState};

/// One invocation's answer; each shape serializes as itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// A finished run: Power Tuning's output plus ours.
    Done(Box<Response>),
    /// A run's progress.
    Status(Box<Status>),
    /// The `cleanup` action's report on the run it stopped.
    Cleaned {
        #[serde(rename = "runId")]
        run_id: String,
        cleanup: CleanupReport,
    },
    /// `cleanup` by `lambdaARN` for a function that no run holds.
    NothingToClean { cleanup: &'static str },
}

impl Answer {
    pub const NO_RUN: Self = Self::NothingToClean {
        cleanup: "no run has tuned this function",
    };
}

/// Said of a run handed on to the tuner's next invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Handed {
    Continuing,
}

/// A run's progress (`status`), and its result once done.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Handed>,
    pub run_id: String,
    pub function: String,
    pub phase: Phase,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub values_measured: usize,
    pub values_planned: usize,
    pub invocations: usize,
    pub tuner_invocations: u32,
    pub tuner_seconds: f64,
    pub warnings: Vec<String>,
    /// Present (`null`) while the run has not failed: readers test it, not its presence.
    pub failure: Option<String>,
    /// Why a continuation did nothing (a duplicate delivery, or a run taken over).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// The finished run's answer, as stored with the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
}

impl Status {
    pub fn of(st: &RunState) -> Self {
        Self {
            status: None,
            run_id: st.run_id.clone(),
            function: st.function.clone(),
            phase: st.phase,
            started_at: st.started_at,
            updated_at: st.updated_at,
            values_measured: st.measured_count(),
            values_planned: st.plan.len(),
            invocations: st.invocations,
            tuner_invocations: st.tuner_invocations,
            tuner_seconds: st.tuner_seconds,
            warnings: st.warnings.clone(),
            failure: st.failure.clone(),
            skipped: None,
            result: st.result.clone(),
        }
    }
}

impl From<Status> for Answer {
    fn from(status: Status) -> Self {
        Self::Status(Box::new(status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn status() -> Status {
        let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        Status {
            status: None,
            run_id: "run-1".into(),
            function: "fn".into(),
            phase: Phase::Measuring,
            started_at: at,
            updated_at: at,
            values_measured: 1,
            values_planned: 3,
            invocations: 20,
            tuner_invocations: 2,
            tuner_seconds: 1.5,
            warnings: vec!["w".into()],
            failure: None,
            skipped: None,
            result: None,
        }
    }

    fn wire(answer: impl Into<Answer>) -> Value {
        serde_json::to_value(answer.into()).unwrap()
    }

    #[test]
    fn a_status_keeps_its_wire() {
        let common = json!({"runId": "run-1", "function": "fn", "phase": "measuring",
            "startedAt": "2026-01-02T03:04:05Z", "updatedAt": "2026-01-02T03:04:05Z",
            "valuesMeasured": 1, "valuesPlanned": 3, "invocations": 20,
            "tunerInvocations": 2, "tunerSeconds": 1.5, "warnings": ["w"], "failure": null});
        assert_eq!(wire(status()), common);
        let with = |extra: Value| {
            let mut v = common.clone();
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            v
        };
        let handed = Status {
            status: Some(Handed::Continuing),
            ..status()
        };
        assert_eq!(wire(handed), with(json!({"status": "continuing"})));
        let skipped = Status {
            skipped: Some("busy".into()),
            ..status()
        };
        assert_eq!(wire(skipped), with(json!({"skipped": "busy"})));
        let done = Status {
            phase: Phase::Done,
            result: Some(json!({"power": 128})),
            failure: Some("f".into()),
            ..status()
        };
        assert_eq!(
            wire(done),
            with(json!({"phase": "done", "failure": "f", "result": {"power": 128}}))
        );
    }

    #[test]
    fn the_cleanup_answers_keep_their_wire() {
        assert_eq!(
            wire(Answer::NO_RUN),
            json!({"cleanup": "no run has tuned this function"})
        );
        let report = CleanupReport {
            complete: true,
            ..Default::default()
        };
        let cleaned = Answer::Cleaned {
            run_id: "run-1".into(),
            cleanup: report.clone(),
        };
        assert_eq!(
            wire(cleaned),
            json!({"runId": "run-1", "cleanup": serde_json::to_value(report).unwrap()})
        );
    }
}
