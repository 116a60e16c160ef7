//! A run's state in S3 (the report bucket): the request, the plan, the measurements so
//! far, the function's original configuration and the ledger of what the run created.
//! Written before the first change and after every step that matters, so that any later
//! invocation, or a `cleanup` action after a hard kill, can put the function back.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::input::{S3Location, TuneInput};
use crate::lambda::{CodeSource, FunctionState};
use crate::run::{Estimate, Target, ValueRun};
use crate::store::{Condition, ObjectStore, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Phase {
    Measuring,
    Done,
    Failed,
}

/// What a run created on the function, recorded before it is created.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ledger {
    pub aliases: Vec<String>,
    /// Versions known by number. A version published when the invocation died before its
    /// number was recorded is still found: it carries the run's marker as its description.
    pub versions: Vec<String>,
}

impl Ledger {
    pub fn is_empty(&self) -> bool {
        self.aliases.is_empty() && self.versions.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Measured {
    pub target: Target,
    pub run: ValueRun,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunState {
    pub run_id: String,
    pub function: String,
    /// The input as read, checked again by every invocation of the run.
    pub request: TuneInput,
    pub phase: Phase,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub original: FunctionState,
    /// The original package, kept before the first architecture switch (`package`);
    /// the restore deploys exactly this.
    #[serde(default)]
    pub original_code: Option<CodeSource>,
    /// Versions that existed before the run: never deleted.
    pub existing_versions: Vec<String>,
    /// The description of every version the run publishes.
    pub marker: String,
    pub ledger: Ledger,
    /// The configurations to measure, in order.
    pub plan: Vec<Target>,
    pub values: Vec<Measured>,
    pub estimate: Option<Estimate>,
    /// Invocations of the tuner that worked on the run.
    pub tuner_invocations: u32,
    /// Invocations of the function under test.
    pub invocations: usize,
    /// Seconds the tuner's invocations spent on the run (what it pays for).
    pub tuner_seconds: f64,
    pub warnings: Vec<String>,
    pub failure: Option<String>,
    /// The final answer, once done: kept as JSON, since it is only ever sent back as it
    /// is (`status`), and a field it gains or loses must not make older runs unreadable.
    pub result: Option<Value>,
}

impl RunState {
    pub fn value(&self, target: Target) -> Option<&ValueRun> {
        self.values
            .iter()
            .find(|m| m.target == target)
            .map(|m| &m.run)
    }

    pub fn value_mut(&mut self, target: Target) -> &mut ValueRun {
        if let Some(i) = self.values.iter().position(|m| m.target == target) {
            &mut self.values[i].run
        } else {
            self.values.push(Measured {
                target,
                run: ValueRun::default(),
            });
            let last = self.values.len() - 1;
            &mut self.values[last].run
        }
    }

    /// Invocations still to make for a target (none once it failed).
    pub fn remaining(&self, target: Target) -> usize {
        match self.value(target) {
            Some(r) if r.failure.is_some() => 0,
            Some(r) => r.planned.saturating_sub(r.reports.len() + r.allowed_errors),
            None => 0,
        }
    }

    pub fn measured_count(&self) -> usize {
        self.plan
            .iter()
            .filter(|t| self.remaining(**t) == 0)
            .count()
    }

    pub fn complete(&self) -> bool {
        self.plan.iter().all(|t| self.remaining(*t) == 0)
    }
}

/// The state's key.
pub fn location(bucket: &str, run_id: &str) -> S3Location {
    S3Location {
        bucket: bucket.to_string(),
        key: format!("tuner-state/runs/{run_id}.json"),
    }
}

/// A run id that is safe in a key: letters, digits and `-`, at most 64.
pub fn valid_run_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

pub async fn save<S: ObjectStore>(store: &S, bucket: &str, state: &RunState) -> Result<(), String> {
    let body = serde_json::to_vec(state).map_err(|e| format!("encoding the run state: {e}"))?;
    store
        .put(
            &location(bucket, &state.run_id),
            body,
            "application/json",
            Condition::Always,
        )
        .await
        .map_err(|e| format!("saving the run state: {e}"))
}

pub async fn load<S: ObjectStore>(
    store: &S,
    bucket: &str,
    run_id: &str,
) -> Result<Option<RunState>, String> {
    match store.get(&location(bucket, run_id)).await {
        Ok(None) => Ok(None),
        Ok(Some(o)) => serde_json::from_slice(&o.body)
            .map(Some)
            .map_err(|e| format!("reading the state of run {run_id}: {e}")),
        Err(StoreError::Conflict) => Ok(None),
        Err(StoreError::Other(e)) => Err(e),
    }
}
