//! Invoking a configured target: each invocation with the pre- and post-processors, its
//! REPORT record read from the log tail, its failure recorded against its value.

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};

use super::{lock, Shared};
use crate::lambda::LambdaApi;
use crate::logs::{parse_log_result, Report};
use crate::plan::Target;
use crate::store::ObjectStore;
use crate::wait::call;

impl<L: LambdaApi, S: ObjectStore> Shared<'_, '_, L, S> {
    /// One invocation with its pre- and post-processors; `Ok((report, allowed))`.
    async fn invoke_once(
        &self,
        qualifier: &str,
        payload: &[u8],
    ) -> Result<(Option<Report>, bool), String> {
        let (req, d, lambda) = (self.m.req, self.m.deadline, self.m.lambda);
        let with_payload = |why: String, p: &[u8]| {
            if req.disable_payload_logs {
                why
            } else {
                format!("{why} with payload {}", preview(p))
            }
        };
        let mut payload = payload.to_vec();
        if let Some(pre) = &req.pre_processor_arn {
            let p = payload.clone();
            let out = call(d, "Invoke preProcessor", || {
                lambda.invoke(pre, None, p.clone())
            })
            .await
            .map_err(|e| e.to_string())?;
            if let Some(t) = out.error_type() {
                return Err(with_payload(
                    format!("the preProcessor failed with {t}"),
                    &payload,
                ));
            }
            if !out.payload.is_empty() && out.payload != b"null" {
                payload = out.payload;
            }
        }
        let f = self.function;
        let out = call(d, "Invoke", || {
            lambda.invoke(f, Some(qualifier), payload.clone())
        })
        .await
        .map_err(|e| e.to_string())?;
        self.invocations.fetch_add(1, Ordering::Relaxed);
        let mut allowed = false;
        if let Some(t) = out.error_type() {
            if req.allowed_exceptions.iter().any(|a| a == &t) {
                allowed = true;
            } else {
                return Err(with_payload(format!("invocation error {t}"), &payload));
            }
        }
        if let Some(post) = &req.post_processor_arn {
            let p = out.payload.clone();
            let post_out = call(d, "Invoke postProcessor", || {
                lambda.invoke(post, None, p.clone())
            })
            .await
            .map_err(|e| e.to_string())?;
            if let Some(t) = post_out.error_type() {
                return Err(format!("the postProcessor failed with {t}"));
            }
        }
        let report = out.log_result.as_deref().and_then(parse_log_result);
        if report.is_none() && !allowed {
            return Err(
                "the log tail held no REPORT line (neither text nor a JSON platform.report record)"
                    .to_string(),
            );
        }
        Ok((report, allowed))
    }

    async fn one(&self, target: Target, qualifier: &str, payload: &[u8]) {
        if self.failed(target) || self.m.deadline.is_past() {
            return;
        }
        let Ok(_permit) = self.semaphore.acquire().await else {
            return;
        };
        if self.failed(target) {
            return;
        }
        match self.invoke_once(qualifier, payload).await {
            Ok((report, allowed)) => {
                let mut state = lock(&self.state);
                state.invocations += 1;
                let run = state.value_mut(target);
                if allowed {
                    run.allowed_errors += 1;
                }
                if let Some(r) = report {
                    run.reports.push(r);
                }
            }
            // Cut short by the deadline: measured again by the next invocation.
            Err(_) if self.m.deadline.is_past() => {}
            Err(why) => self.fail(target, why),
        }
    }

    pub(super) async fn measure_value(
        &self,
        target: Target,
        qualifiers: Vec<String>,
        payloads: &[Vec<u8>],
    ) {
        if self.m.req.parallel_invocation {
            let mut all: FuturesUnordered<_> = qualifiers
                .iter()
                .zip(payloads)
                .map(|(q, p)| self.one(target, q, p))
                .collect();
            while all.next().await.is_some() {}
        } else {
            for (i, (q, p)) in qualifiers.iter().zip(payloads).enumerate() {
                self.one(target, q, p).await;
                if self.failed(target) || self.m.deadline.is_past() {
                    break;
                }
                if self.m.req.sleep_between_runs_ms > 0 && i + 1 < qualifiers.len() {
                    tokio::time::sleep(Duration::from_millis(self.m.req.sleep_between_runs_ms))
                        .await;
                }
            }
        }
    }
}

/// A payload for a message, cut to 200 characters.
fn preview(payload: &[u8]) -> String {
    let text = String::from_utf8_lossy(payload);
    if text.chars().count() > 200 {
        format!("{}...", text.chars().take(200).collect::<String>())
    } else {
        text.into_owned()
    }
}
