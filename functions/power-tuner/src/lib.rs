//! `power-tuner`: finds the best memory size (and architecture) for a Lambda function by
//! measuring it, with AWS Lambda Power Tuning's input and output, as one function.
//!
//! - [`event`]: a run or an action (`status`, `cleanup`, `continue`);
//!   [`input`]: the request (Power Tuning's fields plus ours), validated up front.
//! - [`logs`]: the REPORT record of an invocation's log tail.
//! - [`stats`], [`price`], [`strategy`]: the analysis, pure.
//! - [`lambda`]: the Lambda API behind a trait; [`store`]: S3 (payloadS3, reports, the
//!   run's state and lock) behind a trait; [`aws`]: both over the AWS SDK.
//! - [`state`]: a run's state in S3; [`lock`]: one run per function.
//! - [`wait`]: retries and the waits AWS requires between changes.
//! - [`run`]: one invocation's share of the measurement; [`cleanup`]: the ledger's
//!   removal and the restore; [`apply`]: `autoOptimize`.
//! - [`analysis`]: per-value statistics, the winner and the noise verdict.
//! - [`output`]: Power Tuning's output shape plus our report; [`chart`]: the SVG chart.
//! - [`handler`]: the Lambda handler: starts, continues, reports on and cleans up runs;
//!   [`answer`]: what it answers.

pub mod allowed;
pub mod analysis;
pub mod answer;
pub mod apply;
pub mod architecture;
pub mod aws;
pub mod chart;
pub mod cleanup;
pub mod config;
pub mod error;
pub mod event;
pub mod handler;
pub mod input;
pub mod lambda;
pub mod lock;
pub mod logs;
pub mod outcome;
pub mod output;
pub mod package;
pub mod plan;
pub mod price;
pub mod regions;
pub mod run;
pub mod state;
pub mod stats;
pub mod store;
pub mod strategy;
pub mod wait;

pub use config::Config;
pub use error::Error;
