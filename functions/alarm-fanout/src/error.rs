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
    #[error("message {id} could not be delivered to {}: {}", .failed.join(", "), .reasons.join("; "))]
    Delivery {
        id: String,
        failed: Vec<String>,
        reasons: Vec<String>,
    },
    #[error("{0}")]
    Several(String),
}
