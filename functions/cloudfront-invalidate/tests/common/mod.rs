//! What the handler tests share: the handler's typed report as JSON, so a test reads the
//! answer Lambda (or the deploy queue's poller) would get.

use std::future::Future;

use cloudfront_invalidate::aws::{CloudFront, FlushTrigger, Pipeline, SiteListing};
use cloudfront_invalidate::error::Error;
use cloudfront_invalidate::handler::Handler;
use cloudfront_invalidate::store::PendingStore;
use groundcrew::Invocation;
use serde_json::Value;

pub trait HandleJson {
    /// [`Handler::handle`], its report serialised as the runtime would.
    fn handle_json(
        &self,
        event: &Value,
        invocation: &Invocation,
    ) -> impl Future<Output = Result<Value, Error>>;
}

impl<C: CloudFront, S: SiteListing, P: Pipeline, D: PendingStore, T: FlushTrigger> HandleJson
    for Handler<C, S, P, D, T>
{
    async fn handle_json(&self, event: &Value, invocation: &Invocation) -> Result<Value, Error> {
        let report = self.handle(event, invocation).await?;
        Ok(serde_json::to_value(report).expect("a report serialises"))
    }
}
