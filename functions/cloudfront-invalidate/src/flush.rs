//! Flushing: a pending deploy becomes one plan and one invalidation.
//!
//! A trigger flushes its generation once it is due (quiet for `QUIET_SECONDS`, or its
//! first change `MAX_WAIT_SECONDS` old), and otherwise sends itself again for the due
//! time. A direct `{"action": "flush"}` flushes at once. Sealing deletes the head and
//! writes the flush record in one transaction, so nothing joins the generation after it
//! is read; the invalidation's `CallerReference` is the flush id, and the record becomes
//! `Done` once, so a repeated trigger (or a retry after a failure half way) never bills
//! the same changes twice.

use groundcrew::Invocation;
use serde::Serialize;
use serde_json::{json, Value};

use crate::aws::{CloudFront, FlushTrigger, Pipeline, SiteListing};
use crate::error::Error;
use crate::event::Request;
use crate::handler::Handler;
use crate::invalidate::call;
use crate::notice::FlushTarget;
use crate::paths::NormPath;
use crate::store::{due_at, FlushState, PendingStore};

/// What one flush (or flush trigger) did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlushReport {
    pub distribution: String,
    pub flush_id: String,
    /// `flushed`, `not-due` (trigger sent again), `already-flushed` or `nothing-pending`.
    pub status: &'static str,
    /// For `not-due`: seconds until it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_in_seconds: Option<i64>,
    /// Paths gathered in the generation.
    pub paths_gathered: usize,
    /// The invalidation (for `already-flushed`: as recorded then).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Value>,
}

impl FlushReport {
    fn status(distribution: &str, flush_id: &str, status: &'static str) -> Self {
        Self {
            distribution: distribution.to_string(),
            flush_id: flush_id.to_string(),
            status,
            due_in_seconds: None,
            paths_gathered: 0,
            outcome: None,
        }
    }
}

impl<C: CloudFront, S: SiteListing, P: Pipeline, D: PendingStore, T: FlushTrigger>
    Handler<C, S, P, D, T>
{
    /// Flushes one distribution's pending deploy, or every one; `force` ignores the
    /// quiet time (direct invokes).
    pub async fn flush(
        &self,
        target: &FlushTarget,
        force: bool,
        invocation: &Invocation,
    ) -> Result<Vec<FlushReport>, Error> {
        let config = &self.invalidator.config;
        if config.pending_table.is_none() {
            return Err(Error::NotConfigured("PENDING_TABLE"));
        }
        let deadline = invocation.deadline;
        match &target.distribution {
            Some(selector) => {
                let dist = self.invalidator.resolve(selector, deadline).await?;
                let report = Box::pin(self.flush_one(
                    &dist.id,
                    target.flush_id.as_deref(),
                    force,
                    invocation,
                ))
                .await?;
                Ok(vec![report])
            }
            None => {
                let heads = call(&self.invalidator.read_retry, deadline, "Query", || {
                    self.store.heads()
                })
                .await?;
                let mut reports = Vec::with_capacity(heads.len());
                for head in heads {
                    reports.push(
                        Box::pin(self.flush_one(&head.distribution, None, force, invocation))
                            .await?,
                    );
                }
                Ok(reports)
            }
        }
    }

    async fn flush_one(
        &self,
        dist: &str,
        expected: Option<&str>,
        force: bool,
        invocation: &Invocation,
    ) -> Result<FlushReport, Error> {
        let policy = &self.invalidator.read_retry;
        let deadline = invocation.deadline;
        let now = invocation.now().timestamp();
        let head = call(policy, deadline, "GetItem", || self.store.head(dist)).await?;
        match head {
            Some(h) if expected.is_none_or(|g| g == h.flush_id) => {
                let config = &self.invalidator.config;
                let due = due_at(
                    &h,
                    config.quiet.as_secs() as i64,
                    config.max_wait.as_secs() as i64,
                );
                if !force && now < due {
                    self.schedule(dist, &h.flush_id, due - now, invocation)
                        .await?;
                    return Ok(FlushReport {
                        due_in_seconds: Some(due - now),
                        ..FlushReport::status(dist, &h.flush_id, "not-due")
                    });
                }
                let sealed = call(policy, deadline, "TransactWriteItems", || {
                    self.store.seal(&h, now)
                })
                .await?;
                if !sealed {
                    tracing::info!(distribution = %dist, flush_id = %h.flush_id, "sealed by another invocation");
                }
                Box::pin(self.resume(dist, &h.flush_id, invocation)).await
            }
            _ => match expected {
                Some(flush_id) => Box::pin(self.resume(dist, flush_id, invocation)).await,
                None => Ok(FlushReport::status(dist, "", "nothing-pending")),
            },
        }
    }

    /// Completes a sealed generation; a done one is reported as it was.
    async fn resume(
        &self,
        dist: &str,
        flush_id: &str,
        invocation: &Invocation,
    ) -> Result<FlushReport, Error> {
        let policy = &self.invalidator.read_retry;
        let deadline = invocation.deadline;
        let record = call(policy, deadline, "GetItem", || {
            self.store.flush_record(flush_id)
        })
        .await?;
        match record {
            None => Ok(FlushReport::status(dist, flush_id, "nothing-pending")),
            Some(r) if r.state == FlushState::Done => {
                let outcome = r
                    .report
                    .as_deref()
                    .and_then(|text| serde_json::from_str::<Value>(text).ok());
                Ok(FlushReport {
                    outcome,
                    ..FlushReport::status(dist, flush_id, "already-flushed")
                })
            }
            Some(_) => Box::pin(self.complete(dist, flush_id, invocation)).await,
        }
    }

    /// Reads the generation's paths, plans and submits them as one invalidation (more
    /// batches only past CloudFront's per-request limits), and records it as done.
    async fn complete(
        &self,
        dist: &str,
        flush_id: &str,
        invocation: &Invocation,
    ) -> Result<FlushReport, Error> {
        let policy = &self.invalidator.read_retry;
        let deadline = invocation.deadline;
        let paths = call(policy, deadline, "Query", || self.store.paths(flush_id)).await?;
        let request = Request {
            distribution: dist.to_string(),
            paths: paths
                .iter()
                .map(|p| NormPath {
                    text: p.clone(),
                    wildcard: false,
                })
                .collect(),
            tags: Vec::new(),
            deployment_id: flush_id.to_string(),
            wait: false,
            site_paths: None,
            caller_reference: Some(flush_id.to_string()),
            overrides: Default::default(),
        };
        let outcome = Box::pin(self.invalidate(&request, deadline, invocation)).await?;
        let report = serde_json::to_string(&outcome)
            .map_err(|e| Error::BadEvent(format!("the flush report cannot be written: {e}")))?;
        let month = invocation.now().format("%Y-%m").to_string();
        let billed = outcome.paths_billed as u64;
        let finished = call(policy, deadline, "TransactWriteItems", || {
            self.store.finish(flush_id, &report, &month, billed)
        })
        .await?;
        if !finished {
            tracing::info!(distribution = %dist, flush_id, "finished by another invocation");
        }
        tracing::info!(distribution = %dist, flush_id, paths = paths.len(), billed, invalidations = ?outcome.invalidation_ids, "flushed");
        Ok(FlushReport {
            paths_gathered: paths.len(),
            outcome: Some(json!(outcome)),
            ..FlushReport::status(dist, flush_id, "flushed")
        })
    }
}
