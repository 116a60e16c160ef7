//! Inhibition rules: while a
//! source alarm matching `source_match` is in ALARM, a notice matching `target_match` that
//! shares the `equal` labels with it is muted. CloudWatch alarms have no labels, so a label
//! here is what an alarm does have: a dimension of its metrics (`DBInstanceIdentifier`),
//! else one of its tags.
//!
//! ```yaml
//! inhibit_rules:
//!   - source_match: {severity: critical, namespace: AWS/RDS}
//!     target_match: {severity: warning}
//!     equal: [DBInstanceIdentifier]
//! ```
//!
//! Unlike Alertmanager, where a label missing on both sides counts as equal, a rule applies
//! only when every `equal` label is present on both alarms: an alarm without the dimension
//! says nothing about which database it watches, and muting it could hide an alarm.

use serde::Deserialize;

use crate::routing::{Facts, Matchers};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    source_match: serde_json::Value,
    target_match: serde_json::Value,
    equal: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct InhibitRule {
    pub source: Matchers,
    pub target: Matchers,
    /// Dimension or tag names whose values must be the same on both alarms.
    pub equal: Vec<String>,
}

/// A source alarm in ALARM, as recorded for one rule: the values of the rule's `equal`
/// labels, in the rule's order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct Source {
    /// The source alarm's subject key (`alarm#...`).
    pub subject: String,
    /// The rule's index in `inhibit_rules`.
    pub rule: usize,
    pub values: Vec<String>,
}

/// Parses `inhibit_rules`; errors name the rule and its field.
pub fn parse_rules(raw: &[serde_json::Value]) -> Result<Vec<InhibitRule>, String> {
    raw.iter()
        .enumerate()
        .map(|(i, value)| {
            let at = format!("inhibit_rules[{i}]");
            let rule: RawRule =
                serde_json::from_value(value.clone()).map_err(|e| format!("{at}: {e}"))?;
            if rule.equal.is_empty() {
                return Err(format!(
                    "{at}.equal: name at least one dimension or tag (an empty list would mute every target)"
                ));
            }
            Ok(InhibitRule {
                source: Matchers::from_json(&format!("{at}.source_match"), &rule.source_match)?,
                target: Matchers::from_json(&format!("{at}.target_match"), &rule.target_match)?,
                equal: rule.equal,
            })
        })
        .collect()
}

/// A label of an alarm: the first metric dimension of that name, else the tag.
fn label(facts: &Facts<'_>, name: &str) -> Option<String> {
    facts
        .metrics
        .iter()
        .flat_map(|m| m.dimensions.iter())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .or_else(|| facts.tags.and_then(|t| t.get(name).cloned()))
}

fn labels(facts: &Facts<'_>, equal: &[String]) -> Option<Vec<String>> {
    equal.iter().map(|name| label(facts, name)).collect()
}

/// The rules for which an alarm in ALARM with these facts is a source, with its labels (to
/// be recorded until the alarm leaves ALARM).
pub fn sources_of(rules: &[InhibitRule], subject: &str, facts: &Facts<'_>) -> Vec<Source> {
    rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.source.matches(facts))
        .filter_map(|(rule, r)| {
            Some(Source {
                subject: subject.to_string(),
                rule,
                values: labels(facts, &r.equal)?,
            })
        })
        .collect()
}

/// The firing source that inhibits a notice with these facts, if any. An alarm never
/// inhibits itself.
pub fn inhibited_by<'s>(
    rules: &[InhibitRule],
    subject: &str,
    facts: &Facts<'_>,
    firing: &'s [Source],
) -> Option<&'s Source> {
    firing.iter().find(|s| {
        s.subject != subject
            && rules.get(s.rule).is_some_and(|r| {
                r.target.matches(facts) && labels(facts, &r.equal).as_ref() == Some(&s.values)
            })
    })
}

/// The firing sources: written under a source alarm's lease when it enters ALARM, cleared
/// when it leaves; read for every notice while inhibition rules exist.
pub trait SourceStore: Send + Sync {
    /// Records (or, with an empty list, clears) what the alarm `subject` is a source of.
    fn set_sources(
        &self,
        subject: &str,
        sources: &[Source],
    ) -> impl std::future::Future<Output = Result<(), crate::error::Error>> + Send;
    /// Every firing source.
    fn firing(
        &self,
    ) -> impl std::future::Future<Output = Result<Vec<Source>, crate::error::Error>> + Send;
}

/// Firing sources in memory (unit tests, the simulation).
#[derive(Debug, Default, Clone)]
pub struct MemorySources(
    std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<String, Vec<Source>>>>,
);

impl SourceStore for MemorySources {
    async fn set_sources(
        &self,
        subject: &str,
        sources: &[Source],
    ) -> Result<(), crate::error::Error> {
        let mut all = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if sources.is_empty() {
            all.remove(subject);
        } else {
            all.insert(subject.to_string(), sources.to_vec());
        }
        Ok(())
    }

    async fn firing(&self) -> Result<Vec<Source>, crate::error::Error> {
        let all = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(all.values().flatten().cloned().collect())
    }
}

impl SourceStore for crate::store::MemoryStore {
    async fn set_sources(
        &self,
        subject: &str,
        sources: &[Source],
    ) -> Result<(), crate::error::Error> {
        self.sources.set_sources(subject, sources).await
    }

    async fn firing(&self) -> Result<Vec<Source>, crate::error::Error> {
        self.sources.firing().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notice::Notice;
    use serde_json::json;

    fn notice(name: &str, db: Option<&str>) -> Notice {
        let dims: Vec<_> = db
            .map(|d| json!({"name": "DBInstanceIdentifier", "value": d}))
            .into_iter()
            .collect();
        let m = json!({"AlarmName": name, "NewStateValue": "ALARM",
            "AlarmArn": format!("arn:aws:cloudwatch:eu-west-1:1:alarm:{name}"),
            "Trigger": {"MetricName": "CPUUtilization", "Namespace": "AWS/RDS",
                "Dimensions": dims, "ComparisonOperator": "GreaterThanThreshold", "Threshold": 80.0}});
        let event = json!({"Records": [{"Sns": {"MessageId": name, "Message": m.to_string()}}]});
        match crate::event::parse_input(&event) {
            Ok(crate::event::Input::Notices(mut n)) => n.remove(0),
            other => panic!("not a notice: {other:?}"),
        }
    }

    fn rules() -> Vec<InhibitRule> {
        parse_rules(&[json!({
            "source_match": {"alarm_name": "*-critical"},
            "target_match": {"alarm_name": "*-warning"},
            "equal": ["DBInstanceIdentifier"]})])
        .expect("rules")
    }

    #[test]
    fn a_critical_database_alarm_mutes_the_warnings_of_that_database_only() {
        let rules = rules();
        let critical = notice("db-critical", Some("prod-1"));
        let sources = sources_of(&rules, "alarm#c", &Facts::of(&critical, None));
        assert_eq!(
            sources,
            vec![Source {
                subject: "alarm#c".into(),
                rule: 0,
                values: vec!["prod-1".into()]
            }]
        );
        let same_db = notice("db-warning", Some("prod-1"));
        let other_db = notice("db-warning", Some("prod-2"));
        let no_db = notice("db-warning", None);
        let facts = |n| Facts::of(n, None);
        assert!(inhibited_by(&rules, "alarm#w", &facts(&same_db), &sources).is_some());
        assert!(inhibited_by(&rules, "alarm#w", &facts(&other_db), &sources).is_none());
        assert!(
            inhibited_by(&rules, "alarm#w", &facts(&no_db), &sources).is_none(),
            "an alarm without the dimension is never muted"
        );
        // Once the source leaves ALARM its record is gone: nothing mutes the warning.
        assert!(inhibited_by(&rules, "alarm#w", &facts(&same_db), &[]).is_none());
    }

    #[test]
    fn an_alarm_does_not_inhibit_itself() {
        let rules = parse_rules(&[json!({
            "source_match": {"alarm_name": "db-*"}, "target_match": {"alarm_name": "db-*"},
            "equal": ["DBInstanceIdentifier"]})])
        .expect("rules");
        let n = notice("db-cpu", Some("prod-1"));
        let sources = sources_of(&rules, "alarm#a", &Facts::of(&n, None));
        assert!(inhibited_by(&rules, "alarm#a", &Facts::of(&n, None), &sources).is_none());
    }

    #[test]
    fn bad_rules_name_the_field() {
        let err = |v| parse_rules(&[v]).expect_err("bad rule");
        assert!(
            err(json!({"source_match": {}, "target_match": {}, "equal": []}))
                .starts_with("inhibit_rules[0].equal: ")
        );
        assert!(
            err(json!({"source_match": {}, "target_match": {}, "equal": ["a"], "eqaul": 1}))
                .contains("unknown field `eqaul`")
        );
        assert!(err(
            json!({"source_match": {"severity": "urgent"}, "target_match": {}, "equal": ["a"]})
        )
        .starts_with("inhibit_rules[0].source_match"));
    }
}
