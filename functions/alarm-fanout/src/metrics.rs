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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notice::Kind;

    fn report(outcome: Outcome, possible_duplicates: u32) -> NoticeReport {
        NoticeReport {
            id: "m".into(),
            kind: Kind::Alarm,
            headline: "h".into(),
            outcome,
            severity: None,
            sent: vec![],
            already_delivered: vec![],
            folded: vec![],
            possible_duplicates,
            superseded_by: None,
            chat_migrations: Default::default(),
            held: vec![],
            resolved_while_muted: vec![],
        }
    }

    #[test]
    fn one_emf_line_counts_outcomes_and_possible_duplicates() {
        let reports = [
            report(Outcome::Delivered, 2),
            report(Outcome::Stale, 0),
            report(Outcome::Delivered, 1),
        ];
        let v: serde_json::Value =
            serde_json::from_str(&line(&reports, 1, 1_700_000_000_000)).unwrap();
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "groundcrew/alarm-fanout"
        );
        assert_eq!(v["_aws"]["Timestamp"], 1_700_000_000_000_i64);
        assert_eq!(v["Delivered"], 2);
        assert_eq!(v["Stale"], 1);
        assert_eq!(v["PossibleDuplicates"], 3);
        assert_eq!(v["Failed"], 1);
        let names: Vec<&str> = v["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        for name in &names {
            assert!(v.get(*name).is_some(), "{name} has no value");
        }
    }
}
