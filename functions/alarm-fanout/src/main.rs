use std::sync::Arc;

use alarm_fanout::config::Config;
use groundcrew::config::Env;
use groundcrew::Invocation;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    groundcrew::logging::init();
    let config = Config::from_env(&Env::process())?;
    let sdk = groundcrew::aws::load_sdk_config().await;
    let app = Arc::new(alarm_fanout::build(&config, &sdk).await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let app = Arc::clone(&app);
        async move {
            let invocation = Invocation::from_context(&event.context);
            let report = app
                .handle(&event.payload, invocation)
                .await
                .map_err(Diagnostic::from)?;
            serde_json::to_value(report).map_err(|e| Diagnostic {
                error_type: "AlarmFanoutError".into(),
                error_message: e.to_string(),
            })
        }
    }))
    .await
}
