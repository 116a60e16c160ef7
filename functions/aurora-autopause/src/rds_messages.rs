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
