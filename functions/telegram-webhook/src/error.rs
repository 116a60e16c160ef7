//! The crate's errors. None carries a token: Telegram errors name the method, never the
//! URL, and echoed bodies are redacted before they are kept.

use groundcrew::aws_error::AwsError;
use groundcrew::config::ConfigError;
use groundcrew::custom_resource::CustomResourceError;
use groundcrew::secrets::SecretError;

use crate::telegram::TelegramError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("{property}: {reason}")]
    Invalid { property: String, reason: String },
    #[error("bad event: {0}")]
    BadEvent(String),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("secret {reference} does not hold a Telegram bot token (expected <bot id>:<secret>)")]
    NotABotToken { reference: String },
    #[error(
        "secret {reference} does not hold a usable secret token (1 to 256 of A-Z a-z 0-9 _ -)"
    )]
    BadSecretToken { reference: String },
    #[error("could not store a new secret token in {reference}: {reason}")]
    SecretCreate { reference: String, reason: String },
    /// Secrets Manager or SSM refused to store the new secret token.
    #[error("could not store a new secret token in {reference}: {source}")]
    SecretStore {
        reference: String,
        #[source]
        source: AwsError,
    },
    #[error(transparent)]
    Telegram(#[from] TelegramError),
    #[error("verification failed: {0}")]
    Verification(String),
    #[error("could not publish the alert: {0}")]
    Alert(#[source] AwsError),
    #[error(transparent)]
    CustomResource(#[from] CustomResourceError),
    /// The function's own settings are invalid (kept from start-up, so that CloudFormation
    /// and the health check can be told instead of the process failing to start).
    #[error("the function is misconfigured: {0}")]
    Misconfigured(String),
    #[error("the registered settings: {0}")]
    Registry(String),
    /// The SSM parameter recording the registration could not be read, stored or deleted.
    #[error("the registered settings: {name}: {source}")]
    RegistryCall {
        name: String,
        #[source]
        source: AwsError,
    },
    /// The HTTP client could not be built (at start-up: TLS roots, settings).
    #[error("could not build the HTTP client: {0}")]
    HttpClient(String),
}

/// A short name for Lambda's `errorType`.
pub fn kind(err: &Error) -> &'static str {
    match err {
        Error::Config(_) | Error::Misconfigured(_) => "ConfigError",
        Error::Registry(_) | Error::RegistryCall { .. } => "RegistryError",
        Error::Invalid { .. } | Error::BadEvent(_) => "BadEvent",
        Error::CustomResource(groundcrew::custom_resource::CustomResourceError::Undelivered {
            ..
        }) => "CloudFormationUndelivered",
        Error::CustomResource(_) => "BadEvent",
        Error::Secret(_)
        | Error::NotABotToken { .. }
        | Error::BadSecretToken { .. }
        | Error::SecretCreate { .. }
        | Error::SecretStore { .. } => "SecretError",
        Error::Telegram(_) | Error::Verification(_) => "TelegramError",
        Error::Alert(_) => "AlertError",
        Error::HttpClient(_) => "StartupError",
    }
}

impl From<Error> for lambda_runtime::Diagnostic {
    fn from(err: Error) -> Self {
        Self {
            error_type: kind(&err).to_string(),
            error_message: err.to_string(),
        }
    }
}
