//! `cloudfront-invalidate`: turns a deploy into the cheapest correct CloudFront
//! invalidation, within CloudFront's limits, idempotently.
//!
//! [`event`] turns direct invokes, EventBridge deploy events, CodePipeline jobs and S3
//! notifications into [`event::Request`]s; [`planner`] chooses the cover (pure logic);
//! [`invalidate`] resolves the distribution, submits the batches with stable
//! `CallerReference`s and waits; [`handler`] ties them together and reports CodePipeline
//! jobs. AWS is reached through the small traits in [`aws`].

pub mod aws;
pub mod config;
pub mod error;
pub mod event;
pub mod handler;
pub mod invalidate;
pub mod paths;
pub mod planner;

pub use error::Error;
