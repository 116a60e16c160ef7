//! The capabilities the logic needs, one small trait each, so that unit tests use fakes
//! and integration tests use the real SDK clients ([`crate::aws::Aws`]) against moto.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::{Cluster, DbKind, ScalingV2, Service, Target};
use crate::Error;

pub type Tags = [(String, String)];

pub trait Rds: Send + Sync {
    /// Every DB cluster in the Region, with its tags.
    fn clusters(&self) -> impl Future<Output = Result<Vec<Cluster>, Error>> + Send;
    /// Instance classes of the members of these clusters, by cluster id.
    fn instance_classes(
        &self,
        cluster_ids: &[String],
    ) -> impl Future<Output = Result<HashMap<String, Vec<String>>, Error>> + Send;
    /// Every RDS DB instance in the Region that is no member of a DB cluster, with its
    /// tags (`kind` [`DbKind::Instance`]).
    fn instances(&self) -> impl Future<Output = Result<Vec<Cluster>, Error>> + Send;
    /// One database of either kind (`DescribeDBClusters` or `DescribeDBInstances` by
    /// identifier); `None` when it does not exist.
    fn describe(
        &self,
        kind: DbKind,
        id: &str,
    ) -> impl Future<Output = Result<Option<Cluster>, Error>> + Send;
    /// `StopDBCluster` or `StopDBInstance`.
    fn stop(&self, kind: DbKind, id: &str) -> impl Future<Output = Result<(), Error>> + Send;
    /// `StartDBCluster` or `StartDBInstance`.
    fn start(&self, kind: DbKind, id: &str) -> impl Future<Output = Result<(), Error>> + Send;
    /// The events RDS recorded for this cluster or instance at or after `since`
    /// (`DescribeEvents`, which keeps 14 days): (time, message), oldest first.
    fn events_since(
        &self,
        kind: DbKind,
        id: &str,
        since: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<(DateTime<Utc>, String)>, Error>> + Send;
    /// Every event RDS recorded at or after `since` for any database of `kind`
    /// (`DescribeEvents` by source type, no identifier: one listing for the whole sweep
    /// instead of a call per database), oldest first.
    fn recent_events(
        &self,
        kind: DbKind,
        since: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<DbEvent>, Error>> + Send;
    /// `ModifyDBCluster`: a Serverless v2 cluster's scaling.
    fn set_scaling(
        &self,
        id: &str,
        scaling: ScalingV2,
    ) -> impl Future<Output = Result<(), Error>> + Send;
    fn tag(&self, arn: &str, tags: &Tags) -> impl Future<Output = Result<(), Error>> + Send;
    fn untag(&self, arn: &str, keys: &[&str]) -> impl Future<Output = Result<(), Error>> + Send;
}

/// One RDS event as `DescribeEvents` lists it: no event id, only the source and the
/// message (see [`crate::rds_messages`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DbEvent {
    pub at: DateTime<Utc>,
    pub kind: DbKind,
    /// The DB cluster's or DB instance's identifier.
    pub source: String,
    pub message: String,
}

/// One `AWS/RDS` metric of one database, asked for in a `GetMetricData` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricQuery {
    /// The query id (`[a-z][a-zA-Z0-9_]*`), unique within the request.
    pub id: String,
    /// `DBClusterIdentifier` or `DBInstanceIdentifier`.
    pub dimension: &'static str,
    pub value: String,
}

/// One `GetMetricData` request: the `Maximum` of `DatabaseConnections` per `period`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricRequest {
    pub queries: Vec<MetricQuery>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub period_secs: u32,
}

/// Datapoints of one query, by the start of their period. A period without data is
/// absent, as in CloudWatch's answer.
pub type Series = BTreeMap<DateTime<Utc>, f64>;

pub trait Metrics: Send + Sync {
    /// One `GetMetricData` call (its pages followed): the datapoints of each query, by
    /// query id. The caller keeps within the service's limits (see [`crate::idle`]).
    fn get_metric_data(
        &self,
        request: &MetricRequest,
    ) -> impl Future<Output = Result<BTreeMap<String, Series>, Error>> + Send;
}

/// The follow-up queue: work handed on to a later invocation.
pub trait Queue: Send + Sync {
    /// `SendMessage` with `DelaySeconds` (at most 15 minutes).
    fn send_later(
        &self,
        body: &str,
        delay: Duration,
    ) -> impl Future<Output = Result<(), Error>> + Send;
    /// `ChangeMessageVisibility`: the message comes back after `after`.
    fn retry_later(
        &self,
        receipt_handle: &str,
        after: Duration,
    ) -> impl Future<Output = Result<(), Error>> + Send;
}

pub trait Ecs: Send + Sync {
    /// The names of every ECS cluster in the Region (`ListClusters`).
    fn cluster_names(&self) -> impl Future<Output = Result<Vec<String>, Error>> + Send;
    /// The ACTIVE services, with tags, of one ECS cluster (`ListServices`, `DescribeServices`).
    fn services_in(
        &self,
        cluster: &str,
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

/// Everything a sweep, pause, wake, status or re-stop needs.
pub trait Cloud: Rds + Metrics + Ecs + Scaling + Queue {}
impl<T: Rds + Metrics + Ecs + Scaling + Queue> Cloud for T {}
