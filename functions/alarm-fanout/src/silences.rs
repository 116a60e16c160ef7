//! Silences: time-bounded mutes by matchers, with an author and a comment, created, listed
//! and expired by direct invoke (`silence`, `silences`, `expire`).
//!
//! A notice that an active silence matches is held for every receiver ([`crate::held`]),
//! never dropped; the every-minute sweep delivers it once the silence has ended (or was
//! expired) if it is still the alarm's newest state. The matchers are the routes' own
//! (`alarm_name`, `namespace`, `dimensions`, `tags`..., with globs, `~regex` and `!`).
//!
//! Silences are kept in the delivery table ([`crate::aws::DynamoStore`]); each invocation
//! reads them once (one `GetItem`, [`InvocationSilences`]) for every notice, held notice
//! and reminder it handles, so a new silence applies from the next invocation on.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::routing::{parse_duration, Facts, Matchers};

/// `{"action": "silence", ...}`: a new silence.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SilenceRequest {
    /// A routes' `match` block.
    pub matchers: Value,
    /// From when (RFC 3339); now when left out.
    #[serde(default)]
    pub starts_at: Option<String>,
    /// Until when (RFC 3339); or give `duration`.
    #[serde(default)]
    pub ends_at: Option<String>,
    /// How long from `starts_at` (`2h`, `30m`, `1d`).
    #[serde(default)]
    pub duration: Option<String>,
    pub author: String,
    pub comment: String,
}

/// `{"action": "expire", "id": "..."}`: end a silence now.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpireRequest {
    pub id: String,
}

/// A stored silence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Silence {
    pub id: String,
    pub matchers: Value,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub author: String,
    pub comment: String,
    pub created_at: DateTime<Utc>,
}

fn time(field: &str, text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{field}: {text:?} is not an RFC 3339 time: {e}"))
}

fn checked_matchers(matchers: &Value) -> Result<Matchers, String> {
    if matchers.as_object().is_none_or(|m| m.is_empty()) {
        return Err(
            "matchers: give at least one matcher (a silence of everything is refused)".into(),
        );
    }
    Matchers::from_json("matchers", matchers)
}

impl SilenceRequest {
    /// Checks the request; `id` names the silence (from the invocation's request id, so a
    /// retried invocation creates the same one).
    pub fn into_silence(self, id: String, now: DateTime<Utc>) -> Result<Silence, Error> {
        let bad = |reason: String| Error::BadEvent {
            reason: format!("silence: {reason}"),
        };
        checked_matchers(&self.matchers).map_err(bad)?;
        if self.author.trim().is_empty() {
            return Err(bad("author: empty".into()));
        }
        if self.comment.trim().is_empty() {
            return Err(bad("comment: empty (say why)".into()));
        }
        let starts_at = match &self.starts_at {
            Some(t) => time("starts_at", t).map_err(bad)?,
            None => now,
        };
        let ends_at = match (&self.ends_at, &self.duration) {
            (Some(t), None) => time("ends_at", t).map_err(bad)?,
            (None, Some(d)) => {
                let d = parse_duration(d).map_err(|e| bad(format!("duration: {e}")))?;
                starts_at
                    + chrono::Duration::from_std(d).map_err(|_| bad("duration: too long".into()))?
            }
            _ => return Err(bad("give either ends_at or duration".into())),
        };
        if ends_at <= starts_at || ends_at <= now {
            return Err(bad(format!(
                "ends_at {} is not after starts_at and now",
                ends_at.to_rfc3339()
            )));
        }
        Ok(Silence {
            id,
            matchers: self.matchers,
            starts_at,
            ends_at,
            author: self.author.trim().to_string(),
            comment: self.comment.trim().to_string(),
            created_at: now,
        })
    }
}

impl Silence {
    pub fn active(&self, at: DateTime<Utc>) -> bool {
        self.starts_at <= at && at < self.ends_at
    }
}

/// The silences in force, with their matchers built.
pub struct ActiveSilences(Vec<(String, Matchers)>);

impl ActiveSilences {
    /// The silences active at `at`; one whose stored matchers no longer parse is logged
    /// and ignored (it cannot be matched, and must not stop delivery).
    pub fn at(silences: &[Silence], at: DateTime<Utc>) -> Self {
        Self(
            silences
                .iter()
                .filter(|s| s.active(at))
                .filter_map(|s| match checked_matchers(&s.matchers) {
                    Ok(m) => Some((s.id.clone(), m)),
                    Err(e) => {
                        tracing::error!(silence = %s.id, error = %e, "a stored silence does not parse: ignored");
                        None
                    }
                })
                .collect(),
        )
    }

    /// The id of a silence that matches the notice, if any.
    pub fn matching(&self, facts: &Facts<'_>) -> Option<&str> {
        self.0
            .iter()
            .find(|(_, m)| m.matches(facts))
            .map(|(id, _)| id.as_str())
    }
}

/// The silences as one invocation sees them: read from the store when first needed, then
/// the same copy for every notice, held notice and reminder of the invocation. A batch of
/// notices (an SNS event of several records, a redrive, a sweep) reads them once instead of
/// once per notice; a read that fails is tried again by the next notice.
#[derive(Debug, Default)]
pub struct InvocationSilences(tokio::sync::OnceCell<Vec<Silence>>);

impl InvocationSilences {
    pub async fn get<S: SilenceStore>(&self, store: &S) -> Result<&[Silence], Error> {
        self.0
            .get_or_try_init(|| store.silences())
            .await
            .map(Vec::as_slice)
    }
}

/// Silences ended longer ago than this are forgotten by the `silences` action.
const KEEP_ENDED: chrono::Duration = chrono::Duration::days(1);

/// The silence's id: from the invocation's request id, so a retried `silence` request
/// creates the same silence instead of a second one.
pub fn silence_id(request_id: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(request_id.as_bytes());
    format!("sil-{}", &hex::encode(digest)[..12])
}

/// Runs a `silence`, `silences` or `expire` action; answers with the silences concerned.
pub async fn act<S: SilenceStore>(
    store: &S,
    input: crate::event::Input,
    invocation: &groundcrew::Invocation,
) -> Result<Vec<Silence>, Error> {
    use crate::event::Input;
    let now = invocation.now();
    match input {
        Input::Silence(request) => {
            let silence = request.into_silence(silence_id(&invocation.request_id), now)?;
            store.put_silence(&silence).await?;
            tracing::info!(silence = %silence.id, author = %silence.author, ends_at = %silence.ends_at, "silence created");
            Ok(vec![silence])
        }
        Input::Expire(request) => {
            let mut silence = store
                .silences()
                .await?
                .into_iter()
                .find(|s| s.id == request.id)
                .ok_or_else(|| Error::BadEvent {
                    reason: format!("expire: no silence {:?}", request.id),
                })?;
            if silence.ends_at > now {
                silence.ends_at = now.max(silence.starts_at);
                store.put_silence(&silence).await?;
                tracing::info!(silence = %silence.id, "silence expired");
            }
            Ok(vec![silence])
        }
        _ => {
            let mut listed = Vec::new();
            for s in store.silences().await? {
                if s.ends_at + KEEP_ENDED < now {
                    store.remove_silence(&s.id).await?;
                } else if s.ends_at > now {
                    listed.push(s);
                }
            }
            listed.sort_by_key(|s| s.starts_at);
            Ok(listed)
        }
    }
}

pub trait SilenceStore: Send + Sync {
    /// Every stored silence (ended ones included until they are pruned).
    fn silences(&self) -> impl Future<Output = Result<Vec<Silence>, Error>> + Send;
    /// Stores a silence (the same id again replaces it: a retried request).
    fn put_silence(&self, silence: &Silence) -> impl Future<Output = Result<(), Error>> + Send;
    /// Forgets a silence.
    fn remove_silence(&self, id: &str) -> impl Future<Output = Result<(), Error>> + Send;
}

/// Silences in memory (unit tests, the simulation), counting the reads.
#[derive(Debug, Default, Clone)]
pub struct MemorySilences(Arc<Mutex<BTreeMap<String, Silence>>>, Arc<AtomicUsize>);

impl MemorySilences {
    /// How many times the silences were read.
    pub fn reads(&self) -> usize {
        self.1.load(Ordering::SeqCst)
    }

    fn locked(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Silence>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl SilenceStore for MemorySilences {
    async fn silences(&self) -> Result<Vec<Silence>, Error> {
        self.1.fetch_add(1, Ordering::SeqCst);
        Ok(self.locked().values().cloned().collect())
    }
    async fn put_silence(&self, silence: &Silence) -> Result<(), Error> {
        self.locked().insert(silence.id.clone(), silence.clone());
        Ok(())
    }
    async fn remove_silence(&self, id: &str) -> Result<(), Error> {
        self.locked().remove(id);
        Ok(())
    }
}

impl SilenceStore for crate::store::MemoryStore {
    async fn silences(&self) -> Result<Vec<Silence>, Error> {
        self.silences.silences().await
    }
    async fn put_silence(&self, silence: &Silence) -> Result<(), Error> {
        self.silences.put_silence(silence).await
    }
    async fn remove_silence(&self, id: &str) -> Result<(), Error> {
        self.silences.remove_silence(id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notice::{Kind, State};
    use crate::severity::Severity;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        time("t", "2026-12-02T10:00:00Z").unwrap()
    }

    fn request(v: Value) -> Result<Silence, String> {
        serde_json::from_value::<SilenceRequest>(v)
            .map_err(|e| e.to_string())?
            .into_silence("sil-1".into(), now())
            .map_err(|e| e.to_string())
    }

    fn facts(name: &'static str) -> Facts<'static> {
        Facts {
            kind: Kind::Alarm,
            alarm_name: Some(name),
            state: Some(State::Alarm),
            severity: Some(Severity::Warning),
            account: None,
            region: None,
            metrics: &[],
            tags: None,
        }
    }

    #[test]
    fn a_silence_is_bounded_in_time_and_matches_like_a_route() {
        let s = request(
            json!({"matchers": {"alarm_name": ["prod-db-*", "!*-replica"]},
            "duration": "2h", "author": "ana", "comment": "db maintenance"}),
        )
        .unwrap();
        assert_eq!(s.starts_at, now());
        assert_eq!(s.ends_at, time("t", "2026-12-02T12:00:00Z").unwrap());
        let during = ActiveSilences::at(std::slice::from_ref(&s), now());
        assert_eq!(during.matching(&facts("prod-db-cpu")), Some("sil-1"));
        assert_eq!(during.matching(&facts("prod-db-replica")), None);
        assert_eq!(during.matching(&facts("prod-api")), None);
        let after = ActiveSilences::at(&[s], time("t", "2026-12-02T12:00:00Z").unwrap());
        assert_eq!(after.matching(&facts("prod-db-cpu")), None);
    }

    #[test]
    fn bad_requests_name_the_field() {
        let base = json!({"matchers": {"alarm_name": "x"}, "duration": "1h", "author": "a", "comment": "c"});
        let with = |k: &str, v: Value| {
            let mut b = base.clone();
            b[k] = v;
            b
        };
        let cases = [
            (with("matchers", json!({})), "at least one matcher"),
            (
                with("matchers", json!({"severity": "urgent"})),
                "matchers.severity: \"urgent\"",
            ),
            (
                with("matchers", json!({"alarm_nme": "x"})),
                "unknown field `alarm_nme`",
            ),
            (with("author", json!(" ")), "author: empty"),
            (with("comment", json!("")), "comment: empty"),
            (with("duration", json!("soon")), "duration: \"soon\""),
            (
                with("ends_at", json!("2026-12-02T11:00:00Z")),
                "either ends_at or duration",
            ),
            (with("autor", json!("a")), "unknown field `autor`"),
        ];
        for (v, wanted) in cases {
            let err = request(v).unwrap_err();
            assert!(err.contains(wanted), "wanted {wanted:?} in {err}");
        }
        let past = json!({"matchers": {"alarm_name": "x"}, "ends_at": "2026-12-01T00:00:00Z", "author": "a", "comment": "c"});
        assert!(request(past).unwrap_err().contains("is not after"));
    }
}
