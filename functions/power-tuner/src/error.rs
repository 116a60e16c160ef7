//! The crate's error: what went wrong, named for the field, setting or call, and its
//! `errorType` in the invocation error Lambda reports.

use groundcrew::config::ConfigError;

use crate::lambda;

#[derive(Debug, thiserror::Error)]
pub enum Error {
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

impl Error {
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

impl From<Error> for lambda_runtime::Diagnostic {
    fn from(e: Error) -> Self {
        Self {
            error_type: e.kind().to_string(),
            error_message: e.to_string(),
        }
    }
}
