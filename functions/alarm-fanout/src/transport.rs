//! The seams under the receivers' retry logic: [`Transport`] (one HTTP request), the
//! shared one of `groundcrew::http` with its production side over reqwest (rustls,
//! timeouts), and [`Publisher`] (SNS, in [`crate::aws`]).

use std::future::Future;

pub use groundcrew::http::{HttpAnswer, ReqwestTransport, Transport, TransportError};

use crate::send::SendError;

/// Publishes to an SNS topic.
pub trait Publisher: Send + Sync {
    fn publish(
        &self,
        topic_arn: &str,
        subject: &str,
        message: &str,
    ) -> impl Future<Output = Result<(), SendError>> + Send;
}
