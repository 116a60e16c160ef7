//! Typed settings, read once at start-up from the environment.

use std::collections::BTreeMap;
use std::time::Duration;

use groundcrew::config::{ConfigError, Env, EnvSource};

pub use crate::price::Prices;

/// Default opt-in tag: only resources carrying it are ever touched.
pub const DEFAULT_OPT_IN: &str = "groundcrew:autopause=true";
/// Default protection rules: win over opt-in. Keys and values compare without case, so
/// `Environment=Production`, `env=PROD` and `stage=prd` are all protected. The template's
/// IAM Deny lists the same keys and values (a test keeps the two in agreement).
pub const DEFAULT_PROTECT: &str =
    "environment=prod|production|prd|live,env=prod|production|prd|live,stage=prod|production|prd|live";
/// Keys and values of [`DEFAULT_PROTECT`], for the template agreement test.
pub const DEFAULT_PROTECT_KEYS: [&str; 3] = ["environment", "env", "stage"];
pub const DEFAULT_PROTECT_VALUES: [&str; 4] = ["prod", "production", "prd", "live"];
/// Tag that overrides the idle window of one database, in minutes (the name our users'
/// CDK construct uses).
pub const IDLE_MINUTES_TAG: &str = "groundcrew:idleMinutesBeforePause";
pub const DEFAULT_ENVIRONMENT_TAG: &str = "groundcrew:environment";
pub const DEFAULT_NAMESPACE: &str = "groundcrew/aurora-autopause";

/// A tag rule: the key, and the values that match (empty = any value). Keys and values
/// compare without case (IAM matches tag keys without case too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRule {
    pub key: String,
    pub values: Vec<String>,
}

impl TagRule {
    pub fn matches(&self, tags: &BTreeMap<String, String>) -> bool {
        let value = tags
            .iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(self.key.trim()))
            .map(|(_, v)| v);
        match value {
            None => false,
            Some(v) => {
                self.values.is_empty()
                    || self
                        .values
                        .iter()
                        .any(|want| want.eq_ignore_ascii_case(v.trim()))
            }
        }
    }

    pub fn describe(&self) -> String {
        if self.values.is_empty() {
            self.key.clone()
        } else {
            format!("{}={}", self.key, self.values.join("|"))
        }
    }

    /// `key=v1|v2` or `key` (any value).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let (key, values) = match raw.split_once('=') {
            Some((k, v)) => (
                k.trim(),
                v.split('|')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
            None => (raw, Vec::new()),
        };
        if key.is_empty() {
            return Err(format!("`{raw}` has no tag key"));
        }
        Ok(Self {
            key: key.to_string(),
            values,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub opt_in: TagRule,
    pub protect: Vec<TagRule>,
    pub environment_tag: String,
    /// How long a cluster must have had no connections to count as idle.
    pub idle_window: Duration,
    /// How late CloudWatch publishes `DatabaseConnections`: the idle window ends this long
    /// before now, so that minutes not yet published are never read as missing or idle.
    /// ASSUMPTION: 3 minutes by default. AWS documents that RDS sends its metrics every
    /// minute, not how late a minute becomes readable; a lag too short only makes a
    /// database look busy (its last minutes missing), never idle.
    pub metric_lag: Duration,
    /// SQS queue for follow-ups (a wake's services once their databases are up); `None`:
    /// no hand-over, what is left is reported.
    pub follow_up_queue_url: Option<String>,
    /// How long a re-stop waits before trying again while the database is still starting.
    pub restop_retry_after: Duration,
    /// The most connections an idle cluster may show in the window (default 0).
    pub idle_max_connections: f64,
    /// Global dry run: report only, change nothing.
    pub dry_run: bool,
    /// ECS clusters to look in (empty: every cluster in the Region).
    pub ecs_clusters: Vec<String>,
    pub prices: Prices,
    pub metrics_namespace: String,
    /// Resources acted on at once.
    pub concurrency: usize,
    /// Longest wait between re-stop attempts after RDS-EVENT-0153.
    pub restop_max_delay: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            opt_in: TagRule::parse(DEFAULT_OPT_IN).unwrap_or(TagRule {
                key: "groundcrew:autopause".into(),
                values: vec!["true".into()],
            }),
            protect: DEFAULT_PROTECT_KEYS
                .iter()
                .map(|k| TagRule {
                    key: k.to_string(),
                    values: DEFAULT_PROTECT_VALUES
                        .iter()
                        .map(|v| v.to_string())
                        .collect(),
                })
                .collect(),
            environment_tag: DEFAULT_ENVIRONMENT_TAG.to_string(),
            idle_window: Duration::from_secs(30 * 60),
            // ASSUMPTION (see the field): CloudWatch's publication lag.
            metric_lag: Duration::from_secs(3 * 60),
            follow_up_queue_url: None,
            restop_retry_after: Duration::from_secs(5 * 60),
            idle_max_connections: 0.0,
            dry_run: false,
            ecs_clusters: Vec::new(),
            prices: Prices::default(),
            metrics_namespace: DEFAULT_NAMESPACE.to_string(),
            concurrency: 8,
            restop_max_delay: Duration::from_secs(20),
        }
    }
}

fn malformed(name: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Malformed {
        name: name.to_string(),
        reason: reason.into(),
    }
}

impl Config {
    pub fn from_env<S: EnvSource>(env: &Env<S>) -> Result<Self, ConfigError> {
        let opt_in = TagRule::parse(
            &env.optional("OPT_IN_TAG")
                .unwrap_or_else(|| DEFAULT_OPT_IN.to_string()),
        )
        .map_err(|r| malformed("OPT_IN_TAG", r))?;
        let protect_raw = env
            .optional("PROTECT_TAGS")
            .unwrap_or_else(|| DEFAULT_PROTECT.to_string());
        let protect = if protect_raw.eq_ignore_ascii_case("none") {
            Vec::new()
        } else {
            protect_raw
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(TagRule::parse)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|r| malformed("PROTECT_TAGS", r))?
        };
        let idle_minutes: u64 = env.parse_or("IDLE_MINUTES", 30)?;
        if !(5..=1440).contains(&idle_minutes) {
            return Err(malformed("IDLE_MINUTES", "must be between 5 and 1440"));
        }
        let lag_minutes: u64 = env.parse_or("METRIC_LAG_MINUTES", 3)?;
        if lag_minutes > 60 {
            return Err(malformed("METRIC_LAG_MINUTES", "must be between 0 and 60"));
        }
        let restop_retry_after =
            env.seconds_or("RESTOP_RETRY_AFTER_SECONDS", Duration::from_secs(300))?;
        if !(30..=43_200).contains(&restop_retry_after.as_secs()) {
            return Err(malformed(
                "RESTOP_RETRY_AFTER_SECONDS",
                "must be between 30 and 43200 (SQS's longest visibility timeout)",
            ));
        }
        let idle_max_connections: f64 = env.parse_or("IDLE_MAX_CONNECTIONS", 0.0)?;
        if !(idle_max_connections.is_finite() && idle_max_connections >= 0.0) {
            return Err(malformed(
                "IDLE_MAX_CONNECTIONS",
                "must be a non-negative number",
            ));
        }
        let concurrency: usize = env.parse_or("CONCURRENCY", 8)?;
        if !(1..=32).contains(&concurrency) {
            return Err(malformed("CONCURRENCY", "must be between 1 and 32"));
        }
        let prices = Prices::default()
            .with_overrides(&env.list("PRICES"))
            .map_err(|r| malformed("PRICES", r))?;
        Ok(Self {
            opt_in,
            protect,
            environment_tag: env
                .optional("ENVIRONMENT_TAG")
                .unwrap_or_else(|| DEFAULT_ENVIRONMENT_TAG.to_string()),
            idle_window: Duration::from_secs(idle_minutes * 60),
            metric_lag: Duration::from_secs(lag_minutes * 60),
            follow_up_queue_url: env.optional("FOLLOW_UP_QUEUE_URL"),
            restop_retry_after,
            idle_max_connections,
            dry_run: env.bool_or("DRY_RUN", false)?,
            ecs_clusters: env.list("ECS_CLUSTERS"),
            prices,
            metrics_namespace: env
                .optional("METRICS_NAMESPACE")
                .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string()),
            concurrency,
            restop_max_delay: env
                .seconds_or("RESTOP_MAX_DELAY_SECONDS", Duration::from_secs(20))?,
        })
    }

    /// `SecondsUntilAutoPause` for Serverless v2: the idle window, within AWS's 300..86,400.
    pub fn auto_pause_seconds(&self) -> i32 {
        self.idle_window.as_secs().clamp(300, 86_400) as i32
    }

    pub fn protected_by(&self, tags: &BTreeMap<String, String>) -> Option<&TagRule> {
        self.protect.iter().find(|r| r.matches(tags))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use groundcrew::testing::env;

    #[test]
    fn defaults() {
        let c = Config::from_env(&env(&[])).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.auto_pause_seconds(), 1800);
    }

    #[test]
    fn parses_rules_and_prices() {
        let c = Config::from_env(&env(&[
            ("OPT_IN_TAG", "team:sleep=yes"),
            ("PROTECT_TAGS", "environment=prod|production, critical"),
            ("PRICES", "db.x.large=1.5,acu=0.2"),
            ("IDLE_MINUTES", "5"),
        ]))
        .unwrap();
        assert_eq!(
            c.opt_in,
            TagRule {
                key: "team:sleep".into(),
                values: vec!["yes".into()]
            }
        );
        assert_eq!(c.protect.len(), 2);
        assert_eq!(c.protect[1].values.len(), 0);
        assert_eq!(c.prices.class("db.x.large"), Some(1.5));
        assert_eq!(c.prices.acu_hour, 0.2);
        assert_eq!(c.auto_pause_seconds(), 300);
        let tags: BTreeMap<String, String> =
            [("critical".to_string(), "anything".to_string())].into();
        assert_eq!(
            c.protected_by(&tags).map(|r| r.key.as_str()),
            Some("critical")
        );
    }

    #[test]
    fn errors_name_the_variable() {
        for (k, v) in [
            ("IDLE_MINUTES", "2"),
            ("PRICES", "db.r6g.large=cheap"),
            ("OPT_IN_TAG", "=x"),
            ("DRY_RUN", "maybe"),
        ] {
            let e = Config::from_env(&env(&[(k, v)])).unwrap_err().to_string();
            assert!(e.contains(k), "{e}");
        }
    }

    #[test]
    fn protection_is_case_insensitive_on_keys_and_values() {
        let c = Config::default();
        for (k, v) in [
            ("Environment", "Production"),
            ("env", "PROD"),
            ("STAGE", "prd"),
            ("environment", " live "),
        ] {
            let tags: BTreeMap<String, String> = [(k.to_string(), v.to_string())].into();
            assert!(c.protected_by(&tags).is_some(), "{k}={v}");
        }
        assert_eq!(
            Config::from_env(&env(&[])).unwrap().protect,
            c.protect,
            "the default PROTECT_TAGS text and Config::default agree"
        );
        let tags: BTreeMap<String, String> =
            [("environment".to_string(), "PROD".to_string())].into();
        assert!(c.protected_by(&tags).is_some());
        let tags: BTreeMap<String, String> =
            [("environment".to_string(), "dev".to_string())].into();
        assert!(c.protected_by(&tags).is_none());
    }
}

#[cfg(test)]
mod template_agreement {
    use super::*;

    /// The template's IAM Deny statements protect exactly what the function protects by
    /// default: CloudFormation cannot turn a runtime list into condition keys, so the two
    /// are kept in step by this test.
    #[test]
    fn the_templates_deny_protects_the_default_keys_and_values() {
        let template = include_str!("../../../template.yaml");
        let mut denied: Vec<(String, Vec<String>)> = template
            .lines()
            .filter_map(|l| l.trim().strip_prefix("aws:ResourceTag/"))
            .filter_map(|l| l.split_once(':'))
            .filter(|(_, values)| values.trim().starts_with('['))
            .map(|(key, values)| {
                let values = values
                    .trim()
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .split(',')
                    .map(|v| v.trim().to_string())
                    .collect();
                (key.to_string(), values)
            })
            .collect();
        denied.sort();
        let mut expected: Vec<(String, Vec<String>)> = DEFAULT_PROTECT_KEYS
            .iter()
            .map(|k| {
                (
                    k.to_string(),
                    DEFAULT_PROTECT_VALUES
                        .iter()
                        .map(|v| v.to_string())
                        .collect(),
                )
            })
            .collect();
        expected.sort();
        assert_eq!(denied, expected);
        let protect_line = format!("PROTECT_TAGS: {DEFAULT_PROTECT}");
        assert!(
            template.contains(&protect_line),
            "the template sets PROTECT_TAGS to the default: {protect_line}"
        );
    }
}
