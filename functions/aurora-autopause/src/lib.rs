//! `aurora-autopause`: pauses idle dev Aurora clusters (stop, or Serverless v2 auto-pause)
//! and dev ECS services, wakes them again exactly as they were, and re-stops clusters that
//! AWS restarts after seven days. Only resources carrying the opt-in tag are touched, and a
//! protection rule (default `environment=prod|production`) wins over opt-in.
//!
//! Layout: [`event`] parses what arrives, [`model`] holds the pure decisions (scope, idle,
//! plan, records), [`ops`] carries them out through the small traits in [`cloud`]
//! (implemented on the real SDK clients in [`aws`]), and [`report`] is what comes back,
//! with the EMF metrics line.

pub mod aws;
pub mod cloud;
pub mod config;
pub mod event;
pub mod idle;
pub mod model;
pub mod ops;
pub mod report;

pub use config::Config;
pub use event::{Action, Request};
pub use report::Report;

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

/// Parses an event and carries it out within the invocation's deadline. A bad event is
/// refused before any AWS call.
pub async fn handle<C: cloud::Cloud>(
    cloud: &C,
    config: &Config,
    payload: &serde_json::Value,
    invocation: &groundcrew::Invocation,
) -> Result<Report, Error> {
    let incoming = event::parse_incoming(payload)?;
    let label = match &incoming {
        event::Incoming::One(r) => r.action.as_str(),
        event::Incoming::Queue(_) => "batch",
    };
    invocation
        .deadline
        .run(ops::handle(cloud, config, incoming, invocation))
        .await
        .map_err(|_| Error::Deadline(label))?
}
