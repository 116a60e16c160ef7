//! The handler: an event in, a [`Report`] out, with the invocation's EMF metrics line and
//! a summary log line. Parsing is in [`crate::event`], the work in [`crate::ops`].

use groundcrew::Invocation;
use serde_json::Value;

use crate::cloud::Cloud;
use crate::config::Config;
use crate::event::{self, Incoming};
use crate::report::Report;
use crate::{ops, Error};

/// The function: its AWS collaborators (`cloud`: the SDK clients in Lambda, the models in
/// the simulation) and its settings.
pub struct Handler<C> {
    pub cloud: C,
    pub config: Config,
}

impl<C: Cloud> Handler<C> {
    /// Parses an event and carries it out within the invocation's deadline. A bad event is
    /// refused before any AWS call.
    pub async fn handle(&self, event: &Value, invocation: &Invocation) -> Result<Report, Error> {
        let incoming = event::parse_incoming(event)?;
        let label = match &incoming {
            Incoming::One(r) => r.action.as_str(),
            Incoming::Queue(_) => "batch",
        };
        let report = invocation
            .deadline
            .run(ops::handle(&self.cloud, &self.config, incoming, invocation))
            .await
            .map_err(|_| Error::Deadline(label))??;
        // One EMF line per invocation: CloudWatch turns it into metrics.
        println!(
            "{}",
            report.emf(
                &self.config.metrics_namespace,
                invocation.now().timestamp_millis()
            )
        );
        tracing::info!(
            action = report.action.as_str(),
            dry_run = report.dry_run,
            paused = report.summary.paused,
            woken = report.summary.woken,
            skipped = report.summary.skipped,
            failed = report.summary.failed,
            "done"
        );
        Ok(report)
    }
}
