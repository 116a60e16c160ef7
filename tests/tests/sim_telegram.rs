//! telegram-webhook's scenario in the simulation tier (a test binary of its own beside
//! `sim.rs`; `SIM_SEED`, `SIM_SEEDS` and `SIM_SCENARIO` select seeds and scenarios).

use sim::kernel::FaultRates;
use sim::scenarios::telegram_webhook;

/// Two weeks of the health check every 15 minutes (endpoint probe on, notices to SNS), with
/// 3% of Telegram, Secrets Manager, SSM, SNS and bot-endpoint calls failing (throttling with `retry_after`, 5xx, timeouts before and after the
/// call took effect) on top of the scenario's revocation, drift, endpoint failures and
/// outages.
#[test]
fn telegram_webhook_weeks() {
    let (summary, figures) = telegram_webhook::run(2, FaultRates::uniform(0.03));
    for f in &figures {
        let detect: Vec<String> = f
            .detect_seconds
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k} {} (max {} s)",
                    v.len(),
                    v.iter().max().copied().unwrap_or(0)
                )
            })
            .collect();
        println!(
            "telegram-webhook-weeks figures: {} checks, findings {:?}, {} of lasting problems, {} from a failed call on a healthy bot, {} false alarms, {} masked, detected {}, {} repairs of {} hand drifts, {} CloudFormation requests ({} FAILED and retried), {} Telegram calls, {} updates delivered, {} dropped after 24 h; alarms: ALARM notices {:?}, {} for a healthy bot ({} if every finding alarmed on one run), {} periods without a check; SNS notices {} published, {} failed",
            f.checks, f.findings, f.true_findings, f.transient_findings, f.false_alarms, f.masked,
            detect.join(", "), f.repairs, f.drifts_by_hand, f.cfn_requests, f.cfn_failed,
            f.telegram_calls, f.updates_delivered, f.updates_expired, f.pages,
            f.pages_for_a_healthy_bot, f.pages_for_a_healthy_bot_one_of_one,
            f.periods_without_a_check, f.alerts_delivered, f.alerts_undelivered
        );
        assert_eq!(f.false_alarms, 0);
        assert_eq!(f.pages_for_a_healthy_bot, 0);
        assert!(
            f.pages.get("HealthCheckOk").copied().unwrap_or(0) > 0,
            "the disabled schedule pages"
        );
    }
    assert!(
        summary.seeds == 0 || summary.checks > 0,
        "no invariant was checked"
    );
}
