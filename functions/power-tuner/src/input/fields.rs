//! Reading the request's fields: numbers and booleans as Power Tuning accepts them
//! (numeric strings included), function ARNs, S3 locations, and Power Tuning's clamps. A
//! bad value is an error naming its field.

use serde_json::{Map, Value};

use crate::Error;

/// Where in S3: `s3://bucket/key` (or `bucket/key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    pub key: String,
}

impl S3Location {
    pub fn parse(raw: &str) -> Option<Self> {
        let rest = raw.strip_prefix("s3://").unwrap_or(raw);
        let (bucket, key) = match rest.split_once('/') {
            Some((b, k)) => (b, k),
            None => (rest, ""),
        };
        let valid_bucket = bucket.len() >= 3
            && bucket.len() <= 63
            && bucket
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
        valid_bucket.then(|| Self {
            bucket: bucket.to_string(),
            key: key.trim_end_matches('/').to_string(),
        })
    }
}

pub(crate) fn bad(field: &str, why: impl std::fmt::Display) -> Error {
    Error::Input(format!("{field}: {why}"))
}

/// A whole number given as a number or a numeric string (Power Tuning uses `parseInt`).
pub(crate) fn integer(obj: &Map<String, Value>, field: &str) -> Result<Option<i64>, Error> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| bad(field, "must be a whole number")),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| bad(field, "must be a whole number")),
        Some(_) => Err(bad(field, "must be a whole number")),
    }
}

pub(crate) fn number(obj: &Map<String, Value>, field: &str) -> Result<Option<f64>, Error> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .map(Some)
            .ok_or_else(|| bad(field, "must be a number")),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| bad(field, "must be a number")),
        Some(_) => Err(bad(field, "must be a number")),
    }
}

pub(crate) fn boolean(obj: &Map<String, Value>, field: &str) -> Result<bool, Error> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(bad(field, "must be true or false")),
    }
}

pub(crate) fn string(obj: &Map<String, Value>, field: &str) -> Result<Option<String>, Error> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(bad(field, "must be a string")),
    }
}

/// Splits `arn:...:function:<name>[:<qualifier>]` into the unqualified ARN and the
/// qualifier.
pub fn split_qualifier(field: &str, arn: &str) -> Result<(String, Option<String>), Error> {
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() == 8 {
        let q = parts[7];
        let valid = !q.is_empty()
            && q.len() <= 128
            && q.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '$');
        if !valid {
            return Err(bad(field, format!("{q:?} is not a version or alias")));
        }
        let base = parts[..7].join(":");
        validate_function_arn(field, &base)?;
        let q = (q != "$LATEST").then(|| q.to_string());
        return Ok((base, q));
    }
    validate_function_arn(field, arn)?;
    Ok((arn.to_string(), None))
}

/// A Lambda function ARN (`arn:<partition>:lambda:<region>:<account>:function:<name>`),
/// without a qualifier.
pub fn validate_function_arn(field: &str, arn: &str) -> Result<(), Error> {
    let parts: Vec<&str> = arn.split(':').collect();
    let ok = parts.len() == 7
        && parts[0] == "arn"
        && parts[2] == "lambda"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5] == "function"
        && !parts[6].is_empty()
        && parts[6]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(bad(
            field,
            "must be an unqualified Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)",
        ))
    }
}

/// Power Tuning's clamp of a fraction to `0..=max`, with a warning when it bites.
pub(crate) fn clamp(field: &str, value: f64, max: f64, warnings: &mut Vec<String>) -> f64 {
    let clamped = value.clamp(0.0, max);
    if clamped != value {
        warnings.push(format!(
            "{field}: {value} is outside 0..{max}; {clamped} was used (as Power Tuning does)"
        ));
    }
    clamped
}
