//! `groundcrew`: what two or more groundcrew functions need.
//!
//! Each module has one job: typed configuration from the environment ([`config`]), AWS
//! SDK configuration that honours local endpoints ([`aws`]), JSON logs carrying the
//! request id ([`logging`]), the invocation deadline ([`deadline`]), retries with
//! backoff that honour `retry_after` and the deadline ([`retry`]), an HTTP client whose
//! errors never carry a secret ([`http`]) and cached secrets from Secrets Manager or SSM
//! ([`secrets`]), one start-up and runtime loop for every `main.rs` ([`runtime`]), one
//! classification of AWS errors, transient or not ([`aws_error`]), and, for tests only,
//! the local AWS, env pairs and log capture (`testing`, feature `test-support`).

pub mod aws;
pub mod aws_error;
pub mod config;
pub mod custom_resource;
pub mod deadline;
pub mod http;
pub mod invocation;
pub mod lazy_client;
pub mod logging;
pub mod retry;
pub mod runtime;
pub mod secrets;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod tls;

pub use deadline::Deadline;
pub use invocation::{Clock, Invocation};
