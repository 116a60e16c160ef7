//! One matcher value of a route: a glob (`prod-*`), a regular expression written with a
//! leading `~` (`~prod-(db|api)-\d+`, anchored at both ends as in Alertmanager), and either
//! negated by a leading `!` (`!dev-*`, `!~.*-canary`).
//!
//! A field's list matches when one of its plain values matches (or it has none) and none
//! of its negated values matches. A fact the notice lacks matches no plain value and passes
//! every negated one, as Alertmanager's `!=` passes an absent label.

use globset::{Glob, GlobMatcher};
use regex_lite::Regex;

#[derive(Debug, Clone)]
enum Text {
    Glob(GlobMatcher),
    Regex(Regex),
}

impl Text {
    fn is_match(&self, value: &str) -> bool {
        match self {
            Self::Glob(g) => g.is_match(value),
            Self::Regex(r) => r.is_match(value),
        }
    }
}

/// A field's values: what one of them must match, and what none may match.
#[derive(Debug, Clone)]
pub struct FieldMatcher<T> {
    any: Vec<T>,
    none: Vec<T>,
}

/// Splits a leading `!` off a value.
fn negation(value: &str) -> (bool, &str) {
    match value.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, value),
    }
}

impl<T> FieldMatcher<T> {
    /// Builds a matcher from the document's values; `parse` reads one value without its `!`.
    pub fn build(
        field: &str,
        values: &[String],
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Self, String> {
        if values.is_empty() {
            return Err(format!(
                "{field}: empty list (leave the field out to match anything)"
            ));
        }
        let mut out = Self {
            any: Vec::new(),
            none: Vec::new(),
        };
        for value in values {
            let (negated, rest) = negation(value.trim());
            let parsed = parse(rest).map_err(|e| format!("{field}: {e}"))?;
            if negated {
                out.none.push(parsed);
            } else {
                out.any.push(parsed);
            }
        }
        Ok(out)
    }

    /// Whether a fact with these values passes (`values` empty: the notice lacks the fact).
    pub fn matches_any<'v>(
        &self,
        values: impl Iterator<Item = &'v str> + Clone,
        test: impl Fn(&T, &str) -> bool,
    ) -> bool {
        let hit = |t: &T| values.clone().any(|v| test(t, v));
        (self.any.is_empty() || self.any.iter().any(hit)) && !self.none.iter().any(hit)
    }
}

/// A text field (names, namespaces, dimension and tag values, account, region).
#[derive(Debug, Clone)]
pub struct TextMatcher(FieldMatcher<Text>);

impl TextMatcher {
    pub fn build(field: &str, values: &[String]) -> Result<Self, String> {
        FieldMatcher::build(field, values, |v| match v.strip_prefix('~') {
            Some(re) => Regex::new(&format!("^(?:{re})$"))
                .map(Text::Regex)
                .map_err(|e| format!("bad regular expression {re:?}: {e}")),
            None => Glob::new(v)
                .map(|g| Text::Glob(g.compile_matcher()))
                .map_err(|e| format!("bad glob {v:?}: {e}")),
        })
        .map(Self)
    }

    /// Whether any of the values passes (none: the notice lacks the fact).
    pub fn matches<'v>(&self, values: impl Iterator<Item = &'v str> + Clone) -> bool {
        self.0.matches_any(values, |t, v| t.is_match(v))
    }

    pub fn matches_one(&self, value: Option<&str>) -> bool {
        self.matches(value.into_iter())
    }
}

/// A field of known words (state, severity, kind).
#[derive(Debug, Clone)]
pub struct WordMatcher<T>(FieldMatcher<T>);

impl<T: PartialEq + Copy> WordMatcher<T> {
    pub fn build(
        field: &str,
        values: &[String],
        parse: impl Fn(&str) -> Option<T>,
        expected: &str,
    ) -> Result<Self, String> {
        FieldMatcher::build(field, values, |v| {
            parse(v).ok_or_else(|| format!("{v:?} is not one of {expected}"))
        })
        .map(Self)
    }

    pub fn matches(&self, value: Option<T>) -> bool {
        let (any, none) = (&self.0.any, &self.0.none);
        (any.is_empty() || value.is_some_and(|v| any.contains(&v)))
            && !value.is_some_and(|v| none.contains(&v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(values: &[&str]) -> TextMatcher {
        TextMatcher::build(
            "f",
            &values.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
        .unwrap()
    }

    #[test]
    fn globs_regexes_and_negation() {
        let m = text(&["prod-*", "~stage-(db|api)-\\d+"]);
        assert!(m.matches_one(Some("prod-db")));
        assert!(m.matches_one(Some("stage-api-12")));
        assert!(!m.matches_one(Some("stage-api-x")));
        // Regexes are anchored: a match inside the name is not enough.
        assert!(!m.matches_one(Some("old-stage-db-1")));
        assert!(!m.matches_one(None));

        let not_canary = text(&["!*-canary"]);
        assert!(not_canary.matches_one(Some("prod-db")));
        assert!(!not_canary.matches_one(Some("prod-canary")));
        // An absent fact passes a negated value.
        assert!(not_canary.matches_one(None));

        let mixed = text(&["prod-*", "!~.*-(canary|test)"]);
        assert!(mixed.matches_one(Some("prod-db")));
        assert!(!mixed.matches_one(Some("prod-test")));
        assert!(!mixed.matches_one(Some("dev-db")));
    }

    #[test]
    fn several_values_pass_when_any_matches_and_none_is_excluded() {
        let m = text(&["prod-*", "!prod-replica"]);
        assert!(m.matches(["dev-a", "prod-b"].into_iter()));
        assert!(!m.matches(["prod-b", "prod-replica"].into_iter()));
    }

    #[test]
    fn words_with_negation() {
        let m = WordMatcher::build(
            "f",
            &["!info".to_string()],
            crate::severity::Severity::parse,
            "x",
        )
        .unwrap();
        use crate::severity::Severity;
        assert!(m.matches(Some(Severity::Critical)));
        assert!(!m.matches(Some(Severity::Info)));
        assert!(m.matches(None));
    }

    #[test]
    fn bad_values_are_named() {
        let err = TextMatcher::build("routes[0].match.alarm_name", &["~(".into()]).unwrap_err();
        assert!(
            err.starts_with("routes[0].match.alarm_name: bad regular expression \"(\""),
            "{err}"
        );
        let err = TextMatcher::build("x", &[]).unwrap_err();
        assert!(err.contains("empty list"), "{err}");
    }
}
