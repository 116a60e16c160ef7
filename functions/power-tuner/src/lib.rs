//! `power-tuner`: finds the best memory size (and architecture) for a Lambda function by
//! measuring it, with AWS Lambda Power Tuning's input and output, as one function.
//!
//! - [`event`]: a run or an action (`status`, `cleanup`, `continue`);
//!   [`input`]: the request (Power Tuning's fields plus ours), validated up front.
//! - [`logs`]: the REPORT record of an invocation's log tail.
//! - [`stats`], [`price`], [`strategy`]: the analysis, pure.
//! - [`lambda`]: the Lambda API behind a trait; [`store`]: S3 (payloadS3, reports, the
//!   run's state and lock) behind a trait; [`aws`]: both over the AWS SDK.
//! - [`state`]: a run's state in S3; [`lock`]: one run per function.
//! - [`wait`]: retries and the waits AWS requires between changes.
//! - [`run`]: one invocation's share of the measurement; [`cleanup`]: the ledger's
//!   removal and the restore; [`apply`]: `autoOptimize`.
//! - [`analysis`]: per-value statistics, the winner and the noise verdict.
//! - [`output`]: Power Tuning's output shape plus our report; [`chart`]: the SVG chart.
//! - [`handler`]: the Lambda handler: starts, continues, reports on and cleans up runs.

pub mod analysis;
pub mod apply;
pub mod architecture;
pub mod aws;
pub mod chart;
pub mod cleanup;
pub mod event;
pub mod handler;
pub mod input;
pub mod lambda;
pub mod lock;
pub mod logs;
pub mod output;
pub mod price;
pub mod run;
pub mod state;
pub mod stats;
pub mod store;
pub mod strategy;
pub mod wait;

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
    /// Another run holds the function's lock.
    #[error("{0}")]
    Busy(String),
    /// The run's state or lock in S3 could not be read or written.
    #[error("run state: {0}")]
    State(String),
    /// Handing the run on to the next invocation failed.
    #[error("the run could not be continued: {0}")]
    Continuation(String),
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
            Self::Busy(_) => "RunInProgress",
            Self::State(_) => "StateError",
            Self::Continuation(_) => "ContinuationError",
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
    /// Where reports go when the input has no `reportS3` (`GC_REPORT_S3`); its bucket
    /// also holds every run's state and the per-function locks.
    pub default_report_s3: Option<String>,
    /// The tuner's own function, which a run invokes to continue
    /// (`AWS_LAMBDA_FUNCTION_NAME`, set by Lambda). Without it a run must fit in one
    /// invocation.
    pub self_function: Option<String>,
    /// The tuner's memory size, for its own cost (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`).
    pub self_memory_mb: u32,
    /// The Region the tuner's clients work in (`AWS_REGION`).
    pub region: Option<String>,
    /// How long past an invocation's deadline its run's lock stays held
    /// (`GC_LOCK_GRACE_SECONDS`): long enough for Lambda's retries of a failed
    /// asynchronous invocation (after about 1 and 2 minutes) and a queued continuation.
    pub lock_grace: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            function_prefix: None,
            default_concurrency: 50,
            cleanup_reserve: Duration::from_secs(20),
            setup_estimate: Duration::from_millis(3000),
            default_report_s3: None,
            self_function: None,
            self_memory_mb: 256,
            region: None,
            lock_grace: Duration::from_secs(600),
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
            self_function: env.optional("AWS_LAMBDA_FUNCTION_NAME"),
            self_memory_mb: env.parse_or("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", d.self_memory_mb)?,
            region: env.optional("AWS_REGION"),
            lock_grace: env.seconds_or("GC_LOCK_GRACE_SECONDS", d.lock_grace)?,
        })
    }

    /// The bucket of the runs' state and locks.
    pub fn state_bucket(&self) -> Option<String> {
        self.default_report_s3
            .as_deref()
            .and_then(input::S3Location::parse)
            .map(|l| l.bucket)
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
