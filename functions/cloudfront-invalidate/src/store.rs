//! The pending-deploy store: what S3 notifications changed, gathered per distribution
//! until the deploy is quiet, and what each flush did.
//!
//! One trait method is one DynamoDB call (the adapter is [`crate::aws::dynamo`]), so that
//! the simulation's model can implement the same contract. The contract:
//!
//! - A distribution has at most one *open* generation, its [`Head`], named by a flush id.
//! - [`PendingStore::append`] adds one chunk of messages to the open generation in one
//!   transaction: it creates the head (when `create` is set and there is none) or updates
//!   it (only while its flush id is still the chunk's), stores the chunk's paths, and marks
//!   every message as taken by that flush id (only if no earlier attempt did). Any failed
//!   condition cancels the whole chunk and the answer is `false`: the caller reads again.
//! - [`PendingStore::seal`] closes the generation in one transaction: the head is deleted
//!   (only while it still names that flush id) and the flush record is written as
//!   `Sealed`. After that no append can reach the generation; a retried or re-composed
//!   batch finds its messages already taken and adds nothing.
//! - [`PendingStore::finish`] marks the flush record `Done` (only once) and adds the paths
//!   billed to the month's counter in the same transaction, so the counter counts each
//!   flush once.
//! - [`PendingStore::count_billed`] adds an invalidation that did not come from a flush
//!   (a direct invoke, a deploy event, a CodePipeline job) to the month's counter, once
//!   per `CallerReference`: a retried event gets the same reference from CloudFront's
//!   point of view (the same invalidation, not billed again) and from the counter's.
//! - [`PendingStore::keep_plan`] stores the wildcards an invalidation's plan chose, under
//!   its key (a flush id, or a deploy's distribution and deployment id), once: the first
//!   writer wins and [`PendingStore::kept_plan`] reads them back. A retry plans again
//!   from them alone, so the batches (and the `CallerReference`s that name them) are the
//!   same even when the month's free paths or the bucket changed in between.

use std::future::Future;

use crate::error::AwsError;

/// The open generation of a distribution's pending deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The distribution id.
    pub distribution: String,
    /// The flush id: the `CallerReference` of the invalidation this generation becomes.
    pub flush_id: String,
    /// Seconds since the epoch of the first and of the latest change gathered.
    pub first_at: i64,
    pub last_at: i64,
    /// Messages gathered so far.
    pub messages: u64,
    /// Whether the flush trigger was sent for this generation.
    pub armed: bool,
}

/// One transaction's worth of messages for the open generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub distribution: String,
    pub flush_id: String,
    /// Unique within the generation (the first message's key).
    pub chunk_id: String,
    /// Keys of the messages marked as taken (per distribution: `<distribution>#<message id>`).
    pub message_keys: Vec<String>,
    /// Site paths the messages changed, normalised (may be empty).
    pub paths: Vec<String>,
    /// Seconds since the epoch.
    pub now: i64,
    /// Create the head (there was none when the caller read it).
    pub create: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushState {
    Sealed,
    Done,
}

/// What a flush did, kept with the generation so a repeated trigger does nothing twice.
#[derive(Debug, Clone, PartialEq)]
pub struct FlushRecord {
    pub flush_id: String,
    pub distribution: String,
    pub state: FlushState,
    pub first_at: i64,
    pub sealed_at: i64,
    /// The flush's report (JSON), once done.
    pub report: Option<String>,
}

/// Items expire this long after they are written (SQS keeps a message at most 14 days,
/// so no retry of a marked message can arrive later).
pub const RETENTION_SECONDS: i64 = 14 * 24 * 3600;

pub trait PendingStore: Send + Sync {
    /// GetItem of the distribution's head.
    fn head(
        &self,
        distribution: &str,
    ) -> impl Future<Output = Result<Option<Head>, AwsError>> + Send;
    /// Query of every open head (the direct `flush` without a distribution).
    fn heads(&self) -> impl Future<Output = Result<Vec<Head>, AwsError>> + Send;
    /// BatchGetItem of message markers: the keys already taken by some flush.
    fn taken(
        &self,
        message_keys: &[String],
    ) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    /// TransactWriteItems: head, paths and markers, all or nothing; `false` when a
    /// condition failed.
    fn append(&self, chunk: &Chunk) -> impl Future<Output = Result<bool, AwsError>> + Send;
    /// UpdateItem: the flush trigger was sent for this generation.
    fn arm(
        &self,
        distribution: &str,
        flush_id: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// TransactWriteItems: delete the head, write the `Sealed` flush record; `false`
    /// when the head no longer names this flush id.
    fn seal(&self, head: &Head, now: i64) -> impl Future<Output = Result<bool, AwsError>> + Send;
    /// GetItem of a generation's flush record.
    fn flush_record(
        &self,
        flush_id: &str,
    ) -> impl Future<Output = Result<Option<FlushRecord>, AwsError>> + Send;
    /// Query of every path gathered in a generation.
    fn paths(&self, flush_id: &str) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    /// TransactWriteItems: the record becomes `Done` with its report (only from
    /// `Sealed`) and `billed` is added to the month's counter; `false` when it was done.
    fn finish(
        &self,
        flush_id: &str,
        report: &str,
        month: &str,
        billed: u64,
    ) -> impl Future<Output = Result<bool, AwsError>> + Send;
    /// TransactWriteItems: a `bill#<reference>` marker (only if absent) and `billed`
    /// added to the month's counter; `false` when this reference was counted before.
    fn count_billed(
        &self,
        reference: &str,
        month: &str,
        billed: u64,
    ) -> impl Future<Output = Result<bool, AwsError>> + Send;
    /// GetItem of the wildcards kept for a plan key; `None` when none were kept.
    fn kept_plan(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<Vec<String>>, AwsError>> + Send;
    /// PutItem (only if absent) of a plan's wildcards (possibly none); `false` when a plan
    /// was kept under this key before (read it with [`PendingStore::kept_plan`]).
    fn keep_plan(
        &self,
        key: &str,
        wildcards: &[String],
        now: i64,
    ) -> impl Future<Output = Result<bool, AwsError>> + Send;
    /// GetItem of the paths billed in a month (`YYYY-MM`) by this function's
    /// invalidations (flushes, direct invokes, deploy events, CodePipeline jobs).
    fn usage(&self, month: &str) -> impl Future<Output = Result<u64, AwsError>> + Send;
}

// The decisions both stores make, in one place: the in-memory store applies them, the
// DynamoDB adapter writes the same items and states the same conditions as expressions.

impl Head {
    /// The head a chunk that opens a generation writes.
    pub fn opened_by(chunk: &Chunk) -> Self {
        Head {
            distribution: chunk.distribution.clone(),
            flush_id: chunk.flush_id.clone(),
            first_at: chunk.now,
            last_at: chunk.now,
            messages: chunk.message_keys.len() as u64,
            armed: false,
        }
    }
}

impl Chunk {
    /// Whether the chunk may be appended beside the distribution's current head: it opens
    /// a generation only where there is none (`attribute_not_exists(pk)`), and adds to one
    /// only while the head still names its flush id (`flush_id = :f`).
    pub fn fits(&self, current: Option<&Head>) -> bool {
        match current {
            None => self.create,
            Some(h) => !self.create && h.flush_id == self.flush_id,
        }
    }
}

impl FlushState {
    /// The state as the pending table stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            FlushState::Sealed => "sealed",
            FlushState::Done => "done",
        }
    }

    /// A stored state; anything but `done` is still `Sealed` (the flush runs again).
    pub fn from_stored(s: Option<&str>) -> Self {
        match s {
            Some("done") => FlushState::Done,
            _ => FlushState::Sealed,
        }
    }
}

impl FlushRecord {
    /// The record sealing `head` at `now` writes.
    pub fn sealed(head: &Head, now: i64) -> Self {
        FlushRecord {
            flush_id: head.flush_id.clone(),
            distribution: head.distribution.clone(),
            state: FlushState::Sealed,
            first_at: head.first_at,
            sealed_at: now,
            report: None,
        }
    }
}

/// A generation's paths as the stores answer them, from all its chunks: sorted, each once
/// (a path changed twice in a deploy is invalidated once).
pub fn gathered(chunks: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut paths: Vec<String> = chunks.into_iter().collect();
    paths.sort();
    paths.dedup();
    paths
}

/// When the generation is due: quiet for `quiet`, or its first change `max_wait` old.
pub fn due_at(head: &Head, quiet: i64, max_wait: i64) -> i64 {
    (head.last_at + quiet).min(head.first_at + max_wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_when_quiet_or_old() {
        let head = Head {
            distribution: "E1".into(),
            flush_id: "f".into(),
            first_at: 1000,
            last_at: 1000,
            messages: 1,
            armed: false,
        };
        assert_eq!(due_at(&head, 60, 300), 1060);
        // Changes keep coming: the quiet time moves, the maximum wait does not.
        let busy = Head {
            last_at: 1290,
            ..head
        };
        assert_eq!(due_at(&busy, 60, 300), 1300);
    }

    #[test]
    fn a_chunk_opens_a_generation_or_joins_its_own() {
        let chunk = Chunk {
            distribution: "E1".into(),
            flush_id: "f".into(),
            chunk_id: "c".into(),
            message_keys: vec!["E1#m1".into(), "E1#m2".into()],
            paths: vec!["/a".into()],
            now: 50,
            create: true,
        };
        let head = Head::opened_by(&chunk);
        assert_eq!((head.first_at, head.last_at, head.messages), (50, 50, 2));
        assert!(chunk.fits(None));
        assert!(!chunk.fits(Some(&head)), "a second opener must read again");
        let join = Chunk {
            create: false,
            ..chunk.clone()
        };
        assert!(join.fits(Some(&head)));
        assert!(!join.fits(None), "the generation was sealed meanwhile");
        let other = Head {
            flush_id: "g".into(),
            ..head.clone()
        };
        assert!(
            !join.fits(Some(&other)),
            "a newer generation is not this chunk's"
        );
        let record = FlushRecord::sealed(&head, 99);
        assert_eq!(
            (record.state, record.first_at, record.sealed_at),
            (FlushState::Sealed, 50, 99)
        );
        for state in [FlushState::Sealed, FlushState::Done] {
            assert_eq!(FlushState::from_stored(Some(state.as_str())), state);
        }
        assert_eq!(
            gathered(["/b".to_string(), "/a".into(), "/b".into()]),
            vec!["/a", "/b"]
        );
    }
}
