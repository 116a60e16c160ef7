//! The routing document as invocations see it: an inline document parsed once at start-up,
//! or an SSM parameter read on first use (not before the runtime loop, so a cold start
//! pays no SSM round trip before it can take its event) and re-read when the cached copy
//! is older than its time to live. A re-read parses the text only when the parameter's
//! version changed. A document that no longer parses, or a parameter that cannot be read,
//! keeps the last good document in use (and says so in the log) rather than stopping
//! every alarm; on first use there is nothing to fall back on, so the invocation fails
//! with the reason (Lambda retries, then the dead-letter queue).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::error::Error;
use crate::routing::Routing;

/// An SSM parameter's text and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub value: String,
    pub version: i64,
}

/// Reads the parameter (the SDK call lives in [`crate::aws`]).
pub type Read =
    Box<dyn Fn() -> Pin<Box<dyn Future<Output = Result<Parameter, Error>> + Send>> + Send + Sync>;

struct Cached {
    routing: Arc<Routing>,
    version: i64,
    read_at: Instant,
}

enum Source {
    Fixed(Arc<Routing>),
    Parameter {
        name: String,
        read: Read,
        ttl: Duration,
        cached: Mutex<Option<Cached>>,
    },
}

pub struct RoutingCache(Source);

impl From<Routing> for RoutingCache {
    fn from(routing: Routing) -> Self {
        Self(Source::Fixed(Arc::new(routing)))
    }
}

impl RoutingCache {
    /// The document in the parameter `name`, read by `read` at most once per `ttl`.
    pub fn parameter(name: &str, ttl: Duration, read: Read) -> Self {
        Self(Source::Parameter {
            name: name.to_string(),
            read,
            ttl,
            cached: Mutex::new(None),
        })
    }

    /// The document to route by now.
    pub async fn current(&self) -> Result<Arc<Routing>, Error> {
        let (name, read, ttl, cached) = match &self.0 {
            Source::Fixed(routing) => return Ok(Arc::clone(routing)),
            Source::Parameter {
                name,
                read,
                ttl,
                cached,
            } => (name, read, ttl, cached),
        };
        // One reader at a time; the others wait for its answer instead of reading too.
        let mut cached = cached.lock().await;
        if let Some(c) = cached.as_ref().filter(|c| c.read_at.elapsed() < *ttl) {
            return Ok(Arc::clone(&c.routing));
        }
        let fresh =
            read().await.and_then(
                |p| match cached.as_ref().filter(|c| c.version == p.version) {
                    Some(c) => Ok((Arc::clone(&c.routing), p.version)),
                    None => parse(name, &p.value).map(|r| (Arc::new(r), p.version)),
                },
            );
        match (fresh, cached.as_mut()) {
            (Ok((routing, version)), _) => {
                *cached = Some(Cached {
                    routing: Arc::clone(&routing),
                    version,
                    read_at: Instant::now(),
                });
                Ok(routing)
            }
            (Err(e), Some(c)) => {
                tracing::error!(error = %e, version = c.version, "routing document not re-read: still routing by the last good version");
                // Try again after another time to live, not on every notice.
                c.read_at = Instant::now();
                Ok(Arc::clone(&c.routing))
            }
            (Err(e), None) => Err(e),
        }
    }
}

/// Parses a parameter's document, naming the parameter in the error.
fn parse(name: &str, text: &str) -> Result<Routing, Error> {
    Routing::parse(text).map_err(|e| match e {
        Error::Routing(reason) => Error::Routing(format!("SSM parameter {name}: {reason}")),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const DOC_A: &str =
        r#"{"receivers": {"a": {"type": "webhook", "url_secret": "a"}}, "default": "a"}"#;
    const DOC_B: &str =
        r#"{"receivers": {"b": {"type": "webhook", "url_secret": "b"}}, "default": "b"}"#;

    /// A parameter whose (text, version) answers are scripted; counts reads.
    fn scripted(
        answers: Vec<Result<(&'static str, i64), &'static str>>,
    ) -> (RoutingCache, Arc<AtomicUsize>) {
        let reads = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&reads);
        let read: Read = Box::new(move || {
            let n = count.fetch_add(1, Ordering::SeqCst);
            let answer = answers[n.min(answers.len() - 1)];
            Box::pin(async move {
                answer
                    .map(|(value, version)| Parameter {
                        value: value.into(),
                        version,
                    })
                    .map_err(|e| Error::Routing(e.into()))
            })
        });
        (
            RoutingCache::parameter("/p", Duration::from_secs(60), read),
            reads,
        )
    }

    #[tokio::test(start_paused = true)]
    async fn read_on_first_use_cached_for_its_ttl_and_re_read_when_changed() {
        let (cache, reads) = scripted(vec![Ok((DOC_A, 1)), Ok((DOC_A, 1)), Ok((DOC_B, 2))]);
        assert_eq!(
            reads.load(Ordering::SeqCst),
            0,
            "nothing read before first use"
        );
        assert_eq!(cache.current().await.unwrap().default, vec!["a"]);
        assert_eq!(cache.current().await.unwrap().default, vec!["a"]);
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(cache.current().await.unwrap().default, vec!["a"]);
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(cache.current().await.unwrap().default, vec!["b"]);
        assert_eq!(reads.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_bad_edit_keeps_the_last_good_document_but_a_bad_first_one_fails() {
        let (cache, _) = scripted(vec![
            Ok((DOC_A, 1)),
            Ok(("receivers: [", 2)),
            Err("SSM down"),
        ]);
        cache.current().await.unwrap();
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(cache.current().await.unwrap().default, vec!["a"]);
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(cache.current().await.unwrap().default, vec!["a"]);

        let (cache, _) = scripted(vec![Ok(("receivers: [", 1))]);
        let err = cache.current().await.unwrap_err().to_string();
        assert!(err.contains("SSM parameter /p"), "{err}");
    }
}
