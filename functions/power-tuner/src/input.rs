//! The tuning request: AWS Lambda Power Tuning's input, unchanged, plus our additions
//! (`architectures`, `codeLocations`, `concurrency`, `pricing`, `reportS3`). A bad field
//! is an error naming it; nothing is acted on before the whole input has been read. Where
//! Power Tuning clamps a value (`discardTopBottom` to 0..0.4, `balancedWeight` to 0..1),
//! so do we, with a warning in the output.

mod additions;
mod fields;
mod payload;
mod wire;

use std::collections::BTreeMap;

use serde_json::Value;

use additions::Additions;
use fields::{bad, clamp, text};
pub use fields::{split_qualifier, validate_function_arn, S3Location};
use payload::array_payload;
pub use payload::{generate_payloads, payload_bytes, PayloadSpec};
pub use wire::{Fraction, PowerValues, TuneInput, Whole};

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
    /// Checks the input as read ([`TuneInput`]): what its types cannot say (ranges, ARNs,
    /// S3 locations, payload lists), each refusal naming its field.
    pub fn from_input(input: &TuneInput) -> Result<Self, Error> {
        let given_arn = text(&input.lambda_arn).ok_or_else(|| bad("lambdaARN", "is required"))?;
        let (lambda_arn, qualifier) = split_qualifier("lambdaARN", &given_arn)?;
        let mut warnings = Vec::new();

        let dry_run = input.dry_run.unwrap_or(false);
        let num = match (input.num.map(|n| n.0), dry_run) {
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

        let power_values = match &input.power_values {
            None => DEFAULT_POWER_VALUES.to_vec(),
            Some(PowerValues::All) => (MIN_MEMORY..=3008).step_by(64).collect(),
            Some(PowerValues::List(items)) => memory_sizes(items)?,
        };

        let payload = match &input.payload {
            Some(Value::Array(items)) => array_payload(items)?,
            Some(Value::Null) | None => PayloadSpec::Single(None),
            Some(other) => PayloadSpec::Single(Some(other.clone())),
        };
        if let PayloadSpec::Weighted(list) = &payload {
            generate_payloads(num, &PayloadSpec::Weighted(list.clone()))?;
        }

        let payload_s3 = match text(&input.payload_s3) {
            None => None,
            Some(raw) => Some(
                S3Location::parse(&raw)
                    .filter(|l| !l.key.is_empty())
                    .ok_or_else(|| bad("payloadS3", "must be s3://bucket/key"))?,
            ),
        };

        let strategy = match text(&input.strategy) {
            None => Strategy::Cost,
            Some(s) => Strategy::parse(&s)
                .ok_or_else(|| bad("strategy", "must be cost, speed or balanced"))?,
        };
        let balanced_weight = clamp(
            "balancedWeight",
            input.balanced_weight.map_or(0.5, |w| w.0),
            1.0,
            &mut warnings,
        );
        let only_cold_starts = input.only_cold_starts.unwrap_or(false);
        let discard_top_bottom = match input.discard_top_bottom {
            // Power Tuning counts every cold start (its executor sets 0).
            _ if only_cold_starts => 0.0,
            None => 0.2,
            Some(d) => clamp("discardTopBottom", d.0, 0.4, &mut warnings),
        };
        let sleep_between_runs_ms = match input.sleep_between_runs_ms.map(|n| n.0) {
            None => 0,
            Some(n) if (0..=60_000).contains(&n) => n as u64,
            Some(_) => return Err(bad("sleepBetweenRunsMs", "must be from 0 to 60000")),
        };

        let auto_optimize_alias = text(&input.auto_optimize_alias);
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
        let pre_processor_arn = text(&input.pre_processor_arn);
        if let Some(arn) = &pre_processor_arn {
            validate_function_arn("preProcessorARN", arn)?;
        }
        let post_processor_arn = text(&input.post_processor_arn);
        if let Some(arn) = &post_processor_arn {
            validate_function_arn("postProcessorARN", arn)?;
        }

        let ours = Additions::read(input)?;

        Ok(Self {
            lambda_arn,
            qualifier,
            num,
            power_values,
            payload,
            payload_s3,
            parallel_invocation: input.parallel_invocation.unwrap_or(false),
            strategy,
            balanced_weight,
            auto_optimize: input.auto_optimize.unwrap_or(false),
            auto_optimize_alias,
            dry_run,
            pre_processor_arn,
            post_processor_arn,
            discard_top_bottom,
            sleep_between_runs_ms,
            only_cold_starts,
            allowed_exceptions: input.allowed_exceptions.clone().unwrap_or_default(),
            include_output_results: input.include_output_results.unwrap_or(false),
            disable_payload_logs: input.disable_payload_logs.unwrap_or(false),
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

/// `powerValues` given as a list: each from 128 to 10240 MB, duplicates dropped.
fn memory_sizes(items: &[Whole]) -> Result<Vec<u32>, Error> {
    if items.is_empty() {
        return Err(bad("powerValues", "must not be empty"));
    }
    let mut values = Vec::with_capacity(items.len());
    for &Whole(v) in items {
        if !(i64::from(MIN_MEMORY)..=i64::from(MAX_MEMORY)).contains(&v) {
            return Err(bad(
                "powerValues",
                format!("{v} is not a memory size from {MIN_MEMORY} to {MAX_MEMORY} MB"),
            ));
        }
        if !values.contains(&(v as u32)) {
            values.push(v as u32);
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests;
