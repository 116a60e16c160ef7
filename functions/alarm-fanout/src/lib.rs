//! `alarm-fanout`: routes CloudWatch alarms and other notices to Telegram, Slack, Google
//! Chat, PagerDuty, SNS (email/SMS) and webhooks, without losing or repeating any.
//!
//! - [`notice`]: events (SNS, EventBridge, alarm actions) into notices
//! - [`routing`]: the routing document and route matching
//! - [`severity`]: severity from the alarm's tag or name
//! - [`format`] and [`html`]: a message made for each receiver
//! - [`receivers`]: sending, with retries within the deadline
//! - [`store`]: deduplication, delivery and repeat records in DynamoDB
//! - [`app`]: the handler's logic tying them together

pub mod app;
pub mod config;
pub mod error;
pub mod format;
pub mod html;
pub mod notice;
pub mod receivers;
pub mod routing;
pub mod severity;
pub mod store;

pub use error::Error;

use aws_config::SdkConfig;
use groundcrew::secrets::{AwsSecretStore, CachedSecrets};

/// The production wiring.
pub type ProdApp = app::App<
    store::DynamoStore,
    receivers::Receivers<AwsSecretStore, aws_sdk_sns::Client>,
    severity::CloudWatchTags,
>;

/// Builds the production app from configuration (at start-up; an invalid routing document fails here).
pub async fn build(config: &config::Config, sdk: &SdkConfig) -> Result<ProdApp, Error> {
    let routing = config.routing.load(&aws_sdk_ssm::Client::new(sdk)).await?;
    let secrets = CachedSecrets::new(AwsSecretStore::new(sdk), config.secrets_cache);
    let deliver = receivers::Receivers::new(
        secrets,
        aws_sdk_sns::Client::new(sdk),
        config.endpoints.clone(),
        config.http,
        config.retry,
        config.telegram_max_parts,
    )
    .map_err(|e| Error::Routing(e.to_string()))?;
    Ok(app::App {
        routing,
        store: store::DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &config.table),
        deliver,
        severity: severity::SeverityResolver::new(
            severity::CloudWatchTags(aws_sdk_cloudwatch::Client::new(sdk)),
            &config.severity_tag,
            config.policy.default_severity,
            config.severity_cache,
        ),
        clock: std::sync::Arc::new(app::SystemClock),
        policy: config.policy,
    })
}
