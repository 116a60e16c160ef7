//! The crate's errors. Messages name what was wrong; none carries a credential.

use groundcrew::retry::{RetryAdvice, Transient};

/// An AWS call that failed, with what the service said.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{operation} failed: {message}")]
pub struct AwsError {
    pub operation: &'static str,
    /// The service's error code (`TooManyInvalidationsInProgress`, `Throttling`, ...).
    pub code: Option<String>,
    pub message: String,
    /// Transport failures, timeouts and 5xx answers.
    pub transient: bool,
}

/// Codes worth waiting out: CloudFront's in-progress limits and throttling.
const RETRYABLE_CODES: &[&str] = &[
    "TooManyInvalidationsInProgress",
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "InternalError",
];

impl AwsError {
    pub fn new(operation: &'static str, message: impl Into<String>) -> Self {
        Self {
            operation,
            code: None,
            message: message.into(),
            transient: false,
        }
    }

    pub fn with_code(mut self, code: &str) -> Self {
        self.code = Some(code.to_string());
        self
    }

    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

impl Transient for AwsError {
    fn retry_advice(&self) -> RetryAdvice {
        let by_code = self
            .code
            .as_deref()
            .is_some_and(|c| RETRYABLE_CODES.contains(&c));
        if by_code || self.transient {
            RetryAdvice::Retry
        } else {
            RetryAdvice::Stop
        }
    }
}

/// Batches that could not be submitted in time (boxed in [`Error`] to keep it small).
#[derive(Debug, thiserror::Error)]
#[error(
    "submitted {submitted} of {total} invalidation batches for {distribution} ({ids}); \
     {remaining} remain ({remaining_paths} paths, first {first}): {cause}"
)]
pub struct Incomplete {
    pub distribution: String,
    pub submitted: usize,
    pub total: usize,
    pub ids: String,
    pub remaining: usize,
    pub remaining_paths: usize,
    pub first: String,
    pub cause: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("bad event: {0}")]
    BadEvent(String),
    #[error("unknown distribution {0:?}: no distribution has that id, alias or tag")]
    UnknownDistribution(String),
    #[error("distribution {selector:?} is ambiguous: it matches {ids}")]
    AmbiguousDistribution { selector: String, ids: String },
    #[error("distribution {0} is not among the configured DISTRIBUTIONS")]
    NotAllowed(String),
    #[error("{0}")]
    Plan(#[from] crate::planner::PlanError),
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("the invocation deadline passed while {0}")]
    Deadline(String),
    #[error("{0}")]
    Incomplete(Box<Incomplete>),
    #[error("{0}; reported to CodePipeline as failed")]
    ReportedToPipeline(String),
    #[error("could not report the job result to CodePipeline: {0}")]
    PipelineReport(String),
    #[error("S3 notifications and flushes need {0}, which is not set")]
    NotConfigured(&'static str),
    #[error("the pending deploy of {0} kept changing under this invocation; retried later")]
    Contention(String),
}

impl Error {
    /// The error's kind, reported as the invocation's `errorType`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::BadEvent(_) => "BadEvent",
            Error::UnknownDistribution(_) => "UnknownDistribution",
            Error::AmbiguousDistribution { .. } => "AmbiguousDistribution",
            Error::NotAllowed(_) => "DistributionNotAllowed",
            Error::Plan(_) => "BadEvent",
            Error::Aws(_) => "AwsError",
            Error::Deadline(_) => "DeadlineExceeded",
            Error::Incomplete(_) => "IncompleteInvalidation",
            Error::ReportedToPipeline(_) => "JobFailed",
            Error::PipelineReport(_) => "PipelineReportFailed",
            Error::NotConfigured(_) => "NotConfigured",
            Error::Contention(_) => "Contention",
        }
    }
}

/// The invocation error Lambda reports: the kind as `errorType`, the message as it is.
impl From<Error> for lambda_runtime::Diagnostic {
    fn from(e: Error) -> Self {
        Self {
            error_type: e.kind().to_string(),
            error_message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_throttling_are_retried_the_rest_is_not() {
        let e = AwsError::new("CreateInvalidation", "x");
        assert_eq!(
            e.clone()
                .with_code("TooManyInvalidationsInProgress")
                .retry_advice(),
            RetryAdvice::Retry
        );
        assert_eq!(
            e.clone().with_code("Throttling").retry_advice(),
            RetryAdvice::Retry
        );
        assert_eq!(
            e.clone().with_code("NoSuchDistribution").retry_advice(),
            RetryAdvice::Stop
        );
        assert_eq!(
            AwsError {
                transient: true,
                ..e
            }
            .retry_advice(),
            RetryAdvice::Retry
        );
    }
}
