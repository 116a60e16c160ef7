//! The actions on a run: `status`, `cleanup`, `continue`, and the cleanup after a run
//! that died.

use groundcrew::{Deadline, Invocation};

use super::{code_for, Tuner};
use crate::answer::{Answer, Status};
use crate::cleanup::{cleanup, CleanupReport, Scope};
use crate::event::{Action, ActionKind};
use crate::input::TuneRequest;
use crate::lambda::{CodeSource, LambdaApi};
use crate::lock::{self, Acquired, LockError};
use crate::state::{self, Phase, RunState};
use crate::store::ObjectStore;
use crate::Error;

impl<L: LambdaApi, S: ObjectStore> Tuner<L, S> {
    pub(super) async fn act(
        &self,
        action: Action,
        invocation: &Invocation,
    ) -> Result<Answer, Error> {
        let bucket = self.bucket()?;
        let run_id = match (&action.run_id, &action.lambda_arn) {
            (Some(id), _) => id.clone(),
            (None, Some(arn)) => {
                let (arn, _) = crate::input::split_qualifier("lambdaARN", arn)?;
                let held = lock::read(&self.store, &lock::location(&bucket, &arn))
                    .await
                    .map_err(|e| Error::State(e.to_string()))?;
                match held {
                    Some(l) => l.run_id,
                    None => return Ok(Answer::NO_RUN),
                }
            }
            (None, None) => return Err(Error::Input("runId: is required".into())),
        };
        let loaded = state::load(&self.store, &bucket, &run_id)
            .await
            .map_err(Error::State)?;
        let Some(st) = loaded else {
            return Err(Error::Input(format!("runId: no run {run_id}")));
        };
        match action.action {
            ActionKind::Status => Ok(Status::of(&st).into()),
            ActionKind::Continue => self.resume(&bucket, st, invocation).await,
            ActionKind::Cleanup => self.cleanup_run(&bucket, st, invocation).await,
        }
    }

    /// The `cleanup` action: stops the run and puts the function back. Refused while an
    /// invocation of the run is working on it.
    async fn cleanup_run(
        &self,
        bucket: &str,
        mut st: RunState,
        invocation: &Invocation,
    ) -> Result<Answer, Error> {
        let at = lock::location(bucket, &st.function);
        let now = invocation.now();
        match lock::acquire(&self.store, &at, &st.run_id, &invocation.request_id, now, self.lock_until(invocation)).await {
            Ok(_) => {}
            Err(LockError::Busy { holder, expires_at }) => {
                return Err(Error::Busy(format!(
                    "run {}: invocation {holder} is working on it until {expires_at}; clean up after that",
                    st.run_id
                )))
            }
            Err(LockError::Held { run_id, .. }) => {
                return Err(Error::Busy(format!(
                    "run {run_id} now holds {}; run {} was cleaned up when it took over",
                    st.function, st.run_id
                )))
            }
            Err(e) => return Err(Error::State(e.to_string())),
        }
        let report = self.clean(&st, invocation.deadline).await;
        if report.complete {
            st.ledger = Default::default();
        }
        if st.phase == Phase::Measuring {
            st.phase = Phase::Failed;
            st.failure = Some("stopped by the cleanup action".into());
        }
        st.updated_at = now;
        state::save(&self.store, bucket, &st)
            .await
            .map_err(Error::State)?;
        lock::release(&self.store, &at, &st.run_id, now)
            .await
            .map_err(|e| Error::State(e.to_string()))?;
        Ok(Answer::Cleaned {
            run_id: st.run_id,
            cleanup: report,
        })
    }

    pub(super) async fn clean(&self, st: &RunState, deadline: Deadline) -> CleanupReport {
        let req = TuneRequest::from_input(&st.request);
        let original_code = match (&st.original_code, &req) {
            (Some(kept), _) => kept.clone(),
            (None, Ok(r)) => code_for(r, st, st.original.architecture),
            (None, Err(_)) => CodeSource::Current,
        };
        let scope = Scope {
            function: &st.function,
            original: &st.original,
            ledger: &st.ledger,
            marker: &st.marker,
            existing: &st.existing_versions,
            original_code: &original_code,
        };
        cleanup(&self.lambda, &scope, deadline).await
    }

    /// Cleans up after a run whose lock expired (it died) and marks it failed.
    pub(super) async fn clean_dead(
        &self,
        bucket: &str,
        dead_run: &str,
        by: &str,
        invocation: &Invocation,
    ) {
        let Ok(Some(mut st)) = state::load(&self.store, bucket, dead_run).await else {
            return;
        };
        if st.phase != Phase::Measuring && st.ledger.is_empty() {
            return;
        }
        tracing::warn!(
            dead_run,
            by,
            "taking over the lock of a run that died: cleaning up after it"
        );
        let report = self.clean(&st, invocation.deadline).await;
        if report.complete {
            st.ledger = Default::default();
        }
        st.phase = Phase::Failed;
        st.failure = Some(format!(
            "abandoned: its lock expired; run {by} cleaned up after it (complete: {})",
            report.complete
        ));
        st.updated_at = invocation.now();
        if let Err(e) = state::save(&self.store, bucket, &st).await {
            tracing::error!(error = %e, "saving the abandoned run's state failed");
        }
    }

    /// A continuation: the run's next invocation.
    async fn resume(
        &self,
        bucket: &str,
        st: RunState,
        invocation: &Invocation,
    ) -> Result<Answer, Error> {
        if st.phase != Phase::Measuring {
            return Ok(Status::of(&st).into());
        }
        let at = lock::location(bucket, &st.function);
        match lock::acquire(
            &self.store,
            &at,
            &st.run_id,
            &invocation.request_id,
            invocation.now(),
            self.lock_until(invocation),
        )
        .await
        {
            Ok(Acquired::TookOver { dead_run })
                if dead_run != st.run_id && !dead_run.is_empty() =>
            {
                self.clean_dead(bucket, &dead_run, &st.run_id, invocation)
                    .await
            }
            Ok(_) => {}
            // A duplicate delivery, or a run that was taken over: nothing to do here.
            Err(e @ (LockError::Busy { .. } | LockError::Held { .. })) => {
                tracing::warn!(run = %st.run_id, reason = %e, "not continuing");
                return Ok(Status {
                    skipped: Some(e.to_string()),
                    ..Status::of(&st)
                }
                .into());
            }
            Err(e) => return Err(Error::State(e.to_string())),
        }
        let req = TuneRequest::from_input(&st.request)?;
        let payloads = self.payloads(&req).await?;
        Box::pin(self.work(bucket, st, &req, &payloads, invocation)).await
    }
}
