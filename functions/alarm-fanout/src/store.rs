//! Delivery records: what each receiver was last told about each subject (an alarm, or a
//! notice that is not an alarm), the newest state change handled, and the lease that lets
//! one invocation at a time act on a subject.
//!
//! The [`Store`] trait is the seam: one method per conditional write the handler depends
//! on. [`crate::aws::DynamoStore`] implements it over DynamoDB (layout in its module
//! documentation), [`MemoryStore`] in memory with the same semantics (unit tests, the
//! benchmark and the simulation).
//!
//! Fencing: every write after [`Store::acquire`] names the holder and succeeds only while
//! that holder still holds the lease; otherwise it fails with [`Error::LeaseLost`] and the
//! holder stops.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::error::Error;
use crate::notice::State;

/// One state change of a subject: the alarm's state (none for other notices) and when it
/// changed, in milliseconds since the epoch (zero for other notices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub state: Option<State>,
    pub at_ms: i64,
}

/// The newest state change handled for a subject, and the message that carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Newest {
    pub change: Change,
    pub message_id: String,
}

/// How far a multi-part message got with one receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// The change the parts belong to.
    pub at_ms: i64,
    /// Parts delivered, from the first.
    pub parts: u32,
    /// The last attempt may have reached the receiver without our knowing (it timed out).
    pub uncertain: bool,
}

/// A subject as the lease found it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Subject {
    pub newest: Option<Newest>,
    /// Per receiver: the last change delivered to it.
    pub delivered: BTreeMap<String, Change>,
    /// Per receiver: the parts of an unfinished multi-part message.
    pub progress: BTreeMap<String, Progress>,
}

/// The right to write a subject's records, until `until_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub subject: String,
    pub holder: String,
    pub until_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acquired {
    Held(Subject),
    /// Another holder's lease runs until then.
    Busy {
        until_ms: i64,
    },
}

/// A notice older than the newest handled for its alarm, kept for the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleRecord {
    pub message_id: String,
    pub subject: String,
    pub change: Change,
    pub newest: Change,
}

pub trait Store: Send + Sync {
    /// Takes the subject's lease when it is free, expired or already this holder's, and
    /// returns the subject as it stands (one conditional write).
    fn acquire(
        &self,
        lease: &Lease,
        now_ms: i64,
        expires_at: i64,
    ) -> impl Future<Output = Result<Acquired, Error>> + Send;
    /// Records the newest change handled (fenced).
    fn set_newest(
        &self,
        lease: &Lease,
        newest: &Newest,
    ) -> impl Future<Output = Result<(), Error>> + Send;
    /// Records a multi-part message's progress with one receiver (fenced).
    fn record_progress(
        &self,
        lease: &Lease,
        receiver: &str,
        progress: Progress,
    ) -> impl Future<Output = Result<(), Error>> + Send;
    /// Records that `receiver` now shows `change`, and forgets its progress (fenced).
    fn record_delivery(
        &self,
        lease: &Lease,
        receiver: &str,
        change: Change,
    ) -> impl Future<Output = Result<(), Error>> + Send;
    /// Gives the lease up (fenced: a lease already taken over is left alone).
    fn release(&self, lease: &Lease) -> impl Future<Output = Result<(), Error>> + Send;
    /// Keeps a stale notice on record (not fenced: it is a fact, written once per id).
    fn record_stale(
        &self,
        stale: &StaleRecord,
        expires_at: i64,
    ) -> impl Future<Output = Result<(), Error>> + Send;
}

#[derive(Debug, Clone, Default)]
struct Item {
    holder: Option<String>,
    until_ms: i64,
    subject: Subject,
}

/// An in-memory store with DynamoDB's semantics for the conditions above.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    items: Arc<Mutex<HashMap<String, Item>>>,
    pub stale: Arc<Mutex<Vec<StaleRecord>>>,
    /// The paced receivers' records ([`crate::pace::PaceStore`]).
    pub pace: crate::pace::MemoryPace,
    /// Notices held for muted receivers ([`crate::held::HeldStore`]).
    pub held: crate::held::MemoryHeld,
    /// Silences ([`crate::silences::SilenceStore`]).
    pub silences: crate::silences::MemorySilences,
    /// Reminders of alarms still in ALARM ([`crate::reminders::ReminderStore`]).
    pub reminders: crate::reminders::MemoryReminders,
    /// Firing inhibition sources ([`crate::inhibition::SourceStore`]).
    pub sources: crate::inhibition::MemorySources,
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl MemoryStore {
    /// The subject as stored (tests and the simulation look at it).
    pub fn subject(&self, key: &str) -> Option<Subject> {
        locked(&self.items).get(key).map(|i| i.subject.clone())
    }

    /// Who holds a subject's lease, if anyone.
    pub fn holder(&self, key: &str) -> Option<String> {
        locked(&self.items).get(key).and_then(|i| i.holder.clone())
    }

    fn fenced<T>(&self, lease: &Lease, write: impl FnOnce(&mut Subject) -> T) -> Result<T, Error> {
        let mut items = locked(&self.items);
        match items.get_mut(&lease.subject) {
            Some(item) if item.holder.as_deref() == Some(lease.holder.as_str()) => {
                Ok(write(&mut item.subject))
            }
            _ => Err(Error::LeaseLost {
                subject: lease.subject.clone(),
            }),
        }
    }
}

impl Store for MemoryStore {
    async fn acquire(
        &self,
        lease: &Lease,
        now_ms: i64,
        _expires_at: i64,
    ) -> Result<Acquired, Error> {
        let mut items = locked(&self.items);
        let item = items.entry(lease.subject.clone()).or_default();
        let free = item.holder.is_none()
            || item.until_ms < now_ms
            || item.holder.as_deref() == Some(lease.holder.as_str());
        if !free {
            return Ok(Acquired::Busy {
                until_ms: item.until_ms,
            });
        }
        item.holder = Some(lease.holder.clone());
        item.until_ms = lease.until_ms;
        Ok(Acquired::Held(item.subject.clone()))
    }

    async fn set_newest(&self, lease: &Lease, newest: &Newest) -> Result<(), Error> {
        self.fenced(lease, |s| s.newest = Some(newest.clone()))
    }

    async fn record_progress(
        &self,
        lease: &Lease,
        receiver: &str,
        progress: Progress,
    ) -> Result<(), Error> {
        self.fenced(lease, |s| {
            s.progress.insert(receiver.to_string(), progress);
        })
    }

    async fn record_delivery(
        &self,
        lease: &Lease,
        receiver: &str,
        change: Change,
    ) -> Result<(), Error> {
        self.fenced(lease, |s| {
            s.delivered.insert(receiver.to_string(), change);
            s.progress.remove(receiver);
        })
    }

    async fn release(&self, lease: &Lease) -> Result<(), Error> {
        let mut items = locked(&self.items);
        if let Some(item) = items.get_mut(&lease.subject) {
            if item.holder.as_deref() == Some(lease.holder.as_str()) {
                item.holder = None;
                item.until_ms = 0;
            }
        }
        Ok(())
    }

    async fn record_stale(&self, stale: &StaleRecord, _expires_at: i64) -> Result<(), Error> {
        let mut all = locked(&self.stale);
        if !all.iter().any(|s| s.message_id == stale.message_id) {
            all.push(stale.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(holder: &str, until_ms: i64) -> Lease {
        Lease {
            subject: "alarm#a".into(),
            holder: holder.into(),
            until_ms,
        }
    }

    #[tokio::test]
    async fn a_lease_fences_every_later_write() {
        let store = MemoryStore::default();
        let first = lease("one", 1_000);
        assert!(matches!(
            store.acquire(&first, 0, 0).await.unwrap(),
            Acquired::Held(_)
        ));
        assert_eq!(
            store.acquire(&lease("two", 2_000), 500, 0).await.unwrap(),
            Acquired::Busy { until_ms: 1_000 }
        );
        // The first holder's lease ends; the second takes over.
        let second = lease("two", 3_000);
        assert!(matches!(
            store.acquire(&second, 1_001, 0).await.unwrap(),
            Acquired::Held(_)
        ));
        let change = Change {
            state: Some(State::Alarm),
            at_ms: 5,
        };
        let err = store
            .record_delivery(&first, "tg", change)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::LeaseLost { .. }), "{err}");
        // The first holder's release leaves the second's lease alone.
        store.release(&first).await.unwrap();
        assert_eq!(store.holder("alarm#a").as_deref(), Some("two"));
        store.record_delivery(&second, "tg", change).await.unwrap();
        assert_eq!(
            store.subject("alarm#a").unwrap().delivered.get("tg"),
            Some(&change)
        );
    }
}
