//! `cloudfront-invalidate`: turns a deploy into the cheapest correct CloudFront
//! invalidation, within CloudFront's limits, idempotently.
//!
//! [`event`] turns direct invokes, EventBridge deploy events, CodePipeline jobs and S3
//! notifications into [`event::Request`]s; [`notice`] reads the messages of the deploy
//! queue; [`gather`] appends S3 notifications to the distribution's pending deploy in
//! the [`store`] and [`flush`] turns a quiet one into one invalidation; [`planner`]
//! chooses the cover (pure logic) and [`price`] weighs it; [`resolve`] finds the
//! distribution; [`invalidate`] submits the batches with stable `CallerReference`s and
//! waits; [`stable_plan`] keeps a plan so that a retry submits the same batches;
//! [`handler`] ties them together and reports CodePipeline jobs. AWS is reached
//! through the small traits in [`aws`] and [`store`] (their SDK adapters in the
//! [`aws`] module, the only place the SDK clients are called; in-memory ones with the
//! same contracts in [`memory`]).

pub mod aws;
pub mod config;
pub mod error;
pub mod event;
pub mod flush;
pub mod gather;
pub mod handler;
pub mod invalidate;
pub mod manifest;
pub mod memory;
pub mod notice;
pub mod paths;
pub mod pipeline;
pub mod planner;
pub mod price;
pub mod resolve;
mod s3_records;
pub mod stable_plan;
pub mod store;

pub use error::Error;

/// The deployed function: the SDK adapters.
pub type App = handler::Handler<
    aws::SdkCloudFront,
    aws::SdkS3,
    aws::SdkPipeline,
    aws::dynamo::SdkPending,
    aws::SdkQueue,
>;

/// The handler of a deployed function, from its settings and the SDK's configuration.
pub fn build(config: config::Config, sdk: &aws_config::SdkConfig) -> App {
    let adapters = aws::Adapters::new(
        sdk,
        config.pending_table.clone().unwrap_or_default(),
        config.flush_queue_url.clone().unwrap_or_default(),
    );
    handler::Handler {
        invalidator: invalidate::Invalidator::new(adapters.cloudfront, adapters.listing, config),
        pipeline: adapters.pipeline,
        store: adapters.store,
        trigger: adapters.trigger,
    }
}
