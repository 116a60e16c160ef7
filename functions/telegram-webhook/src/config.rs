//! The function's settings, read once from the environment.

use std::time::Duration;

use groundcrew::config::{ConfigError, Env, EnvSource};

use crate::properties::WebhookProperties;
use crate::telegram::DEFAULT_API_BASE;
use crate::validate;

#[derive(Debug, Clone)]
pub struct Config {
    /// `TELEGRAM_API_BASE_URL`: the Bot API server (tests, self-hosted Bot API servers).
    pub api_base: String,
    /// The webhook's properties for the health check and direct actions (`BOT_TOKEN_SECRET`,
    /// `WEBHOOK_URL`, `SECRET_TOKEN_SECRET`, `ALLOWED_UPDATES`, `MAX_CONNECTIONS`,
    /// `DROP_PENDING_UPDATES`); a custom resource's own properties take precedence.
    pub defaults: WebhookProperties,
    /// `ALARM_TOPIC_ARN`: where health alerts go; unset means logged only.
    pub alarm_topic_arn: Option<String>,
    /// `PENDING_UPDATES_THRESHOLD`: more waiting updates than this is a backlog.
    pub pending_threshold: u64,
    /// `RECENT_ERROR_SECONDS`: a delivery error younger than this is alerted on.
    pub recent_error: Duration,
    /// `REPAIR_DRIFT`: re-register when the webhook drifted.
    pub repair: bool,
    /// `GROUNDCREW_STAGE`, for alert texts.
    pub stage: String,
    /// `METRICS_NAMESPACE`: where the health check's metrics go.
    pub metrics_namespace: String,
    /// `AWS_LAMBDA_FUNCTION_NAME` (set by Lambda): the metrics' `Function` dimension.
    pub function_name: String,
    /// `REGISTRATION_PARAMETER_PREFIX`: SSM path under which the custom resource records
    /// what it registered (one parameter per bot), for the health check to compare and
    /// repair against; unset means the health check compares with the settings above.
    pub registration_prefix: Option<String>,
    /// `PROBE_ENDPOINT`: also probe the bot's endpoint (see `probe`); off by default because
    /// the bot sees the probe requests.
    pub probe_endpoint: bool,
    /// `PROBE_URL`: where to probe, when the endpoint is reachable from the function at
    /// another address than the webhook URL; default the webhook URL.
    pub probe_url: Option<String>,
    /// `HEALTH_URL`: the application's health URL, checked for `"mode": "webhook"`.
    pub health_url: Option<String>,
}

fn http_url<S: EnvSource>(env: &Env<S>, name: &str) -> Result<Option<String>, ConfigError> {
    match env.optional(name) {
        None => Ok(None),
        Some(raw) => match url::Url::parse(&raw) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(Some(raw)),
            _ => Err(ConfigError::Malformed {
                name: name.into(),
                reason: "expected an http(s) URL".into(),
            }),
        },
    }
}

fn malformed(name: &str) -> impl Fn(String) -> ConfigError + '_ {
    move |reason| ConfigError::Malformed {
        name: name.to_string(),
        reason,
    }
}

/// A secret reference from `name`, checked.
fn reference<S: EnvSource>(env: &Env<S>, name: &str) -> Result<Option<String>, ConfigError> {
    env.optional(name)
        .map(|r| validate::secret_reference(&r).map(|()| r))
        .transpose()
        .map_err(malformed(name))
}

/// The webhook's properties from the environment, each error naming its variable.
fn webhook_defaults<S: EnvSource>(env: &Env<S>) -> Result<WebhookProperties, ConfigError> {
    let webhook_url = env
        .optional("WEBHOOK_URL")
        .map(|u| validate::webhook_url(&u).map(|()| u))
        .transpose()
        .map_err(malformed("WEBHOOK_URL"))?;
    let max_connections = match env.optional("MAX_CONNECTIONS") {
        None => None,
        Some(raw) => Some(
            raw.parse::<u64>()
                .map_err(|_| "expected a whole number".to_string())
                .and_then(validate::max_connections)
                .map_err(malformed("MAX_CONNECTIONS"))?,
        ),
    };
    let allowed_updates = match env.list("ALLOWED_UPDATES") {
        list if list.is_empty() => None,
        list => {
            validate::update_types(&list).map_err(malformed("ALLOWED_UPDATES"))?;
            Some(list)
        }
    };
    Ok(WebhookProperties {
        bot_token_secret: reference(env, "BOT_TOKEN_SECRET")?,
        webhook_url,
        secret_token_secret: reference(env, "SECRET_TOKEN_SECRET")?,
        allowed_updates,
        max_connections,
        drop_pending_updates: env.bool_or("DROP_PENDING_UPDATES", false)?,
    })
}

/// Default namespace of the health check's metrics.
pub const DEFAULT_METRICS_NAMESPACE: &str = "groundcrew/telegram-webhook";

impl Config {
    pub fn from_env<S: EnvSource>(env: &Env<S>) -> Result<Self, ConfigError> {
        let api_base = env
            .optional("TELEGRAM_API_BASE_URL")
            .unwrap_or_else(|| DEFAULT_API_BASE.to_string());
        match url::Url::parse(&api_base) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => {
                return Err(ConfigError::Malformed {
                    name: "TELEGRAM_API_BASE_URL".into(),
                    reason: "expected an http(s) URL".into(),
                })
            }
        }
        let defaults = webhook_defaults(env)?;
        Ok(Self {
            api_base,
            defaults,
            alarm_topic_arn: env.optional("ALARM_TOPIC_ARN"),
            pending_threshold: env.parse_or("PENDING_UPDATES_THRESHOLD", 100)?,
            recent_error: env.seconds_or("RECENT_ERROR_SECONDS", Duration::from_secs(900))?,
            repair: env.bool_or("REPAIR_DRIFT", true)?,
            stage: env
                .optional("GROUNDCREW_STAGE")
                .unwrap_or_else(|| "dev".to_string()),
            metrics_namespace: env
                .optional("METRICS_NAMESPACE")
                .unwrap_or_else(|| DEFAULT_METRICS_NAMESPACE.to_string()),
            function_name: env
                .optional("AWS_LAMBDA_FUNCTION_NAME")
                .unwrap_or_else(|| "telegram-webhook".to_string()),
            registration_prefix: match env.optional("REGISTRATION_PARAMETER_PREFIX") {
                Some(p) if !p.starts_with('/') || p.len() < 2 => {
                    return Err(ConfigError::Malformed {
                        name: "REGISTRATION_PARAMETER_PREFIX".into(),
                        reason: "expected an SSM path such as /groundcrew-dev/telegram-webhook"
                            .into(),
                    })
                }
                p => p.map(|p| p.trim_end_matches('/').to_string()),
            },
            probe_endpoint: env.bool_or("PROBE_ENDPOINT", false)?,
            probe_url: http_url(env, "PROBE_URL")?,
            health_url: http_url(env, "HEALTH_URL")?,
        })
    }

    /// The settings of an empty environment: what the app runs with when its own are
    /// invalid (it then answers every request with that error instead of failing to start).
    pub fn fallback() -> Self {
        let empty: std::collections::HashMap<String, String> = Default::default();
        Self::from_env(&Env::new(empty)).unwrap_or_else(|_| Self {
            api_base: DEFAULT_API_BASE.to_string(),
            defaults: WebhookProperties::default(),
            alarm_topic_arn: None,
            pending_threshold: 100,
            recent_error: Duration::from_secs(900),
            repair: false,
            stage: "dev".to_string(),
            metrics_namespace: DEFAULT_METRICS_NAMESPACE.to_string(),
            function_name: "telegram-webhook".to_string(),
            registration_prefix: None,
            probe_endpoint: false,
            probe_url: None,
            health_url: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use groundcrew::testing::env;

    #[test]
    fn defaults_and_overrides() {
        let c = Config::from_env(&env(&[])).unwrap();
        assert_eq!(c.api_base, DEFAULT_API_BASE);
        assert_eq!(c.pending_threshold, 100);
        assert!(c.repair);
        let c = Config::from_env(&env(&[
            ("TELEGRAM_API_BASE_URL", "http://127.0.0.1:4580"),
            ("WEBHOOK_URL", "https://bot.example/h"),
            ("MAX_CONNECTIONS", "10"),
            ("ALLOWED_UPDATES", "message,callback_query"),
        ]))
        .unwrap();
        assert_eq!(c.defaults.max_connections, Some(10));
        assert_eq!(c.defaults.allowed_updates.as_ref().unwrap().len(), 2);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = Config::from_env(&env(&[("WEBHOOK_URL", "http://x.example/h")])).unwrap_err();
        assert!(e.to_string().contains("WEBHOOK_URL"), "{e}");
        let e = Config::from_env(&env(&[("MAX_CONNECTIONS", "0")])).unwrap_err();
        assert!(e.to_string().contains("MAX_CONNECTIONS"), "{e}");
        let e = Config::from_env(&env(&[("TELEGRAM_API_BASE_URL", "ftp://x")])).unwrap_err();
        assert!(e.to_string().contains("TELEGRAM_API_BASE_URL"), "{e}");
    }
}
