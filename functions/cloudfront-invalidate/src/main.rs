//! Lambda entry point: wiring only. `groundcrew::runtime` owns the logs, the start-up
//! (settings and clients once; a bad setting is reported to Lambda as an init error) and
//! the runtime loop.
#![recursion_limit = "256"]

use cloudfront_invalidate::aws::{SdkCloudFront, SdkPipeline, SdkQueue, SdkS3};
use cloudfront_invalidate::aws_dynamo::SdkPending;
use cloudfront_invalidate::config::Config;
use cloudfront_invalidate::handler::Handler;
use cloudfront_invalidate::invalidate::Invalidator;
use groundcrew::config::{ConfigError, Env};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    groundcrew::runtime::run(
        async {
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
            Ok::<_, ConfigError>(Handler {
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
            })
        },
        |handler, event: Value, invocation| async move {
            handler.handle(&event, &invocation).await
        },
    )
    .await
}
