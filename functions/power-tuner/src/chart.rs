//! The report's chart: a self-contained SVG (no scripts, fonts or links) that reads at a
//! glance. Memory is categorical (every measured size gets the same room, so 128 and 256 MB
//! never collide); duration is on a log scale (differences above 512 MB stay visible) with
//! each value's p10-p90 spread as a band, so the noise verdict can be seen; every measured
//! architecture has its curve; a cost-against-duration panel marks the pick and the
//! runner-up. The title is the function's name, cut to fit. Every text is placed by
//! [`Canvas::text`], which estimates its width and reports any that would leave the canvas.

mod canvas;
mod memory;
mod scatter;

use std::fmt::Write as _;

use canvas::{esc, fit, Canvas, H, W};

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
    let scales = Scales::new(analysis);
    memory::draw(&mut c, &scales, analysis);
    scatter::draw(&mut c, &scales, analysis);
    c.svg.push_str("</svg>");
    Chart {
        svg: c.svg,
        overflows: c.overflows,
    }
}

/// What both columns share: the measured sizes and architectures, the pick and the
/// runner-up, and the duration and cost ranges (one duration scale for both columns).
pub(super) struct Scales {
    pub mems: Vec<u32>,
    pub archs: Vec<Architecture>,
    pub pick: Option<(u32, Architecture)>,
    pub runner_up: Option<(u32, Architecture)>,
    /// Shortest and longest duration drawn (ms), and their padded log10 bounds.
    pub lo: f64,
    pub hi: f64,
    pub llo: f64,
    pub lhi: f64,
    /// Top of the cost axes (USD per million).
    pub max_cost: f64,
}

impl Scales {
    fn new(analysis: &Analysis) -> Self {
        let mut mems: Vec<u32> = analysis.values.iter().map(|v| v.value).collect();
        mems.sort_unstable();
        mems.dedup();
        let mut archs: Vec<Architecture> = analysis.values.iter().map(|v| v.architecture).collect();
        archs.sort();
        archs.dedup();
        let pick = analysis
            .recommendation
            .as_ref()
            .map(|r| (r.power, r.architecture));
        let runner_up = analysis.recommendation.as_ref().and_then(|r| {
            r.runner_up
                .map(|m| (m, r.runner_up_architecture.unwrap_or(r.architecture)))
        });
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
        let max_cost = analysis
            .values
            .iter()
            .map(|v| v.cost_per_million)
            .fold(0.0, f64::max)
            .max(1e-12)
            * 1.1;
        Self {
            mems,
            archs,
            pick,
            runner_up,
            lo,
            hi,
            llo: (lo / 1.2).log10(),
            lhi: (hi * 1.2).log10(),
            max_cost,
        }
    }
}

impl Scales {
    /// Where a duration falls on the one duration scale: 0 (shortest) to 1 (longest).
    fn duration_share(&self, ms: f64) -> f64 {
        (ms.max(0.1).log10() - self.llo) / (self.lhi - self.llo)
    }

    /// Where a cost falls on the cost axes: 0 to 1.
    fn cost_share(&self, usd: f64) -> f64 {
        usd / self.max_cost
    }
}

/// A value's duration percentile `p` (its band), or its average when it has no samples.
fn band(v: &ValueStats, p: f64) -> f64 {
    percentile(&v.speed_samples, p).unwrap_or(v.average_duration)
}

/// One architecture's values, by memory size.
fn series(analysis: &Analysis, arch: Architecture) -> Vec<&ValueStats> {
    let mut v: Vec<&ValueStats> = analysis
        .values
        .iter()
        .filter(|v| v.architecture == arch)
        .collect();
    v.sort_by_key(|v| v.value);
    v
}

#[cfg(test)]
mod tests {
    use super::canvas::log_ticks;
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
