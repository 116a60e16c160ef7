//! The left column: duration (log scale, with each value's p10-p90 band) and cost per
//! million invocations, against memory, one curve per architecture; the pick circled and
//! the runner-up boxed.

use std::fmt::Write as _;

use super::canvas::{color, log_ticks, money, Canvas};
use super::{band, series, Scales};
use crate::analysis::{Analysis, ValueStats};

pub(super) fn draw(c: &mut Canvas, s: &Scales, analysis: &Analysis) {
    let Scales {
        ref mems,
        ref archs,
        pick,
        runner_up,
        lo,
        hi,
        llo,
        lhi,
        max_cost,
    } = *s;
    let (left, plot_w) = (80.0, 470.0);
    let slot = plot_w / mems.len().max(1) as f64;
    let x = |m: u32| left + slot * (mems.iter().position(|v| *v == m).unwrap_or(0) as f64 + 0.5);
    let (dur_top, dur_h) = (70.0, 230.0);
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
    for &arch in archs {
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
}
