#![recursion_limit = "256"]

use cloudfront_invalidate::aws::{SdkCloudFront, SdkPipeline, SdkQueue, SdkS3};
use cloudfront_invalidate::aws_dynamo::SdkPending;
use cloudfront_invalidate::config::Config;
use cloudfront_invalidate::handler::Handler;
use cloudfront_invalidate::invalidate::Invalidator;
use groundcrew::config::Env;
use groundcrew::Invocation;
use lambda_runtime::{service_fn, Diagnostic, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    groundcrew::logging::init();
    let config = Config::from_env(&Env::process())?;
    let sdk = groundcrew::aws::load_sdk_config().await;
    let store = SdkPending {
        client: aws_sdk_dynamodb::Client::new(&sdk),
        table: config.pending_table.clone().unwrap_or_default(),
    };
    let trigger = SdkQueue {
        client: aws_sdk_sqs::Client::new(&sdk),
        queue_url: config.flush_queue_url.clone().unwrap_or_default(),
    };
    let handler = Handler {
        invalidator: Invalidator::new(
            SdkCloudFront(aws_sdk_cloudfront::Client::new(&sdk)),
            SdkS3(aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&sdk)
                    .force_path_style(true)
                    .build(),
            )),
            config,
        ),
        pipeline: SdkPipeline(aws_sdk_codepipeline::Client::new(&sdk)),
        store,
        trigger,
    };
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let invocation = Invocation::from_context(&event.context);
        let result = handler.handle(&event.payload, &invocation).await;
        result.map_err(|e| {
            tracing::error!(error = %e, kind = e.kind(), "invocation failed");
            Diagnostic {
                error_type: e.kind().to_string(),
                error_message: e.to_string(),
            }
        })
    }))
    .await
}
