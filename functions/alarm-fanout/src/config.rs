//! Settings, read once at start-up. Every variable is documented in the README.

use std::time::Duration;

use groundcrew::config::{ConfigError, Env, EnvSource};
use groundcrew::http::HttpSettings;
use groundcrew::retry::RetryPolicy;

use crate::error::Error;
use crate::handler::Policy;
use crate::receivers::Endpoints;
use crate::severity::Severity;

/// Where the routing document comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoutingSource {
    /// `ROUTING_DOCUMENT`: the JSON or YAML text itself.
    Inline(String),
    /// `ROUTING_SSM_PARAMETER`: the name (or ARN) of an SSM parameter holding it.
    Ssm(String),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub routing: RoutingSource,
    pub table: String,
    pub policy: Policy,
    pub severity_tag: String,
    pub severity_cache: Duration,
    pub secrets_cache: Duration,
    pub endpoints: Endpoints,
    pub http: HttpSettings,
    pub retry: RetryPolicy,
    /// `DEAD_LETTER_QUEUE_URL`: the queue the `redrive` action reads.
    pub dead_letter_queue: Option<String>,
    /// `ROUTING_CACHE_SECONDS`: how long a routing document read from SSM is used before
    /// it is read again.
    pub routing_ttl: Duration,
}

impl Config {
    pub fn from_env<S: EnvSource>(env: &Env<S>) -> Result<Self, Error> {
        let routing = match (
            env.optional("ROUTING_DOCUMENT"),
            env.optional("ROUTING_SSM_PARAMETER"),
        ) {
            (Some(doc), None) => RoutingSource::Inline(doc),
            (None, Some(name)) => RoutingSource::Ssm(name),
            (Some(_), Some(_)) => {
                return Err(ConfigError::Malformed {
                    name: "ROUTING_DOCUMENT".into(),
                    reason: "set ROUTING_DOCUMENT or ROUTING_SSM_PARAMETER, not both".into(),
                }
                .into())
            }
            (None, None) => {
                return Err(ConfigError::Missing {
                    name: "ROUTING_DOCUMENT or ROUTING_SSM_PARAMETER".into(),
                }
                .into())
            }
        };
        let default_severity = match env.optional("DEFAULT_SEVERITY") {
            None => Severity::Warning,
            Some(s) => Severity::parse(&s).ok_or_else(|| ConfigError::Malformed {
                name: "DEFAULT_SEVERITY".into(),
                reason: "expected critical, error, warning or info".into(),
            })?,
        };
        let attempts: usize = env.parse_or("RECEIVER_MAX_ATTEMPTS", 4)?;
        if attempts == 0 {
            return Err(ConfigError::Malformed {
                name: "RECEIVER_MAX_ATTEMPTS".into(),
                reason: "must be at least 1".into(),
            }
            .into());
        }
        let defaults = Endpoints::default();
        Ok(Self {
            routing,
            table: env.required("DELIVERY_TABLE")?,
            policy: Policy {
                record_ttl: env
                    .seconds_or("RECORD_TTL_SECONDS", Duration::from_secs(30 * 86_400))?,
                default_severity,
                telegram_max_parts: env.parse_or("TELEGRAM_MAX_PARTS", 3)?,
                ..Policy::default()
            },
            severity_tag: env
                .optional("SEVERITY_TAG")
                .unwrap_or_else(|| "severity".into()),
            severity_cache: env.seconds_or("SEVERITY_CACHE_SECONDS", Duration::from_secs(600))?,
            secrets_cache: env
                .seconds_or("SECRETS_CACHE_SECONDS", groundcrew::secrets::DEFAULT_TTL)?,
            endpoints: Endpoints {
                telegram_api: env
                    .optional("TELEGRAM_API_URL")
                    .unwrap_or(defaults.telegram_api),
                pagerduty_events: env
                    .optional("PAGERDUTY_EVENTS_URL")
                    .unwrap_or(defaults.pagerduty_events),
                slack_api: env.optional("SLACK_API_URL").unwrap_or(defaults.slack_api),
            },
            http: HttpSettings {
                connect_timeout: Duration::from_secs(3),
                request_timeout: env.seconds_or("HTTP_TIMEOUT_SECONDS", Duration::from_secs(10))?,
            },
            retry: RetryPolicy {
                max_attempts: attempts,
                ..RetryPolicy::default()
            },
            dead_letter_queue: env.optional("DEAD_LETTER_QUEUE_URL"),
            routing_ttl: env.seconds_or("ROUTING_CACHE_SECONDS", Duration::from_secs(60))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use groundcrew::testing::env;

    #[test]
    fn needs_one_routing_source_and_a_table() {
        let err = Config::from_env(&env(&[("DELIVERY_TABLE", "t")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("ROUTING_DOCUMENT or ROUTING_SSM_PARAMETER"),
            "{err}"
        );
        let err = Config::from_env(&env(&[
            ("DELIVERY_TABLE", "t"),
            ("ROUTING_DOCUMENT", "x"),
            ("ROUTING_SSM_PARAMETER", "/p"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("not both"), "{err}");
        let err = Config::from_env(&env(&[("ROUTING_SSM_PARAMETER", "/p")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("DELIVERY_TABLE"), "{err}");
        let c = Config::from_env(&env(&[
            ("ROUTING_SSM_PARAMETER", "/p"),
            ("DELIVERY_TABLE", "t"),
            ("RECORD_TTL_SECONDS", "60"),
        ]))
        .unwrap();
        assert_eq!(c.routing, RoutingSource::Ssm("/p".into()));
        assert_eq!(c.policy.record_ttl, Duration::from_secs(60));
        assert_eq!(c.dead_letter_queue, None);
        assert_eq!(c.endpoints.telegram_api, "https://api.telegram.org");
        let err = Config::from_env(&env(&[
            ("ROUTING_SSM_PARAMETER", "/p"),
            ("DELIVERY_TABLE", "t"),
            ("DEFAULT_SEVERITY", "meh"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("DEFAULT_SEVERITY"), "{err}");
    }
}
