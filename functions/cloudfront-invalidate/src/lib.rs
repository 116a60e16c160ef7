//! `cloudfront-invalidate`: turns a deploy into the cheapest correct CloudFront
//! invalidation, within CloudFront's limits, idempotently.
//!
//! [`event`] turns direct invokes, EventBridge deploy events, CodePipeline jobs and S3
//! notifications into [`event::Request`]s; [`notice`] reads the messages of the deploy
//! queue; [`gather`] appends S3 notifications to the distribution's pending deploy in
//! the [`store`] and [`flush`] turns a quiet one into one invalidation; [`planner`]
//! chooses the cover (pure logic) and [`price`] weighs it; [`resolve`] finds the
//! distribution; [`invalidate`] submits the batches with stable `CallerReference`s and
//! waits; [`handler`] ties them together and reports CodePipeline jobs. AWS is reached
//! through the small traits in [`aws`] and [`store`] (adapters in [`aws`] and
//! [`aws_dynamo`]; in-memory ones with the same contracts in [`memory`]).

pub mod aws;
pub mod aws_dynamo;
pub mod config;
pub mod error;
pub mod event;
pub mod flush;
pub mod gather;
pub mod handler;
pub mod invalidate;
pub mod memory;
pub mod notice;
pub mod paths;
pub mod planner;
pub mod price;
pub mod resolve;
pub mod store;

pub use error::Error;
