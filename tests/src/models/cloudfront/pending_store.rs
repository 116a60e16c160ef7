//! cloudfront-invalidate's pending store and flush trigger with DynamoDB's and SQS's
//! faults: the crate's in-memory store (the contract its DynamoDB adapter follows, checked
//! against moto by the crate's `store_contract` test) behind the fault plan.
//!
//! Per call, from the plan (resource `dynamodb` or `sqs`, the operation of the trait
//! method): throttling (`ThrottlingException`, DynamoDB Developer Guide, "Error
//! handling"), a 500 (`InternalServerError`), a timeout before the store acted, or one
//! after it acted (the write happened, the answer was lost). A retried conditional write
//! after a lost answer meets its own earlier write and fails its condition, as DynamoDB's
//! would: those are counted as conditional-check failures, with the ones concurrent
//! invocations cause.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use cloudfront_invalidate::aws::FlushTrigger;
use cloudfront_invalidate::error::{AwsError, Fault as AwsFault};
use cloudfront_invalidate::memory::MemoryStore;
use cloudfront_invalidate::store::{Chunk, FlushRecord, Head, PendingStore};

use crate::kernel::{lock, Fault, Sim};

fn transient(operation: &'static str, code: &str) -> AwsError {
    AwsError::new(operation, format!("{code} (simulated)"))
        .with_code(code)
        .with_fault(AwsFault::Transient)
}

/// The fault drawn for one call: `Ok(true)` act and answer, `Ok(false)` act and lose the
/// answer, `Err` fail without acting.
fn draw(sim: &Sim, resource: &str, operation: &'static str) -> Result<bool, AwsError> {
    match sim.fault(resource, operation) {
        Fault::None => Ok(true),
        Fault::Throttle => Err(transient(operation, "ThrottlingException")),
        Fault::ServerError => Err(transient(operation, "InternalServerError")),
        Fault::TimeoutBeforeAction => Err(transient(operation, "RequestTimeout")),
        Fault::TimeoutAfterAction => Ok(false),
    }
}

pub struct FaultyStore {
    sim: Arc<Sim>,
    pub inner: MemoryStore,
    /// Conditional writes that answered `false` (lost answers retried, concurrent writers).
    pub conditional_failures: AtomicU64,
}

impl FaultyStore {
    pub fn new(sim: Arc<Sim>) -> Self {
        Self {
            sim,
            inner: MemoryStore::default(),
            conditional_failures: AtomicU64::new(0),
        }
    }

    async fn call<T, F, Fut>(&self, operation: &'static str, act: F) -> Result<T, AwsError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, AwsError>>,
    {
        let answered = draw(&self.sim, "dynamodb", operation)?;
        let result = act().await;
        if answered {
            result
        } else {
            self.sim
                .trace(format!("dynamodb {operation}: acted, answer lost"));
            Err(transient(operation, "RequestTimeout"))
        }
    }

    async fn conditional<F, Fut>(&self, operation: &'static str, act: F) -> Result<bool, AwsError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<bool, AwsError>>,
    {
        let out = self.call(operation, act).await;
        if matches!(out, Ok(false)) {
            self.conditional_failures.fetch_add(1, Ordering::Relaxed);
        }
        out
    }
}

impl PendingStore for FaultyStore {
    async fn head(&self, distribution: &str) -> Result<Option<Head>, AwsError> {
        self.call("GetItem", || self.inner.head(distribution)).await
    }
    async fn heads(&self) -> Result<Vec<Head>, AwsError> {
        self.call("Query", || self.inner.heads()).await
    }
    async fn taken(&self, message_keys: &[String]) -> Result<Vec<String>, AwsError> {
        self.call("BatchGetItem", || self.inner.taken(message_keys))
            .await
    }
    async fn append(&self, chunk: &Chunk) -> Result<bool, AwsError> {
        self.conditional("TransactWriteItems", || self.inner.append(chunk))
            .await
    }
    async fn arm(&self, distribution: &str, flush_id: &str) -> Result<(), AwsError> {
        self.call("UpdateItem", || self.inner.arm(distribution, flush_id))
            .await
    }
    async fn seal(&self, head: &Head, now: i64) -> Result<bool, AwsError> {
        self.conditional("TransactWriteItems", || self.inner.seal(head, now))
            .await
    }
    async fn flush_record(&self, flush_id: &str) -> Result<Option<FlushRecord>, AwsError> {
        self.call("GetItem", || self.inner.flush_record(flush_id))
            .await
    }
    async fn paths(&self, flush_id: &str) -> Result<Vec<String>, AwsError> {
        self.call("Query", || self.inner.paths(flush_id)).await
    }
    async fn finish(
        &self,
        flush_id: &str,
        report: &str,
        month: &str,
        billed: u64,
    ) -> Result<bool, AwsError> {
        self.conditional("TransactWriteItems", || {
            self.inner.finish(flush_id, report, month, billed)
        })
        .await
    }
    async fn count_billed(
        &self,
        reference: &str,
        month: &str,
        billed: u64,
    ) -> Result<bool, AwsError> {
        self.conditional("TransactWriteItems", || {
            self.inner.count_billed(reference, month, billed)
        })
        .await
    }
    async fn kept_plan(&self, key: &str) -> Result<Option<Vec<String>>, AwsError> {
        self.call("GetItem", || self.inner.kept_plan(key)).await
    }
    async fn keep_plan(&self, key: &str, wildcards: &[String], now: i64) -> Result<bool, AwsError> {
        self.conditional("PutItem", || self.inner.keep_plan(key, wildcards, now))
            .await
    }
    async fn usage(&self, month: &str) -> Result<u64, AwsError> {
        self.call("GetItem", || self.inner.usage(month)).await
    }
}

/// A message the function sent to its deploy queue (a flush trigger).
#[derive(Debug, Clone)]
pub struct Sent {
    pub body: String,
    pub delay_seconds: u32,
    pub at: DateTime<Utc>,
}

/// A received message the function returned early (`ChangeMessageVisibility`): visible
/// again `seconds` after `at` (SQS API Reference, ChangeMessageVisibility: the new
/// timeout counts from the call).
#[derive(Debug, Clone)]
pub struct Returned {
    pub receipt_handle: String,
    pub seconds: u32,
    pub at: DateTime<Utc>,
}

/// The flush trigger's `SendMessage` and `ChangeMessageVisibility` with SQS's faults; a
/// lost answer still acted.
pub struct FaultyQueue {
    sim: Arc<Sim>,
    sent: Mutex<Vec<Sent>>,
    returned: Mutex<Vec<Returned>>,
}

impl FaultyQueue {
    pub fn new(sim: Arc<Sim>) -> Self {
        Self {
            sim,
            sent: Mutex::new(Vec::new()),
            returned: Mutex::new(Vec::new()),
        }
    }

    /// Every message returned early since the last call.
    pub fn take_returned(&self) -> Vec<Returned> {
        std::mem::take(&mut *lock(&self.returned))
    }

    /// Everything sent since the last call.
    pub fn take(&self) -> Vec<Sent> {
        std::mem::take(&mut *lock(&self.sent))
    }
}

impl FlushTrigger for FaultyQueue {
    async fn send(&self, body: &str, delay_seconds: u32) -> Result<(), AwsError> {
        if delay_seconds > 900 {
            return Err(AwsError::new("SendMessage", "DelaySeconds is over 900")
                .with_code("InvalidParameterValue"));
        }
        let answered = draw(&self.sim, "sqs", "SendMessage")?;
        lock(&self.sent).push(Sent {
            body: body.to_string(),
            delay_seconds,
            at: self.sim.now(),
        });
        if answered {
            Ok(())
        } else {
            Err(transient("SendMessage", "RequestTimeout"))
        }
    }

    async fn return_in(&self, receipt_handle: &str, seconds: u32) -> Result<(), AwsError> {
        // SQS allows 0 to 43,200 s (12 hours).
        if seconds > 43_200 {
            return Err(AwsError::new(
                "ChangeMessageVisibility",
                "VisibilityTimeout is over 43200",
            )
            .with_code("InvalidParameterValue"));
        }
        let answered = draw(&self.sim, "sqs", "ChangeMessageVisibility")?;
        lock(&self.returned).push(Returned {
            receipt_handle: receipt_handle.to_string(),
            seconds,
            at: self.sim.now(),
        });
        if answered {
            Ok(())
        } else {
            Err(transient("ChangeMessageVisibility", "RequestTimeout"))
        }
    }
}
