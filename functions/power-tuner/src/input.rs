//! The tuning request: AWS Lambda Power Tuning's input, unchanged, plus our additions
//! (`architectures`, `codeLocations`, `concurrency`, `pricing`, `reportS3`). A bad field
//! is an error naming it; nothing is acted on before the whole input has been read. Where
//! Power Tuning clamps a value (`discardTopBottom` to 0..0.4, `balancedWeight` to 0..1),
//! so do we, with a warning in the output.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::architecture::Architecture;
use crate::lambda::CodeSource;
use crate::price::PriceModel;
use crate::strategy::Strategy;
use crate::TunerError;

pub const MIN_MEMORY: u32 = 128;
pub const MAX_MEMORY: u32 = 10_240;
pub const DEFAULT_POWER_VALUES: [u32; 6] = [128, 256, 512, 1024, 1536, 3008];

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

/// The payload input before any S3 fetch: one payload, or a weighted list.
#[derive(Debug, Clone, PartialEq)]
pub enum PayloadSpec {
    /// Sent as Power Tuning's `convertPayload` sends it: a string holding JSON as is,
    /// anything else (a plain string included) JSON-encoded.
    Single(Option<Value>),
    Weighted(Vec<(Value, f64)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TuneRequest {
    /// The unqualified ARN (configuration changes apply to `$LATEST`).
    pub lambda_arn: String,
    /// The version or alias the input named, if any.
    pub qualifier: Option<String>,
    pub num: u32,
    pub power_values: Vec<u32>,
    pub payload: PayloadSpec,
    pub payload_s3: Option<S3Location>,
    pub parallel_invocation: bool,
    pub strategy: Strategy,
    pub balanced_weight: f64,
    pub auto_optimize: bool,
    pub auto_optimize_alias: Option<String>,
    pub dry_run: bool,
    pub pre_processor_arn: Option<String>,
    pub post_processor_arn: Option<String>,
    pub discard_top_bottom: f64,
    pub sleep_between_runs_ms: u64,
    pub only_cold_starts: bool,
    pub allowed_exceptions: Vec<String>,
    pub include_output_results: bool,
    /// Keep payloads out of logs and error messages.
    pub disable_payload_logs: bool,
    // our additions
    /// Empty: the function's current architecture only.
    pub architectures: Vec<Architecture>,
    pub concurrency: Option<u32>,
    pub pricing: PriceModel,
    pub report_s3: Option<S3Location>,
    /// The code built for an architecture, for the switch to it.
    pub code_locations: BTreeMap<Architecture, CodeSource>,
    /// Values clamped as Power Tuning clamps them.
    pub warnings: Vec<String>,
}

fn bad(field: &str, why: impl std::fmt::Display) -> TunerError {
    TunerError::Input(format!("{field}: {why}"))
}

/// A whole number given as a number or a numeric string (Power Tuning uses `parseInt`).
fn integer(obj: &Map<String, Value>, field: &str) -> Result<Option<i64>, TunerError> {
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

fn number(obj: &Map<String, Value>, field: &str) -> Result<Option<f64>, TunerError> {
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

fn boolean(obj: &Map<String, Value>, field: &str) -> Result<bool, TunerError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(bad(field, "must be true or false")),
    }
}

fn string(obj: &Map<String, Value>, field: &str) -> Result<Option<String>, TunerError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(bad(field, "must be a string")),
    }
}

/// Splits `arn:...:function:<name>[:<qualifier>]` into the unqualified ARN and the
/// qualifier.
pub fn split_qualifier(field: &str, arn: &str) -> Result<(String, Option<String>), TunerError> {
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
pub fn validate_function_arn(field: &str, arn: &str) -> Result<(), TunerError> {
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

impl TuneRequest {
    /// Reads a request from a direct invocation's payload or an EventBridge event's
    /// `detail`.
    pub fn from_event(event: &Value) -> Result<Self, TunerError> {
        let obj = match event {
            Value::Object(o) if o.contains_key("detail-type") => match o.get("detail") {
                Some(Value::Object(d)) => d,
                _ => {
                    return Err(bad(
                        "detail",
                        "an EventBridge event must carry the tuning input in its detail",
                    ))
                }
            },
            Value::Object(o) => o,
            _ => return Err(TunerError::Input("the input must be a JSON object".into())),
        };
        Self::from_object(obj)
    }

    pub fn from_object(obj: &Map<String, Value>) -> Result<Self, TunerError> {
        const KNOWN: [&str; 24] = [
            "lambdaARN",
            "num",
            "powerValues",
            "payload",
            "payloadS3",
            "parallelInvocation",
            "strategy",
            "balancedWeight",
            "autoOptimize",
            "autoOptimizeAlias",
            "dryRun",
            "preProcessorARN",
            "postProcessorARN",
            "discardTopBottom",
            "sleepBetweenRunsMs",
            "onlyColdStarts",
            "allowedExceptions",
            "includeOutputResults",
            "disablePayloadLogs",
            "architectures",
            "codeLocations",
            "concurrency",
            "pricing",
            "reportS3",
        ];
        if let Some(unknown) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(bad(unknown, "is not a known field"));
        }

        let given_arn = string(obj, "lambdaARN")?.ok_or_else(|| bad("lambdaARN", "is required"))?;
        let (lambda_arn, qualifier) = split_qualifier("lambdaARN", &given_arn)?;
        let mut warnings = Vec::new();

        let dry_run = boolean(obj, "dryRun")?;
        let num = integer(obj, "num")?;
        let num = match (num, dry_run) {
            (Some(n), _) if n >= 5 => n as u32,
            (Some(n), true) if n >= 1 => n as u32,
            (None, true) => 1,
            (None, false) => {
                return Err(bad(
                    "num",
                    "is required (invocations per power value, at least 5)",
                ))
            }
            (Some(_), _) => return Err(bad("num", "must be at least 5")),
        };
        if num > 1000 {
            return Err(bad("num", "must be at most 1000"));
        }

        let power_values = match obj.get("powerValues") {
            None | Some(Value::Null) => DEFAULT_POWER_VALUES.to_vec(),
            Some(Value::String(s)) if s == "ALL" => (MIN_MEMORY..=3008).step_by(64).collect(),
            Some(Value::Array(items)) => {
                if items.is_empty() {
                    return Err(bad("powerValues", "must not be empty"));
                }
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    let v = match item {
                        Value::Number(n) => n.as_u64(),
                        Value::String(s) => s.trim().parse::<u64>().ok(),
                        _ => None,
                    }
                    .filter(|v| (u64::from(MIN_MEMORY)..=u64::from(MAX_MEMORY)).contains(v))
                    .ok_or_else(|| {
                        bad(
                            "powerValues",
                            format!(
                                "{item} is not a memory size from {MIN_MEMORY} to {MAX_MEMORY} MB"
                            ),
                        )
                    })?;
                    if !values.contains(&(v as u32)) {
                        values.push(v as u32);
                    }
                }
                values
            }
            Some(_) => {
                return Err(bad(
                    "powerValues",
                    "must be a list of memory sizes or \"ALL\"",
                ))
            }
        };

        let payload = match obj.get("payload") {
            Some(Value::Array(items)) => array_payload(items)?,
            Some(Value::Null) | None => PayloadSpec::Single(None),
            Some(other) => PayloadSpec::Single(Some(other.clone())),
        };
        if let PayloadSpec::Weighted(list) = &payload {
            generate_payloads(num, &PayloadSpec::Weighted(list.clone()))?;
        }

        let payload_s3 = match string(obj, "payloadS3")? {
            None => None,
            Some(raw) => Some(
                S3Location::parse(&raw)
                    .filter(|l| !l.key.is_empty())
                    .ok_or_else(|| bad("payloadS3", "must be s3://bucket/key"))?,
            ),
        };

        let strategy = match string(obj, "strategy")? {
            None => Strategy::Cost,
            Some(s) => Strategy::parse(&s)
                .ok_or_else(|| bad("strategy", "must be cost, speed or balanced"))?,
        };
        let balanced_weight = clamp(
            "balancedWeight",
            number(obj, "balancedWeight")?.unwrap_or(0.5),
            1.0,
            &mut warnings,
        );
        let only_cold_starts = boolean(obj, "onlyColdStarts")?;
        let discard_top_bottom = match number(obj, "discardTopBottom")? {
            // Power Tuning counts every cold start (its executor sets 0).
            _ if only_cold_starts => 0.0,
            None => 0.2,
            Some(d) => clamp("discardTopBottom", d, 0.4, &mut warnings),
        };
        let sleep_between_runs_ms = match integer(obj, "sleepBetweenRunsMs")? {
            None => 0,
            Some(n) if (0..=60_000).contains(&n) => n as u64,
            Some(_) => return Err(bad("sleepBetweenRunsMs", "must be from 0 to 60000")),
        };

        let auto_optimize_alias = string(obj, "autoOptimizeAlias")?;
        if let Some(alias) = &auto_optimize_alias {
            let valid = alias.len() <= 128
                && alias
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && !alias.chars().all(|c| c.is_ascii_digit());
            if !valid {
                return Err(bad("autoOptimizeAlias", "must be a valid alias name"));
            }
        }
        let pre_processor_arn = string(obj, "preProcessorARN")?;
        if let Some(arn) = &pre_processor_arn {
            validate_function_arn("preProcessorARN", arn)?;
        }
        let post_processor_arn = string(obj, "postProcessorARN")?;
        if let Some(arn) = &post_processor_arn {
            validate_function_arn("postProcessorARN", arn)?;
        }

        let allowed_exceptions = match obj.get("allowedExceptions") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| bad("allowedExceptions", "must be a list of error types"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(bad("allowedExceptions", "must be a list of error types")),
        };

        let architectures = match obj.get("architectures") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) if !items.is_empty() => {
                let mut archs = Vec::new();
                for item in items {
                    let a = item.as_str().and_then(Architecture::parse).ok_or_else(|| {
                        bad("architectures", format!("{item} is not arm64 or x86_64"))
                    })?;
                    if !archs.contains(&a) {
                        archs.push(a);
                    }
                }
                archs
            }
            Some(_) => {
                return Err(bad(
                    "architectures",
                    "must be a non-empty list of arm64 and/or x86_64",
                ))
            }
        };

        let concurrency = match integer(obj, "concurrency")? {
            None => None,
            Some(n) if (1..=1000).contains(&n) => Some(n as u32),
            Some(_) => return Err(bad("concurrency", "must be from 1 to 1000")),
        };

        let pricing = match obj.get("pricing") {
            None | Some(Value::Null) => PriceModel::default(),
            Some(v) => {
                let p: PriceModel =
                    serde_json::from_value(v.clone()).map_err(|e| bad("pricing", e))?;
                let ok = [
                    p.arm64_per_gb_second,
                    p.x86_64_per_gb_second,
                    p.per_million_requests,
                ]
                .iter()
                .all(|x| x.is_finite() && *x >= 0.0);
                if !ok {
                    return Err(bad("pricing", "prices must be non-negative numbers"));
                }
                p
            }
        };

        let report_s3 = match string(obj, "reportS3")? {
            None => None,
            Some(raw) => Some(
                S3Location::parse(&raw)
                    .ok_or_else(|| bad("reportS3", "must be s3://bucket[/prefix]"))?,
            ),
        };

        let code_locations = match obj.get("codeLocations") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Object(map)) => {
                let mut out = BTreeMap::new();
                for (arch, loc) in map {
                    let a = Architecture::parse(arch).ok_or_else(|| {
                        bad("codeLocations", format!("{arch:?} is not arm64 or x86_64"))
                    })?;
                    let loc = loc.as_str().and_then(code_source).ok_or_else(|| {
                        bad(
                            "codeLocations",
                            format!("{arch}: expected s3://bucket/key or an image URI"),
                        )
                    })?;
                    out.insert(a, loc);
                }
                out
            }
            Some(_) => {
                return Err(bad(
                    "codeLocations",
                    "must map arm64 / x86_64 to s3://bucket/key or an image URI",
                ))
            }
        };

        Ok(Self {
            lambda_arn,
            qualifier,
            num,
            power_values,
            payload,
            payload_s3,
            parallel_invocation: boolean(obj, "parallelInvocation")?,
            strategy,
            balanced_weight,
            auto_optimize: boolean(obj, "autoOptimize")?,
            auto_optimize_alias,
            dry_run,
            pre_processor_arn,
            post_processor_arn,
            discard_top_bottom,
            sleep_between_runs_ms,
            only_cold_starts,
            allowed_exceptions,
            include_output_results: boolean(obj, "includeOutputResults")?,
            disable_payload_logs: boolean(obj, "disablePayloadLogs")?,
            architectures,
            concurrency,
            pricing,
            report_s3,
            code_locations,
            warnings,
        })
    }

    /// The function's name (last part of the ARN).
    pub fn function_name(&self) -> &str {
        self.lambda_arn
            .rsplit(':')
            .next()
            .unwrap_or(&self.lambda_arn)
    }

    /// Invocations per power value, after `dryRun`.
    pub fn invocations(&self) -> u32 {
        if self.dry_run {
            1
        } else {
            self.num
        }
    }
}

/// Power Tuning's clamp of a fraction to `0..=max`, with a warning when it bites.
fn clamp(field: &str, value: f64, max: f64, warnings: &mut Vec<String>) -> f64 {
    let clamped = value.clamp(0.0, max);
    if clamped != value {
        warnings.push(format!(
            "{field}: {value} is outside 0..{max}; {clamped} was used (as Power Tuning does)"
        ));
    }
    clamped
}

/// `s3://bucket/key` or an image URI (`<registry>/<repository>[:tag|@digest]`).
fn code_source(raw: &str) -> Option<CodeSource> {
    if raw.starts_with("s3://") {
        let l = S3Location::parse(raw).filter(|l| !l.key.is_empty())?;
        return Some(CodeSource::S3 {
            bucket: l.bucket,
            key: l.key,
            object_version: None,
        });
    }
    let image = raw.contains('/') && !raw.chars().any(char::is_whitespace);
    image.then(|| CodeSource::Image(raw.to_string()))
}

/// A payload array: weighted when every item has a payload and a weight (Power Tuning's
/// `isWeightedPayload`); one payload, the array itself, when no item has a weight (as
/// Power Tuning treats a plain array); refused when only some items are weighted, which is
/// a mistake rather than a payload.
fn array_payload(items: &[Value]) -> Result<PayloadSpec, TunerError> {
    let weighted = |i: &Value| i.get("weight").is_some();
    if items.is_empty() || !items.iter().any(weighted) {
        return Ok(PayloadSpec::Single(Some(Value::Array(items.to_vec()))));
    }
    let mut list = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let weight = item
            .get("weight")
            .and_then(Value::as_f64)
            .filter(|w| *w > 0.0);
        match (item.get("payload").filter(|p| !p.is_null()), weight) {
            (Some(p), Some(w)) => list.push((p.clone(), w)),
            _ => {
                return Err(bad(
                    "payload",
                    format!("item {i} needs a payload and a positive weight"),
                ))
            }
        }
    }
    Ok(PayloadSpec::Weighted(list))
}

/// A payload as bytes, as Power Tuning's `convertPayload` makes them: a string that holds
/// JSON is sent as is; any other value, a plain string included, is JSON-encoded
/// (`just a string` becomes `"just a string"`).
pub fn payload_bytes(value: &Option<Value>) -> Vec<u8> {
    match value {
        None => Vec::new(),
        Some(Value::String(s)) if serde_json::from_str::<Value>(s).is_ok() => {
            s.clone().into_bytes()
        }
        Some(v) => v.to_string().into_bytes(),
    }
}

/// Power Tuning's `generatePayloads`: `num` payloads, a weighted list filled in order by
/// `floor(weight * num / total)`, the last item taking the remainder.
pub fn generate_payloads(num: u32, spec: &PayloadSpec) -> Result<Vec<Vec<u8>>, TunerError> {
    let n = num as usize;
    match spec {
        PayloadSpec::Single(p) => Ok(vec![payload_bytes(p); n]),
        PayloadSpec::Weighted(list) => {
            if n < list.len() {
                return Err(bad(
                    "payload",
                    format!(
                        "{} weighted payloads need num of at least {}",
                        list.len(),
                        list.len()
                    ),
                ));
            }
            let total: f64 = list.iter().map(|(_, w)| w).sum();
            let mut out = Vec::with_capacity(n);
            for (i, (p, w)) in list.iter().enumerate() {
                let mut how_many = (w * num as f64 / total).floor() as usize;
                if how_many < 1 {
                    return Err(bad(
                        "payload",
                        format!("weight of item {i} is too small for num {num}"),
                    ));
                }
                if i == list.len() - 1 {
                    how_many = n - out.len();
                }
                let bytes = payload_bytes(&Some(p.clone()));
                out.extend(std::iter::repeat_n(bytes, how_many));
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:my-fn";

    fn parse(v: Value) -> Result<TuneRequest, String> {
        TuneRequest::from_event(&v).map_err(|e| e.to_string())
    }

    #[test]
    fn power_tuning_defaults() {
        let r = parse(json!({"lambdaARN": ARN, "num": 10})).unwrap();
        assert_eq!(r.power_values, DEFAULT_POWER_VALUES.to_vec());
        assert_eq!(r.strategy, Strategy::Cost);
        assert_eq!(r.balanced_weight, 0.5);
        assert_eq!(r.discard_top_bottom, 0.2);
        assert!(!r.parallel_invocation && !r.auto_optimize && !r.dry_run && !r.only_cold_starts);
        assert_eq!(r.function_name(), "my-fn");
        assert!(r.architectures.is_empty());
        let cold = parse(json!({"lambdaARN": ARN, "num": "10", "onlyColdStarts": true})).unwrap();
        assert_eq!(cold.discard_top_bottom, 0.0);
        assert_eq!(cold.num, 10);
    }

    #[test]
    fn all_power_values() {
        let r = parse(json!({"lambdaARN": ARN, "num": 5, "powerValues": "ALL"})).unwrap();
        assert_eq!(r.power_values.first(), Some(&128));
        assert_eq!(r.power_values.last(), Some(&3008));
        assert_eq!(r.power_values.len(), 46);
    }

    #[test]
    fn bad_fields_are_named() {
        let cases = [
            (json!({"num": 10}), "lambdaARN"),
            (json!({"lambdaARN": "my-fn", "num": 10}), "lambdaARN"),
            (
                json!({"lambdaARN": format!("{ARN}:prod:x"), "num": 10}),
                "lambdaARN",
            ),
            (
                json!({"lambdaARN": format!("{ARN}:pr/od"), "num": 10}),
                "lambdaARN",
            ),
            (json!({"lambdaARN": ARN}), "num"),
            (json!({"lambdaARN": ARN, "num": 4}), "num"),
            (
                json!({"lambdaARN": ARN, "num": 10, "powerValues": [128, 64]}),
                "powerValues",
            ),
            (
                json!({"lambdaARN": ARN, "num": 10, "powerValues": []}),
                "powerValues",
            ),
            (
                json!({"lambdaARN": ARN, "num": 10, "strategy": "cheap"}),
                "strategy",
            ),
            (
                json!({"lambdaARN": ARN, "num": 10, "balancedWeight": "x"}),
                "balancedWeight",
            ),
            (
                json!({"lambdaARN": ARN, "num": 10, "codeLocations": {"x86_64": "nope"}}),
                "codeLocations",
            ),
            (
                json!({"lambdaARN": ARN, "num": 10, "codeLocations": {"sparc": "s3://b/k"}}),
                "codeLocations",
            ),
            (
                json!({"lambdaARN": ARN, "num": 10, "disablePayloadLogs": "yes"}),
                "disablePayloadLogs",
            ),
            (
                json!({"lambdaARN": ARN, "num": 10, "architectures": ["sparc"]}),
                "architectures",
            ),
            (
                json!({"lambdaARN": ARN, "num": 10, "concurrency": 0}),
                "concurrency",
            ),
            (
                json!({"lambdaARN": ARN, "num": 10, "reportS3": "s3://A"}),
                "reportS3",
            ),
            (
                json!({"lambdaARN": ARN, "num": 10, "payloadS3": "s3://bucket"}),
                "payloadS3",
            ),
            (
                json!({"lambdaARN": ARN, "num": 10, "pricing": {"arm64PerGbSecond": -1}}),
                "pricing",
            ),
            (
                json!({"lambdaARN": ARN, "num": 10, "autoOptimize": "yes"}),
                "autoOptimize",
            ),
            (
                json!({"lambdaARN": ARN, "num": 10, "payload": [{"payload": {}, "weight": 0}]}),
                "payload",
            ),
            (
                json!({"lambdaARN": ARN, "num": 10, "payload": [{"payload": 1, "weight": 1}, {"a": 2}]}),
                "payload",
            ),
            (json!({"lambdaARN": ARN, "num": 10, "numm": 3}), "numm"),
            (
                json!({"lambdaARN": ARN, "num": 10, "preProcessorARN": "x"}),
                "preProcessorARN",
            ),
        ];
        for (input, field) in cases {
            let err = parse(input.clone()).expect_err(&input.to_string());
            assert!(
                err.starts_with(&format!("invalid input: {field}")),
                "{input}: {err}"
            );
        }
        assert!(parse(json!([1])).is_err());
    }

    #[test]
    fn power_tuning_clamps_are_applied_with_warnings() {
        let r = parse(
            json!({"lambdaARN": ARN, "num": 10, "balancedWeight": 2, "discardTopBottom": 0.5}),
        )
        .unwrap();
        assert_eq!(r.balanced_weight, 1.0);
        assert_eq!(r.discard_top_bottom, 0.4);
        assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
        assert!(r.warnings[0].starts_with("balancedWeight: 2 is outside 0..1"));
        assert!(r.warnings[1].starts_with("discardTopBottom: 0.5 is outside 0..0.4"));
        let r = parse(json!({"lambdaARN": ARN, "num": 10, "discardTopBottom": -1})).unwrap();
        assert_eq!(r.discard_top_bottom, 0.0);
        // onlyColdStarts counts every sample, whatever was asked
        let r = parse(
            json!({"lambdaARN": ARN, "num": 10, "onlyColdStarts": true, "discardTopBottom": 0.3}),
        )
        .unwrap();
        assert_eq!(r.discard_top_bottom, 0.0);
        assert!(parse(json!({"lambdaARN": ARN, "num": 10}))
            .unwrap()
            .warnings
            .is_empty());
    }

    #[test]
    fn plain_arrays_are_one_payload_and_weighted_ones_a_mix() {
        let r = parse(json!({"lambdaARN": ARN, "num": 5, "payload": [1, {"a": 2}]})).unwrap();
        assert_eq!(r.payload, PayloadSpec::Single(Some(json!([1, {"a": 2}]))));
        let r =
            parse(json!({"lambdaARN": ARN, "num": 5, "payload": [{"payload": "x", "weight": 1}]}))
                .unwrap();
        assert_eq!(r.payload, PayloadSpec::Weighted(vec![(json!("x"), 1.0)]));
        let r = parse(json!({"lambdaARN": ARN, "num": 5, "payload": []})).unwrap();
        assert_eq!(r.payload, PayloadSpec::Single(Some(json!([]))));
    }

    #[test]
    fn qualified_arns_and_code_locations() {
        let r = parse(json!({"lambdaARN": format!("{ARN}:live"), "num": 5, "disablePayloadLogs": true,
            "codeLocations": {"x86_64": "s3://builds/app-x86.zip", "arm64": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:arm64"}}))
        .unwrap();
        assert_eq!(r.lambda_arn, ARN);
        assert_eq!(r.qualifier.as_deref(), Some("live"));
        assert!(r.disable_payload_logs);
        assert_eq!(
            r.code_locations[&Architecture::X86_64],
            CodeSource::S3 {
                bucket: "builds".into(),
                key: "app-x86.zip".into(),
                object_version: None
            }
        );
        assert!(matches!(
            r.code_locations[&Architecture::Arm64],
            CodeSource::Image(_)
        ));
        let r = parse(json!({"lambdaARN": format!("{ARN}:$LATEST"), "num": 5})).unwrap();
        assert_eq!(r.qualifier, None);
    }

    #[test]
    fn dry_run_needs_no_num() {
        let r = parse(json!({"lambdaARN": ARN, "dryRun": true})).unwrap();
        assert_eq!(r.invocations(), 1);
    }

    #[test]
    fn eventbridge_detail_is_the_input() {
        let r = parse(json!({"detail-type": "power-tuner run", "source": "x", "detail": {"lambdaARN": ARN, "num": 5}})).unwrap();
        assert_eq!(r.num, 5);
        assert!(parse(json!({"detail-type": "x", "detail": "no"}))
            .unwrap_err()
            .contains("detail"));
    }

    #[test]
    fn our_additions() {
        let r = parse(json!({"lambdaARN": ARN, "num": 5, "architectures": ["arm64", "x86_64", "arm64"],
            "concurrency": 20, "pricing": {"perMillionRequests": 0.25}, "reportS3": "s3://reports/tuning/"}))
        .unwrap();
        assert_eq!(
            r.architectures,
            vec![Architecture::Arm64, Architecture::X86_64]
        );
        assert_eq!(r.concurrency, Some(20));
        assert_eq!(r.pricing.per_million_requests, 0.25);
        assert_eq!(
            r.report_s3,
            Some(S3Location {
                bucket: "reports".into(),
                key: "tuning".into()
            })
        );
    }

    #[test]
    fn payloads_as_power_tuning_generates_them() {
        // convertPayload: a plain string is JSON-encoded, a string holding JSON is not
        assert_eq!(
            generate_payloads(2, &PayloadSpec::Single(Some(json!("raw")))).unwrap(),
            vec![br#""raw""#.to_vec(); 2]
        );
        assert_eq!(
            generate_payloads(1, &PayloadSpec::Single(Some(json!("{\"a\": 1}")))).unwrap(),
            vec![br#"{"a": 1}"#.to_vec()]
        );
        assert_eq!(
            generate_payloads(1, &PayloadSpec::Single(Some(json!("\"quoted\"")))).unwrap(),
            vec![br#""quoted""#.to_vec()]
        );
        assert_eq!(
            generate_payloads(1, &PayloadSpec::Single(Some(json!({"a": 1})))).unwrap(),
            vec![br#"{"a":1}"#.to_vec()]
        );
        assert_eq!(
            generate_payloads(1, &PayloadSpec::Single(None)).unwrap(),
            vec![Vec::<u8>::new()]
        );
        // weights 1 and 3 over num 10: floor(2.5) = 2 of A, the remaining 8 of B
        let spec = PayloadSpec::Weighted(vec![(json!("A"), 1.0), (json!("B"), 3.0)]);
        let out = generate_payloads(10, &spec).unwrap();
        assert_eq!(out.iter().filter(|p| p.as_slice() == br#""A""#).count(), 2);
        assert_eq!(out.iter().filter(|p| p.as_slice() == br#""B""#).count(), 8);
        assert!(generate_payloads(1, &spec).is_err());
        let tiny = PayloadSpec::Weighted(vec![(json!("A"), 1.0), (json!("B"), 100.0)]);
        assert!(generate_payloads(10, &tiny).is_err());
    }
}
