//! Lambda entry point: reads the settings and builds the AWS clients once, then serves
//! events. The work is in the library (`aurora_autopause`).

use aurora_autopause::aws::Aws;
use aurora_autopause::{Config, Error, Report};
use groundcrew::config::Env;
use groundcrew::Invocation;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

async fn handle(aws: &Aws, config: &Config, event: LambdaEvent<Value>) -> Result<Report, Error> {
    let invocation = Invocation::from_context(&event.context);
    let report = aurora_autopause::handle(aws, config, &event.payload, &invocation).await?;
    // One EMF line per invocation: CloudWatch turns it into metrics.
    println!(
        "{}",
        report.emf(
            &config.metrics_namespace,
            invocation.now().timestamp_millis()
        )
    );
    tracing::info!(
        action = report.action.as_str(),
        dry_run = report.dry_run,
        paused = report.summary.paused,
        woken = report.summary.woken,
        skipped = report.summary.skipped,
        failed = report.summary.failed,
        "done"
    );
    Ok(report)
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    groundcrew::logging::init();
    let config = Config::from_env(&Env::process())?;
    let aws = Aws::new(
        &groundcrew::aws::load_sdk_config().await,
        config.follow_up_queue_url.clone(),
    );
    let (aws, config) = (&aws, &config);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle(aws, config, event)
            .await
            .inspect_err(|e| tracing::error!(error = %e, "invocation failed"))
    }))
    .await
}
