//! In-memory collaborators with the same contracts as the DynamoDB store and the queue:
//! for unit tests and as the reference the simulation's models follow. Ordered maps
//! only, so every answer is the same on every run.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use crate::aws::FlushTrigger;
use crate::error::AwsError;
use crate::store::{gathered, Chunk, FlushRecord, FlushState, Head, PendingStore};

#[derive(Debug, Default)]
pub struct MemoryState {
    pub heads: BTreeMap<String, Head>,
    /// Message key -> flush id that took it.
    pub markers: BTreeMap<String, String>,
    /// Flush id -> chunk id -> paths.
    pub paths: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    pub records: BTreeMap<String, FlushRecord>,
    /// Month -> paths billed.
    pub usage: BTreeMap<String, u64>,
    /// `CallerReference`s of invalidations counted outside flushes.
    pub counted: std::collections::BTreeSet<String>,
    /// Plan key -> the wildcards its first plan chose.
    pub plans: BTreeMap<String, Vec<String>>,
}

/// [`PendingStore`] in memory, conditions and all.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<MemoryState>,
}

impl MemoryStore {
    /// The state, for assertions (a poisoned lock still shows what was written).
    pub fn state(&self) -> MutexGuard<'_, MemoryState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl PendingStore for MemoryStore {
    async fn head(&self, distribution: &str) -> Result<Option<Head>, AwsError> {
        Ok(self.state().heads.get(distribution).cloned())
    }

    async fn heads(&self) -> Result<Vec<Head>, AwsError> {
        Ok(self.state().heads.values().cloned().collect())
    }

    async fn taken(&self, message_keys: &[String]) -> Result<Vec<String>, AwsError> {
        let state = self.state();
        let mut taken: Vec<String> = message_keys
            .iter()
            .filter(|k| state.markers.contains_key(*k))
            .cloned()
            .collect();
        taken.sort();
        Ok(taken)
    }

    async fn append(&self, chunk: &Chunk) -> Result<bool, AwsError> {
        let mut state = self.state();
        if !chunk.fits(state.heads.get(&chunk.distribution))
            || chunk
                .message_keys
                .iter()
                .any(|k| state.markers.contains_key(k))
        {
            return Ok(false);
        }
        match state.heads.get_mut(&chunk.distribution) {
            Some(head) => {
                head.last_at = chunk.now;
                head.messages += chunk.message_keys.len() as u64;
            }
            None => {
                state
                    .heads
                    .insert(chunk.distribution.clone(), Head::opened_by(chunk));
            }
        }
        for k in &chunk.message_keys {
            state.markers.insert(k.clone(), chunk.flush_id.clone());
        }
        if !chunk.paths.is_empty() {
            state
                .paths
                .entry(chunk.flush_id.clone())
                .or_default()
                .insert(chunk.chunk_id.clone(), chunk.paths.clone());
        }
        Ok(true)
    }

    async fn arm(&self, distribution: &str, flush_id: &str) -> Result<(), AwsError> {
        if let Some(h) = self.state().heads.get_mut(distribution) {
            if h.flush_id == flush_id {
                h.armed = true;
            }
        }
        Ok(())
    }

    async fn seal(&self, head: &Head, now: i64) -> Result<bool, AwsError> {
        let mut state = self.state();
        let current = state.heads.get(&head.distribution);
        if current.is_none_or(|h| h.flush_id != head.flush_id)
            || state.records.contains_key(&head.flush_id)
        {
            return Ok(false);
        }
        state.heads.remove(&head.distribution);
        state
            .records
            .insert(head.flush_id.clone(), FlushRecord::sealed(head, now));
        Ok(true)
    }

    async fn flush_record(&self, flush_id: &str) -> Result<Option<FlushRecord>, AwsError> {
        Ok(self.state().records.get(flush_id).cloned())
    }

    async fn paths(&self, flush_id: &str) -> Result<Vec<String>, AwsError> {
        let state = self.state();
        Ok(gathered(
            state
                .paths
                .get(flush_id)
                .into_iter()
                .flat_map(|chunks| chunks.values().flatten().cloned()),
        ))
    }

    async fn finish(
        &self,
        flush_id: &str,
        report: &str,
        month: &str,
        billed: u64,
    ) -> Result<bool, AwsError> {
        let mut state = self.state();
        match state.records.get_mut(flush_id) {
            Some(r) if r.state == FlushState::Sealed => {
                r.state = FlushState::Done;
                r.report = Some(report.to_string());
            }
            _ => return Ok(false),
        }
        *state.usage.entry(month.to_string()).or_default() += billed;
        Ok(true)
    }

    async fn count_billed(
        &self,
        reference: &str,
        month: &str,
        billed: u64,
    ) -> Result<bool, AwsError> {
        let mut state = self.state();
        if !state.counted.insert(reference.to_string()) {
            return Ok(false);
        }
        *state.usage.entry(month.to_string()).or_default() += billed;
        Ok(true)
    }

    async fn kept_plan(&self, key: &str) -> Result<Option<Vec<String>>, AwsError> {
        Ok(self.state().plans.get(key).cloned())
    }

    async fn keep_plan(&self, key: &str, wildcards: &[String], _: i64) -> Result<bool, AwsError> {
        let mut state = self.state();
        if state.plans.contains_key(key) {
            return Ok(false);
        }
        state.plans.insert(key.to_string(), wildcards.to_vec());
        Ok(true)
    }

    async fn usage(&self, month: &str) -> Result<u64, AwsError> {
        Ok(self.state().usage.get(month).copied().unwrap_or(0))
    }
}

/// [`FlushTrigger`] that keeps what was sent, (body, delay in seconds), and the messages
/// returned early, (receipt handle, seconds).
#[derive(Debug, Default)]
pub struct RecordedTrigger {
    sent: Mutex<Vec<(String, u32)>>,
    returned: Mutex<Vec<(String, u32)>>,
}

impl RecordedTrigger {
    /// Everything sent since the last call.
    pub fn take(&self) -> Vec<(String, u32)> {
        std::mem::take(&mut *self.sent.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Every message returned early since the last call.
    pub fn take_returned(&self) -> Vec<(String, u32)> {
        std::mem::take(&mut *self.returned.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl FlushTrigger for RecordedTrigger {
    async fn send(&self, body: &str, delay_seconds: u32) -> Result<(), AwsError> {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((body.to_string(), delay_seconds));
        Ok(())
    }

    async fn return_in(&self, receipt_handle: &str, seconds: u32) -> Result<(), AwsError> {
        self.returned
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((receipt_handle.to_string(), seconds));
        Ok(())
    }
}
