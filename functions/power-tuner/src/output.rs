//! The response: Power Tuning's output shape plus our report, and the SVG chart.

use std::fmt::Write as _;

use base64::Engine;
use serde_json::{json, Value};

use crate::analysis::{Analysis, ValueStats};
use crate::architecture::Architecture;
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

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn color(a: Architecture) -> &'static str {
    match a {
        Architecture::Arm64 => "#1f77b4",
        Architecture::X86_64 => "#d62728",
    }
}

fn nice_max(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return 1.0;
    }
    let mag = 10f64.powf(x.log10().floor());
    for step in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if step * mag >= x {
            return step * mag;
        }
    }
    10.0 * mag
}

/// A self-contained SVG (no scripts, fonts or links): average duration (top) and cost per
/// million invocations (bottom) against memory, one line per architecture, the
/// recommendation ringed.
pub fn svg_chart(function: &str, analysis: &Analysis) -> String {
    const W: f64 = 760.0;
    const PANEL_H: f64 = 190.0;
    const LEFT: f64 = 90.0;
    const RIGHT: f64 = 150.0;
    let plot_w = W - LEFT - RIGHT;
    let tops = [50.0, 50.0 + PANEL_H + 50.0];
    let h = tops[1] + PANEL_H + 60.0;
    let mems: Vec<u32> = analysis.values.iter().map(|v| v.value).collect();
    let (min_m, max_m) = (
        f64::from(mems.iter().copied().min().unwrap_or(128)),
        f64::from(mems.iter().copied().max().unwrap_or(3008)),
    );
    let span = if max_m > min_m { max_m - min_m } else { 1.0 };
    let x = |m: u32| LEFT + (f64::from(m) - min_m) / span * plot_w;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}" viewBox="0 0 {W} {h}" font-family="sans-serif" font-size="12"><title>power-tuner: {f}</title><rect width="100%" height="100%" fill="white"/><text x="{LEFT}" y="24" font-size="16" font-weight="bold">power-tuner: {f}</text>"#,
        f = esc(function)
    );
    type Metric = fn(&ValueStats) -> f64;
    let panels: [(&str, Metric); 2] = [
        ("average duration (ms)", |v| v.average_duration),
        ("cost per million invocations (USD)", |v| v.cost_per_million),
    ];
    let mut archs: Vec<Architecture> = analysis.values.iter().map(|v| v.architecture).collect();
    archs.sort();
    archs.dedup();
    for (panel, (label, metric)) in panels.iter().enumerate() {
        let top = tops[panel];
        let max_v = nice_max(analysis.values.iter().map(metric).fold(0.0, f64::max));
        let y = |v: f64| top + PANEL_H - v / max_v * PANEL_H;
        let _ = write!(
            s,
            r##"<text x="{LEFT}" y="{}" font-weight="bold">{}</text>"##,
            top - 8.0,
            esc(label)
        );
        let _ = write!(
            s,
            r##"<rect x="{LEFT}" y="{top}" width="{plot_w}" height="{PANEL_H}" fill="none" stroke="#999"/>"##
        );
        for i in 0..=4 {
            let v = max_v * f64::from(i) / 4.0;
            let yy = y(v);
            let _ = write!(
                s,
                r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{}" y2="{yy:.1}" stroke="#eee"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
                LEFT + plot_w,
                LEFT - 6.0,
                yy + 4.0,
                if max_v >= 10.0 {
                    format!("{v:.0}")
                } else {
                    format!("{v:.3}")
                }
            );
        }
        for &m in &mems {
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{}" text-anchor="middle">{m}</text>"##,
                x(m),
                top + PANEL_H + 16.0
            );
        }
        for &arch in &archs {
            let mut pts: Vec<&ValueStats> = analysis
                .values
                .iter()
                .filter(|v| v.architecture == arch)
                .collect();
            pts.sort_by_key(|v| v.value);
            let path: Vec<String> = pts
                .iter()
                .map(|v| format!("{:.1},{:.1}", x(v.value), y(metric(v))))
                .collect();
            let _ = write!(
                s,
                r##"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>"##,
                path.join(" "),
                color(arch)
            );
            for v in pts {
                let _ = write!(
                    s,
                    r##"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{}"/>"##,
                    x(v.value),
                    y(metric(v)),
                    color(arch)
                );
                if analysis
                    .recommendation
                    .as_ref()
                    .is_some_and(|r| r.power == v.value && r.architecture == arch)
                {
                    let _ = write!(
                        s,
                        r##"<circle cx="{:.1}" cy="{:.1}" r="8" fill="none" stroke="#2ca02c" stroke-width="2"/>"##,
                        x(v.value),
                        y(metric(v))
                    );
                }
            }
        }
    }
    let _ = write!(
        s,
        r##"<text x="{}" y="{}" text-anchor="middle">memory (MB)</text>"##,
        LEFT + plot_w / 2.0,
        h - 18.0
    );
    let lx = LEFT + plot_w + 16.0;
    for (i, &arch) in archs.iter().enumerate() {
        let ly = 60.0 + i as f64 * 20.0;
        let _ = write!(
            s,
            r##"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{}" stroke-width="2"/><text x="{}" y="{}">{}</text>"##,
            lx + 20.0,
            color(arch),
            lx + 26.0,
            ly + 4.0,
            arch.as_str()
        );
    }
    if let Some(r) = &analysis.recommendation {
        let ly = 60.0 + archs.len() as f64 * 20.0 + 10.0;
        let _ = write!(
            s,
            r##"<circle cx="{}" cy="{ly}" r="6" fill="none" stroke="#2ca02c" stroke-width="2"/><text x="{}" y="{}">best: {} MB</text>"##,
            lx + 10.0,
            lx + 26.0,
            ly + 4.0,
            r.power
        );
    }
    for (i, f) in analysis.failed.iter().enumerate() {
        let ly = 140.0 + i as f64 * 16.0;
        let _ = write!(
            s,
            r##"<text x="{lx}" y="{ly}" fill="#d62728">failed: {} MB {}</text>"##,
            f.value,
            f.architecture.as_str()
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyse;
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
