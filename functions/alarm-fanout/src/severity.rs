//! Severity: the alarm's `severity` tag (CloudWatch `ListTagsForResource`, cached), else a
//! name convention, else the configured default. The same read brings every tag of the
//! alarm, which routes match on (`match.tags`): one call per alarm per cache lifetime.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::notice::Alarm;

/// PagerDuty's four levels, which routes also match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    Error,
    Warning,
    Info,
}

impl Severity {
    /// The level a tag value or name token stands for (`critical`, `P1`, `sev2`, `warn`…).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "critical" | "crit" | "p1" | "sev1" | "page" => Some(Self::Critical),
            "error" | "err" | "high" | "major" | "p2" | "sev2" => Some(Self::Error),
            "warning" | "warn" | "medium" | "minor" | "p3" | "sev3" => Some(Self::Warning),
            "info" | "low" | "p4" | "sev4" | "p5" => Some(Self::Info),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

/// The name convention: any token of the alarm name (split on anything not a letter or
/// digit) that names a level, e.g. `prod-api-5xx-critical`, `P1_db_cpu`, `[warn] queue`.
pub fn from_name(name: &str) -> Option<Severity> {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .find_map(Severity::parse)
}

/// Reads the tags of a CloudWatch alarm.
pub trait TagLookup: Send + Sync {
    fn tag(
        &self,
        alarm_arn: &str,
        key: &str,
    ) -> impl Future<Output = Result<Option<String>, String>> + Send;

    /// Every tag of the alarm. A lookup that can read only one tag answers with the
    /// severity tag (`key`) alone.
    fn tags(
        &self,
        alarm_arn: &str,
        key: &str,
    ) -> impl Future<Output = Result<BTreeMap<String, String>, String>> + Send {
        async move {
            Ok(self
                .tag(alarm_arn, key)
                .await?
                .map(|value| BTreeMap::from([(key.to_string(), value)]))
                .unwrap_or_default())
        }
    }
}

/// An alarm's tags as routes see them.
pub type Tags = Arc<BTreeMap<String, String>>;

pub use crate::aws::CloudWatchTags;

/// Tag lookups cached per alarm ARN (found or not); failures are not cached.
pub struct SeverityResolver<T> {
    tags: Arc<T>,
    key: String,
    default: Severity,
    cache: moka::future::Cache<String, Tags>,
}

impl<T: TagLookup + 'static> SeverityResolver<T> {
    pub fn new(tags: T, key: &str, default: Severity, ttl: Duration) -> Self {
        Self {
            tags: Arc::new(tags),
            key: key.to_string(),
            default,
            cache: moka::future::Cache::builder()
                .time_to_live(ttl)
                .max_capacity(4096)
                .build(),
        }
    }

    /// Tag, then name, then default. A failed tag read is logged, never fatal.
    pub async fn resolve(&self, alarm: &Alarm) -> Severity {
        self.resolve_with_tags(alarm).await.0
    }

    /// The severity and the alarm's tags (empty when they could not be read, or for an
    /// alarm without a CloudWatch ARN).
    pub async fn resolve_with_tags(&self, alarm: &Alarm) -> (Severity, Tags) {
        let mut found_tags = Tags::default();
        if let Some(arn) = alarm.arn.as_deref().filter(|a| a.contains(":cloudwatch:")) {
            let tags = Arc::clone(&self.tags);
            let key = self.key.clone();
            let owned_arn = arn.to_string();
            let found = self
                .cache
                .try_get_with(arn.to_string(), async move {
                    tags.tags(&owned_arn, &key).await.map(Arc::new)
                })
                .await;
            match found {
                Ok(all) => found_tags = all,
                Err(e) => {
                    tracing::warn!(alarm = %alarm.name, error = %e, "could not read the alarm's tags")
                }
            }
            let value = found_tags
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&self.key))
                .map(|(_, v)| v);
            if let Some(value) = value {
                match Severity::parse(value) {
                    Some(s) => return (s, found_tags),
                    None => {
                        tracing::warn!(alarm = %alarm.name, value = %value, "the severity tag is not a known level")
                    }
                }
            }
        }
        (from_name(&alarm.name).unwrap_or(self.default), found_tags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Fake(Arc<AtomicUsize>, Option<&'static str>);
    impl TagLookup for Fake {
        async fn tag(&self, _arn: &str, _key: &str) -> Result<Option<String>, String> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(self.1.map(str::to_string))
        }
    }

    fn alarm(name: &str, arn: Option<&str>) -> Alarm {
        crate::notice::parse_message(
            "i",
            None,
            &serde_json::json!({"AlarmName": name, "NewStateValue": "ALARM", "AlarmArn": arn})
                .to_string(),
        )
        .alarm()
        .cloned()
        .unwrap()
    }

    #[test]
    fn name_convention() {
        assert_eq!(from_name("prod-api-5xx-critical"), Some(Severity::Critical));
        assert_eq!(from_name("P2_db_cpu"), Some(Severity::Error));
        assert_eq!(from_name("[warn] queue depth"), Some(Severity::Warning));
        assert_eq!(from_name("criticality-check"), None);
    }

    /// A lookup that reads every tag at once, as CloudWatch's does.
    struct AllTags(Arc<AtomicUsize>);
    impl TagLookup for AllTags {
        async fn tag(&self, _arn: &str, _key: &str) -> Result<Option<String>, String> {
            unreachable!("the resolver reads all tags at once")
        }
        async fn tags(&self, _arn: &str, _key: &str) -> Result<BTreeMap<String, String>, String> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(BTreeMap::from([
                ("Severity".to_string(), "warn".to_string()),
                ("team".to_string(), "db".to_string()),
            ]))
        }
    }

    #[tokio::test]
    async fn one_read_brings_the_severity_and_the_tags_routes_match() {
        let calls = Arc::new(AtomicUsize::new(0));
        let r = SeverityResolver::new(
            AllTags(calls.clone()),
            "severity",
            Severity::Info,
            Duration::from_secs(60),
        );
        let a = alarm(
            "db-critical",
            Some("arn:aws:cloudwatch:eu-west-1:1:alarm:db"),
        );
        let (severity, tags) = r.resolve_with_tags(&a).await;
        assert_eq!(severity, Severity::Warning);
        assert_eq!(tags.get("team").map(String::as_str), Some("db"));
        assert_eq!(r.resolve(&a).await, Severity::Warning);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // No CloudWatch ARN: no tags, the name decides.
        let (severity, tags) = r.resolve_with_tags(&alarm("db-critical", None)).await;
        assert_eq!(severity, Severity::Critical);
        assert!(tags.is_empty());
    }

    #[tokio::test]
    async fn tag_wins_and_is_cached() {
        let calls = Arc::new(AtomicUsize::new(0));
        let r = SeverityResolver::new(
            Fake(calls.clone(), Some("Critical")),
            "severity",
            Severity::Warning,
            Duration::from_secs(60),
        );
        let a = alarm(
            "db-info",
            Some("arn:aws:cloudwatch:eu-west-1:1:alarm:db-info"),
        );
        assert_eq!(r.resolve(&a).await, Severity::Critical);
        assert_eq!(r.resolve(&a).await, Severity::Critical);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let untagged = SeverityResolver::new(
            Fake(calls.clone(), None),
            "severity",
            Severity::Warning,
            Duration::from_secs(60),
        );
        assert_eq!(untagged.resolve(&a).await, Severity::Info);
        assert_eq!(
            untagged.resolve(&alarm("db", None)).await,
            Severity::Warning
        );
    }
}
