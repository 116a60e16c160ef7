//! cloudfront-invalidate's scenario in the simulation tier (a test binary of its own beside
//! `sim.rs`; `SIM_SEED`, `SIM_SEEDS` and `SIM_SCENARIO` select seeds and scenarios).

use sim::kernel::FaultRates;
use sim::scenarios::cloudfront_invalidate;

/// An `aws s3 sync` of 5,000 objects at 100 a second through the deploy queue, with 30% of
/// CloudFront calls failing (throttling, 5xx, timeouts before and after it acted): a sync
/// makes few CloudFront calls, so the rate is high enough to hit some.
#[test]
fn cloudfront_sync() {
    let (summary, figures) = cloudfront_invalidate::run(3, FaultRates::uniform(0.3));
    for f in &figures {
        println!(
            "cloudfront-sync figures: {} objects synced of a {}-object site ({} mutable paths), {} invalidation(s), {} paths billed, {} unchanged objects evicted, {} batches ({} items returned, {} dead letters), last invalidation {} s after the sync, handler time {} ms (wall clock)",
            f.objects, f.site_objects, f.mutable_paths, f.invalidations, f.paths_billed, f.objects_evicted, f.batches, f.failed_items,
            f.dead_letters, f.seconds_after_sync, f.handler_ms
        );
    }
    assert!(
        summary.seeds == 0 || summary.checks > 0,
        "no invariant was checked"
    );
}

/// A month of mixed deploys of three sites across a month boundary, with 10 % of calls to
/// CloudFront, DynamoDB and SQS failing (throttling, 5xx, timeouts before and after the
/// service acted). One seed by default (`SIM_SEEDS=N` for a deeper run): a seed is 30
/// simulated days of a 100,000-object site and about 56 s of wall time, the tier's largest,
/// and the tier must stay within 3 minutes (217 s with two seeds on the 2-core machine).
#[test]
fn cloudfront_month() {
    let (summary, figures) = cloudfront_invalidate::month::run(1, FaultRates::uniform(0.1));
    for f in &figures {
        let deploys: Vec<String> = f.deploys.iter().map(|(k, n)| format!("{n} {k}")).collect();
        let months: Vec<String> = f
            .billed
            .iter()
            .map(|(month, (billed, exact))| {
                format!(
                    "{month}: {billed} paths billed (exact lists {exact}; free 1000), ${:.2} (exact lists ${:.2})",
                    cloudfront_invalidate::month::Figures::cost_usd(*billed),
                    cloudfront_invalidate::month::Figures::cost_usd(*exact)
                )
            })
            .collect();
        let total: u64 = f.deploys.values().sum();
        println!(
            "cloudfront-month figures: {total} deploys ({}), {} invalidations ({:.2} per deploy, at most {}), {}; {} unchanged objects evicted; {} batches, {} messages returned, {} dead letters, {} conditional-check failures, {} deploys failed visibly",
            deploys.join(", "),
            f.invalidations,
            f.invalidations as f64 / total.max(1) as f64,
            f.max_invalidations_per_deploy,
            months.join("; "),
            f.objects_evicted,
            f.batches,
            f.returned_messages,
            f.dead_letters,
            f.conditional_failures,
            f.failed_visibly
        );
    }
    assert!(
        summary.seeds == 0 || summary.checks > 0,
        "no invariant was checked"
    );
}
