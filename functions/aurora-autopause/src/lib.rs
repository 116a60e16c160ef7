//! `aurora-autopause`: pauses idle dev Aurora clusters (stop, or Serverless v2 auto-pause)
//! and dev ECS services, wakes them again exactly as they were, and re-stops clusters that
//! AWS restarts after seven days. Only resources carrying the opt-in tag are touched, and a
//! protection rule (default `environment=prod|production`) wins over opt-in.
//!
//! Layout: [`event`] parses what arrives, [`model`] holds the pure decisions (scope, idle,
//! plan, records), [`ops`] carries them out through the small traits in [`cloud`]
//! (implemented on the real SDK clients in [`aws`]), and [`report`] is what comes back,
//! with the EMF metrics line.

pub mod aws;
pub mod cloud;
pub mod config;
pub mod eligibility;
pub mod error;
pub mod event;
pub mod handler;
pub mod hourly;
pub mod idle;
pub mod model;
pub mod ops;
pub mod plan;
pub mod price;
pub mod rds_messages;
pub mod record;
pub mod report;
pub mod savings;

pub use config::Config;
pub use error::Error;
pub use event::{Action, Request};
pub use handler::Handler;
pub use report::Report;

/// The function on the real AWS clients, from its settings: what `main.rs` runs.
pub fn build(config: Config, sdk: &aws_config::SdkConfig) -> Handler<aws::Aws> {
    let cloud = aws::Aws::new(sdk, config.follow_up_queue_url.clone());
    Handler { cloud, config }
}
