//! Values as they come, and what each kind of setting accepts of them.

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::invalid;
use crate::error::Error;

/// A value as it comes: CloudFormation passes every scalar as a string, a person writing a
/// direct invocation may write a number or a boolean. Read as it is here; judged below,
/// with the property's name in any error (serde's own type errors name no field).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Loose {
    Text(String),
    Number(serde_json::Number),
    Flag(bool),
    List(Vec<Loose>),
    Other(IgnoredAny),
}

/// A string setting; blank is unset.
pub(super) fn text(value: Option<Loose>, key: &str) -> Result<Option<String>, Error> {
    match value {
        None => Ok(None),
        Some(Loose::Text(s)) if s.trim().is_empty() => Ok(None),
        Some(Loose::Text(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(invalid(key, "expected a string")),
    }
}

pub(super) fn whole_number(value: Option<Loose>, key: &str) -> Result<Option<u64>, Error> {
    let bad = || invalid(key, "expected a whole number");
    match value {
        None => Ok(None),
        Some(Loose::Number(n)) => n.as_u64().map(Some).ok_or_else(bad),
        Some(Loose::Text(s)) if s.trim().is_empty() => Ok(None),
        Some(Loose::Text(s)) => s.trim().parse::<u64>().map(Some).map_err(|_| bad()),
        Some(_) => Err(bad()),
    }
}

pub(super) fn flag(value: Option<Loose>, key: &str) -> Result<bool, Error> {
    let bad = || invalid(key, "expected true or false");
    match value {
        None => Ok(false),
        Some(Loose::Flag(b)) => Ok(b),
        Some(Loose::Text(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" | "" => Ok(false),
            _ => Err(bad()),
        },
        Some(_) => Err(bad()),
    }
}

/// A list of names, or one comma-separated string.
pub(super) fn names(value: Option<Loose>, key: &str) -> Result<Option<Vec<String>>, Error> {
    let bad = || invalid(key, "expected a list of update type names");
    match value {
        None => Ok(None),
        Some(Loose::Text(s)) => Ok(Some(
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        )),
        Some(Loose::List(items)) => items
            .into_iter()
            .map(|item| match item {
                Loose::Text(s) => Ok(s.trim().to_string()),
                _ => Err(bad()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(bad()),
    }
}
