//! Held notices: a notice some of whose receivers are muted (a route outside its active
//! time windows or inside a mute window) is recorded here, never dropped. The sweep
//! ([`crate::sweep`]) hands each one back to the handler every minute: once its routes are
//! no longer muted, the receivers that still lack it get it, unless a newer state change of
//! the alarm made it stale (an alarm that went OK meanwhile is not sent as firing).
//!
//! One record per subject (an alarm, or a notice that is not an alarm): a later held notice
//! of the same alarm replaces the earlier one, which the later change supersedes anyway.
//! The subject's lease orders the writes. [`crate::aws::DynamoStore`] keeps them in
//! DynamoDB, [`MemoryHeld`] in memory with the same semantics.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::error::Error;
use crate::notice::Notice;

/// A notice held for muted receivers.
#[derive(Debug, Clone, PartialEq)]
pub struct Held {
    /// The subject's key (`alarm#...`, `msg#...`).
    pub subject: String,
    pub notice: Notice,
    /// The receivers that were muted when it was held.
    pub receivers: Vec<String>,
}

pub trait HeldStore: Send + Sync {
    /// Records (or replaces) the subject's held notice.
    fn hold(&self, held: &Held, expires_at: i64) -> impl Future<Output = Result<(), Error>> + Send;
    /// Every held notice.
    fn held(&self) -> impl Future<Output = Result<Vec<Held>, Error>> + Send;
    /// Forgets the subject's held notice if it is still the one with `message_id` (a
    /// newer one held meanwhile stays).
    fn release_held(
        &self,
        subject: &str,
        message_id: &str,
    ) -> impl Future<Output = Result<(), Error>> + Send;
}

/// Held notices in memory (unit tests, the simulation).
#[derive(Debug, Default, Clone)]
pub struct MemoryHeld(Arc<Mutex<BTreeMap<String, Held>>>);

impl MemoryHeld {
    fn locked(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Held>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl HeldStore for MemoryHeld {
    async fn hold(&self, held: &Held, _expires_at: i64) -> Result<(), Error> {
        self.locked().insert(held.subject.clone(), held.clone());
        Ok(())
    }

    async fn held(&self) -> Result<Vec<Held>, Error> {
        Ok(self.locked().values().cloned().collect())
    }

    async fn release_held(&self, subject: &str, message_id: &str) -> Result<(), Error> {
        let mut held = self.locked();
        if held.get(subject).is_some_and(|h| h.notice.id == message_id) {
            held.remove(subject);
        }
        Ok(())
    }
}

impl HeldStore for crate::store::MemoryStore {
    async fn hold(&self, held: &Held, expires_at: i64) -> Result<(), Error> {
        self.held.hold(held, expires_at).await
    }

    async fn held(&self) -> Result<Vec<Held>, Error> {
        self.held.held().await
    }

    async fn release_held(&self, subject: &str, message_id: &str) -> Result<(), Error> {
        self.held.release_held(subject, message_id).await
    }
}
