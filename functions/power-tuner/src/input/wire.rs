//! The tuning input as people write it: Power Tuning's fields and ours, read by serde.
//! Unknown fields are refused (a typo would otherwise silently fall back to a default).
//! Numbers may be given as numeric strings, as Power Tuning's `parseInt`/`parseFloat`
//! accept them. [`TuneInput::read`] names the field (and item) of a type error; the checks
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
    #[serde(rename = "lambdaARN", skip_serializing_if = "Option::is_none")]
    pub lambda_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num: Option<Whole>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power_values: Option<PowerValues>,
    /// Opaque: sent to the function (see `payload`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    #[serde(rename = "payloadS3", skip_serializing_if = "Option::is_none")]
    pub payload_s3: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_invocation: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balanced_weight: Option<Fraction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_optimize: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_optimize_alias: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    #[serde(rename = "preProcessorARN", skip_serializing_if = "Option::is_none")]
    pub pre_processor_arn: Option<String>,
    #[serde(rename = "postProcessorARN", skip_serializing_if = "Option::is_none")]
    pub post_processor_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discard_top_bottom: Option<Fraction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sleep_between_runs_ms: Option<Whole>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub only_cold_starts: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_exceptions: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_output_results: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_payload_logs: Option<bool>,
    // our additions
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architectures: Option<Vec<Architecture>>,
    /// Architecture name to `s3://bucket/key` or an image URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_locations: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<Whole>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pricing: Option<PriceModel>,
    #[serde(rename = "reportS3", skip_serializing_if = "Option::is_none")]
    pub report_s3: Option<String>,
}

impl TuneInput {
    /// Reads the input as people wrote it, a type error naming the field and the item at
    /// fault (`powerValues[1]: invalid type: ...`), where serde alone names only the type.
    pub fn read(input: &Value) -> Result<Self, serde_path_to_error::Error<serde_json::Error>> {
        serde_path_to_error::deserialize(input)
    }
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
        TuneInput::read(&v).map_err(|e| e.to_string())
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
                "powerValues[1]: invalid type: boolean `true`, expected a whole number",
            ),
            (
                json!({"architectures": ["arm64", "sparc"]}),
                "architectures[1]: unknown variant `sparc`",
            ),
            (
                json!({"allowedExceptions": ["E", 3]}),
                "allowedExceptions[1]: invalid type: integer `3`, expected a string",
            ),
            (
                json!({"codeLocations": {"arm64": 1}}),
                "codeLocations.arm64: invalid type: integer `1`, expected a string",
            ),
            (
                json!({"pricing": {"perGb": 1}}),
                "pricing.perGb: unknown field `perGb`, expected one of",
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
            .starts_with("numm: unknown field `numm`"));
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
