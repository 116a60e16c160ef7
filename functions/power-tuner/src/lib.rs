//! `power-tuner`: finds the best memory size (and architecture) for a Lambda function by
//! measuring it, with AWS Lambda Power Tuning's input and output, as one function.
//!
//! - [`input`]: the request (Power Tuning's fields plus ours), validated up front.
//! - [`logs`]: the REPORT record of an invocation's log tail.
//! - [`stats`], [`price`], [`strategy`]: the analysis, pure.
//! - [`lambda`]: the Lambda API behind a trait; [`store`]: S3 (payloadS3, reportS3).
//! - [`run`]: the measurement, with cleanup and restore on every path.
//! - [`analysis`]: per-value statistics, the winner and the noise verdict.
//! - [`output`]: Power Tuning's output shape plus our report, and the SVG chart.
//! - [`handler`]: the Lambda handler.

pub mod analysis;
pub mod handler;
pub mod input;
pub mod lambda;
pub mod logs;
pub mod output;
pub mod price;
pub mod run;
pub mod stats;
pub mod store;
pub mod strategy;

use std::time::Duration;

use groundcrew::config::{ConfigError, Env, EnvSource};

#[derive(Debug, thiserror::Error)]
pub enum TunerError {
    #[error("invalid input: {0}")]
    Input(String),
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0}")]
    Lambda(#[from] lambda::LambdaError),
    #[error("payloadS3: {0}")]
    Payload(String),
    #[error("the run would not finish in time: estimated {estimate_s:.0} s, {available_s:.0} s available ({detail})")]
    WouldNotFinish {
        estimate_s: f64,
        available_s: f64,
        detail: String,
    },
    #[error("every power value failed: {0}")]
    AllFailed(String),
    #[error("the invocation deadline passed before any value was measured")]
    Deadline,
    #[error("{0}")]
    Config(#[from] ConfigError),
}

impl TunerError {
    /// A short name for the invocation error's `errorType`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Input(_) => "InvalidInput",
            Self::NotAllowed(_) => "NotAllowed",
            Self::Lambda(_) => "LambdaError",
            Self::Payload(_) => "PayloadError",
            Self::WouldNotFinish { .. } => "WouldNotFinish",
            Self::AllFailed(_) => "AllValuesFailed",
            Self::Deadline => "DeadlineExceeded",
            Self::Config(_) => "ConfigError",
        }
    }
}

impl From<TunerError> for lambda_runtime::Diagnostic {
    fn from(e: TunerError) -> Self {
        Self {
            error_type: e.kind().to_string(),
            error_message: e.to_string(),
        }
    }
}

/// Settings from the environment (read once, in `main`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Only functions whose name starts with this may be tuned (`GC_TUNE_FUNCTION_PREFIX`;
    /// empty: any function the role may touch).
    pub function_prefix: Option<String>,
    /// Upper bound on parallel invocations when the input sets none (`GC_MAX_CONCURRENCY`).
    pub default_concurrency: u32,
    /// Time kept back for cleanup and restore (`GC_CLEANUP_RESERVE_SECONDS`).
    pub cleanup_reserve: Duration,
    /// Assumed time of one configuration update + publish + alias, for the estimate
    /// (`GC_SETUP_ESTIMATE_MS`).
    pub setup_estimate: Duration,
    /// Where reports go when the input has no `reportS3` (`GC_REPORT_S3`).
    pub default_report_s3: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            function_prefix: None,
            default_concurrency: 50,
            cleanup_reserve: Duration::from_secs(20),
            setup_estimate: Duration::from_millis(3000),
            default_report_s3: None,
        }
    }
}

impl Settings {
    pub fn from_env<S: EnvSource>(env: &Env<S>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let default_concurrency = env.parse_or("GC_MAX_CONCURRENCY", d.default_concurrency)?;
        if !(1..=1000).contains(&default_concurrency) {
            return Err(ConfigError::Malformed {
                name: "GC_MAX_CONCURRENCY".into(),
                reason: "must be from 1 to 1000".into(),
            });
        }
        let default_report_s3 = env.optional("GC_REPORT_S3");
        if default_report_s3
            .as_deref()
            .is_some_and(|raw| input::S3Location::parse(raw).is_none())
        {
            return Err(ConfigError::Malformed {
                name: "GC_REPORT_S3".into(),
                reason: "expected s3://bucket[/prefix]".into(),
            });
        }
        Ok(Self {
            function_prefix: env.optional("GC_TUNE_FUNCTION_PREFIX"),
            default_concurrency,
            cleanup_reserve: env.seconds_or("GC_CLEANUP_RESERVE_SECONDS", d.cleanup_reserve)?,
            setup_estimate: Duration::from_millis(
                env.parse_or("GC_SETUP_ESTIMATE_MS", d.setup_estimate.as_millis() as u64)?,
            ),
            default_report_s3,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn settings_defaults_and_errors() {
        let s = Settings::from_env(&Env::new(HashMap::<&str, &str>::new())).unwrap();
        assert_eq!(s.default_concurrency, 50);
        assert_eq!(s.function_prefix, None);
        let env = Env::new(HashMap::from([
            ("GC_TUNE_FUNCTION_PREFIX", "groundcrew-dev-"),
            ("GC_CLEANUP_RESERVE_SECONDS", "5"),
        ]));
        let s = Settings::from_env(&env).unwrap();
        assert_eq!(s.function_prefix.as_deref(), Some("groundcrew-dev-"));
        assert_eq!(s.cleanup_reserve, Duration::from_secs(5));
        let err = Settings::from_env(&Env::new(HashMap::from([("GC_MAX_CONCURRENCY", "0")])))
            .unwrap_err();
        assert!(err.to_string().contains("GC_MAX_CONCURRENCY"));
        let err = Settings::from_env(&Env::new(HashMap::from([("GC_REPORT_S3", "s3://NO")])))
            .unwrap_err();
        assert!(err.to_string().contains("GC_REPORT_S3"));
    }
}
