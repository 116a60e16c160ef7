//! The right column: cost against duration with the pick and the runner-up named, the
//! legend, the noise verdict and the failed values.

use std::fmt::Write as _;

use super::canvas::{color, fit, Canvas, PICK, RUNNER_UP, W};
use super::Scales;
use crate::analysis::Analysis;

pub(super) fn draw(c: &mut Canvas, s: &Scales, analysis: &Analysis) {
    let (rl, rw, rt, rh) = (620.0, 250.0, 70.0, 230.0);
    c.panel(rl, rt, rw, rh, "cost against duration");
    let xs = |d: f64| rl + s.duration_share(d) * rw;
    let ys = |v: f64| rt + rh - s.cost_share(v) * rh;
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
        &format!("{}", (s.lo / 1.2).round()),
    );
    c.text(
        rl + rw,
        rt + rh + 30.0,
        "end",
        11.0,
        "",
        &format!("{}", (s.hi * 1.2).round()),
    );
    for v in &analysis.values {
        let (cx, cy) = (xs(v.average_duration), ys(v.cost_per_million));
        let _ = write!(
            c.svg,
            r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="3.5" fill="{}"/>"#,
            color(v.architecture)
        );
        let marked = if s.pick == Some((v.value, v.architecture)) {
            Some((PICK, "pick"))
        } else if s.runner_up == Some((v.value, v.architecture)) {
            Some((RUNNER_UP, "runner-up"))
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
    let mut ly = rt + rh + 60.0;
    for &arch in &s.archs {
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
            r#"<circle cx="{}" cy="{ly}" r="6" fill="none" stroke="{PICK}" stroke-width="2"/>"#,
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
                r#"<rect x="{}" y="{}" width="12" height="12" fill="none" stroke="{RUNNER_UP}" stroke-width="2"/>"#,
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
}
