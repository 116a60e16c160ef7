//! One CloudWatch embedded-metric-format line per invocation: notices by outcome, possible
//! duplicates (a timeout after the receiver may have accepted, then a re-send) and
//! failures, in namespace `groundcrew/alarm-fanout`.

use serde_json::json;

use crate::handler::{NoticeReport, Outcome};

/// The EMF line for the reports of one invocation and its number of failed notices.
pub fn line(reports: &[NoticeReport], failed: usize, timestamp_ms: i64) -> String {
    let count = |o: Outcome| reports.iter().filter(|r| r.outcome == o).count();
    let names = [
        "Delivered",
        "Duplicates",
        "Suppressed",
        "Stale",
        "PossibleDuplicates",
        "Failed",
    ];
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": "groundcrew/alarm-fanout",
                "Dimensions": [[]],
                "Metrics": names.iter().map(|n| json!({"Name": n, "Unit": "Count"})).collect::<Vec<_>>(),
            }],
        },
        "Delivered": count(Outcome::Delivered),
        "Duplicates": count(Outcome::Duplicate),
        "Suppressed": count(Outcome::Suppressed),
        "Stale": count(Outcome::Stale),
        "PossibleDuplicates": reports.iter().map(|r| u64::from(r.possible_duplicates)).sum::<u64>(),
        "Failed": failed,
    })
    .to_string()
}

/// Writes the line to standard output, where Lambda's log capture reads EMF.
pub fn emit(reports: &[NoticeReport], failed: usize, timestamp_ms: i64) {
    println!("{}", line(reports, failed, timestamp_ms));
}
