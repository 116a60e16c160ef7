//! The crate's one error type, and how Lambda is told about it.

/// Everything that can go wrong in an invocation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The event was not one this function understands; nothing was done.
    #[error("bad event: {0}")]
    BadEvent(String),
    /// An AWS call failed (after the SDK's own retries).
    #[error("{op} failed: {message}")]
    Aws {
        op: &'static str,
        code: Option<String>,
        message: String,
    },
    /// The invocation deadline passed.
    #[error("the invocation deadline passed during {0}")]
    Deadline(&'static str),
}

impl Error {
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Aws { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    pub fn aws_message(&self) -> &str {
        match self {
            Error::Aws { message, .. } => message,
            _ => "",
        }
    }
}

impl Error {
    /// RDS said no (a state or parameter fault): nothing was changed. Timeouts, throttling
    /// and service errors are not refusals: the change may or may not have happened.
    pub fn is_refusal(&self) -> bool {
        matches!(self.code(), Some(c) if c.starts_with("Invalid") || c.ends_with("NotFoundFault"))
    }

    /// Throttling and service-side errors: worth trying again later.
    pub fn is_transient(&self) -> bool {
        matches!(self.code(), Some(c) if c.contains("Throttl")
            || c == "TooManyRequestsException"
            || c == "RequestLimitExceeded"
            || c == "ServiceUnavailable"
            || c == "InternalFailure"
            || c == "InternalError")
    }
}

impl groundcrew::retry::Transient for Error {
    fn retry_advice(&self) -> groundcrew::retry::RetryAdvice {
        if self.is_transient() {
            groundcrew::retry::RetryAdvice::Retry
        } else {
            groundcrew::retry::RetryAdvice::Stop
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
