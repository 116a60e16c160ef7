//! The REPORT line at the end of an invocation's log tail (`LogType=Tail`), in Lambda's
//! text and JSON log formats, cold and warm, with and without SnapStart.

use base64::Engine;

/// What Lambda's platform report says about one invocation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub duration_ms: f64,
    pub billed_duration_ms: f64,
    pub memory_size_mb: Option<u32>,
    pub max_memory_used_mb: Option<u32>,
    /// Only on a cold start.
    pub init_duration_ms: Option<f64>,
    /// SnapStart only.
    pub restore_duration_ms: Option<f64>,
    /// SnapStart only: restore time that is billed on top of the billed duration.
    pub billed_restore_duration_ms: Option<f64>,
}

impl Report {
    /// The duration the `speed` strategy compares: Duration + Init + Restore, as Power
    /// Tuning does.
    pub fn speed_ms(&self) -> f64 {
        self.duration_ms
            + self.init_duration_ms.unwrap_or(0.0)
            + self.restore_duration_ms.unwrap_or(0.0)
    }

    /// The milliseconds that are paid for.
    pub fn billed_ms(&self) -> f64 {
        self.billed_duration_ms + self.billed_restore_duration_ms.unwrap_or(0.0)
    }

    pub fn is_cold(&self) -> bool {
        self.init_duration_ms.is_some() || self.restore_duration_ms.is_some()
    }
}

/// Decodes `LogResult` (base64) and parses its last REPORT record.
pub fn parse_log_result(log_result_b64: &str) -> Option<Report> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(log_result_b64.trim())
        .ok()?;
    parse_log_tail(&String::from_utf8_lossy(&bytes))
}

/// The last REPORT record of a log tail, text or JSON format.
pub fn parse_log_tail(log: &str) -> Option<Report> {
    log.lines().rev().find_map(|line| {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("REPORT ") {
            parse_text(rest)
        } else if line.starts_with('{') && line.contains("platform.report") {
            parse_json(line)
        } else {
            None
        }
    })
}

fn parse_text(rest: &str) -> Option<Report> {
    let mut duration = None;
    let mut billed = None;
    let mut report = Report {
        duration_ms: 0.0,
        billed_duration_ms: 0.0,
        memory_size_mb: None,
        max_memory_used_mb: None,
        init_duration_ms: None,
        restore_duration_ms: None,
        billed_restore_duration_ms: None,
    };
    for field in rest.split('\t') {
        let Some((key, value)) = field.split_once(':') else {
            continue;
        };
        let number = value
            .split_whitespace()
            .next()
            .and_then(|n| n.parse::<f64>().ok());
        match key.trim() {
            "Duration" => duration = number,
            "Billed Duration" => billed = number,
            "Memory Size" => report.memory_size_mb = number.map(|n| n as u32),
            "Max Memory Used" => report.max_memory_used_mb = number.map(|n| n as u32),
            "Init Duration" => report.init_duration_ms = number,
            "Restore Duration" => report.restore_duration_ms = number,
            "Billed Restore Duration" => report.billed_restore_duration_ms = number,
            _ => {}
        }
    }
    report.duration_ms = duration?;
    report.billed_duration_ms = billed?;
    Some(report)
}

/// Lambda's `platform.report` record (JSON log format). AWS's own shape: fields it adds
/// later are ignored; a record of another type, or without the two durations, is not a
/// REPORT record.
#[derive(serde::Deserialize)]
struct PlatformRecord {
    #[serde(rename = "type")]
    kind: String,
    record: Option<PlatformReport>,
}

#[derive(serde::Deserialize)]
struct PlatformReport {
    metrics: Option<PlatformMetrics>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlatformMetrics {
    duration_ms: Option<f64>,
    billed_duration_ms: Option<f64>,
    #[serde(rename = "memorySizeMB")]
    memory_size_mb: Option<f64>,
    #[serde(rename = "maxMemoryUsedMB")]
    max_memory_used_mb: Option<f64>,
    init_duration_ms: Option<f64>,
    restore_duration_ms: Option<f64>,
    billed_restore_duration_ms: Option<f64>,
}

fn parse_json(line: &str) -> Option<Report> {
    let line: PlatformRecord = serde_json::from_str(line).ok()?;
    if line.kind != "platform.report" {
        return None;
    }
    let m = line.record?.metrics?;
    Some(Report {
        duration_ms: m.duration_ms?,
        billed_duration_ms: m.billed_duration_ms?,
        memory_size_mb: m.memory_size_mb.map(|n| n as u32),
        max_memory_used_mb: m.max_memory_used_mb.map(|n| n as u32),
        init_duration_ms: m.init_duration_ms,
        restore_duration_ms: m.restore_duration_ms,
        billed_restore_duration_ms: m.billed_restore_duration_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLD: &str = "START RequestId: 6f0f Version: 3\nhello\nEND RequestId: 6f0f\nREPORT RequestId: 6f0f\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 18 MB\tInit Duration: 120.45 ms\t\n";
    const WARM: &str = "START RequestId: a1\nEND RequestId: a1\nREPORT RequestId: a1\tDuration: 3.01 ms\tBilled Duration: 4 ms\tMemory Size: 512 MB\tMax Memory Used: 20 MB\t\n";
    const SNAP: &str = "REPORT RequestId: s1\tDuration: 50.00 ms\tBilled Duration: 51 ms\tMemory Size: 1024 MB\tMax Memory Used: 90 MB\tRestore Duration: 310.50 ms\tBilled Restore Duration: 120 ms\t";

    #[test]
    fn text_cold_start() {
        let r = parse_log_tail(COLD).unwrap();
        assert_eq!(r.duration_ms, 12.34);
        assert_eq!(r.billed_duration_ms, 13.0);
        assert_eq!(r.memory_size_mb, Some(128));
        assert_eq!(r.max_memory_used_mb, Some(18));
        assert_eq!(r.init_duration_ms, Some(120.45));
        assert!(r.is_cold());
        assert!((r.speed_ms() - 132.79).abs() < 1e-9);
        assert_eq!(r.billed_ms(), 13.0);
    }

    #[test]
    fn text_warm_start() {
        let r = parse_log_tail(WARM).unwrap();
        assert_eq!(r.duration_ms, 3.01);
        assert_eq!(r.billed_duration_ms, 4.0);
        assert_eq!(r.init_duration_ms, None);
        assert!(!r.is_cold());
        assert_eq!(r.speed_ms(), 3.01);
    }

    #[test]
    fn text_snapstart_restore() {
        let r = parse_log_tail(SNAP).unwrap();
        assert_eq!(r.restore_duration_ms, Some(310.5));
        assert_eq!(r.billed_restore_duration_ms, Some(120.0));
        assert!(r.is_cold());
        assert_eq!(r.speed_ms(), 360.5);
        assert_eq!(r.billed_ms(), 171.0);
    }

    #[test]
    fn json_format_cold_and_warm() {
        let cold = r#"{"time":"2026-01-01T00:00:00.000Z","type":"platform.start","record":{"requestId":"x"}}
{"time":"2026-01-01T00:00:00.100Z","type":"platform.report","record":{"requestId":"x","metrics":{"durationMs":25.5,"billedDurationMs":26,"memorySizeMB":256,"maxMemoryUsedMB":30,"initDurationMs":14.2},"status":"success"}}"#;
        let r = parse_log_tail(cold).unwrap();
        assert_eq!(r.duration_ms, 25.5);
        assert_eq!(r.billed_duration_ms, 26.0);
        assert_eq!(r.memory_size_mb, Some(256));
        assert_eq!(r.max_memory_used_mb, Some(30));
        assert_eq!(r.init_duration_ms, Some(14.2));
        let warm = r#"{"type":"platform.report","record":{"requestId":"y","metrics":{"durationMs":2.0,"billedDurationMs":2,"memorySizeMB":256,"maxMemoryUsedMB":31}}}"#;
        let r = parse_log_tail(warm).unwrap();
        assert_eq!(r.init_duration_ms, None);
        assert_eq!(r.billed_ms(), 2.0);
    }

    #[test]
    fn json_format_snapstart() {
        let line = r#"{"type":"platform.report","record":{"requestId":"z","metrics":{"durationMs":40,"billedDurationMs":41,"memorySizeMB":1024,"maxMemoryUsedMB":80,"restoreDurationMs":200.5,"billedRestoreDurationMs":90}}}"#;
        let r = parse_log_tail(line).unwrap();
        assert_eq!(r.restore_duration_ms, Some(200.5));
        assert_eq!(r.billed_ms(), 131.0);
        assert_eq!(r.speed_ms(), 240.5);
    }

    #[test]
    fn base64_log_result_and_missing_report() {
        let b64 = base64::engine::general_purpose::STANDARD.encode(WARM);
        assert_eq!(parse_log_result(&b64).unwrap().duration_ms, 3.01);
        assert_eq!(
            parse_log_tail("START RequestId: a\nEND RequestId: a\n"),
            None
        );
        assert_eq!(parse_log_result("%%%not base64"), None);
        // A truncated line without Billed Duration is not a report.
        assert_eq!(
            parse_log_tail("REPORT RequestId: a\tDuration: 1.0 ms"),
            None
        );
        // The last report wins.
        let two = format!("{COLD}{WARM}");
        assert_eq!(parse_log_tail(&two).unwrap().duration_ms, 3.01);
    }
}
