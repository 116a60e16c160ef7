//! The report's chart: a self-contained SVG (no scripts, fonts or links) that reads at a
//! glance. Memory is categorical (every measured size gets the same room, so 128 and 256 MB
//! never collide); duration is on a log scale (differences above 512 MB stay visible) with
//! each value's p10-p90 spread as a band, so the noise verdict can be seen; every measured
//! architecture has its curve; a cost-against-duration panel marks the pick and the
//! runner-up. The title is the function's name, cut to fit. Every text is placed by
//! [`Canvas::text`], which estimates its width and reports any that would leave the canvas.

mod canvas;

use std::fmt::Write as _;

use canvas::{color, esc, fit, log_ticks, money, Canvas, H, W};

use crate::analysis::{Analysis, ValueStats};
use crate::architecture::Architecture;
use crate::stats::percentile;

/// A rendered chart, with the texts that would not fit (none, unless a bug).
pub struct Chart {
    pub svg: String,
    pub overflows: Vec<String>,
}

/// The chart for a run over `function_arn`.
pub fn render(function_arn: &str, analysis: &Analysis) -> Chart {
    let name = function_arn.rsplit(':').next().unwrap_or(function_arn);
    let mut c = Canvas {
        svg: String::new(),
        overflows: Vec::new(),
    };
    let _ = write!(
        c.svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif"><title>power-tuner: {}</title><rect width="100%" height="100%" fill="white"/>"#,
        esc(name)
    );
    let title = fit(&format!("power-tuner: {name}"), 18.0, W - 40.0);
    c.text(20.0, 30.0, "start", 18.0, r#" font-weight="bold""#, &title);

    let mut mems: Vec<u32> = analysis.values.iter().map(|v| v.value).collect();
    mems.sort_unstable();
    mems.dedup();
    let mut archs: Vec<Architecture> = analysis.values.iter().map(|v| v.architecture).collect();
    archs.sort();
    archs.dedup();
    let series = |arch: Architecture| -> Vec<&ValueStats> {
        let mut v: Vec<&ValueStats> = analysis
            .values
            .iter()
            .filter(|v| v.architecture == arch)
            .collect();
        v.sort_by_key(|v| v.value);
        v
    };
    let pick = analysis
        .recommendation
        .as_ref()
        .map(|r| (r.power, r.architecture));
    let runner_up = analysis.recommendation.as_ref().and_then(|r| {
        r.runner_up
            .map(|m| (m, r.runner_up_architecture.unwrap_or(r.architecture)))
    });

    // Left column: duration (log) and cost against memory (categorical).
    let (left, plot_w) = (80.0, 470.0);
    let slot = plot_w / mems.len().max(1) as f64;
    let x = |m: u32| left + slot * (mems.iter().position(|v| *v == m).unwrap_or(0) as f64 + 0.5);
    let band =
        |v: &ValueStats, p: f64| percentile(&v.speed_samples, p).unwrap_or(v.average_duration);
    let (dur_top, dur_h) = (70.0, 230.0);
    let lo = analysis
        .values
        .iter()
        .map(|v| band(v, 10.0).min(v.average_duration))
        .fold(f64::INFINITY, f64::min)
        .max(0.1);
    let hi = analysis
        .values
        .iter()
        .map(|v| band(v, 90.0).max(v.average_duration))
        .fold(0.0, f64::max)
        .max(lo * 1.5);
    let (llo, lhi) = ((lo / 1.2).log10(), (hi * 1.2).log10());
    let yd = |v: f64| dur_top + dur_h - (v.max(0.1).log10() - llo) / (lhi - llo) * dur_h;
    c.text(
        left,
        dur_top - 10.0,
        "start",
        13.0,
        r#" font-weight="bold""#,
        "duration (ms, log scale; band: p10-p90)",
    );
    let _ = write!(
        c.svg,
        r##"<rect x="{left}" y="{dur_top}" width="{plot_w}" height="{dur_h}" fill="none" stroke="#999"/>"##
    );
    for t in log_ticks(lo / 1.2, hi * 1.2) {
        let yy = yd(t);
        let _ = write!(
            c.svg,
            r##"<line x1="{left}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#eee"/>"##,
            left + plot_w
        );
        c.text(left - 6.0, yy + 4.0, "end", 11.0, "", &format!("{t}"));
    }
    let (cost_top, cost_h) = (350.0, 200.0);
    let max_cost = analysis
        .values
        .iter()
        .map(|v| v.cost_per_million)
        .fold(0.0, f64::max)
        .max(1e-12)
        * 1.1;
    let yc = |v: f64| cost_top + cost_h - v / max_cost * cost_h;
    c.text(
        left,
        cost_top - 10.0,
        "start",
        13.0,
        r#" font-weight="bold""#,
        "cost per million invocations (USD)",
    );
    let _ = write!(
        c.svg,
        r##"<rect x="{left}" y="{cost_top}" width="{plot_w}" height="{cost_h}" fill="none" stroke="#999"/>"##
    );
    for i in 0..=4 {
        let v = max_cost * f64::from(i) / 4.0;
        let yy = yc(v);
        let _ = write!(
            c.svg,
            r##"<line x1="{left}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#eee"/>"##,
            left + plot_w
        );
        c.text(left - 6.0, yy + 4.0, "end", 11.0, "", &money(v));
    }
    for &m in &mems {
        c.text(
            x(m),
            dur_top + dur_h + 15.0,
            "middle",
            11.0,
            "",
            &m.to_string(),
        );
        c.text(
            x(m),
            cost_top + cost_h + 15.0,
            "middle",
            11.0,
            "",
            &m.to_string(),
        );
    }
    c.text(
        left + plot_w / 2.0,
        cost_top + cost_h + 34.0,
        "middle",
        12.0,
        "",
        "memory (MB)",
    );
    for &arch in &archs {
        let pts = series(arch);
        let upper: Vec<String> = pts
            .iter()
            .map(|v| format!("{:.1},{:.1}", x(v.value), yd(band(v, 90.0))))
            .collect();
        let lower: Vec<String> = pts
            .iter()
            .rev()
            .map(|v| format!("{:.1},{:.1}", x(v.value), yd(band(v, 10.0))))
            .collect();
        let _ = write!(
            c.svg,
            r#"<polygon points="{} {}" fill="{}" fill-opacity="0.15" stroke="none"/>"#,
            upper.join(" "),
            lower.join(" "),
            color(arch)
        );
        for (panel_y, metric) in [
            (&yd as &dyn Fn(f64) -> f64, 0),
            (&yc as &dyn Fn(f64) -> f64, 1),
        ] {
            let value = |v: &ValueStats| {
                if metric == 0 {
                    v.average_duration
                } else {
                    v.cost_per_million
                }
            };
            let line: Vec<String> = pts
                .iter()
                .map(|v| format!("{:.1},{:.1}", x(v.value), panel_y(value(v))))
                .collect();
            let _ = write!(
                c.svg,
                r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
                line.join(" "),
                color(arch)
            );
            for v in &pts {
                let (cx, cy) = (x(v.value), panel_y(value(v)));
                let _ = write!(
                    c.svg,
                    r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="3.5" fill="{}"/>"#,
                    color(arch)
                );
                if pick == Some((v.value, arch)) {
                    let _ = write!(
                        c.svg,
                        r##"<circle cx="{cx:.1}" cy="{cy:.1}" r="8" fill="none" stroke="#2ca02c" stroke-width="2.5"/>"##
                    );
                } else if runner_up == Some((v.value, arch)) {
                    let _ = write!(
                        c.svg,
                        r##"<rect x="{:.1}" y="{:.1}" width="14" height="14" fill="none" stroke="#ff7f0e" stroke-width="2"/>"##,
                        cx - 7.0,
                        cy - 7.0
                    );
                }
            }
        }
    }

    // Right column: cost against duration, the pick and the runner-up named.
    let (rl, rw, rt, rh) = (620.0, 250.0, 70.0, 230.0);
    c.text(
        rl,
        rt - 10.0,
        "start",
        13.0,
        r#" font-weight="bold""#,
        "cost against duration",
    );
    let _ = write!(
        c.svg,
        r##"<rect x="{rl}" y="{rt}" width="{rw}" height="{rh}" fill="none" stroke="#999"/>"##
    );
    let xs = |d: f64| rl + (d.max(0.1).log10() - llo) / (lhi - llo) * rw;
    let ys = |v: f64| rt + rh - v / max_cost * rh;
    c.text(
        rl + rw / 2.0,
        rt + rh + 16.0,
        "middle",
        11.0,
        "",
        "duration (ms, log)",
    );
    c.text(
        rl,
        rt + rh + 30.0,
        "start",
        11.0,
        "",
        &format!("{}", (lo / 1.2).round()),
    );
    c.text(
        rl + rw,
        rt + rh + 30.0,
        "end",
        11.0,
        "",
        &format!("{}", (hi * 1.2).round()),
    );
    for v in &analysis.values {
        let (cx, cy) = (xs(v.average_duration), ys(v.cost_per_million));
        let _ = write!(
            c.svg,
            r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="3.5" fill="{}"/>"#,
            color(v.architecture)
        );
        let marked = if pick == Some((v.value, v.architecture)) {
            Some(("#2ca02c", "pick"))
        } else if runner_up == Some((v.value, v.architecture)) {
            Some(("#ff7f0e", "runner-up"))
        } else {
            None
        };
        if let Some((stroke, what)) = marked {
            let _ = write!(
                c.svg,
                r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="8" fill="none" stroke="{stroke}" stroke-width="2"/>"#
            );
            // Named in the panel's corner, one line each, so labels never collide.
            let line = if what == "pick" { 0.0 } else { 1.0 };
            c.text(
                rl + 6.0,
                rt + 16.0 + 14.0 * line,
                "start",
                11.0,
                &format!(r#" fill="{stroke}""#),
                &format!("{what}: {} MB {}", v.value, v.architecture.as_str()),
            );
        }
    }

    // Legend and verdict.
    let mut ly = rt + rh + 60.0;
    for &arch in &archs {
        let _ = write!(
            c.svg,
            r#"<line x1="{rl}" y1="{ly}" x2="{}" y2="{ly}" stroke="{}" stroke-width="2"/>"#,
            rl + 20.0,
            color(arch)
        );
        c.text(rl + 26.0, ly + 4.0, "start", 12.0, "", arch.as_str());
        ly += 20.0;
    }
    if let Some(r) = &analysis.recommendation {
        let _ = write!(
            c.svg,
            r##"<circle cx="{}" cy="{ly}" r="6" fill="none" stroke="#2ca02c" stroke-width="2"/>"##,
            rl + 10.0
        );
        c.text(
            rl + 26.0,
            ly + 4.0,
            "start",
            12.0,
            "",
            &format!("best: {} MB {}", r.power, r.architecture.as_str()),
        );
        ly += 20.0;
        if let Some(m) = r.runner_up {
            let _ = write!(
                c.svg,
                r##"<rect x="{}" y="{}" width="12" height="12" fill="none" stroke="#ff7f0e" stroke-width="2"/>"##,
                rl + 4.0,
                ly - 6.0
            );
            c.text(
                rl + 26.0,
                ly + 4.0,
                "start",
                12.0,
                "",
                &format!("runner-up: {m} MB"),
            );
            ly += 20.0;
        }
        let verdict = if r.within_noise {
            "the two are within measurement noise"
        } else {
            "the difference is beyond the noise"
        };
        c.text(
            rl,
            ly + 4.0,
            "start",
            11.0,
            "",
            &fit(verdict, 11.0, W - rl - 10.0),
        );
        ly += 20.0;
    }
    for f in analysis.failed.iter().take(5) {
        c.text(
            rl,
            ly + 4.0,
            "start",
            11.0,
            r##" fill="#d62728""##,
            &format!("failed: {} MB {}", f.value, f.architecture.as_str()),
        );
        ly += 16.0;
    }
    c.svg.push_str("</svg>");
    Chart {
        svg: c.svg,
        overflows: c.overflows,
    }
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

    /// Both architectures, 128 MB to 10 GB, noisy samples, one failed value.
    fn analysis() -> Analysis {
        let mut runs = BTreeMap::new();
        let mut order = Vec::new();
        for arch in [Architecture::Arm64, Architecture::X86_64] {
            for m in [128u32, 256, 512, 1024, 1536, 2048, 3008, 10240] {
                let t = Target {
                    architecture: arch,
                    memory_mb: m,
                };
                order.push(t);
                let base = 20.0 + 8000.0 * 1024.0 / f64::from(m.min(1769)) / 8.0;
                let reports = (0..10)
                    .map(|i| {
                        let d = base
                            * (1.0 + 0.02 * f64::from(i % 5))
                            * if arch == Architecture::X86_64 {
                                1.2
                            } else {
                                1.0
                            };
                        Report {
                            duration_ms: d,
                            billed_duration_ms: d.ceil(),
                            memory_size_mb: Some(m),
                            max_memory_used_mb: Some(60),
                            init_duration_ms: None,
                            restore_duration_ms: None,
                            billed_restore_duration_ms: None,
                        }
                    })
                    .collect();
                runs.insert(
                    t,
                    ValueRun {
                        reports,
                        planned: 10,
                        ..Default::default()
                    },
                );
            }
        }
        let failed = Target {
            architecture: Architecture::Arm64,
            memory_mb: 4096,
        };
        order.push(failed);
        runs.insert(
            failed,
            ValueRun {
                failure: Some("boom".into()),
                planned: 10,
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

    const LONG: &str = "arn:aws:lambda:eu-central-1:123456789012:function:a-function-with-a-very-long-name-that-would-run-off-the-image-if-it-were-not-cut-short";

    #[test]
    fn every_text_stays_on_the_canvas_and_the_title_is_the_name() {
        let chart = render(LONG, &analysis());
        assert!(chart.overflows.is_empty(), "{:?}", chart.overflows);
        assert!(
            !chart.svg.contains("arn:aws"),
            "the title names the function, not its ARN"
        );
        assert!(chart.svg.contains("power-tuner: a-function-with"));
        assert!(chart.svg.contains('…'), "the long name is cut");
        // categorical memory: every size labelled once per panel; both architectures drawn
        assert_eq!(chart.svg.matches(">128</text>").count(), 2);
        assert_eq!(chart.svg.matches(">10240</text>").count(), 2);
        assert_eq!(
            chart.svg.matches("<polygon").count(),
            2,
            "a p10-p90 band per architecture"
        );
        assert_eq!(chart.svg.matches("<polyline").count(), 4);
        assert!(chart.svg.contains("pick: ") && chart.svg.contains("runner-up: "));
        assert!(chart.svg.contains("failed: 4096 MB arm64"));
        assert!(!chart.svg.contains("<script") && !chart.svg.contains("href"));
    }

    #[test]
    fn fitting_cuts_with_an_ellipsis() {
        assert_eq!(fit("short", 10.0, 100.0), "short");
        assert_eq!(fit("abcdefghijklmnopqrstuvwxyz", 10.0, 60.0), "abcdefghi…");
        assert_eq!(
            log_ticks(3.0, 250.0),
            vec![5.0, 10.0, 20.0, 50.0, 100.0, 200.0]
        );
    }

    /// Rendered to PNG by the SVG renderer the test machine has (librsvg's `rsvg-convert`,
    /// or a real ImageMagick); skipped, saying so, where there is none.
    #[test]
    fn renders_as_a_valid_image() {
        use std::process::Command;
        let chart = render(LONG, &analysis());
        let dir = std::env::temp_dir().join(format!("pt-chart-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let svg = dir.join("chart.svg");
        let png = dir.join("chart.png");
        std::fs::write(&svg, &chart.svg).unwrap();
        let rsvg = Command::new("rsvg-convert")
            .arg("-o")
            .arg(&png)
            .arg(&svg)
            .output();
        let out = match rsvg {
            Ok(out) => out,
            Err(_) => {
                let magick = Command::new("convert")
                    .arg("-version")
                    .output()
                    .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("ImageMagick"));
                if !magick {
                    eprintln!("no SVG renderer (rsvg-convert or ImageMagick): the render check is skipped");
                    return;
                }
                Command::new("convert")
                    .arg(&svg)
                    .arg(&png)
                    .output()
                    .unwrap()
            }
        };
        assert!(
            out.status.success(),
            "the SVG did not render: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bytes = std::fs::read(&png).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG came out");
        // The PNG's own size is the SVG's canvas (IHDR width and height).
        let w = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
        let h = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
        assert_eq!((w, h), (W as u32, H as u32));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
