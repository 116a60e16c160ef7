//! What a handler answers (SUCCESS with an [`Outcome`], FAILED with a [`Failure`]), the
//! responder's settings and errors, and what was answered ([`Answered`]).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::retry::RetryPolicy;

/// What a successful handler answers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub physical_resource_id: String,
    /// `Fn::GetAtt` attributes; cut to fit the body limit if they must be.
    pub data: BTreeMap<String, String>,
    /// Mask `Data` in CloudFormation's output.
    pub no_echo: bool,
    /// Optional note for a SUCCESS (shown in the stack events).
    pub reason: Option<String>,
}

impl Outcome {
    pub fn new(physical_resource_id: impl Into<String>) -> Self {
        Self {
            physical_resource_id: physical_resource_id.into(),
            ..Self::default()
        }
    }

    pub fn with_data(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.data.insert(key.into(), value.into());
        self
    }

    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}

/// What a failing handler answers: the reason (must hold no secret) and, optionally, the
/// physical id to report (by default the request's, or a minted one for a Create).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub reason: String,
    pub physical_resource_id: Option<String>,
}

impl Failure {
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            physical_resource_id: None,
        }
    }

    /// Report this physical id: for a Create that did act before failing, so that the
    /// rollback Delete undoes it.
    pub fn with_physical_id(mut self, id: impl Into<String>) -> Self {
        self.physical_resource_id = Some(id.into());
        self
    }
}

impl<E: std::error::Error> From<E> for Failure {
    fn from(err: E) -> Self {
        Self::new(err.to_string())
    }
}

#[derive(Debug, Clone, Copy)]
pub struct ResponderSettings {
    /// Time kept back from the deadline for delivering the answer.
    pub response_reserve: Duration,
    /// Retries of the PUT (transport errors, 5xx, 429).
    pub put_retry: RetryPolicy,
}

impl Default for ResponderSettings {
    fn default() -> Self {
        Self {
            response_reserve: Duration::from_secs(2),
            put_retry: RetryPolicy {
                max_attempts: 3,
                min_delay: Duration::from_millis(100),
                max_delay: Duration::from_millis(500),
                max_retry_after: Duration::from_secs(1),
            },
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CustomResourceError {
    /// Not a custom-resource event with a usable `ResponseURL`: nobody could be answered.
    #[error("not a CloudFormation custom-resource event: {0}")]
    Unanswerable(String),
    /// The event was malformed; FAILED was delivered to CloudFormation.
    #[error("malformed custom-resource event (answered FAILED to CloudFormation): {0}")]
    Malformed(String),
    /// The answer could not be delivered to the `ResponseURL`.
    #[error("could not deliver the {status} answer to CloudFormation: {reason}")]
    Undelivered {
        status: &'static str,
        reason: String,
    },
}

/// What was answered, for the Lambda result and logs (no URL: it is presigned).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Answered {
    #[serde(rename = "Status")]
    pub status: &'static str,
    #[serde(rename = "Reason")]
    pub reason: String,
    #[serde(rename = "PhysicalResourceId")]
    pub physical_resource_id: String,
    #[serde(rename = "RequestType")]
    pub request_type: &'static str,
    #[serde(rename = "Data")]
    pub data: BTreeMap<String, String>,
    /// Why a Reason or Data was cut, when it was.
    #[serde(rename = "Truncated", skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}
