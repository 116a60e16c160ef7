//! The handler: starts a run, carries it through as many invocations as it needs, and
//! answers `status` and `cleanup`. Every invocation of a run first puts back whatever an
//! earlier one left (the ledger), measures what fits, puts the function back again, and
//! then either finishes the run or hands it on (`InvocationType=Event`, the run id).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use groundcrew::Invocation;

use crate::answer::{Answer, Handed, Status};
use crate::architecture::Architecture;
use crate::event::{Action, Event};
use crate::input::{generate_payloads, PayloadSpec, TuneRequest};
use crate::lambda::{CodeSource, LambdaApi};
use crate::lock;
use crate::run::Measurement;
use crate::state::{self, Phase, RunState};
use crate::store::ObjectStore;
use crate::wait::call;
use crate::{Config, Error};

mod actions;
mod finish;
mod start;

pub use start::{built_for_one_architecture, check_architectures};

pub struct Tuner<L, S> {
    pub lambda: L,
    pub store: S,
    pub config: Config,
}

/// A payload read from S3 as Power Tuning reads it: JSON when it parses (a weighted list
/// included), else the text as a string.
fn payload_from_s3(bytes: &[u8]) -> PayloadSpec {
    /// An item of a weighted list (Power Tuning's `isWeightedPayload`).
    #[derive(serde::Deserialize)]
    struct Weighted {
        payload: Value,
        weight: f64,
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => match Vec::<Weighted>::deserialize(&v) {
            Ok(list) if !list.is_empty() => {
                PayloadSpec::Weighted(list.into_iter().map(|w| (w.payload, w.weight)).collect())
            }
            _ => PayloadSpec::Single(Some(v)),
        },
        Err(_) => PayloadSpec::Single(Some(Value::String(
            String::from_utf8_lossy(bytes).into_owned(),
        ))),
    }
}

fn chrono_after(now: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// The code to deploy for an architecture: the original architecture's is the package
/// the run kept (exactly what was deployed); another's is the one given for it, else the
/// kept package (code that runs on both: `check_architectures` refused the others).
fn code_for(req: &TuneRequest, st: &RunState, arch: Architecture) -> CodeSource {
    code_of(
        req,
        st.original.architecture,
        st.original_code.as_ref(),
        arch,
    )
}

fn code_of(
    req: &TuneRequest,
    original: Architecture,
    kept: Option<&CodeSource>,
    arch: Architecture,
) -> CodeSource {
    let given = req.code_locations.get(&arch).cloned();
    let kept = kept.cloned();
    let chosen = if arch == original {
        kept.or(given)
    } else {
        given.or(kept)
    };
    chosen.unwrap_or(CodeSource::Current)
}

impl<L: LambdaApi, S: ObjectStore> Tuner<L, S> {
    /// One invocation: a run to start, or an action on one; the answer is typed (its JSON
    /// is `Answer`'s wire, pinned in `answer.rs`).
    pub async fn handle(&self, event: &Value, invocation: &Invocation) -> Result<Answer, Error> {
        match Event::parse(event)? {
            // Boxed: a run's future is large, and would not fit a small thread's stack.
            Event::Tune(input) => Box::pin(self.start(*input, invocation)).await,
            Event::Action(action) => Box::pin(self.act(action, invocation)).await,
        }
    }

    fn bucket(&self) -> Result<String, Error> {
        self.config.state_bucket().ok_or_else(|| {
            Error::Config(groundcrew::config::ConfigError::Malformed {
                name: "GC_REPORT_S3".into(),
                reason: "is required: the runs' state and locks live in its bucket".into(),
            })
        })
    }

    async fn payloads(&self, req: &TuneRequest) -> Result<Vec<Vec<u8>>, Error> {
        let spec = match &req.payload_s3 {
            Some(loc) => match self.store.get(loc).await {
                Ok(Some(o)) => payload_from_s3(&o.body),
                Ok(None) => {
                    return Err(Error::Payload(format!(
                        "s3://{}/{} does not exist",
                        loc.bucket, loc.key
                    )))
                }
                Err(e) => return Err(Error::Payload(e.to_string())),
            },
            None => req.payload.clone(),
        };
        generate_payloads(req.invocations(), &spec)
    }

    fn lock_until(&self, invocation: &Invocation) -> DateTime<Utc> {
        chrono_after(
            invocation.now(),
            invocation.deadline.remaining() + self.config.lock_grace,
        )
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
    ) -> Result<Answer, Error> {
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
        let (original, kept) = (st.original.architecture, st.original_code.clone());
        let code = move |arch| code_of(req, original, kept.as_ref(), arch);
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
            concurrency: req.concurrency.unwrap_or(self.config.default_concurrency),
            deadline: deadline.less(self.config.cleanup_reserve),
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

        let can_continue = self.config.self_function.is_some() && report.complete;
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
    ) -> Result<Answer, Error> {
        let Some(me) = self.config.self_function.clone() else {
            return Err(Error::Continuation(
                "the tuner's own function name is unknown".into(),
            ));
        };
        state::save(&self.store, bucket, &st)
            .await
            .map_err(Error::State)?;
        // Between invocations the run holds the lock with no holder.
        let at = lock::location(bucket, &st.function);
        let now = invocation.now();
        lock::acquire(
            &self.store,
            &at,
            &st.run_id,
            "",
            now,
            chrono_after(now, self.config.lock_grace),
        )
        .await
        .map_err(|e| Error::State(e.to_string()))?;
        let payload = serde_json::to_vec(&Action::continuation(&st.run_id))
            .map_err(|e| Error::Continuation(e.to_string()))?;
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
            return Err(Error::Continuation(e.to_string()));
        }
        tracing::info!(run = %st.run_id, measured = st.measured_count(), planned = st.plan.len(), "handed on to the next invocation");
        Ok(Status {
            status: Some(Handed::Continuing),
            ..Status::of(&st)
        }
        .into())
    }
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
        // Not every item weighted, or none: the list is one payload, as Power Tuning reads it.
        assert_eq!(
            payload_from_s3(br#"[{"payload":"x","weight":2},{"payload":"y"}]"#),
            PayloadSpec::Single(Some(
                json!([{"payload": "x", "weight": 2}, {"payload": "y"}])
            ))
        );
        assert_eq!(payload_from_s3(b"[]"), PayloadSpec::Single(Some(json!([]))));
    }
}
