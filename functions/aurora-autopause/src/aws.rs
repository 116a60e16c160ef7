//! The capabilities of [`crate::cloud`] on the real AWS SDK clients. Every request sent
//! is counted (pages included), for the report and the benchmark.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_sdk_applicationautoscaling as aas;
use aws_sdk_cloudwatch as cw;
use aws_sdk_ecs as ecs;
use aws_sdk_rds as rds;
use aws_sdk_sqs as sqs;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, Utc};

use crate::cloud::{self, MetricRequest, Series, Tags};
use crate::model::{Cluster, ScalingV2, Service, Suspended, Target};
use crate::Error;

#[derive(Clone, Debug)]
pub struct Aws {
    pub rds: rds::Client,
    pub cloudwatch: cw::Client,
    pub ecs: ecs::Client,
    pub scaling: aas::Client,
    pub queue: SqsQueue,
    calls: Arc<AtomicU64>,
    by_op: Arc<Mutex<BTreeMap<&'static str, u64>>>,
}

fn err<E>(op: &'static str, e: E) -> Error
where
    E: ProvideErrorMetadata + std::error::Error,
{
    let code = e.code().map(str::to_string);
    let message = match e.message() {
        Some(m) => m.to_string(),
        None => groundcrew::aws::describe_sdk_error(&e),
    };
    Error::Aws { op, code, message }
}

impl Aws {
    pub fn new(config: &SdkConfig, follow_up_queue_url: Option<String>) -> Self {
        Self {
            rds: rds::Client::new(config),
            cloudwatch: cw::Client::new(config),
            ecs: ecs::Client::new(config),
            scaling: aas::Client::new(config),
            queue: SqsQueue {
                client: sqs::Client::new(config),
                url: follow_up_queue_url,
            },
            calls: Arc::new(AtomicU64::new(0)),
            by_op: Arc::default(),
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

fn to_cluster(c: &rds::types::DbCluster) -> Cluster {
    Cluster {
        id: c.db_cluster_identifier().unwrap_or_default().to_string(),
        arn: c.db_cluster_arn().unwrap_or_default().to_string(),
        status: c.status().unwrap_or_default().to_string(),
        engine: c.engine().unwrap_or_default().to_string(),
        engine_version: c.engine_version().unwrap_or_default().to_string(),
        engine_mode: c.engine_mode().unwrap_or("provisioned").to_string(),
        tags: c
            .tag_list()
            .iter()
            .filter_map(|t| {
                Some((
                    t.key()?.to_string(),
                    t.value().unwrap_or_default().to_string(),
                ))
            })
            .collect(),
        serverless_v2: c.serverless_v2_scaling_configuration().and_then(|s| {
            Some(ScalingV2 {
                min: s.min_capacity()?,
                max: s.max_capacity()?,
                seconds: s.seconds_until_auto_pause(),
            })
        }),
        global_cluster: c
            .global_cluster_identifier()
            .filter(|g| !g.is_empty())
            .map(str::to_string),
        replication_source: c
            .replication_source_identifier()
            .filter(|g| !g.is_empty())
            .map(str::to_string),
        read_replicas: c.read_replica_identifiers().len(),
        instance_classes: Vec::new(),
    }
}

impl cloud::Rds for Aws {
    async fn clusters(&self) -> Result<Vec<Cluster>, Error> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            self.count("DescribeDBClusters");
            let page = self
                .rds
                .describe_db_clusters()
                .max_records(100)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| err("DescribeDBClusters", e))?;
            out.extend(page.db_clusters().iter().map(to_cluster));
            match page.marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_string()),
                _ => return Ok(out),
            }
        }
    }

    async fn cluster(&self, id: &str) -> Result<Option<Cluster>, Error> {
        self.count("DescribeDBClusters");
        match self
            .rds
            .describe_db_clusters()
            .db_cluster_identifier(id)
            .send()
            .await
        {
            Ok(out) => Ok(out.db_clusters().first().map(to_cluster)),
            Err(e) if e.code() == Some("DBClusterNotFoundFault") => Ok(None),
            Err(e) => Err(err("DescribeDBClusters", e)),
        }
    }

    async fn instance_classes(
        &self,
        cluster_ids: &[String],
    ) -> Result<HashMap<String, Vec<String>>, Error> {
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for chunk in cluster_ids.chunks(100) {
            let filter = rds::types::Filter::builder()
                .name("db-cluster-id")
                .set_values(Some(chunk.to_vec()))
                .build();
            let mut marker: Option<String> = None;
            loop {
                self.count("DescribeDBInstances");
                let page = self
                    .rds
                    .describe_db_instances()
                    .filters(filter.clone())
                    .max_records(100)
                    .set_marker(marker.take())
                    .send()
                    .await
                    .map_err(|e| err("DescribeDBInstances", e))?;
                for i in page.db_instances() {
                    if let (Some(cluster), Some(class)) =
                        (i.db_cluster_identifier(), i.db_instance_class())
                    {
                        out.entry(cluster.to_string())
                            .or_default()
                            .push(class.to_string());
                    }
                }
                match page.marker() {
                    Some(m) if !m.is_empty() => marker = Some(m.to_string()),
                    _ => break,
                }
            }
        }
        Ok(out)
    }

    async fn events_since(
        &self,
        id: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, String)>, Error> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            self.count("DescribeEvents");
            let page = self
                .rds
                .describe_events()
                .source_type(rds::types::SourceType::DbCluster)
                .source_identifier(id)
                .start_time(SystemTime::from(since).into())
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| err("DescribeEvents", e))?;
            for e in page.events() {
                let at = e
                    .date()
                    .and_then(|d| SystemTime::try_from(*d).ok())
                    .map(DateTime::<Utc>::from);
                if let (Some(at), Some(message)) = (at, e.message()) {
                    out.push((at, message.to_string()));
                }
            }
            match page.marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_string()),
                _ => {
                    out.sort();
                    return Ok(out);
                }
            }
        }
    }

    async fn stop(&self, id: &str) -> Result<(), Error> {
        self.count("StopDBCluster");
        self.rds
            .stop_db_cluster()
            .db_cluster_identifier(id)
            .send()
            .await
            .map_err(|e| err("StopDBCluster", e))?;
        Ok(())
    }

    async fn start(&self, id: &str) -> Result<(), Error> {
        self.count("StartDBCluster");
        self.rds
            .start_db_cluster()
            .db_cluster_identifier(id)
            .send()
            .await
            .map_err(|e| err("StartDBCluster", e))?;
        Ok(())
    }

    async fn set_scaling(&self, id: &str, s: ScalingV2) -> Result<(), Error> {
        self.count("ModifyDBCluster");
        let scaling = rds::types::ServerlessV2ScalingConfiguration::builder()
            .min_capacity(s.min)
            .max_capacity(s.max)
            .set_seconds_until_auto_pause(s.seconds)
            .build();
        self.rds
            .modify_db_cluster()
            .db_cluster_identifier(id)
            .serverless_v2_scaling_configuration(scaling)
            .apply_immediately(true)
            .send()
            .await
            .map_err(|e| err("ModifyDBCluster", e))?;
        Ok(())
    }

    async fn tag(&self, arn: &str, tags: &Tags) -> Result<(), Error> {
        self.count("AddTagsToResource");
        let tags = tags
            .iter()
            .map(|(k, v)| rds::types::Tag::builder().key(k).value(v).build())
            .collect();
        self.rds
            .add_tags_to_resource()
            .resource_name(arn)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| err("AddTagsToResource", e))?;
        Ok(())
    }

    async fn untag(&self, arn: &str, keys: &[&str]) -> Result<(), Error> {
        self.count("RemoveTagsFromResource");
        let keys = keys.iter().map(|k| k.to_string()).collect();
        self.rds
            .remove_tags_from_resource()
            .resource_name(arn)
            .set_tag_keys(Some(keys))
            .send()
            .await
            .map_err(|e| err("RemoveTagsFromResource", e))?;
        Ok(())
    }
}

impl cloud::Metrics for Aws {
    async fn get_metric_data(
        &self,
        request: &MetricRequest,
    ) -> Result<BTreeMap<String, Series>, Error> {
        let queries: Vec<cw::types::MetricDataQuery> = request
            .queries
            .iter()
            .map(|q| {
                let metric = cw::types::Metric::builder()
                    .namespace("AWS/RDS")
                    .metric_name("DatabaseConnections")
                    .dimensions(
                        cw::types::Dimension::builder()
                            .name(q.dimension)
                            .value(&q.value)
                            .build(),
                    )
                    .build();
                cw::types::MetricDataQuery::builder()
                    .id(&q.id)
                    .metric_stat(
                        cw::types::MetricStat::builder()
                            .metric(metric)
                            .period(request.period_secs.min(i32::MAX as u32) as i32)
                            .stat("Maximum")
                            .build(),
                    )
                    .return_data(true)
                    .build()
            })
            .collect();
        let mut out: BTreeMap<String, Series> = request
            .queries
            .iter()
            .map(|q| (q.id.clone(), Series::new()))
            .collect();
        let mut token: Option<String> = None;
        loop {
            self.count("GetMetricData");
            let page = self
                .cloudwatch
                .get_metric_data()
                .set_metric_data_queries(Some(queries.clone()))
                .start_time(SystemTime::from(request.start).into())
                .end_time(SystemTime::from(request.end).into())
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| err("GetMetricData", e))?;
            for r in page.metric_data_results() {
                let Some(series) = r.id().and_then(|id| out.get_mut(id)) else {
                    continue;
                };
                for (t, v) in r.timestamps().iter().zip(r.values()) {
                    let Ok(at) = SystemTime::try_from(*t) else {
                        continue;
                    };
                    if !v.is_nan() {
                        series.insert(DateTime::<Utc>::from(at), *v);
                    }
                }
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }
}

/// The follow-up queue on SQS. Without a queue URL nothing is handed on (the report says so).
#[derive(Clone, Debug)]
pub struct SqsQueue {
    pub client: sqs::Client,
    pub url: Option<String>,
}

impl SqsQueue {
    fn url(&self, op: &'static str) -> Result<&str, Error> {
        self.url.as_deref().ok_or_else(|| Error::Aws {
            op,
            code: None,
            message: "no follow-up queue configured (FOLLOW_UP_QUEUE_URL)".into(),
        })
    }
}

impl cloud::Queue for Aws {
    async fn send_later(&self, body: &str, delay: Duration) -> Result<(), Error> {
        let url = self.queue.url("SendMessage")?;
        self.count("SendMessage");
        self.queue
            .client
            .send_message()
            .queue_url(url)
            .message_body(body)
            // SQS delays a message by at most 15 minutes.
            .delay_seconds(delay.as_secs().min(900) as i32)
            .send()
            .await
            .map_err(|e| err("SendMessage", e))?;
        Ok(())
    }

    async fn retry_later(&self, receipt_handle: &str, after: Duration) -> Result<(), Error> {
        let url = self.queue.url("ChangeMessageVisibility")?;
        self.count("ChangeMessageVisibility");
        self.queue
            .client
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(receipt_handle)
            // SQS's longest visibility timeout is 12 hours.
            .visibility_timeout(after.as_secs().min(43_200) as i32)
            .send()
            .await
            .map_err(|e| err("ChangeMessageVisibility", e))?;
        Ok(())
    }
}

fn name_from_arn(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

fn to_service(s: &ecs::types::Service, cluster: &str) -> Service {
    Service {
        cluster: cluster.to_string(),
        name: s.service_name().unwrap_or_default().to_string(),
        arn: s.service_arn().unwrap_or_default().to_string(),
        desired: s.desired_count(),
        running: s.running_count(),
        tags: s
            .tags()
            .iter()
            .filter_map(|t| {
                Some((
                    t.key()?.to_string(),
                    t.value().unwrap_or_default().to_string(),
                ))
            })
            .collect::<BTreeMap<_, _>>(),
    }
}

impl Aws {
    async fn ecs_clusters(&self) -> Result<Vec<String>, Error> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            self.count("ListClusters");
            let page = self
                .ecs
                .list_clusters()
                .max_results(100)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| err("ListClusters", e))?;
            out.extend(
                page.cluster_arns()
                    .iter()
                    .map(|a| name_from_arn(a).to_string()),
            );
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }

    async fn describe(&self, cluster: &str, names: Vec<String>) -> Result<Vec<Service>, Error> {
        self.count("DescribeServices");
        let out = self
            .ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(names))
            .include(ecs::types::ServiceField::Tags)
            .send()
            .await
            .map_err(|e| err("DescribeServices", e))?;
        Ok(out
            .services()
            .iter()
            .filter(|s| s.status() == Some("ACTIVE"))
            .map(|s| to_service(s, cluster))
            .collect())
    }
}

impl cloud::Ecs for Aws {
    async fn cluster_names(&self) -> Result<Vec<String>, Error> {
        self.ecs_clusters().await
    }

    async fn services_in(&self, cluster: &str) -> Result<Vec<Service>, Error> {
        let mut out = Vec::new();
        let mut arns = Vec::new();
        let mut token: Option<String> = None;
        loop {
            self.count("ListServices");
            let page = self
                .ecs
                .list_services()
                .cluster(cluster)
                .max_results(100)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| err("ListServices", e))?;
            arns.extend(page.service_arns().iter().cloned());
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        for chunk in arns.chunks(10) {
            out.extend(self.describe(cluster, chunk.to_vec()).await?);
        }
        Ok(out)
    }

    async fn service(&self, cluster: &str, name: &str) -> Result<Option<Service>, Error> {
        Ok(self
            .describe(cluster, vec![name.to_string()])
            .await?
            .into_iter()
            .next())
    }

    async fn set_desired(&self, cluster: &str, name: &str, desired: i32) -> Result<(), Error> {
        self.count("UpdateService");
        self.ecs
            .update_service()
            .cluster(cluster)
            .service(name)
            .desired_count(desired)
            .send()
            .await
            .map_err(|e| err("UpdateService", e))?;
        Ok(())
    }

    async fn tag(&self, arn: &str, tags: &Tags) -> Result<(), Error> {
        self.count("TagResource");
        let tags = tags
            .iter()
            .map(|(k, v)| ecs::types::Tag::builder().key(k).value(v).build())
            .collect();
        self.ecs
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| err("TagResource", e))?;
        Ok(())
    }

    async fn untag(&self, arn: &str, keys: &[&str]) -> Result<(), Error> {
        self.count("UntagResource");
        let keys = keys.iter().map(|k| k.to_string()).collect();
        self.ecs
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(keys))
            .send()
            .await
            .map_err(|e| err("UntagResource", e))?;
        Ok(())
    }
}

impl cloud::Scaling for Aws {
    async fn targets(&self, resource_ids: &[String]) -> Result<HashMap<String, Target>, Error> {
        let mut out = HashMap::new();
        for chunk in resource_ids.chunks(50) {
            let mut token: Option<String> = None;
            loop {
                self.count("DescribeScalableTargets");
                let page = self
                    .scaling
                    .describe_scalable_targets()
                    .service_namespace(aas::types::ServiceNamespace::Ecs)
                    .scalable_dimension(aas::types::ScalableDimension::EcsServiceDesiredCount)
                    .set_resource_ids(Some(chunk.to_vec()))
                    .max_results(50)
                    .set_next_token(token.take())
                    .send()
                    .await
                    .map_err(|e| err("DescribeScalableTargets", e))?;
                for t in page.scalable_targets() {
                    let s = t.suspended_state();
                    let suspended = Suspended {
                        scale_in: s
                            .and_then(|s| s.dynamic_scaling_in_suspended())
                            .unwrap_or(false),
                        scale_out: s
                            .and_then(|s| s.dynamic_scaling_out_suspended())
                            .unwrap_or(false),
                        scheduled: s
                            .and_then(|s| s.scheduled_scaling_suspended())
                            .unwrap_or(false),
                    };
                    out.insert(
                        t.resource_id().to_string(),
                        Target {
                            min: t.min_capacity(),
                            max: t.max_capacity(),
                            suspended,
                        },
                    );
                }
                match page.next_token() {
                    Some(t) if !t.is_empty() && page.scalable_targets().len() >= 50 => {
                        token = Some(t.to_string())
                    }
                    _ => break,
                }
            }
        }
        Ok(out)
    }

    async fn register(&self, resource_id: &str, target: Target) -> Result<(), Error> {
        self.count("RegisterScalableTarget");
        let suspended = aas::types::SuspendedState::builder()
            .dynamic_scaling_in_suspended(target.suspended.scale_in)
            .dynamic_scaling_out_suspended(target.suspended.scale_out)
            .scheduled_scaling_suspended(target.suspended.scheduled)
            .build();
        self.scaling
            .register_scalable_target()
            .service_namespace(aas::types::ServiceNamespace::Ecs)
            .scalable_dimension(aas::types::ScalableDimension::EcsServiceDesiredCount)
            .resource_id(resource_id)
            .min_capacity(target.min)
            .max_capacity(target.max)
            .suspended_state(suspended)
            .send()
            .await
            .map_err(|e| err("RegisterScalableTarget", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_arns() {
        assert_eq!(name_from_arn("arn:aws:ecs:us-east-1:1:cluster/dev"), "dev");
    }
}
