//! Pacing rate-limited receivers from a budget shared by every invocation: the seam
//! ([`PaceStore`], one record per chat ([`crate::budget::budget_key`]), shared by every
//! receiver posting there: its buckets, its pending digest and the lease of whoever is
//! sending that digest), its in-memory implementation, and the [`Pace`] each
//! request of a paced receiver asks first.
//!
//! While a receiver has a digest pending, its notices are folded into it rather than sent
//! one by one: a line already waiting there must never be shown after a newer state of the
//! same alarm. Once the digest is out, notices go one by one again while the budget lasts.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use groundcrew::{Clock, Deadline};

use crate::budget::{self, Buckets, Limit};
use crate::digest::{Entry, Pending};
use crate::error::Error;
use crate::receivers::SendError;
use crate::routing::Receiver;

/// A request waits at most this long for its receiver's budget; beyond it the notice is
/// folded into the digest instead.
pub const MAX_WAIT: Duration = Duration::from_secs(3);

/// Tokens a request may leave unused because the store answered too late to use them
/// ([`crate::budget::send_within`]) before it goes on the last one anyway.
const MAX_STALE_TOKENS: u32 = 3;

/// What the budget says to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// A token was taken: send.
    Go,
    /// No token before then.
    Wait(Duration),
    /// A digest is pending: fold into it.
    Fold,
}

/// A pending digest claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub pending: Pending,
}

/// One record per paced receiver. Every write is conditional on the record as read, so
/// concurrent invocations share one budget and one digest.
pub trait PaceStore: Send + Sync {
    /// Takes a token of `receiver`'s buckets at `now_ms`; with `behind_digest`, answers
    /// [`Admission::Fold`] instead while a digest is pending.
    fn admit(
        &self,
        receiver: &str,
        limits: &[Limit],
        now_ms: i64,
        behind_digest: bool,
    ) -> impl Future<Output = Result<Admission, Error>> + Send;
    /// Adds one state change of `subject` to `receiver`'s pending digest.
    fn fold(
        &self,
        receiver: &str,
        subject: &str,
        entry: &Entry,
        expires_at: i64,
    ) -> impl Future<Output = Result<(), Error>> + Send;
    /// Claims `receiver`'s pending digest for `holder` until `until_ms`, when there is one,
    /// nobody else holds it, and the last digest went at least `interval` ago.
    fn claim_digest(
        &self,
        receiver: &str,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
        interval: Duration,
    ) -> impl Future<Output = Result<Option<Claimed>, Error>> + Send;
    /// After `sent` went out: removes what it showed (lines folded meanwhile stay), notes
    /// when, and gives the claim up.
    fn finish_digest(
        &self,
        receiver: &str,
        holder: &str,
        sent: &Pending,
        now_ms: i64,
    ) -> impl Future<Output = Result<(), Error>> + Send;
    /// Gives a claim up without sending (the digest stays pending).
    fn release_digest(
        &self,
        receiver: &str,
        holder: &str,
    ) -> impl Future<Output = Result<(), Error>> + Send;
}

/// One paced receiver's record.
#[derive(Debug, Clone, Default)]
pub struct PaceRecord {
    pub buckets: Buckets,
    pub pending: Pending,
    pub last_sent_ms: i64,
    pub holder: Option<(String, i64)>,
}

/// Whether `record`'s digest may be claimed at `now_ms`.
pub fn claimable(record: &PaceRecord, now_ms: i64, interval: Duration) -> bool {
    !record.pending.is_empty()
        && record
            .holder
            .as_ref()
            .is_none_or(|(_, until)| *until < now_ms)
        && now_ms - record.last_sent_ms >= interval.as_millis() as i64
}

/// The budget's answer for `record` (its new buckets when a token is taken).
pub fn admission(
    record: &PaceRecord,
    limits: &[Limit],
    now_ms: i64,
    behind_digest: bool,
) -> (Admission, Option<Buckets>) {
    if behind_digest && !record.pending.is_empty() {
        return (Admission::Fold, None);
    }
    match budget::take(&record.buckets, limits, now_ms) {
        Ok(next) => (Admission::Go, Some(next)),
        Err(wait) => (Admission::Wait(wait), None),
    }
}

/// The in-memory side of [`PaceStore`] (unit tests, the benchmark and the simulation).
#[derive(Debug, Clone, Default)]
pub struct MemoryPace {
    pub records: Arc<Mutex<BTreeMap<String, PaceRecord>>>,
}

impl MemoryPace {
    fn with<T>(&self, receiver: &str, f: impl FnOnce(&mut PaceRecord) -> T) -> T {
        let mut all = self
            .records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(all.entry(receiver.to_string()).or_default())
    }

    /// Whether no receiver has a digest pending.
    pub fn all_sent(&self) -> bool {
        self.records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .all(|r| r.pending.is_empty())
    }

    /// A receiver's pending digest (tests and the simulation look at it).
    pub fn pending(&self, receiver: &str) -> Pending {
        self.with(receiver, |r| r.pending.clone())
    }
}

impl PaceStore for MemoryPace {
    async fn admit(
        &self,
        receiver: &str,
        limits: &[Limit],
        now_ms: i64,
        behind_digest: bool,
    ) -> Result<Admission, Error> {
        Ok(self.with(receiver, |r| {
            let (answer, next) = admission(r, limits, now_ms, behind_digest);
            if let Some(next) = next {
                r.buckets = next;
            }
            answer
        }))
    }

    async fn fold(
        &self,
        receiver: &str,
        subject: &str,
        entry: &Entry,
        _expires_at: i64,
    ) -> Result<(), Error> {
        self.with(receiver, |r| r.pending.fold(subject, entry.clone()));
        Ok(())
    }

    async fn claim_digest(
        &self,
        receiver: &str,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
        interval: Duration,
    ) -> Result<Option<Claimed>, Error> {
        Ok(self.with(receiver, |r| {
            claimable(r, now_ms, interval).then(|| {
                r.holder = Some((holder.to_string(), until_ms));
                Claimed {
                    pending: r.pending.clone(),
                }
            })
        }))
    }

    async fn finish_digest(
        &self,
        receiver: &str,
        holder: &str,
        sent: &Pending,
        now_ms: i64,
    ) -> Result<(), Error> {
        self.with(receiver, |r| {
            if r.holder.as_ref().is_some_and(|(h, _)| h == holder) {
                r.pending = r.pending.without(sent);
                r.last_sent_ms = now_ms;
                r.holder = None;
                Ok(())
            } else {
                Err(Error::LeaseLost {
                    subject: format!("pace#{receiver}"),
                })
            }
        })
    }

    async fn release_digest(&self, receiver: &str, holder: &str) -> Result<(), Error> {
        self.with(receiver, |r| {
            if r.holder.as_ref().is_some_and(|(h, _)| h == holder) {
                r.holder = None;
            }
        });
        Ok(())
    }
}

/// What every request of a receiver asks before it goes (object-safe, so the receivers'
/// code needs no store type).
pub trait Pace: Send + Sync {
    fn admit<'a>(
        &'a self,
        name: &'a str,
        receiver: &'a Receiver,
        deadline: Deadline,
    ) -> Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>>;
}

/// No pacing (receivers' own tests).
pub struct Unpaced;

impl Pace for Unpaced {
    fn admit<'a>(
        &'a self,
        _name: &'a str,
        _receiver: &'a Receiver,
        _deadline: Deadline,
    ) -> Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>> {
        Box::pin(async { Ok(()) })
    }
}

/// Pacing from a [`PaceStore`]: waits up to [`MAX_WAIT`] (within the deadline) for a token,
/// else answers [`SendError::RateLimited`] so the notice is folded into the digest. A token
/// the store granted later than [`budget::send_within`] after the time it is dated is left
/// unused and another is taken, dated when it is asked for: the request goes within that
/// margin of its token's date, so never sooner than an interval after the one before.
/// After [`MAX_STALE_TOKENS`] late tokens in a row the request goes on the last one.
pub struct Pacer<'a, P> {
    pub store: &'a P,
    pub clock: Arc<dyn Clock>,
    /// Sending the digest itself: it takes a token but is never folded.
    pub digest: bool,
}

impl<P: PaceStore> Pace for Pacer<'_, P> {
    fn admit<'a>(
        &'a self,
        name: &'a str,
        receiver: &'a Receiver,
        deadline: Deadline,
    ) -> Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>> {
        Box::pin(async move {
            let limits = budget::limits(receiver);
            if limits.is_empty() {
                return Ok(());
            }
            let limited = |reason: &str| SendError::RateLimited {
                target: format!("{} receiver {name}", receiver.type_name()),
                reason: reason.to_string(),
            };
            let within = budget::send_within(limits);
            let mut waited = Duration::ZERO;
            let mut stale = 0;
            loop {
                let now_ms = self.clock.now().timestamp_millis();
                let answer = self
                    .store
                    .admit(
                        &budget::budget_key(name, receiver),
                        limits,
                        now_ms,
                        !self.digest,
                    )
                    .await
                    .map_err(|e| SendError::Budget(e.to_string()))?;
                match answer {
                    Admission::Go => {
                        let took = Duration::from_millis(
                            (self.clock.now().timestamp_millis() - now_ms).max(0) as u64,
                        );
                        if took <= within {
                            return Ok(());
                        }
                        // The token is dated `now_ms` but would go now: the bucket may
                        // already be full again for another invocation (the store was
                        // slow: its read or write retried). Leave it spent and take one
                        // dated now.
                        stale += 1;
                        if stale > MAX_STALE_TOKENS || !deadline.allows(MAX_WAIT) {
                            // A table slow on every answer (or no time for another try):
                            // the message goes on this late token. At worst the receiver
                            // answers 429 with a retry-after, which the sender honours;
                            // folding it into the digest would delay every alarm of a
                            // receiver for as long as the table stays slow.
                            tracing::warn!(
                                receiver = name,
                                late_ms = took.as_millis() as u64,
                                tokens = stale,
                                "budget store answers too slowly: sending on a late token"
                            );
                            return Ok(());
                        }
                    }
                    Admission::Fold => return Err(limited("a digest is pending")),
                    Admission::Wait(wait) => {
                        if waited + wait > MAX_WAIT || !deadline.allows(wait + MAX_WAIT) {
                            return Err(limited("its message budget is spent for now"));
                        }
                        waited += wait;
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        })
    }
}

impl PaceStore for crate::store::MemoryStore {
    async fn admit(
        &self,
        receiver: &str,
        limits: &[Limit],
        now_ms: i64,
        behind_digest: bool,
    ) -> Result<Admission, Error> {
        self.pace
            .admit(receiver, limits, now_ms, behind_digest)
            .await
    }

    async fn fold(
        &self,
        receiver: &str,
        subject: &str,
        entry: &Entry,
        expires_at: i64,
    ) -> Result<(), Error> {
        self.pace.fold(receiver, subject, entry, expires_at).await
    }

    async fn claim_digest(
        &self,
        receiver: &str,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
        interval: Duration,
    ) -> Result<Option<Claimed>, Error> {
        self.pace
            .claim_digest(receiver, holder, now_ms, until_ms, interval)
            .await
    }

    async fn finish_digest(
        &self,
        receiver: &str,
        holder: &str,
        sent: &Pending,
        now_ms: i64,
    ) -> Result<(), Error> {
        self.pace
            .finish_digest(receiver, holder, sent, now_ms)
            .await
    }

    async fn release_digest(&self, receiver: &str, holder: &str) -> Result<(), Error> {
        self.pace.release_digest(receiver, holder).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use groundcrew::invocation::TokioClock;

    /// The in-memory budget behind a slow table: the first answers come late by these delays
    /// (the SDK retrying a timed-out read or write), the rest at once.
    struct Slow {
        inner: MemoryPace,
        delays: Mutex<Vec<Duration>>,
        calls: Mutex<u32>,
    }

    impl PaceStore for Slow {
        async fn admit(
            &self,
            receiver: &str,
            limits: &[Limit],
            now_ms: i64,
            behind_digest: bool,
        ) -> Result<Admission, Error> {
            let delay = {
                *self.calls.lock().unwrap() += 1;
                self.delays.lock().unwrap().pop().unwrap_or_default()
            };
            let answer = self
                .inner
                .admit(receiver, limits, now_ms, behind_digest)
                .await;
            tokio::time::sleep(delay).await;
            answer
        }
        async fn fold(&self, r: &str, s: &str, e: &Entry, x: i64) -> Result<(), Error> {
            self.inner.fold(r, s, e, x).await
        }
        async fn claim_digest(
            &self,
            r: &str,
            h: &str,
            now_ms: i64,
            until_ms: i64,
            interval: Duration,
        ) -> Result<Option<Claimed>, Error> {
            self.inner
                .claim_digest(r, h, now_ms, until_ms, interval)
                .await
        }
        async fn finish_digest(
            &self,
            r: &str,
            h: &str,
            sent: &Pending,
            now_ms: i64,
        ) -> Result<(), Error> {
            self.inner.finish_digest(r, h, sent, now_ms).await
        }
        async fn release_digest(&self, r: &str, h: &str) -> Result<(), Error> {
            self.inner.release_digest(r, h).await
        }
    }

    fn slack() -> Receiver {
        Receiver::Slack {
            webhook_url_secret: "slack/ops".into(),
        }
    }

    /// Admits one request through a store whose first answers come `delays` late; the
    /// time (ms) it may go, and the store.
    async fn admitted_through(delays: &[Duration]) -> (i64, Slow) {
        let store = Slow {
            inner: MemoryPace::default(),
            delays: Mutex::new(delays.iter().rev().copied().collect()),
            calls: Mutex::new(0),
        };
        let clock = Arc::new(TokioClock::starting_at(chrono::DateTime::UNIX_EPOCH));
        let pacer = Pacer {
            store: &store,
            clock: clock.clone(),
            digest: false,
        };
        pacer
            .admit("slack", &slack(), Deadline::after(Duration::from_secs(60)))
            .await
            .expect("admitted");
        (clock.now().timestamp_millis(), store)
    }

    /// Whether another invocation asking at `at_ms` would be let through.
    fn next_goes_at(store: &Slow, at_ms: i64) -> bool {
        let key = budget::budget_key("slack", &slack());
        let record = store.inner.with(&key, |r| r.clone());
        admission(&record, budget::limits(&slack()), at_ms, true).0 == Admission::Go
    }

    #[tokio::test(start_paused = true)]
    async fn a_token_granted_seconds_late_is_not_used_and_the_next_request_waits_a_second() {
        // The table answers the first admission 3 s late (a timed-out write retried).
        let (sent_ms, store) = admitted_through(&[Duration::from_secs(3)]).await;
        assert_eq!(sent_ms, 3_000, "it goes once the table answered");
        assert_eq!(
            *store.calls.lock().unwrap(),
            2,
            "a second token, dated when it goes"
        );
        // Nobody else goes within a second of this request.
        assert!(!next_goes_at(&store, sent_ms + 999));
        assert!(next_goes_at(&store, sent_ms + 1_100));
    }

    #[tokio::test(start_paused = true)]
    async fn a_prompt_token_is_used_and_a_table_that_stays_slow_sends_on_its_last_token() {
        // A healthy table (a few milliseconds): one token, used.
        let (sent_ms, store) = admitted_through(&[Duration::from_millis(20)]).await;
        assert_eq!((sent_ms, *store.calls.lock().unwrap()), (20, 1));
        assert!(!next_goes_at(&store, sent_ms + 999));
        // A table slow on every answer (a loaded machine's local table): sent on the last of
        // a few tokens, neither retried forever nor folded into the digest.
        let store = Slow {
            inner: MemoryPace::default(),
            delays: Mutex::new(vec![Duration::from_secs(3); 10]),
            calls: Mutex::new(0),
        };
        let pacer = Pacer {
            store: &store,
            clock: Arc::new(TokioClock::starting_at(chrono::DateTime::UNIX_EPOCH)),
            digest: false,
        };
        pacer
            .admit("slack", &slack(), Deadline::after(Duration::from_secs(60)))
            .await
            .expect("sent on a late token");
        assert_eq!(*store.calls.lock().unwrap(), MAX_STALE_TOKENS + 1);
    }
}
