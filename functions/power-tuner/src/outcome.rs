//! A finished run as the analysis and the report see it.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::cleanup::CleanupReport;
use crate::lambda::FunctionState;
use crate::plan::{Estimate, Target, ValueRun};
use crate::state::RunState;

/// A finished run, for the analysis and the report.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub run_id: String,
    pub original: FunctionState,
    pub values: BTreeMap<Target, ValueRun>,
    /// The order the values were given in (architecture, then power value).
    pub order: Vec<Target>,
    pub estimate: Option<Estimate>,
    pub cleanup: CleanupReport,
    pub deadline_reached: bool,
    /// Wall time from the start of the run to its end, over all the tuner's invocations.
    pub wall: Duration,
    pub invocations: usize,
    pub tuner_invocations: u32,
    pub tuner_seconds: f64,
    pub warnings: Vec<String>,
}

impl RunOutcome {
    pub fn from_state(
        state: &RunState,
        cleanup: CleanupReport,
        deadline_reached: bool,
        wall: Duration,
    ) -> Self {
        let mut values: BTreeMap<Target, ValueRun> = state
            .values
            .iter()
            .map(|m| (m.target, m.run.clone()))
            .collect();
        for run in values.values_mut() {
            let done = run.reports.len() + run.allowed_errors;
            if run.failure.is_none() && done < run.planned {
                run.failure = Some(format!(
                    "interrupted by the deadline after {done} of {} invocations",
                    run.planned
                ));
            }
        }
        Self {
            run_id: state.run_id.clone(),
            original: state.original.clone(),
            values,
            order: state.plan.clone(),
            estimate: state.estimate.clone(),
            cleanup,
            deadline_reached,
            wall,
            invocations: state.invocations,
            tuner_invocations: state.tuner_invocations,
            tuner_seconds: state.tuner_seconds,
            warnings: state.warnings.clone(),
        }
    }
}
