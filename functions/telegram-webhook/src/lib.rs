//! `telegram-webhook`: registers, verifies, repairs and deletes a Telegram bot's webhook.
//!
//! Three ways in: a CloudFormation custom resource (`Custom::TelegramWebhook`), a
//! scheduled health check (EventBridge), and direct actions for operators. The bot token
//! is in Telegram's URL, so it never appears in a log line, an error, a `Reason` or `Data`.

pub mod alerts;
pub mod app;
pub mod config;
pub mod error;
pub mod settings;
pub mod telegram;
pub mod vault;

pub use app::App;
pub use config::Config;
pub use error::Error;

use groundcrew::custom_resource::ResponderSettings;

/// Builds the production app from the environment and the SDK configuration.
pub fn build(
    config: Config,
    sdk: &aws_config::SdkConfig,
) -> Result<App<vault::AwsVault, alerts::SnsAlerts>, Error> {
    let http = groundcrew::http::client(groundcrew::http::HttpSettings::default())
        .map_err(|e| Error::BadEvent(e.to_string()))?;
    Ok(App {
        telegram: telegram::Telegram::new(http.clone(), &config.api_base),
        vault: vault::AwsVault::new(sdk),
        alerts: alerts::SnsAlerts::new(sdk, config.alarm_topic_arn.clone()),
        http,
        responder: ResponderSettings {
            response_reserve: app::RESPONSE_RESERVE,
            ..ResponderSettings::default()
        },
        config,
    })
}

/// The Lambda entry point: logging, configuration and clients once, then the runtime loop.
pub async fn run_lambda() -> Result<(), lambda_runtime::Error> {
    use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
    groundcrew::logging::init();
    let config = Config::from_env(&groundcrew::config::Env::process())?;
    let sdk = groundcrew::aws::load_sdk_config().await;
    let app = build(config, &sdk)?;
    let app = &app;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            let deadline = groundcrew::Deadline::from_context(&event.context);
            let now = chrono::Utc::now().timestamp();
            // Boxed: the nested futures are too deep for the compiler's layout query otherwise.
            Box::pin(app.handle(event.payload, deadline, now))
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "invocation failed");
                    Diagnostic {
                        error_type: error::kind(&e).to_string(),
                        error_message: e.to_string(),
                    }
                })
        },
    ))
    .await
}
