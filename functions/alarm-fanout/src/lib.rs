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
#[cfg(test)]
mod test_support;
pub mod threads;
pub mod transport;
pub mod windows;

pub use error::Error;

use aws_config::SdkConfig;
use groundcrew::secrets::{AwsSecretStore, CachedSecrets};

/// The production wiring.
pub type ProdApp = handler::App<
    aws::DynamoStore,
    receivers::Receivers<AwsSecretStore, aws::SnsPublisher, transport::ReqwestTransport>,
    severity::CloudWatchTags,
    aws::SqsDeadLetters,
>;

/// Builds the production app from configuration. An inline routing document is parsed here
/// (an invalid one fails start-up); one in SSM is read on first use. No SDK client is built
/// here: each is built when first used ([`aws::Clients`]).
pub async fn build(config: &config::Config, sdk: &SdkConfig) -> Result<ProdApp, Error> {
    build_with(config, sdk, &aws::Clients::new(sdk))
}

fn build_with(
    config: &config::Config,
    sdk: &SdkConfig,
    clients: &aws::Clients,
) -> Result<ProdApp, Error> {
    let routing = match &config.routing {
        config::RoutingSource::Inline(text) => routing::Routing::parse(text)?.into(),
        config::RoutingSource::Ssm(name) => routing_cache::RoutingCache::parameter(
            name,
            config.routing_ttl,
            aws::routing_parameter(clients.ssm.clone(), name),
        ),
    };
    let secrets = CachedSecrets::new(AwsSecretStore::new(sdk), config.secrets_cache);
    let deliver = receivers::Receivers::new(
        secrets,
        aws::SnsPublisher::shared(clients.sns.clone()),
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
    .with_threads(std::sync::Arc::new(aws::DynamoThreads::shared(
        clients.dynamodb.clone(),
        &config.table,
    )))
    .with_pictures(std::sync::Arc::new(aws::CloudWatchPictures::shared(
        clients.cloudwatch.clone(),
    )));
    Ok(handler::App {
        routing,
        store: aws::DynamoStore::shared(clients.dynamodb.clone(), &config.table),
        deliver,
        severity: severity::SeverityResolver::new(
            severity::CloudWatchTags::shared(clients.cloudwatch.clone()),
            &config.severity_tag,
            config.policy.default_severity,
            config.severity_cache,
        ),
        dead_letters: aws::SqsDeadLetters::shared(
            clients.sqs.clone(),
            config.dead_letter_queue.clone(),
        ),
        policy: config.policy,
        holders: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use groundcrew::testing::env;

    const DOCUMENT: &str = r#"{"receivers": {"ops": {"type": "telegram", "chat_id": -100,
        "bot_token_secret": "t"}}, "default": "ops"}"#;

    #[test]
    fn building_the_app_builds_no_sdk_client() {
        let sdk = SdkConfig::builder()
            .region(aws_config::Region::new("eu-west-1"))
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        for pairs in [
            &[
                ("DELIVERY_TABLE", "t"),
                ("ROUTING_SSM_PARAMETER", "/routing"),
            ][..],
            &[("DELIVERY_TABLE", "t"), ("ROUTING_DOCUMENT", DOCUMENT)][..],
        ] {
            let config = config::Config::from_env(&env(pairs)).expect("config");
            let clients = aws::Clients::new(&sdk);
            let _app = build_with(&config, &sdk, &clients).expect("app");
            assert_eq!(clients.built(), [false; 5], "a client built at start-up");
        }
    }
}
