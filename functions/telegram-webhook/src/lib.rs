//! `telegram-webhook`: registers, verifies, repairs and deletes a Telegram bot's webhook.
//!
//! Three ways in: a CloudFormation custom resource (`Custom::TelegramWebhook`), a
//! scheduled health check (EventBridge), and direct actions for operators. The bot token
//! is in Telegram's URL, so it never appears in a log line, an error, a `Reason` or `Data`.

pub mod action;
pub mod alerts;
pub mod aws;
pub mod check;
pub mod config;
pub mod error;
pub mod event;
pub mod handler;
pub mod health;
pub mod probe;
pub mod properties;
pub mod redacted;
pub mod register;
pub mod registration;
pub mod resource;
pub mod telegram;
pub mod validate;
pub mod vault;

pub use config::Config;
pub use error::Error;
pub use handler::{App, Report};

use groundcrew::custom_resource::ResponderSettings;

/// Builds the production app from the environment and the SDK configuration.
pub fn build(config: Config, sdk: &aws_config::SdkConfig) -> Result<ProdApp, Error> {
    let http = groundcrew::http::client(groundcrew::http::HttpSettings::default())
        .map_err(|e| Error::HttpClient(e.to_string()))?;
    Ok(App {
        telegram: telegram::Telegram::new(http.clone(), &config.api_base),
        vault: aws::AwsVault::new(sdk),
        alerts: aws::SnsAlerts::new(sdk, config.alarm_topic_arn.clone()),
        endpoint: probe::HttpEndpoint(http.clone()),
        http,
        responder: ResponderSettings {
            response_reserve: handler::RESPONSE_RESERVE,
            ..ResponderSettings::default()
        },
        config,
        config_error: None,
        metrics: health::MetricsSink::Stdout,
    })
}

/// The production app.
pub type ProdApp = App<aws::AwsVault, aws::SnsAlerts>;

/// Reads the configuration and builds the production app (at start-up, in `main`).
///
/// Invalid settings do not fail the start-up: CloudFormation would then get no answer and
/// wait out its timeout. The app starts on default settings instead and answers every
/// request with the problem (FAILED to CloudFormation, a `ConfigInvalid` finding from the
/// health check, an error to a direct invocation).
pub async fn build_from_env() -> Result<ProdApp, Error> {
    let (config, config_error) = match Config::from_env(&groundcrew::config::Env::process()) {
        Ok(config) => (config, None),
        Err(e) => {
            tracing::error!(error = %e, "invalid settings; every request will be answered with this");
            (Config::fallback(), Some(e.to_string()))
        }
    };
    let sdk = groundcrew::aws::load_sdk_config().await;
    let mut app = build(config, &sdk)?;
    app.config_error = config_error;
    Ok(app)
}

/// One invocation, as `groundcrew::runtime::run` hands it over (`main.rs`, and the bench's
/// child process, which runs the function as Lambda would).
pub fn serve(
    app: &'static ProdApp,
    event: serde_json::Value,
    invocation: groundcrew::Invocation,
) -> impl std::future::Future<Output = Result<Report, Error>> {
    // Boxed: the nested futures are too deep for the compiler's layout query otherwise.
    Box::pin(app.handle(event, invocation))
}
