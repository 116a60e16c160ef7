//! The capabilities of [`crate::cloud`] on the real AWS SDK clients. Every request sent
//! is counted (pages included), for the report and the benchmark.
//!
//! One file per service: [`rds`] (a folder: listings, events, conversions and the calls on
//! one database), [`cloudwatch`], [`sqs`], [`ecs`], [`scaling`]. Every SDK call of the
//! crate is in this folder.

mod cloudwatch;
mod ecs;
mod rds;
mod scaling;
mod sqs;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aws_config::SdkConfig;
use aws_sdk_applicationautoscaling as aas;
use aws_sdk_cloudwatch as cw;
use aws_sdk_ecs as ecs_sdk;
use aws_sdk_rds as rds_sdk;
use aws_sdk_sqs as sqs_sdk;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use aws_sdk_rds::config::http::HttpResponse;
use aws_sdk_rds::error::SdkError;
use groundcrew::aws_error::AwsError;
use groundcrew::lazy_client::LazyClient;

use crate::Error;

pub use sqs::SqsQueue;

/// The SDK clients, each built on its first use ([`LazyClient`], issue #17): a sweep
/// needs RDS, CloudWatch and ECS, a re-stop only RDS, and a start-up that built all five
/// would pay for them on every cold start.
#[derive(Clone, Debug)]
pub struct Aws {
    pub rds: LazyClient<rds_sdk::Client>,
    pub cloudwatch: LazyClient<cw::Client>,
    pub ecs: LazyClient<ecs_sdk::Client>,
    pub scaling: LazyClient<aas::Client>,
    pub queue: SqsQueue,
    calls: Arc<AtomicU64>,
    by_op: Arc<Mutex<BTreeMap<&'static str, u64>>>,
    /// (cpu units, memory MiB) by task definition ARN: a revision never changes, so each
    /// is asked for once per execution environment.
    task_sizes: Arc<Mutex<TaskSizes>>,
}

/// (cpu units, memory MiB) of each task definition read, `None` when it has no task-level size.
type TaskSizes = HashMap<String, Option<(u32, u32)>>;

/// An SDK error, classified once ([`groundcrew::aws_error`]).
pub(crate) fn err<E>(op: &'static str, e: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    Error::Aws(AwsError::from_sdk(op, &e))
}

impl Aws {
    pub fn new(config: &SdkConfig, follow_up_queue_url: Option<String>) -> Self {
        Self {
            rds: LazyClient::new(config, rds_sdk::Client::new),
            cloudwatch: LazyClient::new(config, cw::Client::new),
            ecs: LazyClient::new(config, ecs_sdk::Client::new),
            scaling: LazyClient::new(config, aas::Client::new),
            queue: SqsQueue {
                client: LazyClient::new(config, sqs_sdk::Client::new),
                url: follow_up_queue_url,
            },
            calls: Arc::new(AtomicU64::new(0)),
            by_op: Arc::default(),
            task_sizes: Arc::default(),
        }
    }

    /// AWS requests sent since this value was built (or last [`Aws::reset_calls`]).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    pub fn reset_calls(&self) {
        self.calls.store(0, Ordering::Relaxed);
        if let Ok(mut by_op) = self.by_op.lock() {
            by_op.clear();
        }
    }

    fn count(&self, op: &'static str) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut by_op) = self.by_op.lock() {
            *by_op.entry(op).or_insert(0) += 1;
        }
    }

    /// Requests sent, by API operation.
    pub fn calls_by_op(&self) -> BTreeMap<&'static str, u64> {
        self.by_op.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_client_is_built_on_its_first_use_only() {
        let sdk = SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        let aws = Aws::new(&sdk, None);
        let built = |a: &Aws| {
            [
                a.rds.is_built(),
                a.cloudwatch.is_built(),
                a.ecs.is_built(),
                a.scaling.is_built(),
                a.queue.client.is_built(),
            ]
        };
        assert_eq!(built(&aws), [false; 5]);
        let _request = aws.rds.describe_db_clusters();
        assert_eq!(built(&aws), [true, false, false, false, false]);
    }
}
