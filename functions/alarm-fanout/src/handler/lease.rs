//! The subject's lease: one invocation at a time acts on an alarm (or a message).

use std::sync::atomic::Ordering;
use std::time::Duration;

use groundcrew::Invocation;

use super::{App, Stores};
use crate::error::Error;
use crate::notice::Notice;
use crate::receivers::Deliver;
use crate::redrive::DeadLetters;
use crate::severity::TagLookup;
use crate::store::{Acquired, Lease, Subject};

/// A lease outlives the invocation's deadline by this much (the response still has to go).
const LEASE_MARGIN: Duration = Duration::from_secs(5);
/// Waiting for another invocation's lease stops when less than this would be left to deliver.
const MIN_WORK_TIME: Duration = Duration::from_secs(10);

impl<St: Stores, D: Deliver, T: TagLookup + 'static, Q: DeadLetters> App<St, D, T, Q> {
    /// Takes the subject's lease, waiting for another holder while the deadline leaves
    /// time to deliver afterwards. The lease runs to the deadline (plus a margin), taken
    /// with the clock read just before the write.
    pub(crate) async fn acquire(
        &self,
        subject: &str,
        notice: &Notice,
        invocation: &Invocation,
    ) -> Result<(Lease, Subject), Error> {
        let deadline = invocation.deadline;
        let holder = format!(
            "{}/{}",
            invocation.request_id,
            self.holders.fetch_add(1, Ordering::SeqCst)
        );
        let mut wait = Duration::from_millis(200);
        loop {
            let now = invocation.now();
            let now_ms = now.timestamp_millis();
            let lease = Lease {
                subject: subject.to_string(),
                holder: holder.clone(),
                until_ms: now_ms + (deadline.remaining() + LEASE_MARGIN).as_millis() as i64,
            };
            let expires_at = now.timestamp() + self.policy.record_ttl.as_secs() as i64;
            match self.store.acquire(&lease, now_ms, expires_at).await? {
                Acquired::Held(found) => return Ok((lease, found)),
                Acquired::Busy { until_ms } => {
                    let left = Duration::from_millis(until_ms.saturating_sub(now_ms).max(0) as u64);
                    let pause = wait.min(left.max(Duration::from_millis(50)));
                    if !deadline.allows(pause + MIN_WORK_TIME) {
                        return Err(Error::Busy {
                            id: notice.id.clone(),
                        });
                    }
                    tokio::time::sleep(pause).await;
                    wait = (wait * 2).min(Duration::from_secs(2));
                }
            }
        }
    }
}
