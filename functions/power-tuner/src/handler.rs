//! The handler: starts a run, carries it through as many invocations as it needs, and
//! answers `status` and `cleanup`. Every invocation of a run first puts back whatever an
//! earlier one left (the ledger), measures what fits, puts the function back again, and
//! then either finishes the run or hands it on (`InvocationType=Event`, the run id).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use groundcrew::{Deadline, Invocation};

use crate::analysis::analyse;
use crate::apply::apply;
use crate::cleanup::{cleanup, CleanupReport, Scope};
use crate::event::{Action, ActionKind, Event};
use crate::input::{generate_payloads, PayloadSpec, S3Location, TuneRequest};
use crate::lambda::{CodeSource, LambdaApi};
use crate::lock::{self, Acquired, LockError};
use crate::output;
use crate::run::{Measurement, RunOutcome, Target};
use crate::state::{self, Phase, RunState};
use crate::store::{Condition, ObjectStore};
use crate::wait::call;
use crate::{Settings, TunerError};

mod start;

pub use start::{built_for_one_architecture, check_architectures};

pub struct Tuner<L, S> {
    pub lambda: L,
    pub store: S,
    pub settings: Settings,
}

/// A payload read from S3 as Power Tuning reads it: JSON when it parses (a weighted list
/// included), else the text as a string.
fn payload_from_s3(bytes: &[u8]) -> PayloadSpec {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Array(items))
            if !items.is_empty()
                && items.iter().all(|i| {
                    i.get("payload").is_some() && i.get("weight").and_then(Value::as_f64).is_some()
                }) =>
        {
            PayloadSpec::Weighted(
                items
                    .iter()
                    .map(|i| (i["payload"].clone(), i["weight"].as_f64().unwrap_or(1.0)))
                    .collect(),
            )
        }
        Ok(v) => PayloadSpec::Single(Some(v)),
        Err(_) => PayloadSpec::Single(Some(Value::String(
            String::from_utf8_lossy(bytes).into_owned(),
        ))),
    }
}

fn chrono_after(now: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// The code to deploy for an architecture: the one given for it, else the current one.
fn code_for(req: &TuneRequest, arch: crate::architecture::Architecture) -> CodeSource {
    req.code_locations
        .get(&arch)
        .cloned()
        .unwrap_or(CodeSource::Current)
}

impl<L: LambdaApi, S: ObjectStore> Tuner<L, S> {
    pub async fn handle(
        &self,
        event: &Value,
        invocation: &Invocation,
    ) -> Result<Value, TunerError> {
        match Event::parse(event)? {
            // Boxed: a run's future is large, and would not fit a small thread's stack.
            Event::Tune(obj) => Box::pin(self.start(obj, invocation)).await,
            Event::Action(action) => Box::pin(self.act(action, invocation)).await,
        }
    }

    fn bucket(&self) -> Result<String, TunerError> {
        self.settings.state_bucket().ok_or_else(|| {
            TunerError::Config(groundcrew::config::ConfigError::Malformed {
                name: "GC_REPORT_S3".into(),
                reason: "is required: the runs' state and locks live in its bucket".into(),
            })
        })
    }

    async fn payloads(&self, req: &TuneRequest) -> Result<Vec<Vec<u8>>, TunerError> {
        let spec = match &req.payload_s3 {
            Some(loc) => match self.store.get(loc).await {
                Ok(Some(o)) => payload_from_s3(&o.body),
                Ok(None) => {
                    return Err(TunerError::Payload(format!(
                        "s3://{}/{} does not exist",
                        loc.bucket, loc.key
                    )))
                }
                Err(e) => return Err(TunerError::Payload(e.to_string())),
            },
            None => req.payload.clone(),
        };
        generate_payloads(req.invocations(), &spec)
    }

    fn lock_until(&self, invocation: &Invocation) -> DateTime<Utc> {
        chrono_after(
            invocation.now(),
            invocation.deadline.remaining() + self.settings.lock_grace,
        )
    }

    async fn act(&self, action: Action, invocation: &Invocation) -> Result<Value, TunerError> {
        let bucket = self.bucket()?;
        let run_id = match (&action.run_id, &action.lambda_arn) {
            (Some(id), _) => id.clone(),
            (None, Some(arn)) => {
                let (arn, _) = crate::input::split_qualifier("lambdaARN", arn)?;
                let held = lock::read(&self.store, &lock::location(&bucket, &arn))
                    .await
                    .map_err(|e| TunerError::State(e.to_string()))?;
                match held {
                    Some(l) => l.run_id,
                    None => return Ok(json!({"cleanup": "no run has tuned this function"})),
                }
            }
            (None, None) => return Err(TunerError::Input("runId: is required".into())),
        };
        let loaded = state::load(&self.store, &bucket, &run_id)
            .await
            .map_err(TunerError::State)?;
        let Some(st) = loaded else {
            return Err(TunerError::Input(format!("runId: no run {run_id}")));
        };
        match action.action {
            ActionKind::Status => Ok(status(&st)),
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
    ) -> Result<Value, TunerError> {
        let at = lock::location(bucket, &st.function);
        let now = invocation.now();
        match lock::acquire(&self.store, &at, &st.run_id, &invocation.request_id, now, self.lock_until(invocation)).await {
            Ok(_) => {}
            Err(LockError::Busy { holder, expires_at }) => {
                return Err(TunerError::Busy(format!(
                    "run {}: invocation {holder} is working on it until {expires_at}; clean up after that",
                    st.run_id
                )))
            }
            Err(LockError::Held { run_id, .. }) => {
                return Err(TunerError::Busy(format!(
                    "run {run_id} now holds {}; run {} was cleaned up when it took over",
                    st.function, st.run_id
                )))
            }
            Err(e) => return Err(TunerError::State(e.to_string())),
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
            .map_err(TunerError::State)?;
        lock::release(&self.store, &at, &st.run_id, now)
            .await
            .map_err(|e| TunerError::State(e.to_string()))?;
        Ok(json!({"runId": st.run_id, "cleanup": report}))
    }

    async fn clean(&self, st: &RunState, deadline: Deadline) -> CleanupReport {
        let req = TuneRequest::from_object(st.request.as_object().unwrap_or(&Default::default()));
        let original_code = req
            .as_ref()
            .map(|r| code_for(r, st.original.architecture))
            .unwrap_or(CodeSource::Current);
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
    async fn clean_dead(&self, bucket: &str, dead_run: &str, by: &str, invocation: &Invocation) {
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
    ) -> Result<Value, TunerError> {
        if st.phase != Phase::Measuring {
            return Ok(status(&st));
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
                let mut out = status(&st);
                out["skipped"] = json!(e.to_string());
                return Ok(out);
            }
            Err(e) => return Err(TunerError::State(e.to_string())),
        }
        let obj = st.request.as_object().cloned().unwrap_or_default();
        let req = TuneRequest::from_object(&obj)?;
        let payloads = self.payloads(&req).await?;
        Box::pin(self.work(bucket, st, &req, &payloads, invocation)).await
    }

    /// One invocation's work on a run: clean up after the last, measure, clean up, then
    /// finish or hand on.
    async fn work(
        &self,
        bucket: &str,
        mut st: RunState,
        req: &TuneRequest,
        payloads: &[Vec<u8>],
        invocation: &Invocation,
    ) -> Result<Value, TunerError> {
        let started = tokio::time::Instant::now();
        let deadline = invocation.deadline;
        // A later invocation of a run first puts back whatever an earlier one may have
        // left (it may have died after a change it had no time to record).
        if st.tuner_invocations > 0 || !st.ledger.is_empty() {
            let report = self.clean(&st, deadline).await;
            if report.complete {
                st.ledger = Default::default();
            }
        }
        let code = |arch| code_for(req, arch);
        let per_value = Duration::from_secs_f64(
            st.estimate
                .as_ref()
                .map(|e| e.estimate_seconds / st.plan.len().max(1) as f64)
                .unwrap_or(0.0),
        );
        let measurement = Measurement {
            lambda: &self.lambda,
            store: &self.store,
            bucket,
            req,
            payloads,
            code: &code,
            concurrency: req.concurrency.unwrap_or(self.settings.default_concurrency),
            deadline: deadline.less(self.settings.cleanup_reserve),
            per_value,
            tag: st.tuner_invocations,
        };
        let stint = Box::pin(measurement.run(st)).await;
        let mut st = stint.state;
        let report = self.clean(&st, deadline).await;
        if report.complete {
            st.ledger = Default::default();
        }
        st.tuner_invocations += 1;
        st.tuner_seconds += started.elapsed().as_secs_f64();
        st.updated_at = invocation.now();

        let can_continue = self.settings.self_function.is_some() && report.complete;
        if !st.complete() && can_continue {
            return self.hand_on(bucket, st, invocation).await;
        }
        Box::pin(self.finish(bucket, st, req, report, stint.deadline_reached, invocation)).await
    }

    /// Saves the run and invokes the tuner again with its id.
    async fn hand_on(
        &self,
        bucket: &str,
        st: RunState,
        invocation: &Invocation,
    ) -> Result<Value, TunerError> {
        let Some(me) = self.settings.self_function.clone() else {
            return Err(TunerError::Continuation(
                "the tuner's own function name is unknown".into(),
            ));
        };
        state::save(&self.store, bucket, &st)
            .await
            .map_err(TunerError::State)?;
        // Between invocations the run holds the lock with no holder.
        let at = lock::location(bucket, &st.function);
        let now = invocation.now();
        lock::acquire(
            &self.store,
            &at,
            &st.run_id,
            "",
            now,
            chrono_after(now, self.settings.lock_grace),
        )
        .await
        .map_err(|e| TunerError::State(e.to_string()))?;
        let payload = json!({"action": "continue", "runId": st.run_id})
            .to_string()
            .into_bytes();
        let sent = call(invocation.deadline, "Invoke (continue)", || {
            self.lambda.invoke_async(&me, payload.clone())
        })
        .await;
        if let Err(e) = sent {
            // The function is already back as it was: the run ends here, and says why.
            let mut st = st;
            st.phase = Phase::Failed;
            st.failure = Some(format!("the run could not be continued: {e}"));
            if let Err(se) = state::save(&self.store, bucket, &st).await {
                tracing::error!(error = %se, "saving the failed run failed");
            }
            if let Err(le) = lock::release(&self.store, &at, &st.run_id, invocation.now()).await {
                tracing::error!(error = %le, "releasing the lock failed (it expires by itself)");
            }
            return Err(TunerError::Continuation(e.to_string()));
        }
        tracing::info!(run = %st.run_id, measured = st.measured_count(), planned = st.plan.len(), "handed on to the next invocation");
        let mut out = status(&st);
        out["status"] = json!("continuing");
        Ok(out)
    }

    async fn finish(
        &self,
        bucket: &str,
        mut st: RunState,
        req: &TuneRequest,
        cleanup: CleanupReport,
        deadline_reached: bool,
        invocation: &Invocation,
    ) -> Result<Value, TunerError> {
        let wall = (invocation.now() - st.started_at)
            .to_std()
            .unwrap_or_default();
        let outcome = RunOutcome::from_state(&st, cleanup, deadline_reached, wall);
        let complete = st.complete();
        let result = self.conclude(req, &outcome, complete, invocation).await;
        st.phase = if result.is_ok() {
            Phase::Done
        } else {
            Phase::Failed
        };
        match &result {
            Ok(v) => st.result = Some(v.clone()),
            Err(e) => st.failure = Some(e.to_string()),
        }
        st.updated_at = invocation.now();
        if let Err(e) = state::save(&self.store, bucket, &st).await {
            tracing::error!(error = %e, "saving the finished run failed");
        }
        if st.ledger.is_empty() {
            let at = lock::location(bucket, &st.function);
            if let Err(e) = lock::release(&self.store, &at, &st.run_id, invocation.now()).await {
                tracing::error!(error = %e, "releasing the lock failed (it expires by itself)");
            }
        }
        result
    }

    /// The analysis, `autoOptimize` (a complete run only) and the report.
    async fn conclude(
        &self,
        req: &TuneRequest,
        outcome: &RunOutcome,
        complete: bool,
        invocation: &Invocation,
    ) -> Result<Value, TunerError> {
        let mut analysis = analyse(
            &outcome.order,
            &outcome.values,
            req.strategy,
            req.balanced_weight,
            req.discard_top_bottom,
            &req.pricing,
        );
        if analysis.values.is_empty() {
            let reasons: Vec<String> = analysis
                .failed
                .iter()
                .map(|f| format!("{} MB {}: {}", f.value, f.architecture.as_str(), f.reason))
                .collect();
            let mut why = reasons.join("; ");
            if !outcome.cleanup.complete {
                why.push_str(&format!(
                    "; cleanup incomplete: {}",
                    outcome.cleanup.problems.join("; ")
                ));
            }
            return Err(TunerError::AllFailed(why));
        }
        if req.dry_run {
            analysis.recommendation = None;
        }
        let mut report = output::report(req, outcome, &analysis, self.settings.self_memory_mb);
        if req.auto_optimize && !req.dry_run {
            report["autoOptimize"] = match (&analysis.recommendation, complete) {
                (_, false) => {
                    json!({"applied": false, "error": "the run is incomplete: autoOptimize applies only a complete run's result"})
                }
                (None, true) => json!({"applied": false, "error": "no recommendation"}),
                (Some(r), true) => {
                    let target = Target {
                        architecture: r.architecture,
                        memory_mb: r.power,
                    };
                    match apply(
                        &self.lambda,
                        &req.lambda_arn,
                        target,
                        &code_for(req, r.architecture),
                        req.auto_optimize_alias.as_deref(),
                        invocation.deadline,
                    )
                    .await
                    {
                        Ok(version) => {
                            json!({"applied": true, "power": r.power, "architecture": r.architecture, "alias": req.auto_optimize_alias, "version": version})
                        }
                        Err(e) => json!({"applied": false, "error": e.to_string()}),
                    }
                }
            };
        }
        let report_s3 = match (&req.report_s3, &self.settings.default_report_s3) {
            (Some(l), _) => Some(l.clone()),
            (None, Some(raw)) => S3Location::parse(raw),
            (None, None) => None,
        };
        let keys = match &report_s3 {
            None => None,
            Some(base) => Some(
                self.write_report(base, req, &analysis, &report, &outcome.run_id, invocation)
                    .await,
            ),
        };
        Ok(output::response(req, outcome, &analysis, report, keys))
    }

    async fn write_report(
        &self,
        base: &S3Location,
        req: &TuneRequest,
        analysis: &crate::analysis::Analysis,
        report: &Value,
        run_id: &str,
        invocation: &Invocation,
    ) -> Value {
        let stamp = invocation.now().format("%Y%m%dT%H%M%SZ");
        let stem = format!("{}/{stamp}-{run_id}", req.function_name());
        let key = |ext: &str| {
            if base.key.is_empty() {
                format!("{stem}.{ext}")
            } else {
                format!("{}/{stem}.{ext}", base.key)
            }
        };
        let json_loc = S3Location {
            bucket: base.bucket.clone(),
            key: key("json"),
        };
        let svg_loc = S3Location {
            bucket: base.bucket.clone(),
            key: key("svg"),
        };
        let body = serde_json::to_vec_pretty(report).unwrap_or_default();
        let svg = output::svg_chart(&req.lambda_arn, analysis);
        let (a, b) = futures::join!(
            self.store
                .put(&json_loc, body, "application/json", Condition::Always),
            self.store.put(
                &svg_loc,
                svg.into_bytes(),
                "image/svg+xml",
                Condition::Always
            )
        );
        let mut out = json!({"bucket": base.bucket, "json": json_loc.key, "svg": svg_loc.key});
        let errors: Vec<String> = [a.err(), b.err()]
            .into_iter()
            .flatten()
            .map(|e| e.to_string())
            .collect();
        if !errors.is_empty() {
            tracing::error!(errors = ?errors, "writing the report failed");
            out["error"] = json!(errors.join("; "));
        }
        out
    }
}

/// A run's progress, and its result once done.
fn status(st: &RunState) -> Value {
    let mut out = st.progress();
    if let Some(result) = &st.result {
        out["result"] = result.clone();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn s3_payloads() {
        assert_eq!(
            payload_from_s3(br#"{"a":1}"#),
            PayloadSpec::Single(Some(json!({"a": 1})))
        );
        assert_eq!(
            payload_from_s3(b"plain text"),
            PayloadSpec::Single(Some(json!("plain text")))
        );
        assert_eq!(
            payload_from_s3(br#"[{"payload":"x","weight":2}]"#),
            PayloadSpec::Weighted(vec![(json!("x"), 2.0)])
        );
    }
}
