//! Lambda entry point: wiring only. `groundcrew::runtime` owns the logs, the start-up
//! (settings, routing document and clients once; a failure is reported to Lambda as an init
//! error) and the runtime loop.

#![recursion_limit = "256"]

use alarm_fanout::config::Config;
use groundcrew::config::Env;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    groundcrew::runtime::run(
        async {
            let config = Config::from_env(&Env::process())?;
            let sdk = groundcrew::aws::load_sdk_config().await;
            alarm_fanout::build(&config, &sdk).await
        },
        |app, event: Value, invocation| async move { app.handle(&event, invocation).await },
    )
    .await
}
