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
