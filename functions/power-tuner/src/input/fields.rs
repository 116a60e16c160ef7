//! Checking the request's fields: text as Power Tuning reads it, function ARNs, S3
//! locations, and Power Tuning's clamps. A bad value is an error naming its field.

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

/// A text field as Power Tuning reads it: trimmed, and blank as if not given.
pub(crate) fn text(given: &Option<String>) -> Option<String> {
    given
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
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
