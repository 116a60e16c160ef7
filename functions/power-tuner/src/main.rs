//! `power-tuner` Lambda entry point: wiring only.

use groundcrew::config::Env;
use groundcrew::Invocation;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use power_tuner::handler::Tuner;
use power_tuner::lambda::SdkLambda;
use power_tuner::store::S3Store;
use power_tuner::Settings;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    groundcrew::logging::init();
    let settings = Settings::from_env(&Env::process())?;
    let sdk = groundcrew::aws::load_sdk_config().await;
    let tuner = Tuner {
        lambda: SdkLambda::new(&sdk),
        store: S3Store::new(&sdk),
        settings,
    };
    let tuner = &tuner;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let invocation = Invocation::from_context(&event.context);
        tuner
            .handle(&event.payload, &invocation)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "tuning failed");
                lambda_runtime::Diagnostic::from(e)
            })
    }))
    .await
}
