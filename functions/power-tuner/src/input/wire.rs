//! The tuning input as people write it: Power Tuning's fields and ours, read by serde.
//! Unknown fields are refused (a typo would otherwise silently fall back to a default).
//! Numbers may be given as numeric strings, as Power Tuning's `parseInt`/`parseFloat`
//! accept them. Every field's type error is prefixed with the field's name; the checks
//! that need more than the type (ranges, ARNs, S3 locations) are in [`super::TuneRequest`].
//! The same type is kept in the run's state, so that every later invocation of the run
//! reads the input exactly as the first did.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::architecture::Architecture;
use crate::price::PriceModel;

/// A whole number, given as a number (`5`, `5.0`) or a numeric string (`"5"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Whole(pub i64);

/// A number, given as a number or a numeric string.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fraction(pub f64);

/// `powerValues`: a list of memory sizes, or `"ALL"`.
#[derive(Debug, Clone, PartialEq)]
pub enum PowerValues {
    All,
    List(Vec<Whole>),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TuneInput {
    #[serde(rename = "lambdaARN", default, deserialize_with = "lambda_arn")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lambda_arn: Option<String>,
    #[serde(
        default,
        deserialize_with = "num",
        skip_serializing_if = "Option::is_none"
    )]
    pub num: Option<Whole>,
    #[serde(default, deserialize_with = "power_values")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power_values: Option<PowerValues>,
    /// Opaque: sent to the function (see `payload`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    #[serde(rename = "payloadS3", default, deserialize_with = "payload_s3")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_s3: Option<String>,
    #[serde(default, deserialize_with = "parallel_invocation")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_invocation: Option<bool>,
    #[serde(
        default,
        deserialize_with = "strategy",
        skip_serializing_if = "Option::is_none"
    )]
    pub strategy: Option<String>,
    #[serde(default, deserialize_with = "balanced_weight")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balanced_weight: Option<Fraction>,
    #[serde(default, deserialize_with = "auto_optimize")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_optimize: Option<bool>,
    #[serde(default, deserialize_with = "auto_optimize_alias")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_optimize_alias: Option<String>,
    #[serde(
        default,
        deserialize_with = "dry_run",
        skip_serializing_if = "Option::is_none"
    )]
    pub dry_run: Option<bool>,
    #[serde(
        rename = "preProcessorARN",
        default,
        deserialize_with = "pre_processor_arn"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_processor_arn: Option<String>,
    #[serde(
        rename = "postProcessorARN",
        default,
        deserialize_with = "post_processor_arn"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_processor_arn: Option<String>,
    #[serde(default, deserialize_with = "discard_top_bottom")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discard_top_bottom: Option<Fraction>,
    #[serde(default, deserialize_with = "sleep_between_runs_ms")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sleep_between_runs_ms: Option<Whole>,
    #[serde(default, deserialize_with = "only_cold_starts")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub only_cold_starts: Option<bool>,
    #[serde(default, deserialize_with = "allowed_exceptions")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_exceptions: Option<Vec<String>>,
    #[serde(default, deserialize_with = "include_output_results")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_output_results: Option<bool>,
    #[serde(default, deserialize_with = "disable_payload_logs")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_payload_logs: Option<bool>,
    // our additions
    #[serde(default, deserialize_with = "architectures")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architectures: Option<Vec<Architecture>>,
    /// Architecture name to `s3://bucket/key` or an image URI.
    #[serde(default, deserialize_with = "code_locations")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_locations: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "concurrency")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<Whole>,
    #[serde(
        default,
        deserialize_with = "pricing",
        skip_serializing_if = "Option::is_none"
    )]
    pub pricing: Option<PriceModel>,
    #[serde(rename = "reportS3", default, deserialize_with = "report_s3")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_s3: Option<String>,
}

/// One deserializer per field: the field's own type, its errors prefixed with its name
/// (serde's own messages name the type expected, not the field).
macro_rules! named {
    ($($f:ident: $t:ty = $name:literal;)*) => {$(
        fn $f<'de, D: Deserializer<'de>>(d: D) -> Result<Option<$t>, D::Error> {
            Option::<$t>::deserialize(d)
                .map_err(|e| de::Error::custom(format_args!(concat!($name, ": {}"), e)))
        }
    )*};
}

named! {
    lambda_arn: String = "lambdaARN";
    num: Whole = "num";
    power_values: PowerValues = "powerValues";
    payload_s3: String = "payloadS3";
    parallel_invocation: bool = "parallelInvocation";
    strategy: String = "strategy";
    balanced_weight: Fraction = "balancedWeight";
    auto_optimize: bool = "autoOptimize";
    auto_optimize_alias: String = "autoOptimizeAlias";
    dry_run: bool = "dryRun";
    pre_processor_arn: String = "preProcessorARN";
    post_processor_arn: String = "postProcessorARN";
    discard_top_bottom: Fraction = "discardTopBottom";
    sleep_between_runs_ms: Whole = "sleepBetweenRunsMs";
    only_cold_starts: bool = "onlyColdStarts";
    allowed_exceptions: Vec<String> = "allowedExceptions";
    include_output_results: bool = "includeOutputResults";
    disable_payload_logs: bool = "disablePayloadLogs";
    architectures: Vec<Architecture> = "architectures";
    code_locations: BTreeMap<String, String> = "codeLocations";
    concurrency: Whole = "concurrency";
    pricing: PriceModel = "pricing";
    report_s3: String = "reportS3";
}

struct WholeVisitor;

impl Visitor<'_> for WholeVisitor {
    type Value = Whole;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a whole number (or one in a string)")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Whole, E> {
        Ok(Whole(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Whole, E> {
        i64::try_from(v)
            .map(Whole)
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Whole, E> {
        let whole = v.fract() == 0.0 && v.abs() < 9.0e15;
        if whole {
            Ok(Whole(v as i64))
        } else {
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Whole, E> {
        v.trim()
            .parse()
            .map(Whole)
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

impl<'de> Deserialize<'de> for Whole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(WholeVisitor)
    }
}

impl Serialize for Whole {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

struct FractionVisitor;

impl Visitor<'_> for FractionVisitor {
    type Value = Fraction;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number (or one in a string)")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Fraction, E> {
        Ok(Fraction(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Fraction, E> {
        Ok(Fraction(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Fraction, E> {
        Ok(Fraction(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Fraction, E> {
        v.trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Fraction)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FractionVisitor)
    }
}

impl Serialize for Fraction {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0)
    }
}

struct PowerValuesVisitor;

impl<'de> Visitor<'de> for PowerValuesVisitor {
    type Value = PowerValues;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of memory sizes or \"ALL\"")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<PowerValues, E> {
        if v == "ALL" {
            Ok(PowerValues::All)
        } else {
            Err(E::invalid_value(de::Unexpected::Str(v), &self))
        }
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PowerValues, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Whole>()? {
            items.push(item);
        }
        Ok(PowerValues::List(items))
    }
}

impl<'de> Deserialize<'de> for PowerValues {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PowerValuesVisitor)
    }
}

impl Serialize for PowerValues {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::All => s.serialize_str("ALL"),
            Self::List(items) => s.collect_seq(items),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(v: Value) -> Result<TuneInput, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn type_errors_name_the_field() {
        let cases = [
            (
                json!({"num": "five"}),
                "num: invalid value: string \"five\"",
            ),
            (
                json!({"num": 5.5}),
                "num: invalid value: floating point `5.5`",
            ),
            (
                json!({"dryRun": "yes"}),
                "dryRun: invalid type: string \"yes\"",
            ),
            (json!({"powerValues": "SOME"}), "powerValues: invalid value"),
            (
                json!({"powerValues": [128, true]}),
                "powerValues: invalid type",
            ),
            (
                json!({"architectures": ["sparc"]}),
                "architectures: unknown variant `sparc`",
            ),
            (
                json!({"pricing": {"perGb": 1}}),
                "pricing: unknown field `perGb`",
            ),
            (
                json!({"lambdaARN": 5}),
                "lambdaARN: invalid type: integer `5`",
            ),
        ];
        for (input, expected) in cases {
            let err = read(input.clone()).expect_err(&input.to_string());
            assert!(err.starts_with(expected), "{input}: {err}");
        }
        assert!(read(json!({"numm": 5}))
            .unwrap_err()
            .starts_with("unknown field `numm`"));
    }

    #[test]
    fn numbers_as_power_tuning_reads_them() {
        let i = read(
            json!({"num": " 7 ", "balancedWeight": "0.25", "powerValues": ["128", 256.0],
            "discardTopBottom": 0, "dryRun": null}),
        )
        .unwrap();
        assert_eq!(i.num, Some(Whole(7)));
        assert_eq!(i.balanced_weight, Some(Fraction(0.25)));
        assert_eq!(i.discard_top_bottom, Some(Fraction(0.0)));
        assert_eq!(
            i.power_values,
            Some(PowerValues::List(vec![Whole(128), Whole(256)]))
        );
        assert_eq!(i.dry_run, None);
    }

    #[test]
    fn the_state_keeps_the_input_as_read() {
        let i = read(json!({"lambdaARN": "arn", "num": "10", "powerValues": "ALL",
            "payload": {"a": [1]}, "codeLocations": {"arm64": "s3://b/k"}, "pricing": {"perMillionRequests": 0.25}}))
        .unwrap();
        let stored = serde_json::to_value(&i).unwrap();
        assert_eq!(stored["num"], json!(10));
        assert_eq!(stored["powerValues"], json!("ALL"));
        assert!(stored.get("dryRun").is_none());
        assert_eq!(read(stored).unwrap(), i);
    }
}
