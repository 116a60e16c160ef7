//! `alarm-fanout`: routes CloudWatch alarms and other notices to Telegram, Slack, Google
//! Chat, PagerDuty, SNS (email/SMS) and webhooks, without losing, repeating or reordering any.
//!
//! - [`event`] and [`notice`]: events (SNS, EventBridge, alarm actions, `redrive`) into inputs
//! - [`routing`]: the routing document and route matching
//! - [`severity`]: severity from the alarm's tag or name
//! - [`order`]: stale, duplicate and per-receiver decisions
//! - [`format`] and [`html`]: the complete message for each receiver, within its limits
//! - [`receivers`]: sending, with retries within the deadline
//! - [`store`]: leases and delivery records (the seam), [`aws`]: the SDK adapters,
//!   [`transport`]: HTTP over reqwest
//! - [`handler`]: the handler tying them together, [`redrive`]: the dead-letter action
//! - [`metrics`]: the embedded-metric line

pub mod alarm_metrics;
pub mod aws;
pub mod budget;
pub mod config;
mod delivery;
pub mod digest;
pub mod error;
pub mod event;
pub mod flush;
pub mod format;
pub mod handler;
#[cfg(test)]
mod handler_tests;
pub mod held;
pub mod html;
mod inhibit;
pub mod inhibition;
pub mod metrics;
pub mod notice;
pub mod order;
pub mod pace;
pub mod picture;
pub mod receivers;
pub mod redrive;
mod remind;
#[cfg(test)]
mod remind_tests;
pub mod reminders;
pub mod report;
pub mod routing;
pub mod routing_cache;
pub mod send;
pub mod severity;
pub mod silences;
pub mod store;
pub mod sweep;
#[cfg(test)]
mod sweep_tests;
pub mod threads;
pub mod transport;
pub mod windows;

pub use error::Error;

use aws_config::SdkConfig;
use groundcrew::secrets::{AwsSecretStore, CachedSecrets};

/// The production wiring.
pub type ProdApp = handler::App<
    aws::DynamoStore,
    receivers::Receivers<AwsSecretStore, aws_sdk_sns::Client, transport::ReqwestTransport>,
    severity::CloudWatchTags,
    aws::SqsDeadLetters,
>;

/// Builds the production app from configuration. An inline routing document is parsed here
/// (an invalid one fails start-up); one in SSM is read on first use.
pub async fn build(config: &config::Config, sdk: &SdkConfig) -> Result<ProdApp, Error> {
    let routing = match &config.routing {
        config::RoutingSource::Inline(text) => routing::Routing::parse(text)?.into(),
        config::RoutingSource::Ssm(name) => routing_cache::RoutingCache::parameter(
            name,
            config.routing_ttl,
            aws::routing_parameter(aws_sdk_ssm::Client::new(sdk), name),
        ),
    };
    let secrets = CachedSecrets::new(AwsSecretStore::new(sdk), config.secrets_cache);
    let deliver = receivers::Receivers::new(
        secrets,
        aws_sdk_sns::Client::new(sdk),
        config.endpoints.clone(),
        config.http,
        config.retry,
    )
    .map_err(|e| {
        Error::Config(groundcrew::config::ConfigError::Malformed {
            name: "HTTP_TIMEOUT_SECONDS".into(),
            reason: e.to_string(),
        })
    })?
    .with_threads(std::sync::Arc::new(aws::DynamoThreads::new(
        aws_sdk_dynamodb::Client::new(sdk),
        &config.table,
    )))
    .with_pictures(std::sync::Arc::new(aws::CloudWatchPictures(
        aws_sdk_cloudwatch::Client::new(sdk),
    )));
    Ok(handler::App {
        routing,
        store: aws::DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &config.table),
        deliver,
        severity: severity::SeverityResolver::new(
            severity::CloudWatchTags(aws_sdk_cloudwatch::Client::new(sdk)),
            &config.severity_tag,
            config.policy.default_severity,
            config.severity_cache,
        ),
        dead_letters: aws::SqsDeadLetters::new(
            aws_sdk_sqs::Client::new(sdk),
            config.dead_letter_queue.clone(),
        ),
        policy: config.policy,
        holders: Default::default(),
    })
}
