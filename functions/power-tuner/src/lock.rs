//! One run per function at a time: a lock object in the report bucket, created with an
//! S3 conditional write (`If-None-Match: *`) and changed only with `If-Match` on the ETag
//! read, so two runs can never both believe they hold it (no table needed).
//!
//! The lock names the run and the invocation working on it (`holder`) and expires: an
//! invocation holds it until its own deadline plus a grace period; between the invocations
//! of a run (the hand-off) it is held by the run with no holder. A run whose lock expired
//! died (a hard kill, a lost continuation): the next run takes the lock over and cleans up
//! after it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::input::S3Location;
use crate::store::{Condition, ObjectStore, StoreError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LockRecord {
    pub run_id: String,
    /// The request id of the invocation working on the run; empty between invocations.
    pub holder: String,
    pub expires_at: DateTime<Utc>,
    #[serde(default)]
    pub released: bool,
}

/// How the lock was obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acquired {
    /// No run held it.
    Fresh,
    /// The run already held it (a continuation, or a renewal).
    Continued,
    /// A finished run had released it.
    AfterRelease,
    /// Another run held it and expired: it died, and needs cleaning up after.
    TookOver { dead_run: String },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LockError {
    #[error("run {run_id} is tuning this function (its lock expires at {expires_at})")]
    Held {
        run_id: String,
        expires_at: DateTime<Utc>,
    },
    /// Another invocation of the same run is working on it (a duplicate delivery).
    #[error("invocation {holder} of this run is active until {expires_at}")]
    Busy {
        holder: String,
        expires_at: DateTime<Utc>,
    },
    #[error("the lock: {0}")]
    Store(String),
}

fn encode(record: &LockRecord) -> Vec<u8> {
    serde_json::to_vec(record).unwrap_or_default()
}

/// The lock's key for a function ARN: one lock per Region, account and name.
pub fn location(bucket: &str, function_arn: &str) -> S3Location {
    let parts: Vec<&str> = function_arn.split(':').collect();
    let key = match parts.as_slice() {
        [_, _, _, region, account, _, name, ..] => {
            format!("tuner-state/locks/{region}/{account}/{name}.json")
        }
        _ => format!("tuner-state/locks/{}.json", function_arn.replace(':', "_")),
    };
    S3Location {
        bucket: bucket.to_string(),
        key,
    }
}

/// Takes (or renews) the lock for `run_id`, for the invocation `holder` (empty: the run
/// between invocations), until `expires_at`.
pub async fn acquire<S: ObjectStore>(
    store: &S,
    at: &S3Location,
    run_id: &str,
    holder: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<Acquired, LockError> {
    let mine = LockRecord {
        run_id: run_id.to_string(),
        holder: holder.to_string(),
        expires_at,
        released: false,
    };
    // A few rounds: each lost race re-reads what won it.
    for _ in 0..4 {
        match store
            .put(at, encode(&mine), "application/json", Condition::IfAbsent)
            .await
        {
            Ok(()) => return Ok(Acquired::Fresh),
            Err(StoreError::Conflict) => {}
            Err(StoreError::Other(e)) => return Err(LockError::Store(e)),
        }
        let Some(current) = store
            .get(at)
            .await
            .map_err(|e| LockError::Store(e.to_string()))?
        else {
            continue;
        };
        // An unreadable lock is treated as a dead run's (it cannot name a live one).
        let record: Option<LockRecord> = serde_json::from_slice(&current.body).ok();
        let alive = |r: &LockRecord| !r.released && r.expires_at > now;
        let outcome = match &record {
            Some(r) if r.run_id == run_id => {
                // An empty `holder` is the hand-off, made by the invocation holding it.
                if alive(r) && !r.holder.is_empty() && !holder.is_empty() && r.holder != holder {
                    return Err(LockError::Busy {
                        holder: r.holder.clone(),
                        expires_at: r.expires_at,
                    });
                }
                Acquired::Continued
            }
            Some(r) if alive(r) => {
                return Err(LockError::Held {
                    run_id: r.run_id.clone(),
                    expires_at: r.expires_at,
                })
            }
            Some(r) if r.released => Acquired::AfterRelease,
            Some(r) => Acquired::TookOver {
                dead_run: r.run_id.clone(),
            },
            None => Acquired::TookOver {
                dead_run: String::new(),
            },
        };
        match store
            .put(
                at,
                encode(&mine),
                "application/json",
                Condition::IfMatch(current.etag.clone()),
            )
            .await
        {
            Ok(()) => return Ok(outcome),
            Err(StoreError::Conflict) => continue,
            Err(StoreError::Other(e)) => return Err(LockError::Store(e)),
        }
    }
    Err(LockError::Store(
        "the lock kept changing while it was being taken".into(),
    ))
}

/// Who holds the lock now, if anyone.
pub async fn read<S: ObjectStore>(
    store: &S,
    at: &S3Location,
) -> Result<Option<LockRecord>, LockError> {
    let current = store
        .get(at)
        .await
        .map_err(|e| LockError::Store(e.to_string()))?;
    Ok(current.and_then(|o| serde_json::from_slice(&o.body).ok()))
}

/// Releases the lock if `run_id` still holds it.
pub async fn release<S: ObjectStore>(
    store: &S,
    at: &S3Location,
    run_id: &str,
    now: DateTime<Utc>,
) -> Result<(), LockError> {
    let Some(current) = store
        .get(at)
        .await
        .map_err(|e| LockError::Store(e.to_string()))?
    else {
        return Ok(());
    };
    let Ok(mut record) = serde_json::from_slice::<LockRecord>(&current.body) else {
        return Ok(());
    };
    if record.run_id != run_id || record.released {
        return Ok(());
    }
    record.released = true;
    record.holder.clear();
    record.expires_at = now;
    match store
        .put(
            at,
            encode(&record),
            "application/json",
            Condition::IfMatch(current.etag),
        )
        .await
    {
        // Taken meanwhile: it is not ours to release any more.
        Ok(()) | Err(StoreError::Conflict) => Ok(()),
        Err(StoreError::Other(e)) => Err(LockError::Store(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemStore;
    use chrono::TimeZone;

    fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::minutes(min)
    }

    const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:groundcrew-dev-api";

    #[test]
    fn one_lock_per_region_account_and_name() {
        assert_eq!(
            location("b", ARN).key,
            "tuner-state/locks/us-east-1/123456789012/groundcrew-dev-api.json"
        );
    }

    #[tokio::test]
    async fn a_second_run_is_refused_naming_the_holder() {
        let store = MemStore::default();
        let at = location("b", ARN);
        assert_eq!(
            acquire(&store, &at, "run-a", "req-1", t(0), t(20)).await,
            Ok(Acquired::Fresh)
        );
        let err = acquire(&store, &at, "run-b", "req-9", t(5), t(25))
            .await
            .unwrap_err();
        assert_eq!(
            err,
            LockError::Held {
                run_id: "run-a".into(),
                expires_at: t(20)
            }
        );
        assert!(err.to_string().contains("run-a"));
    }

    #[tokio::test]
    async fn the_same_run_continues_and_a_duplicate_invocation_is_busy() {
        let store = MemStore::default();
        let at = location("b", ARN);
        acquire(&store, &at, "run-a", "req-1", t(0), t(20))
            .await
            .unwrap();
        // a duplicate delivery while req-1 works
        assert!(matches!(
            acquire(&store, &at, "run-a", "req-2", t(1), t(21)).await,
            Err(LockError::Busy { .. })
        ));
        // the hand-off leaves no holder: the next invocation continues
        acquire(&store, &at, "run-a", "", t(2), t(30))
            .await
            .unwrap();
        assert_eq!(
            acquire(&store, &at, "run-a", "req-2", t(3), t(23)).await,
            Ok(Acquired::Continued)
        );
    }

    #[tokio::test]
    async fn an_expired_run_is_taken_over_and_a_released_one_reused() {
        let store = MemStore::default();
        let at = location("b", ARN);
        acquire(&store, &at, "run-a", "req-1", t(0), t(20))
            .await
            .unwrap();
        assert_eq!(
            acquire(&store, &at, "run-b", "req-5", t(21), t(40)).await,
            Ok(Acquired::TookOver {
                dead_run: "run-a".into()
            })
        );
        // run-a's late continuation sees run-b
        assert!(matches!(
            acquire(&store, &at, "run-a", "req-1", t(22), t(42)).await,
            Err(LockError::Held { .. })
        ));
        // releasing by a run that no longer holds it changes nothing
        release(&store, &at, "run-a", t(23)).await.unwrap();
        assert_eq!(read(&store, &at).await.unwrap().unwrap().run_id, "run-b");
        release(&store, &at, "run-b", t(24)).await.unwrap();
        assert_eq!(
            acquire(&store, &at, "run-c", "req-7", t(25), t(45)).await,
            Ok(Acquired::AfterRelease)
        );
    }
}
