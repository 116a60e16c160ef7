//! What RDS's answers say, read from their text: `DescribeEvents` gives messages, not
//! event ids, and a wrong-state fault names the state only in its message.

/// Whether an RDS event message is AWS's automatic start after seven days stopped
/// (RDS-EVENT-0153 for a cluster, RDS-EVENT-0154 for an instance). `DescribeEvents` returns
/// the message, not the event id: "DB cluster is being started due to it exceeding the
/// maximum allowed time being stopped."
pub fn is_aws_restart_message(message: &str) -> bool {
    message
        .to_ascii_lowercase()
        .contains("exceeding the maximum allowed time being stopped")
}

/// What RDS records when a database goes down or comes up again, as `DescribeEvents`
/// words it (RDS User Guide and Aurora User Guide, "Amazon RDS event categories and event
/// messages"), lower case. Matched as parts of the message: a phrase too many only makes a
/// database wait one more window, a phrase too few could stop one just rebooted.
const RESTART_PHRASES: &[&str] = &[
    // RDS-EVENT-0006 "DB instance restarted.", 0004 "DB instance shutdown." (availability)
    "db instance restarted",
    "db instance shutdown",
    // RDS-EVENT-0022 "Error restarting mysql: ..." (availability)
    "restarting",
    // RDS-EVENT-0088 "DB instance started.", 0151 "DB cluster started." (notification)
    "db instance started",
    "db cluster started",
    // RDS-EVENT-0153 / 0154: AWS's start after seven days stopped (notification)
    "exceeding the maximum allowed time being stopped",
    // RDS-EVENT-0005 "DB instance created.", 0170 "DB cluster created." (creation)
    "db instance created",
    "db cluster created",
    // Failovers: RDS-EVENT-0013, 0015, 0049 (instance), 0071, 0072, 0073 (cluster); and
    // 0050 / 0051 "Multi-AZ instance activation started / completed."
    "failover",
    "failed over",
    "multi-az instance activation",
    // RDS-EVENT-0026 / 0027: off-line patches, during which the instance is down
    "off-line patches",
];

/// Whether an RDS event message says the database was restarted, started, created or
/// failed over: after that, metrics from before it say nothing about whether it is idle.
pub fn is_restart_message(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    RESTART_PHRASES.iter().any(|p| m.contains(p))
}

/// Whether a message says the database stopped (RDS-EVENT-0150 "DB cluster stopped",
/// RDS-EVENT-0087 "DB instance stopped").
pub fn is_stopped_message(message: &str) -> bool {
    let m = message.trim().trim_end_matches('.');
    m.eq_ignore_ascii_case("DB cluster stopped") || m.eq_ignore_ascii_case("DB instance stopped")
}

/// Whether the cluster runs because AWS started it: among its events, the last automatic
/// start (RDS-EVENT-0153) is not followed by a stop. A stop after it (a re-stop whose
/// answer was lost, or anyone's) makes that start history, so that a person who starts
/// the cluster later is never overruled.
pub fn started_by_aws(events: &[(chrono::DateTime<chrono::Utc>, String)]) -> bool {
    let mut last = None;
    for (at, message) in events {
        if is_aws_restart_message(message) {
            last = Some((at, true));
        } else if is_stopped_message(message) {
            last = Some((at, false));
        }
    }
    last.is_some_and(|(_, aws)| aws)
}

/// Whether an RDS error code says the database is in the wrong state for the call
/// (`InvalidDBClusterStateFault`; `InvalidDBInstanceState`, which the SDK may report with a
/// `Fault` suffix).
pub fn is_state_fault(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "InvalidDBClusterStateFault" | "InvalidDBInstanceState" | "InvalidDBInstanceStateFault"
        )
    )
}

/// Extracts the state from an `InvalidDBClusterStateFault` message such as
/// `DbCluster dev-1 is in starting state but expected it to be one of available.`
pub fn state_from_message(message: &str) -> Option<String> {
    let (_, rest) = message.split_once(" is in ")?;
    let state = rest.split_whitespace().next()?;
    let ok = !state.is_empty()
        && state
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-');
    ok.then(|| state.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_aws_start_not_followed_by_a_stop_counts() {
        let t = |m: i64| chrono::DateTime::<chrono::Utc>::from_timestamp(m * 60, 0).unwrap();
        let auto = "DB cluster is being started due to it exceeding the maximum allowed time being stopped.".to_string();
        assert!(started_by_aws(&[(t(1), auto.clone())]));
        assert!(!started_by_aws(&[
            (t(1), auto.clone()),
            (t(5), "DB cluster stopped".into())
        ]));
        assert!(started_by_aws(&[
            (t(1), "DB cluster stopped".into()),
            (t(2), auto.clone()),
            (t(3), "DB cluster started".into())
        ]));
        assert!(!started_by_aws(&[]));
    }

    #[test]
    fn restarts_starts_and_failovers_are_recognised_by_their_messages() {
        for m in [
            "DB instance restarted.",
            "DB instance shutdown.",
            "DB instance started.",
            "DB cluster started",
            "DB cluster is being started due to it exceeding the maximum allowed time being stopped.",
            "DB instance created.",
            "Completed failover to DB instance: dev-1-a",
            "Started cross AZ failover to DB instance: dev-1-b",
            "Multi-AZ instance failover started.",
            "Multi-AZ instance activation completed.",
            "Finished applying off-line patches to DB instance.",
            "Error restarting mysql: out of memory",
        ] {
            assert!(is_restart_message(m), "{m}");
        }
        for m in [
            "DB instance stopped.",
            "DB cluster stopped",
            "Backing up DB instance.",
            "Finished DB instance backup.",
            "Automated cluster snapshot created.",
            "Applying modification to allocated storage.",
        ] {
            assert!(!is_restart_message(m), "{m}");
        }
    }

    #[test]
    fn aws_restart_messages_are_recognised() {
        assert!(is_aws_restart_message(
            "DB cluster is being started due to it exceeding the maximum allowed time being stopped."
        ));
        assert!(!is_aws_restart_message("DB cluster started"));
    }

    #[test]
    fn state_is_read_from_the_fault_message() {
        let m = "DbCluster dev-1 is in starting state but expected it to be one of available.";
        assert_eq!(state_from_message(m).as_deref(), Some("starting"));
        assert_eq!(state_from_message("something else"), None);
    }
}
