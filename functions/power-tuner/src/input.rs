//! The tuning request: AWS Lambda Power Tuning's input, unchanged, plus our additions
//! (`architectures`, `codeLocations`, `concurrency`, `pricing`, `reportS3`). A bad field
//! is an error naming it; nothing is acted on before the whole input has been read. Where
//! Power Tuning clamps a value (`discardTopBottom` to 0..0.4, `balancedWeight` to 0..1),
//! so do we, with a warning in the output.

mod additions;
mod fields;
mod payload;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use additions::Additions;
use fields::{bad, boolean, clamp, integer, number, string};
pub use fields::{split_qualifier, validate_function_arn, S3Location};
use payload::array_payload;
pub use payload::{generate_payloads, payload_bytes, PayloadSpec};

use crate::architecture::Architecture;
use crate::lambda::CodeSource;
use crate::price::PriceModel;
use crate::strategy::Strategy;
use crate::Error;

pub const MIN_MEMORY: u32 = 128;
pub const MAX_MEMORY: u32 = 10_240;
pub const DEFAULT_POWER_VALUES: [u32; 6] = [128, 256, 512, 1024, 1536, 3008];

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

impl TuneRequest {
    /// Reads a request from a direct invocation's payload or an EventBridge event's
    /// `detail`.
    pub fn from_event(event: &Value) -> Result<Self, Error> {
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
            _ => return Err(Error::Input("the input must be a JSON object".into())),
        };
        Self::from_object(obj)
    }

    pub fn from_object(obj: &Map<String, Value>) -> Result<Self, Error> {
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

        let ours = Additions::read(obj)?;

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
            architectures: ours.architectures,
            concurrency: ours.concurrency,
            pricing: ours.pricing,
            report_s3: ours.report_s3,
            code_locations: ours.code_locations,
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
