//! The SVG canvas: sizes, colours, text that is escaped, fitted and checked against the
//! canvas, panels and grid lines, money and log-scale ticks.

use std::fmt::Write as _;

use crate::architecture::Architecture;

pub(super) const W: f64 = 900.0;
pub(super) const H: f64 = 640.0;
/// Average glyph width of a sans-serif font, as a share of its size (an estimate; the
/// canvas keeps a margin for fonts that run wider).
pub(super) const GLYPH: f64 = 0.6;

pub(super) struct Canvas {
    pub(super) svg: String,
    pub(super) overflows: Vec<String>,
}

pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(super) fn color(a: Architecture) -> &'static str {
    match a {
        Architecture::Arm64 => "#1f77b4",
        Architecture::X86_64 => "#d62728",
    }
}

/// `text` cut with an ellipsis to at most `max_width` pixels at `size`.
pub(super) fn fit(text: &str, size: f64, max_width: f64) -> String {
    let max_chars = (max_width / (size * GLYPH)).floor().max(1.0) as usize;
    if text.chars().count() <= max_chars {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// The pick's and the runner-up's marks, the same in both columns.
pub(super) const PICK: &str = "#2ca02c";
pub(super) const RUNNER_UP: &str = "#ff7f0e";

impl Canvas {
    /// A panel's bold title, above it, and its frame.
    pub(super) fn panel(&mut self, left: f64, top: f64, width: f64, height: f64, title: &str) {
        self.text(
            left,
            top - 10.0,
            "start",
            13.0,
            r#" font-weight="bold""#,
            title,
        );
        let _ = write!(
            self.svg,
            r##"<rect x="{left}" y="{top}" width="{width}" height="{height}" fill="none" stroke="#999"/>"##
        );
    }

    /// A grid line across a panel at `y`, labelled on its left.
    pub(super) fn grid_line(&mut self, left: f64, width: f64, y: f64, label: &str) {
        let _ = write!(
            self.svg,
            r##"<line x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#eee"/>"##,
            left + width
        );
        self.text(left - 6.0, y + 4.0, "end", 11.0, "", label);
    }

    /// A text at (x, y) anchored `start`, `middle` or `end`.
    pub(super) fn text(
        &mut self,
        x: f64,
        y: f64,
        anchor: &str,
        size: f64,
        extra: &str,
        text: &str,
    ) {
        let width = text.chars().count() as f64 * size * GLYPH;
        let (x0, x1) = match anchor {
            "middle" => (x - width / 2.0, x + width / 2.0),
            "end" => (x - width, x),
            _ => (x, x + width),
        };
        if x0 < 0.0 || x1 > W || y - size < 0.0 || y > H {
            self.overflows
                .push(format!("{text:?} spans {x0:.0}..{x1:.0} at y {y:.0}"));
        }
        let _ = write!(
            self.svg,
            r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}" font-size="{size}"{extra}>{}</text>"#,
            esc(text)
        );
    }
}

pub(super) fn money(v: f64) -> String {
    if v == 0.0 {
        "0".to_string()
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else if v >= 0.01 {
        format!("{v:.3}")
    } else {
        format!("{v:.2e}")
    }
}

/// Log-scale ticks covering `lo..hi`: 1, 2, 5 times powers of ten.
pub(super) fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut mag = 10f64.powf(lo.log10().floor());
    while mag <= hi * 10.0 && out.len() < 30 {
        for step in [1.0, 2.0, 5.0] {
            let t = step * mag;
            if t >= lo && t <= hi {
                out.push(t);
            }
        }
        mag *= 10.0;
    }
    out
}
