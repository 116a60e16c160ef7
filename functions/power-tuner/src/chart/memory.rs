//! The left column: duration (log scale, with each value's p10-p90 band) and cost per
//! million invocations, against memory, one curve per architecture; the pick circled and
//! the runner-up boxed.

use std::fmt::Write as _;

use super::canvas::{color, log_ticks, money, Canvas, PICK, RUNNER_UP};
use super::{band, series, Scales};
use crate::analysis::{Analysis, ValueStats};

pub(super) fn draw(c: &mut Canvas, s: &Scales, analysis: &Analysis) {
    let (left, plot_w) = (80.0, 470.0);
    let mems = &s.mems;
    let slot = plot_w / mems.len().max(1) as f64;
    let x = |m: u32| left + slot * (mems.iter().position(|v| *v == m).unwrap_or(0) as f64 + 0.5);
    let (dur_top, dur_h) = (70.0, 230.0);
    let yd = |v: f64| dur_top + dur_h - s.duration_share(v) * dur_h;
    c.panel(
        left,
        dur_top,
        plot_w,
        dur_h,
        "duration (ms, log scale; band: p10-p90)",
    );
    for t in log_ticks(s.lo / 1.2, s.hi * 1.2) {
        c.grid_line(left, plot_w, yd(t), &format!("{t}"));
    }
    let (cost_top, cost_h) = (350.0, 200.0);
    let yc = |v: f64| cost_top + cost_h - s.cost_share(v) * cost_h;
    c.panel(
        left,
        cost_top,
        plot_w,
        cost_h,
        "cost per million invocations (USD)",
    );
    for i in 0..=4 {
        let v = s.max_cost * f64::from(i) / 4.0;
        c.grid_line(left, plot_w, yc(v), &money(v));
    }
    for &m in mems {
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
    for &arch in &s.archs {
        let pts = series(analysis, arch);
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
                if s.pick == Some((v.value, arch)) {
                    let _ = write!(
                        c.svg,
                        r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="8" fill="none" stroke="{PICK}" stroke-width="2.5"/>"#
                    );
                } else if s.runner_up == Some((v.value, arch)) {
                    let _ = write!(
                        c.svg,
                        r#"<rect x="{:.1}" y="{:.1}" width="14" height="14" fill="none" stroke="{RUNNER_UP}" stroke-width="2"/>"#,
                        cx - 7.0,
                        cy - 7.0
                    );
                }
            }
        }
    }
}
