//! Test-tier helpers: finding the local AWS (moto) that the test script starts.
//!
//! Outside CI a missing local AWS skips the test with a message; with `CI=true` it fails
//! the test, so a broken set-up can never pass as green.

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use aws_config::SdkConfig;

/// Where the test script runs moto; `GROUNDCREW_LOCAL_AWS` overrides it.
pub const DEFAULT_LOCAL_AWS: &str = "http://127.0.0.1:4566";

pub fn local_aws_endpoint() -> String {
    std::env::var("GROUNDCREW_LOCAL_AWS").unwrap_or_else(|_| DEFAULT_LOCAL_AWS.to_string())
}

fn reachable(endpoint: &str) -> bool {
    let host_port = endpoint
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .trim_end_matches('/');
    host_port
        .parse::<SocketAddr>()
        .ok()
        .is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok())
}

/// The SDK configuration for the local AWS, or `None` (after saying why) when it is not
/// running and this is not CI. Panics in CI: a missing service is a failure there.
pub async fn local_aws() -> Option<SdkConfig> {
    let endpoint = local_aws_endpoint();
    if !reachable(&endpoint) {
        let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(
            !in_ci,
            "the local AWS is not running at {endpoint}; CI needs it (scripts/local-aws.sh start)"
        );
        eprintln!(
            "SKIPPED: the local AWS is not running at {endpoint} (scripts/local-aws.sh start)"
        );
        return None;
    }
    Some(crate::aws::load_sdk_config_for_endpoint(&endpoint, "us-east-1").await)
}

/// A name no other test run will use, for resources in the shared local AWS.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{nanos:x}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// Returns from the test early when there is no local AWS (outside CI).
#[macro_export]
macro_rules! require_local_aws {
    () => {
        match $crate::testing::local_aws().await {
            Some(config) => config,
            None => return,
        }
    };
}
