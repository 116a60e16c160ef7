//! The response: Power Tuning's output shape plus our report, and the SVG chart.

use base64::Engine;
use serde::Serialize;

use crate::analysis::{Analysis, ArchitectureBest, FailedValue, Recommendation, ValueStats};
use crate::architecture::Architecture;
use crate::cleanup::CleanupReport;
use crate::input::TuneRequest;
use crate::price::{self, PriceModel};
use crate::run::{Estimate, RunOutcome};
use crate::strategy::Strategy;

pub const VISUALIZATION_BASE: &str = "https://lambda-power-tuning.show/";

/// Power Tuning's visualization URL: sizes (Int16), durations and costs (Float32), each
/// little-endian and base64, joined by `;` in the URL's fragment.
pub fn visualization_url(values: &[&ValueStats]) -> String {
    let mut sorted: Vec<&ValueStats> = values.to_vec();
    sorted.sort_by_key(|v| v.value);
    let b64 = |bytes: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(bytes);
    let sizes: Vec<u8> = sorted
        .iter()
        .flat_map(|v| (v.value as i16).to_le_bytes())
        .collect();
    let times: Vec<u8> = sorted
        .iter()
        .flat_map(|v| (v.average_duration as f32).to_le_bytes())
        .collect();
    let costs: Vec<u8> = sorted
        .iter()
        .flat_map(|v| (v.average_price as f32).to_le_bytes())
        .collect();
    format!(
        "{VISUALIZATION_BASE}#{};{};{}",
        b64(sizes),
        b64(times),
        b64(costs)
    )
}

/// The run's report (also written to S3 as JSON): the request as understood, every
/// value's statistics, the failures, the pick and what the run itself cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub run_id: String,
    pub function: String,
    pub strategy: Strategy,
    pub balanced_weight: f64,
    pub num: u32,
    pub discard_top_bottom: f64,
    pub original: Original,
    pub values: Vec<ValueStats>,
    pub failed: Vec<FailedValue>,
    pub architectures: Vec<ArchitectureBest>,
    pub recommendation: Option<Recommendation>,
    pub estimate: Option<Estimate>,
    pub cleanup: CleanupReport,
    pub deadline_reached: bool,
    pub invocations: usize,
    pub wall_seconds: f64,
    pub pricing: PriceModel,
    pub warnings: Vec<String>,
    pub tuner_invocations: u32,
    pub tuner_seconds: f64,
    /// What the run cost us (the tuner's own Lambda time), next to what Power Tuning's
    /// Step Functions charge for the same run; the tuned function's invocations cost the
    /// same with either.
    pub tuner_cost: f64,
    pub power_tuning_execution_cost: f64,
    /// Only when `autoOptimize` was asked for (and not a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_optimize: Option<AutoOptimize>,
}

/// The function's configuration before the run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Original {
    pub memory_size: u32,
    pub architecture: Architecture,
}

/// What `autoOptimize` did: applied (the winner, and the alias and version when an alias
/// was asked for), or why not.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoOptimize {
    pub applied: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<Architecture>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl AutoOptimize {
    pub fn not_applied(why: impl Into<String>) -> Self {
        Self {
            applied: false,
            power: None,
            architecture: None,
            alias: None,
            version: None,
            error: Some(why.into()),
        }
    }
}

/// Where the report was written (`reportS3` of the answer), and what failed if it was not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportKeys {
    pub bucket: String,
    pub json: String,
    pub svg: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The answer: Power Tuning's output (`power`, `cost`, `duration`, `stateMachine`, and
/// `stats` with `includeOutputResults`), plus `architecture`, `report` and `reportS3`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    pub power: Option<u32>,
    pub cost: Option<f64>,
    pub duration: Option<f64>,
    pub architecture: Option<Architecture>,
    pub state_machine: StateMachine,
    pub report: Report,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<Vec<StatLine>>,
    #[serde(rename = "reportS3", skip_serializing_if = "Option::is_none")]
    pub report_s3: Option<ReportKeys>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateMachine {
    /// No Step Functions here: always 0.
    pub execution_cost: u32,
    pub lambda_cost: f64,
    pub visualization: String,
}

/// One value of Power Tuning's `stats`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatLine {
    pub value: u32,
    pub architecture: Architecture,
    pub average_price: f64,
    pub average_duration: f64,
    pub total_cost: f64,
}

/// The whole report.
pub fn report(
    req: &TuneRequest,
    outcome: &RunOutcome,
    analysis: &Analysis,
    tuner_memory_mb: u32,
) -> Report {
    let n = outcome.order.len();
    Report {
        run_id: outcome.run_id.clone(),
        function: req.lambda_arn.clone(),
        strategy: req.strategy,
        balanced_weight: req.balanced_weight,
        num: req.invocations(),
        discard_top_bottom: req.discard_top_bottom,
        original: Original {
            memory_size: outcome.original.memory_mb,
            architecture: outcome.original.architecture,
        },
        values: analysis.values.clone(),
        failed: analysis.failed.clone(),
        architectures: analysis.architectures.clone(),
        recommendation: analysis.recommendation.clone(),
        estimate: outcome.estimate.clone(),
        cleanup: outcome.cleanup.clone(),
        deadline_reached: outcome.deadline_reached,
        invocations: outcome.invocations,
        wall_seconds: outcome.wall.as_secs_f64(),
        pricing: req.pricing,
        warnings: outcome.warnings.clone(),
        tuner_invocations: outcome.tuner_invocations,
        tuner_seconds: outcome.tuner_seconds,
        tuner_cost: price::tuner_cost(
            &req.pricing,
            outcome.tuner_seconds,
            tuner_memory_mb,
            outcome.tuner_invocations,
        ),
        power_tuning_execution_cost: price::step_functions_cost(
            n,
            req.only_cold_starts,
            req.invocations(),
        ),
        auto_optimize: None,
    }
}

/// Power Tuning's output, plus `architecture`, `report` and `reportS3`.
pub fn response(
    req: &TuneRequest,
    outcome: &RunOutcome,
    analysis: &Analysis,
    report: Report,
    keys: Option<ReportKeys>,
) -> Response {
    let winner = analysis.recommendation.as_ref().and_then(|r| {
        analysis
            .values
            .iter()
            .find(|v| v.value == r.power && v.architecture == r.architecture)
    });
    let arch = winner
        .map(|w| w.architecture)
        .unwrap_or(outcome.original.architecture);
    let same_arch: Vec<&ValueStats> = analysis
        .values
        .iter()
        .filter(|v| v.architecture == arch)
        .collect();
    let stats = req.include_output_results.then(|| {
        analysis
            .values
            .iter()
            .map(|v| StatLine {
                value: v.value,
                architecture: v.architecture,
                average_price: v.average_price,
                average_duration: v.average_duration,
                total_cost: v.total_cost,
            })
            .collect()
    });
    Response {
        power: winner.map(|w| w.value),
        cost: winner.map(|w| w.average_price),
        duration: winner.map(|w| w.average_duration),
        architecture: winner.map(|w| w.architecture),
        state_machine: StateMachine {
            execution_cost: 0,
            lambda_cost: analysis.lambda_cost,
            visualization: visualization_url(&same_arch),
        },
        report,
        stats,
        report_s3: keys,
    }
}

/// The report's SVG chart (see [`crate::chart`]).
pub fn svg_chart(function: &str, analysis: &Analysis) -> String {
    crate::chart::render(function, analysis).svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyse;
    use crate::logs::Report;
    use crate::run::{Target, ValueRun};
    use std::collections::BTreeMap;

    fn analysis() -> Analysis {
        let mut runs = BTreeMap::new();
        let mut order = Vec::new();
        for (m, d) in [(128u32, 400.0), (512, 100.0), (1024, 50.0)] {
            let t = Target {
                architecture: Architecture::Arm64,
                memory_mb: m,
            };
            order.push(t);
            let r = Report {
                duration_ms: d,
                billed_duration_ms: d,
                memory_size_mb: Some(m),
                max_memory_used_mb: Some(30),
                init_duration_ms: None,
                restore_duration_ms: None,
                billed_restore_duration_ms: None,
            };
            runs.insert(
                t,
                ValueRun {
                    reports: vec![r; 5],
                    planned: 5,
                    ..Default::default()
                },
            );
        }
        let failed = Target {
            architecture: Architecture::Arm64,
            memory_mb: 2048,
        };
        order.push(failed);
        runs.insert(
            failed,
            ValueRun {
                failure: Some("invocation error <Boom>".into()),
                planned: 5,
                ..Default::default()
            },
        );
        analyse(
            &order,
            &runs,
            Strategy::Cost,
            0.5,
            0.2,
            &PriceModel::default(),
        )
    }

    #[test]
    fn visualization_url_encodes_like_power_tuning() {
        let a = analysis();
        let refs: Vec<&ValueStats> = a.values.iter().collect();
        let url = visualization_url(&refs);
        let hash = url
            .strip_prefix("https://lambda-power-tuning.show/#")
            .unwrap();
        let parts: Vec<&str> = hash.split(';').collect();
        assert_eq!(parts.len(), 3);
        let sizes = base64::engine::general_purpose::STANDARD
            .decode(parts[0])
            .unwrap();
        assert_eq!(
            sizes,
            [128i16, 512, 1024]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect::<Vec<u8>>()
        );
        let times = base64::engine::general_purpose::STANDARD
            .decode(parts[1])
            .unwrap();
        assert_eq!(f32::from_le_bytes(times[0..4].try_into().unwrap()), 400.0);
    }

    #[test]
    fn svg_is_self_contained_and_marks_the_winner() {
        let a = analysis();
        let svg = svg_chart("arn:aws:lambda:us-east-1:123456789012:function:f<&>", &a);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        assert!(!svg.contains("<script") && !svg.contains("href"));
        assert!(svg.contains("f&lt;&amp;&gt;"));
        assert!(
            svg.contains("best: 128 MB")
                || svg.contains("best: 512 MB")
                || svg.contains("best: 1024 MB")
        );
        assert!(svg.contains("failed: 2048 MB"));
        assert_eq!(svg.matches("<polyline").count(), 2);
    }
}
