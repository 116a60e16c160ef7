//! The response: Power Tuning's output shape plus our report, and the SVG chart.

use base64::Engine;
use serde_json::{json, Value};

use crate::analysis::{Analysis, ValueStats};
use crate::input::TuneRequest;
use crate::price;
use crate::run::RunOutcome;

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

/// The whole report (also written to S3 as JSON).
pub fn report(
    req: &TuneRequest,
    outcome: &RunOutcome,
    analysis: &Analysis,
    tuner_memory_mb: u32,
) -> Value {
    let n = outcome.order.len();
    json!({
        "runId": outcome.run_id,
        "function": req.lambda_arn,
        "strategy": req.strategy,
        "balancedWeight": req.balanced_weight,
        "num": req.invocations(),
        "discardTopBottom": req.discard_top_bottom,
        "original": {"memorySize": outcome.original.memory_mb, "architecture": outcome.original.architecture},
        "values": analysis.values,
        "failed": analysis.failed,
        "architectures": analysis.architectures,
        "recommendation": analysis.recommendation,
        "estimate": outcome.estimate,
        "cleanup": outcome.cleanup,
        "deadlineReached": outcome.deadline_reached,
        "invocations": outcome.invocations,
        "wallSeconds": outcome.wall.as_secs_f64(),
        "pricing": req.pricing,
        "warnings": outcome.warnings,
        "tunerInvocations": outcome.tuner_invocations,
        "tunerSeconds": outcome.tuner_seconds,
        // What the run cost us (the tuner's own Lambda time), next to what Power Tuning's
        // Step Functions charge for the same run; the tuned function's invocations cost
        // the same with either.
        "tunerCost": price::tuner_cost(&req.pricing, outcome.tuner_seconds, tuner_memory_mb, outcome.tuner_invocations),
        "powerTuningExecutionCost": price::step_functions_cost(n, req.only_cold_starts, req.invocations()),
    })
}

/// Power Tuning's output, plus `architecture`, `report` and `reportS3`.
pub fn response(
    req: &TuneRequest,
    outcome: &RunOutcome,
    analysis: &Analysis,
    report: Value,
    keys: Option<Value>,
) -> Value {
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
    let mut out = json!({
        "power": winner.map(|w| w.value),
        "cost": winner.map(|w| w.average_price),
        "duration": winner.map(|w| w.average_duration),
        "architecture": winner.map(|w| w.architecture),
        "stateMachine": {
            "executionCost": 0,
            "lambdaCost": analysis.lambda_cost,
            "visualization": visualization_url(&same_arch),
        },
        "report": report,
    });
    if req.include_output_results {
        out["stats"] = analysis
            .values
            .iter()
            .map(|v| {
                json!({
                    "value": v.value,
                    "architecture": v.architecture,
                    "averagePrice": v.average_price,
                    "averageDuration": v.average_duration,
                    "totalCost": v.total_cost,
                })
            })
            .collect();
    }
    if let Some(keys) = keys {
        out["reportS3"] = keys;
    }
    out
}

/// The report's SVG chart (see [`crate::chart`]).
pub fn svg_chart(function: &str, analysis: &Analysis) -> String {
    crate::chart::render(function, analysis).svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyse;
    use crate::architecture::Architecture;
    use crate::logs::Report;
    use crate::price::PriceModel;
    use crate::run::{Target, ValueRun};
    use crate::strategy::Strategy;
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
