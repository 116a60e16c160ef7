//! A new run: the checks that refuse it before anything changes, the lock, the original
//! configuration and the plan, saved before the first change.

use groundcrew::Invocation;

use super::Tuner;
use crate::answer::Answer;
use crate::architecture::Architecture;
use crate::input::{TuneInput, TuneRequest};
use crate::lambda::{FunctionState, LambdaApi};
use crate::lock::{self, Acquired, LockError};
use crate::logs::parse_log_result;
use crate::package::Keep;
use crate::regions::Reach;
use crate::run::{self, Estimate, Target, ValueRun};
use crate::state::{self, Ledger, Measured, Phase, RunState};
use crate::store::ObjectStore;
use crate::wait::{call, until_updated};
use crate::Error;

/// Code built for one architecture: an OS-only runtime (`provided.*`, a native binary) or
/// an image. Re-deploying it for the other architecture would not run.
pub fn built_for_one_architecture(f: &FunctionState) -> Option<String> {
    match (f.runtime.as_deref(), f.package_type.as_deref()) {
        (_, Some("Image")) => Some("a container image".to_string()),
        (Some(r), _) if r.starts_with("provided") => Some(format!("the OS-only runtime {r}")),
        _ => None,
    }
}

/// Refuses an architecture switch that would deploy code that cannot run.
pub fn check_architectures(
    req: &TuneRequest,
    original: &FunctionState,
    archs: &[Architecture],
) -> Result<(), Error> {
    let Some(what) = built_for_one_architecture(original) else {
        return Ok(());
    };
    // The original package itself is kept by the run (`package`) and put back exactly.
    for &a in archs.iter().filter(|a| **a != original.architecture) {
        if !req.code_locations.contains_key(&a) {
            return Err(Error::Input(format!(
                "codeLocations: the function runs on {what}, whose code is built for {}; measuring {} needs codeLocations.{} (a package or image built for {})",
                original.architecture.as_str(),
                a.as_str(),
                a.as_str(),
                a.as_str(),
            )));
        }
    }
    Ok(())
}

/// A run id from the request id: letters, digits and `-`.
fn run_id_of(invocation: &Invocation) -> String {
    let id: String = invocation
        .request_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(64)
        .collect();
    if id.is_empty() {
        format!("run-{}", invocation.now().timestamp_millis())
    } else {
        id
    }
}

impl<L: LambdaApi, S: ObjectStore> Tuner<L, S> {
    pub(super) async fn start(
        &self,
        input: TuneInput,
        invocation: &Invocation,
    ) -> Result<Answer, Error> {
        let req = TuneRequest::from_input(&input)?;
        run::check_allowed(&req, &self.config)?;
        self.check_region(&req)?;
        let bucket = self.bucket()?;
        let payloads = self.payloads(&req).await?;
        let mut warnings = req.warnings.clone();
        if let Some(q) = &req.qualifier {
            warnings.push(self.check_qualifier(&req, q, invocation).await?);
        }
        let run_id = run_id_of(invocation);
        let at = lock::location(&bucket, &req.lambda_arn);
        let now = invocation.now();
        match lock::acquire(
            &self.store,
            &at,
            &run_id,
            &invocation.request_id,
            now,
            self.lock_until(invocation),
        )
        .await
        {
            Ok(Acquired::TookOver { dead_run }) if !dead_run.is_empty() => {
                self.clean_dead(&bucket, &dead_run, &run_id, invocation)
                    .await
            }
            Ok(_) => {}
            Err(LockError::Held { run_id: other, expires_at }) => {
                return Err(Error::Busy(format!(
                    "lambdaARN: run {other} is tuning this function (its lock expires at {expires_at}); ask for its status with {{\"action\": \"status\", \"runId\": \"{other}\"}}"
                )))
            }
            Err(e @ LockError::Busy { .. }) => return Err(Error::Busy(e.to_string())),
            Err(e) => return Err(Error::State(e.to_string())),
        }
        let prepared = self
            .prepare(
                &bucket, &run_id, input, &req, &payloads, warnings, invocation,
            )
            .await;
        match prepared {
            Ok(st) => Box::pin(self.work(&bucket, st, &req, &payloads, invocation)).await,
            Err(e) => {
                // Refused before the first change: the lock goes back at once.
                if let Err(le) = lock::release(&self.store, &at, &run_id, invocation.now()).await {
                    tracing::error!(error = %le, "releasing the lock failed (it expires by itself)");
                }
                Err(e)
            }
        }
    }

    /// Refuses a function (or pre- or post-processor) in a Region the tuner may not
    /// reach: its own and `GC_TUNING_REGIONS` only, the Regions its IAM policy allows.
    fn check_region(&self, req: &TuneRequest) -> Result<(), Error> {
        let reach = Reach {
            home: self.config.region.as_deref(),
            others: &self.config.tuning_regions,
        };
        let named = [
            ("lambdaARN", Some(req.lambda_arn.as_str())),
            ("preProcessorARN", req.pre_processor_arn.as_deref()),
            ("postProcessorARN", req.post_processor_arn.as_deref()),
        ];
        for (field, arn) in named {
            if let Some(arn) = arn {
                reach.check(field, arn).map_err(Error::NotAllowed)?;
            }
        }
        Ok(())
    }

    /// A version or alias can be tuned only through `$LATEST` (memory is set there):
    /// allowed when both run the same code, refused otherwise.
    async fn check_qualifier(
        &self,
        req: &TuneRequest,
        qualifier: &str,
        invocation: &Invocation,
    ) -> Result<String, Error> {
        let d = invocation.deadline;
        let f = req.lambda_arn.as_str();
        let named = call(d, "GetFunctionConfiguration", || {
            self.lambda.get_configuration(f, Some(qualifier))
        })
        .await?;
        let latest = call(d, "GetFunctionConfiguration", || {
            self.lambda.get_configuration(f, None)
        })
        .await?;
        match (&named.code_sha256, &latest.code_sha256) {
            (Some(a), Some(b)) if a == b => Ok(format!(
                "lambdaARN: {qualifier} runs the same code as $LATEST (CodeSha256 {a}); $LATEST was tuned, since memory changes apply only to $LATEST"
            )),
            _ => Err(Error::Input(format!(
                "lambdaARN: {qualifier} runs other code than $LATEST (CodeSha256 {} vs {}); memory changes apply only to $LATEST, so {qualifier} cannot be tuned: name the unqualified function once $LATEST has its code",
                named.code_sha256.as_deref().unwrap_or("unknown"),
                latest.code_sha256.as_deref().unwrap_or("unknown")
            ))),
        }
    }

    /// Reads the original configuration, plans, estimates and saves the state: all before
    /// the first change.
    #[allow(clippy::too_many_arguments)]
    async fn prepare(
        &self,
        bucket: &str,
        run_id: &str,
        input: TuneInput,
        req: &TuneRequest,
        payloads: &[Vec<u8>],
        warnings: Vec<String>,
        invocation: &Invocation,
    ) -> Result<RunState, Error> {
        let deadline = invocation.deadline;
        let function = req.lambda_arn.as_str();
        let original = until_updated(&self.lambda, function, deadline).await?;
        let mut archs = if req.architectures.is_empty() {
            vec![original.architecture]
        } else {
            req.architectures.clone()
        };
        // The function's own architecture first: one switch away and one back at most.
        archs.sort_by_key(|a| *a != original.architecture);
        check_architectures(req, &original, &archs)?;
        let existing: Vec<String> = call(deadline, "ListVersionsByFunction", || {
            self.lambda.list_versions(function)
        })
        .await?
        .into_iter()
        .map(|v| v.version)
        .collect();
        let plan: Vec<Target> = archs
            .iter()
            .flat_map(|&a| {
                req.power_values.iter().map(move |&m| Target {
                    architecture: a,
                    memory_mb: m,
                })
            })
            .collect();
        let estimate = if req.dry_run {
            None
        } else {
            Some(
                self.estimate(req, &original, &plan, payloads, invocation)
                    .await?,
            )
        };
        let switches = archs.iter().any(|a| *a != original.architecture);
        let original_code = if switches {
            let keep = Keep {
                function,
                run_id,
                bucket,
                home: self.config.region.as_deref(),
                deadline,
            };
            Some(keep.keep(&self.lambda, &self.store).await?)
        } else {
            None
        };
        let now = invocation.now();
        let st = RunState {
            run_id: run_id.to_string(),
            function: function.to_string(),
            request: input,
            phase: Phase::Measuring,
            started_at: now,
            updated_at: now,
            original,
            original_code,
            existing_versions: existing,
            marker: format!("power-tuner run {run_id}"),
            ledger: Ledger::default(),
            values: plan
                .iter()
                .map(|t| Measured {
                    target: *t,
                    run: ValueRun {
                        planned: req.invocations() as usize,
                        ..Default::default()
                    },
                })
                .collect(),
            plan,
            estimate,
            tuner_invocations: 0,
            invocations: 0,
            tuner_seconds: 0.0,
            warnings,
            failure: None,
            result: None,
        };
        state::save(&self.store, bucket, &st)
            .await
            .map_err(Error::State)?;
        Ok(st)
    }

    /// One dry invocation at the current configuration, scaled to the plan. A run that
    /// would not fit is refused only when it cannot be continued.
    async fn estimate(
        &self,
        req: &TuneRequest,
        original: &FunctionState,
        plan: &[Target],
        payloads: &[Vec<u8>],
        invocation: &Invocation,
    ) -> Result<Estimate, Error> {
        let deadline = invocation.deadline;
        let function = req.lambda_arn.as_str();
        let t0 = tokio::time::Instant::now();
        let first = payloads.first().cloned().unwrap_or_default();
        let dry = call(deadline, "Invoke", || {
            self.lambda.invoke(function, None, first.clone())
        })
        .await?;
        let wall_ms = t0.elapsed().as_secs_f64() * 1000.0;
        let reported = dry
            .log_result
            .as_deref()
            .and_then(parse_log_result)
            .map(|r| r.speed_ms())
            .unwrap_or(0.0);
        let invocation_ms = wall_ms.max(reported);
        let arch_switches = {
            let mut archs: Vec<Architecture> = plan.iter().map(|t| t.architecture).collect();
            archs.dedup();
            archs
                .iter()
                .filter(|a| **a != original.architecture)
                .count()
        };
        let concurrency = req.concurrency.unwrap_or(self.config.default_concurrency);
        let estimate_s = run::estimate_seconds(
            plan,
            arch_switches,
            original.memory_mb,
            invocation_ms,
            self.config.setup_estimate,
            req.invocations(),
            concurrency,
            req.parallel_invocation,
            req.sleep_between_runs_ms,
            req.only_cold_starts,
        );
        let available_s = deadline
            .less(self.config.cleanup_reserve)
            .remaining()
            .as_secs_f64();
        if estimate_s > available_s && self.config.self_function.is_none() {
            return Err(Error::WouldNotFinish {
                estimate_s,
                available_s,
                detail: format!(
                    "{} configurations x {} invocations, one invocation about {:.0} ms, and no AWS_LAMBDA_FUNCTION_NAME to continue in another invocation",
                    plan.len(),
                    req.invocations(),
                    invocation_ms
                ),
            });
        }
        Ok(Estimate {
            dry_invocation_ms: invocation_ms,
            estimate_seconds: estimate_s,
            available_seconds: available_s,
        })
    }
}
