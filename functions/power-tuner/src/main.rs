//! `power-tuner` Lambda entry point: wiring only. `groundcrew::runtime` owns the logs, the
//! start-up (a bad setting is reported to Lambda as an init error) and the runtime loop.

use groundcrew::config::{ConfigError, Env};
use power_tuner::handler::Tuner;
use power_tuner::lambda::SdkLambda;
use power_tuner::store::S3Store;
use power_tuner::Config;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    groundcrew::runtime::run(
        async {
            let config = Config::from_env(&Env::process())?;
            let sdk = groundcrew::aws::load_sdk_config().await;
            Ok::<_, ConfigError>(Tuner {
                lambda: SdkLambda::regional(&sdk),
                store: S3Store::new(&sdk),
                config,
            })
        },
        |tuner, event: Value, invocation| async move { tuner.handle(&event, &invocation).await },
    )
    .await
}
