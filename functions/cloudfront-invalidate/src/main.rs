//! Lambda entry point: wiring only. `groundcrew::runtime` owns the logs, the start-up
//! (settings and AWS clients once; a bad setting is reported to Lambda as an init error)
//! and the runtime loop; the work is in the library (`cloudfront_invalidate`).

#![recursion_limit = "256"]

use cloudfront_invalidate::config::Config;
use groundcrew::config::{ConfigError, Env};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    groundcrew::runtime::run(
        async {
            let config = Config::from_env(&Env::process())?;
            let sdk = groundcrew::aws::load_sdk_config().await;
            Ok::<_, ConfigError>(cloudfront_invalidate::build(config, &sdk))
        },
        |handler, event: Value, invocation| async move {
            handler.handle(&event, &invocation).await
        },
    )
    .await
}
