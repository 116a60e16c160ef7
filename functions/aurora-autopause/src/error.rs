//! The crate's one error type, and how Lambda is told about it.

use groundcrew::aws_error::AwsError;
use groundcrew::retry::Transient;

/// Everything that can go wrong in an invocation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The event was not one this function understands; nothing was done.
    #[error("bad event: {0}")]
    BadEvent(String),
    /// An AWS call failed (after the SDK's own retries), classified by
    /// [`groundcrew::aws_error`].
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The invocation deadline passed.
    #[error("the invocation deadline passed during {0}")]
    Deadline(&'static str),
}

impl Error {
    /// The AWS error code, if an AWS call failed with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Aws(e) => e.code.as_deref(),
            _ => None,
        }
    }

    /// The AWS error's message (empty for other errors).
    pub fn aws_message(&self) -> &str {
        match self {
            Error::Aws(e) => &e.message,
            _ => "",
        }
    }

    /// An AWS error of `op` with no code (a condition of ours, not the service's answer).
    pub fn aws(op: &'static str, message: impl Into<String>) -> Self {
        Error::Aws(AwsError::new(op, message))
    }
}

impl Error {
    /// RDS said no (a state or parameter fault): nothing was changed. Timeouts, throttling
    /// and service errors are not refusals: the change may or may not have happened.
    pub fn is_refusal(&self) -> bool {
        matches!(self.code(), Some(c) if c.starts_with("Invalid") || c.contains("NotFound"))
    }

    /// Throttling, timeouts and service-side errors: worth trying again later.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Aws(e) if e.is_transient())
    }
}

impl Transient for Error {
    fn retry_advice(&self) -> groundcrew::retry::RetryAdvice {
        match self {
            Error::Aws(e) => e.retry_advice(),
            _ => groundcrew::retry::RetryAdvice::Stop,
        }
    }
}

impl From<Error> for lambda_runtime::Diagnostic {
    fn from(e: Error) -> Self {
        let error_type = match &e {
            Error::BadEvent(_) => "BadEvent",
            Error::Aws { .. } => "AwsError",
            Error::Deadline(_) => "DeadlineExceeded",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.to_string(),
            error_message: e.to_string(),
        }
    }
}
