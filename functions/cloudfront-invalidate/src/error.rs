//! The crate's errors. Messages name what was wrong; none carries a credential.

/// AWS errors are classified once, for every function, by `groundcrew::aws_error`
/// (CloudFront's `TooManyInvalidationsInProgress` is among its transient codes).
pub use groundcrew::aws_error::{AwsError, Fault};

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
