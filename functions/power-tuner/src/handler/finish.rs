//! The end of a run: the analysis, `autoOptimize` (a complete run only), the report, the
//! state marked done and the lock released.

use groundcrew::Invocation;

use super::{code_for, Tuner};
use crate::analysis::analyse;
use crate::answer::Answer;
use crate::apply::apply;
use crate::cleanup::CleanupReport;
use crate::input::{S3Location, TuneRequest};
use crate::lambda::LambdaApi;
use crate::lock;
use crate::output::{self, AutoOptimize, Report, ReportKeys, Response};
use crate::run::{RunOutcome, Target};
use crate::state::{self, Phase, RunState};
use crate::store::{Condition, ObjectStore};
use crate::Error;

impl<L: LambdaApi, S: ObjectStore> Tuner<L, S> {
    pub(super) async fn finish(
        &self,
        bucket: &str,
        mut st: RunState,
        req: &TuneRequest,
        cleanup: CleanupReport,
        deadline_reached: bool,
        invocation: &Invocation,
    ) -> Result<Answer, Error> {
        let wall = (invocation.now() - st.started_at)
            .to_std()
            .unwrap_or_default();
        let outcome = RunOutcome::from_state(&st, cleanup, deadline_reached, wall);
        let complete = st.complete();
        let result = self
            .conclude(req, &st, &outcome, complete, invocation)
            .await
            .and_then(|response| {
                let stored = serde_json::to_value(&response)
                    .map_err(|e| Error::State(format!("encoding the answer: {e}")))?;
                Ok((response, stored))
            });
        st.phase = if result.is_ok() {
            Phase::Done
        } else {
            Phase::Failed
        };
        match &result {
            Ok((_, stored)) => st.result = Some(stored.clone()),
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
        result.map(|(response, _)| Answer::Done(Box::new(response)))
    }

    /// The analysis, `autoOptimize` (a complete run only) and the report.
    async fn conclude(
        &self,
        req: &TuneRequest,
        st: &RunState,
        outcome: &RunOutcome,
        complete: bool,
        invocation: &Invocation,
    ) -> Result<Response, Error> {
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
            return Err(Error::AllFailed(why));
        }
        if req.dry_run {
            analysis.recommendation = None;
        }
        let mut report = output::report(req, outcome, &analysis, self.config.self_memory_mb);
        if req.auto_optimize && !req.dry_run {
            report.auto_optimize = Some(match (&analysis.recommendation, complete) {
                (_, false) => AutoOptimize::not_applied(
                    "the run is incomplete: autoOptimize applies only a complete run's result",
                ),
                (None, true) => AutoOptimize::not_applied("no recommendation"),
                (Some(r), true) => {
                    let target = Target {
                        architecture: r.architecture,
                        memory_mb: r.power,
                    };
                    match apply(
                        &self.lambda,
                        &req.lambda_arn,
                        target,
                        &code_for(req, st, r.architecture),
                        req.auto_optimize_alias.as_deref(),
                        invocation.deadline,
                    )
                    .await
                    {
                        Ok(version) => AutoOptimize {
                            applied: true,
                            power: Some(r.power),
                            architecture: Some(r.architecture),
                            alias: req.auto_optimize_alias.clone(),
                            version,
                            error: None,
                        },
                        Err(e) => AutoOptimize::not_applied(e.to_string()),
                    }
                }
            });
        }
        let report_s3 = match (&req.report_s3, &self.config.default_report_s3) {
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
        report: &Report,
        run_id: &str,
        invocation: &Invocation,
    ) -> ReportKeys {
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
        let errors: Vec<String> = [a.err(), b.err()]
            .into_iter()
            .flatten()
            .map(|e| e.to_string())
            .collect();
        if !errors.is_empty() {
            tracing::error!(errors = ?errors, "writing the report failed");
        }
        ReportKeys {
            bucket: base.bucket.clone(),
            json: json_loc.key,
            svg: svg_loc.key,
            error: (!errors.is_empty()).then(|| errors.join("; ")),
        }
    }
}
