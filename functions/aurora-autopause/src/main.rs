//! Lambda entry point: wiring only. `groundcrew::runtime` owns the logs, the start-up
//! (settings and AWS clients once; a bad setting is reported to Lambda as an init error)
//! and the runtime loop; the work is in the library (`aurora_autopause`).

use aurora_autopause::aws::Aws;
use aurora_autopause::{Config, Error, Report};
use groundcrew::config::{ConfigError, Env};
use groundcrew::Invocation;
use serde_json::Value;

async fn handle(
    (aws, config): &(Aws, Config),
    payload: Value,
    invocation: Invocation,
) -> Result<Report, Error> {
    let report = aurora_autopause::handle(aws, config, &payload, &invocation).await?;
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
    groundcrew::runtime::run(
        async {
            let config = Config::from_env(&Env::process())?;
            let aws = Aws::new(
                &groundcrew::aws::load_sdk_config().await,
                config.follow_up_queue_url.clone(),
            );
            Ok::<_, ConfigError>((aws, config))
        },
        handle,
    )
    .await
}
