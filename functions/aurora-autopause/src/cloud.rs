//! The capabilities the logic needs, one small trait each, so that unit tests use fakes
//! and integration tests use the real SDK clients ([`crate::aws::Aws`]) against moto.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use crate::model::{Cluster, ScalingV2, Service, Target};
use crate::Error;

pub type Tags = [(String, String)];

pub trait Rds: Send + Sync {
    /// Every DB cluster in the Region, with its tags.
    fn clusters(&self) -> impl Future<Output = Result<Vec<Cluster>, Error>> + Send;
    /// One cluster; `None` when it does not exist.
    fn cluster(&self, id: &str) -> impl Future<Output = Result<Option<Cluster>, Error>> + Send;
    /// Instance classes of the members of these clusters, by cluster id.
    fn instance_classes(
        &self,
        cluster_ids: &[String],
    ) -> impl Future<Output = Result<HashMap<String, Vec<String>>, Error>> + Send;
    fn stop(&self, id: &str) -> impl Future<Output = Result<(), Error>> + Send;
    fn start(&self, id: &str) -> impl Future<Output = Result<(), Error>> + Send;
    fn set_scaling(
        &self,
        id: &str,
        scaling: ScalingV2,
    ) -> impl Future<Output = Result<(), Error>> + Send;
    fn tag(&self, arn: &str, tags: &Tags) -> impl Future<Output = Result<(), Error>> + Send;
    fn untag(&self, arn: &str, keys: &[&str]) -> impl Future<Output = Result<(), Error>> + Send;
}

pub trait Metrics: Send + Sync {
    /// The maximum `AWS/RDS DatabaseConnections` of each cluster over the last `window`;
    /// `None` when there is no data. Batched: at most 500 clusters per `GetMetricData`.
    fn max_connections(
        &self,
        cluster_ids: &[String],
        window: Duration,
    ) -> impl Future<Output = Result<HashMap<String, Option<f64>>, Error>> + Send;
}

pub trait Ecs: Send + Sync {
    /// The ACTIVE services, with tags, in these ECS clusters (empty: every cluster).
    fn services(
        &self,
        clusters: &[String],
    ) -> impl Future<Output = Result<Vec<Service>, Error>> + Send;
    fn service(
        &self,
        cluster: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<Service>, Error>> + Send;
    fn set_desired(
        &self,
        cluster: &str,
        name: &str,
        desired: i32,
    ) -> impl Future<Output = Result<(), Error>> + Send;
    fn tag(&self, arn: &str, tags: &Tags) -> impl Future<Output = Result<(), Error>> + Send;
    fn untag(&self, arn: &str, keys: &[&str]) -> impl Future<Output = Result<(), Error>> + Send;
}

pub trait Scaling: Send + Sync {
    /// `ecs:service:DesiredCount` targets by resource id (`service/<cluster>/<service>`).
    fn targets(
        &self,
        resource_ids: &[String],
    ) -> impl Future<Output = Result<HashMap<String, Target>, Error>> + Send;
    fn register(
        &self,
        resource_id: &str,
        target: Target,
    ) -> impl Future<Output = Result<(), Error>> + Send;
}

/// Everything a sweep, pause, wake or status needs.
pub trait Cloud: Rds + Metrics + Ecs + Scaling {}
impl<T: Rds + Metrics + Ecs + Scaling> Cloud for T {}

/// `GetMetricData` takes at most 500 queries: the clusters in batches of 500.
pub const METRIC_BATCH: usize = 500;

pub fn metric_batches(ids: &[String]) -> impl Iterator<Item = &[String]> {
    ids.chunks(METRIC_BATCH)
}
