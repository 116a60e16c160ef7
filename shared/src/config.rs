//! Typed configuration from environment variables.
//!
//! Every error names the variable that was missing or malformed, and never echoes the
//! value: configuration can point at secrets, and a value in an error is a value in a log.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {name} is required but not set")]
    Missing { name: String },
    #[error("environment variable {name} is malformed: {reason}")]
    Malformed { name: String, reason: String },
}

/// Where variables come from: the process environment in production, a map in tests.
pub trait EnvSource {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl EnvSource for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl EnvSource for HashMap<&str, &str> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).map(|v| v.to_string())
    }
}

/// Typed reads over an [`EnvSource`]. Empty or blank values count as unset.
#[derive(Debug, Clone)]
pub struct Env<S = ProcessEnv> {
    source: S,
}

impl Env<ProcessEnv> {
    pub fn process() -> Self {
        Self { source: ProcessEnv }
    }
}

impl<S: EnvSource> Env<S> {
    pub fn new(source: S) -> Self {
        Self { source }
    }

    /// The trimmed value, or `None` when unset or blank.
    pub fn optional(&self, name: &str) -> Option<String> {
        self.source
            .var(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<String, ConfigError> {
        self.optional(name).ok_or_else(|| ConfigError::Missing {
            name: name.to_string(),
        })
    }

    /// Parses the value when set; a value that does not parse is an error, not a default.
    pub fn parse<T>(&self, name: &str) -> Result<Option<T>, ConfigError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        self.optional(name)
            .map(|raw| {
                raw.parse::<T>().map_err(|e| ConfigError::Malformed {
                    name: name.to_string(),
                    reason: e.to_string(),
                })
            })
            .transpose()
    }

    pub fn parse_or<T>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        Ok(self.parse(name)?.unwrap_or(default))
    }

    pub fn required_parse<T>(&self, name: &str) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        self.parse(name)?.ok_or_else(|| ConfigError::Missing {
            name: name.to_string(),
        })
    }

    /// `true/false`, `1/0`, `yes/no`, `on/off`, any case.
    pub fn bool_or(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        match self.optional(name) {
            None => Ok(default),
            Some(raw) => match raw.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" => Ok(false),
                _ => Err(ConfigError::Malformed {
                    name: name.to_string(),
                    reason: "expected true or false".to_string(),
                }),
            },
        }
    }

    /// A whole number of seconds.
    pub fn seconds_or(&self, name: &str, default: Duration) -> Result<Duration, ConfigError> {
        match self.optional(name) {
            None => Ok(default),
            Some(raw) => {
                raw.parse::<u64>()
                    .map(Duration::from_secs)
                    .map_err(|_| ConfigError::Malformed {
                        name: name.to_string(),
                        reason: "expected a whole number of seconds".to_string(),
                    })
            }
        }
    }

    /// A comma-separated list; blank items are dropped.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.optional(name)
            .map(|raw| {
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::env;

    #[test]
    fn missing_required_variable_names_it() {
        let err = env(&[]).required("GC_TABLE").unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable GC_TABLE is required but not set"
        );
    }

    #[test]
    fn blank_counts_as_missing() {
        assert!(env(&[("GC_TABLE", "  ")]).required("GC_TABLE").is_err());
        assert_eq!(
            env(&[("GC_TABLE", " t ")]).required("GC_TABLE").unwrap(),
            "t"
        );
    }

    #[test]
    fn malformed_number_names_variable_without_value() {
        let err = env(&[("GC_LIMIT", "secret-ish")])
            .parse::<u32>("GC_LIMIT")
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("GC_LIMIT"), "{text}");
        assert!(!text.contains("secret-ish"), "{text}");
    }

    #[test]
    fn parse_or_uses_default_only_when_unset() {
        assert_eq!(env(&[]).parse_or("N", 7u32).unwrap(), 7);
        assert_eq!(env(&[("N", "9")]).parse_or("N", 7u32).unwrap(), 9);
        assert!(env(&[("N", "x")]).parse_or("N", 7u32).is_err());
        assert!(env(&[]).required_parse::<u32>("N").is_err());
    }

    #[test]
    fn booleans_and_seconds() {
        assert!(env(&[("B", "Yes")]).bool_or("B", false).unwrap());
        assert!(!env(&[("B", "off")]).bool_or("B", true).unwrap());
        assert!(env(&[("B", "maybe")]).bool_or("B", true).is_err());
        assert_eq!(
            env(&[("S", "90")]).seconds_or("S", Duration::ZERO).unwrap(),
            Duration::from_secs(90)
        );
        assert!(env(&[("S", "1.5")])
            .seconds_or("S", Duration::ZERO)
            .is_err());
    }

    #[test]
    fn lists_drop_blank_items() {
        assert_eq!(env(&[("L", "a, b,,c ")]).list("L"), vec!["a", "b", "c"]);
        assert!(env(&[]).list("L").is_empty());
    }
}
