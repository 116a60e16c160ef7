//! The crate's errors. None of them carries a secret: receiver errors name the receiver,
//! never its URL, token or routing key.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("configuration: {0}")]
    Config(#[from] groundcrew::config::ConfigError),
    #[error("routing document: {0}")]
    Routing(String),
    #[error("bad event: {reason}")]
    BadEvent { reason: String },
    #[error("delivery store: {0}")]
    Store(String),
    #[error("message {id} is being delivered by another invocation; try again later")]
    Busy { id: String },
    #[error("the lease on {subject} was taken over by another invocation; stopped")]
    LeaseLost { subject: String },
    #[error("message {id} could not be delivered to {}: {}", .failed.join(", "), .reasons.join("; "))]
    Delivery {
        id: String,
        failed: Vec<String>,
        reasons: Vec<String>,
    },
    #[error("dead-letter queue: {0}")]
    DeadLetters(String),
    #[error("{0}")]
    Several(String),
}

impl Error {
    /// The error's type as Lambda reports it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Config(_) => "ConfigError",
            Self::Routing(_) => "RoutingError",
            Self::BadEvent { .. } => "BadEvent",
            Self::Store(_) => "StoreError",
            Self::Busy { .. } => "Busy",
            Self::LeaseLost { .. } => "LeaseLost",
            Self::Delivery { .. } => "DeliveryFailed",
            Self::DeadLetters(_) => "DeadLetterError",
            Self::Several(_) => "SeveralErrors",
        }
    }
}

impl From<Error> for lambda_runtime::Diagnostic {
    fn from(err: Error) -> Self {
        Self {
            error_type: err.kind().into(),
            error_message: err.to_string(),
        }
    }
}
