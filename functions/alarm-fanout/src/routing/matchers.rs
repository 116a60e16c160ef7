//! A route's `match` block: what a notice is matched on ([`Facts`]) and the checked
//! matchers built from the document ([`Matchers`]).
//!
//! Every field is a value or a list; text fields take globs, `~regular expressions` and
//! `!` negations ([`super::pattern`]). `dimensions` and `tags` are maps from a dimension
//! name or tag key to such values. A notice passes a block when it passes every field in it.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

use super::pattern::{TextMatcher, WordMatcher};
use crate::alarm_metrics::MetricRef;
use crate::notice::{Kind, Notice, State};
use crate::severity::Severity;

/// A value or a list of values, as the document may write either.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

pub fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    Ok(Option::<OneOrMany>::deserialize(d)?.map(OneOrMany::into_vec))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMatch {
    #[serde(default, deserialize_with = "one_or_many")]
    alarm_name: Option<Vec<String>>,
    #[serde(default, deserialize_with = "one_or_many")]
    state: Option<Vec<String>>,
    #[serde(default, deserialize_with = "one_or_many")]
    severity: Option<Vec<String>>,
    #[serde(default, deserialize_with = "one_or_many")]
    account: Option<Vec<String>>,
    #[serde(default, deserialize_with = "one_or_many")]
    region: Option<Vec<String>>,
    #[serde(default, deserialize_with = "one_or_many")]
    kind: Option<Vec<String>>,
    #[serde(default, deserialize_with = "one_or_many")]
    namespace: Option<Vec<String>>,
    #[serde(default, deserialize_with = "one_or_many")]
    metric_name: Option<Vec<String>>,
    #[serde(default)]
    dimensions: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    tags: BTreeMap<String, OneOrMany>,
}

/// What a notice is matched on.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub kind: Kind,
    pub alarm_name: Option<&'a str>,
    pub state: Option<State>,
    pub severity: Option<Severity>,
    pub account: Option<&'a str>,
    pub region: Option<&'a str>,
    /// The metrics the alarm watches (none for composite alarms and other notices).
    pub metrics: &'a [MetricRef],
    /// The alarm's tags, when they were read.
    pub tags: Option<&'a BTreeMap<String, String>>,
}

impl<'a> Facts<'a> {
    pub fn of(notice: &'a Notice, severity: Option<Severity>) -> Self {
        let alarm = notice.alarm();
        Self {
            kind: notice.kind(),
            alarm_name: alarm.map(|a| a.name.as_str()),
            state: alarm.map(|a| a.state),
            severity,
            account: notice.account.as_deref(),
            region: notice.region.as_deref(),
            metrics: alarm.map_or(&[], |a| &a.metrics[..]),
            tags: None,
        }
    }

    /// The same facts with the alarm's tags.
    pub fn with_tags(self, tags: &'a BTreeMap<String, String>) -> Self {
        Self {
            tags: Some(tags),
            ..self
        }
    }

    fn dimension_values(&self, name: &'a str) -> impl Iterator<Item = &'a str> + Clone + 'a {
        self.metrics.iter().flat_map(move |m| {
            m.dimensions
                .iter()
                .filter(move |(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct Matchers {
    alarm_name: Option<TextMatcher>,
    state: Option<WordMatcher<State>>,
    severity: Option<WordMatcher<Severity>>,
    account: Option<TextMatcher>,
    region: Option<TextMatcher>,
    kind: Option<WordMatcher<Kind>>,
    namespace: Option<TextMatcher>,
    metric_name: Option<TextMatcher>,
    dimensions: Vec<(String, TextMatcher)>,
    tags: Vec<(String, TextMatcher)>,
}

fn text(field: &str, values: Option<Vec<String>>) -> Result<Option<TextMatcher>, String> {
    values.map(|v| TextMatcher::build(field, &v)).transpose()
}

fn map(
    field: &str,
    values: BTreeMap<String, OneOrMany>,
) -> Result<Vec<(String, TextMatcher)>, String> {
    values
        .into_iter()
        .map(|(key, v)| {
            TextMatcher::build(&format!("{field}.{key}"), &v.into_vec()).map(|m| (key, m))
        })
        .collect()
}

impl Matchers {
    /// Checks a `match` block; `at` is its place in the document (`routes[0].match`).
    pub fn build(at: &str, m: RawMatch) -> Result<Self, String> {
        let field = |f: &str| format!("{at}.{f}");
        Ok(Self {
            alarm_name: text(&field("alarm_name"), m.alarm_name)?,
            state: m
                .state
                .map(|v| {
                    WordMatcher::build(
                        &field("state"),
                        &v,
                        State::parse,
                        "ALARM, OK, INSUFFICIENT_DATA",
                    )
                })
                .transpose()?,
            severity: m
                .severity
                .map(|v| {
                    WordMatcher::build(
                        &field("severity"),
                        &v,
                        Severity::parse,
                        "critical, error, warning, info",
                    )
                })
                .transpose()?,
            account: text(&field("account"), m.account)?,
            region: text(&field("region"), m.region)?,
            kind: m
                .kind
                .map(|v| {
                    WordMatcher::build(
                        &field("kind"),
                        &v,
                        Kind::parse,
                        "alarm, rds, budgets, health, text",
                    )
                })
                .transpose()?,
            namespace: text(&field("namespace"), m.namespace)?,
            metric_name: text(&field("metric_name"), m.metric_name)?,
            dimensions: map(&field("dimensions"), m.dimensions)?,
            tags: map(&field("tags"), m.tags)?,
        })
    }

    /// A `match` block given as JSON (silences, inhibition rules); `at` names it in errors.
    pub fn from_json(at: &str, value: &serde_json::Value) -> Result<Self, String> {
        let raw: RawMatch =
            serde_json::from_value(value.clone()).map_err(|e| format!("{at}: {e}"))?;
        Self::build(at, raw)
    }

    pub fn matches(&self, f: &Facts<'_>) -> bool {
        fn opt<M>(m: &Option<M>, test: impl FnOnce(&M) -> bool) -> bool {
            m.as_ref().is_none_or(test)
        }
        opt(&self.kind, |m| m.matches(Some(f.kind)))
            && opt(&self.alarm_name, |m| m.matches_one(f.alarm_name))
            && opt(&self.state, |m| m.matches(f.state))
            && opt(&self.severity, |m| m.matches(f.severity))
            && opt(&self.account, |m| m.matches_one(f.account))
            && opt(&self.region, |m| m.matches_one(f.region))
            && opt(&self.namespace, |m| {
                m.matches(f.metrics.iter().filter_map(|x| x.namespace.as_deref()))
            })
            && opt(&self.metric_name, |m| {
                m.matches(f.metrics.iter().filter_map(|x| x.name.as_deref()))
            })
            && self
                .dimensions
                .iter()
                .all(|(name, m)| m.matches(f.dimension_values(name)))
            && self
                .tags
                .iter()
                .all(|(key, m)| m.matches_one(f.tags.and_then(|t| t.get(key)).map(String::as_str)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matchers(yaml: &str) -> Matchers {
        Matchers::build("m", serde_yaml_ng::from_str(yaml).unwrap()).unwrap()
    }

    fn rds(db: &'static str) -> Vec<MetricRef> {
        vec![MetricRef {
            namespace: Some("AWS/RDS".into()),
            name: Some("CPUUtilization".into()),
            dimensions: vec![("DBInstanceIdentifier".into(), db.into())],
        }]
    }

    fn facts<'a>(metrics: &'a [MetricRef]) -> Facts<'a> {
        Facts {
            kind: Kind::Alarm,
            alarm_name: Some("db-cpu"),
            state: Some(State::Alarm),
            severity: Some(Severity::Warning),
            account: Some("111122223333"),
            region: Some("eu-west-1"),
            metrics,
            tags: None,
        }
    }

    #[test]
    fn namespace_metric_and_dimensions() {
        let m = matchers(
            "{namespace: AWS/RDS, metric_name: '~CPU.*', dimensions: {DBInstanceIdentifier: [prod-*, '!prod-replica']}}",
        );
        let prod = rds("prod-db");
        let replica = rds("prod-replica");
        let dev = rds("dev-db");
        assert!(m.matches(&facts(&prod)));
        assert!(!m.matches(&facts(&replica)));
        assert!(!m.matches(&facts(&dev)));
        // A composite alarm watches no metric: it has no namespace to match.
        assert!(!m.matches(&facts(&[])));
        assert!(matchers("{namespace: '!AWS/RDS'}").matches(&facts(&[])));
    }

    #[test]
    fn tags_when_read() {
        let m = matchers("{tags: {team: db, env: '!dev'}}");
        let tags: BTreeMap<String, String> =
            [("team".into(), "db".into()), ("env".into(), "prod".into())].into();
        assert!(m.matches(&facts(&[]).with_tags(&tags)));
        let dev: BTreeMap<String, String> =
            [("team".into(), "db".into()), ("env".into(), "dev".into())].into();
        assert!(!m.matches(&facts(&[]).with_tags(&dev)));
        // Tags not read (a notice that is not a CloudWatch alarm): `team` is absent.
        assert!(!m.matches(&facts(&[])));
    }

    #[test]
    fn negated_words() {
        assert!(!matchers("{severity: '!warning'}").matches(&facts(&[])));
        assert!(matchers("{state: ['!OK', '!INSUFFICIENT_DATA']}").matches(&facts(&[])));
        assert!(matchers("{kind: '!rds'}").matches(&facts(&[])));
    }

    #[test]
    fn errors_name_the_field() {
        let err = Matchers::build(
            "routes[1].match",
            serde_yaml_ng::from_str("{dimensions: {DBInstanceIdentifier: '~('}}").unwrap(),
        )
        .unwrap_err();
        assert!(
            err.starts_with(
                "routes[1].match.dimensions.DBInstanceIdentifier: bad regular expression"
            ),
            "{err}"
        );
        let err = Matchers::build(
            "routes[1].match",
            serde_yaml_ng::from_str("{state: '!ALARMING'}").unwrap(),
        )
        .unwrap_err();
        assert!(
            err.starts_with("routes[1].match.state: \"ALARMING\" is not one of"),
            "{err}"
        );
    }
}
