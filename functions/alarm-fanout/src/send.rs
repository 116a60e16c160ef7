//! One send as the delivery code sees it: the [`Deliver`] seam (the receivers in
//! production, a fake in the handler's tests), what a send came to ([`Sent`], [`Failed`])
//! and why it failed ([`SendError`]).

use std::future::Future;

use groundcrew::http::HttpError;
use groundcrew::retry::{RetryAdvice, Transient};
use groundcrew::secrets::SecretError;
use groundcrew::Deadline;

use crate::format::Message;
use crate::pace::Pace;
use crate::routing::Receiver;

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("{target}: {reason}")]
    Rejected { target: String, reason: String },
    #[error("sns publish: {reason}")]
    Sns { reason: String, retryable: bool },
    #[error("the invocation deadline passed before the receiver answered")]
    Deadline,
    #[error("{0}")]
    Mismatch(String),
    /// The receiver's budget has no room soon enough: the notice goes into its digest.
    #[error("{target}: rate limited: {reason}")]
    RateLimited { target: String, reason: String },
    /// The shared budget could not be read or written.
    #[error("message budget: {0}")]
    Budget(String),
}

impl SendError {
    /// Whether the receiver may have accepted the request although we saw a failure.
    /// Whether the receiver refused for its rate limit (ours or its own 429) and the
    /// notice belongs in its digest.
    pub fn rate_limited(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Http(HttpError::Status { status: 429, .. })
        )
    }

    pub fn uncertain(&self) -> bool {
        matches!(
            self,
            Self::Http(HttpError::Transport {
                timed_out: true,
                ..
            }) | Self::Deadline
        )
    }
}

impl Transient for SendError {
    fn retry_advice(&self) -> RetryAdvice {
        match self {
            Self::Http(e) => e.retry_advice(),
            Self::Sns {
                retryable: true, ..
            }
            | Self::Budget(_) => RetryAdvice::Retry,
            _ => RetryAdvice::Stop,
        }
    }
}

/// A request that got through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    /// Attempts that may have reached the receiver before the one that succeeded.
    pub possible_duplicates: u32,
    /// The Telegram chat the message went to instead of the configured one.
    pub migrated_to: Option<i64>,
}

/// A request that did not get through.
#[derive(Debug)]
pub struct Failed {
    pub error: SendError,
    /// An attempt may still have reached the receiver.
    pub uncertain: bool,
}

/// Sends part `part` of a made message to one receiver (all its retries included), each
/// request admitted by `pace` first.
pub trait Deliver: Send + Sync {
    fn send(
        &self,
        to: To<'_>,
        message: &Message,
        part: usize,
        deadline: Deadline,
    ) -> impl Future<Output = Result<Sent, Failed>> + Send;
}

/// The receiver a request goes to, and the budget it asks first.
#[derive(Clone, Copy)]
pub struct To<'a> {
    pub name: &'a str,
    pub receiver: &'a Receiver,
    pub pace: &'a dyn Pace,
}
