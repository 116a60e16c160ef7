//! RDS: clusters, instances, their events, stops, starts, scaling and tags.

use std::collections::{BTreeMap, HashMap};
use std::time::SystemTime;

use aws_sdk_rds as rds;
use aws_sdk_rds::config::http::HttpResponse;
use aws_sdk_rds::error::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, Utc};

use crate::cloud::{self, Tags};
use crate::model::{Cluster, DbKind, ScalingV2};
use crate::Error;

use super::{err, Aws};

/// RDS tags as the function keeps them (a tag without a key is dropped).
fn tags(list: &[rds::types::Tag]) -> BTreeMap<String, String> {
    list.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

fn to_cluster(c: &rds::types::DbCluster) -> Cluster {
    Cluster {
        kind: DbKind::Cluster,
        multi_az: c.multi_az().unwrap_or(false),
        id: c.db_cluster_identifier().unwrap_or_default().to_string(),
        arn: c.db_cluster_arn().unwrap_or_default().to_string(),
        status: c.status().unwrap_or_default().to_string(),
        engine: c.engine().unwrap_or_default().to_string(),
        engine_version: c.engine_version().unwrap_or_default().to_string(),
        engine_mode: c.engine_mode().unwrap_or("provisioned").to_string(),
        tags: tags(c.tag_list()),
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
        members: c
            .db_cluster_members()
            .iter()
            .filter_map(|m| m.db_instance_identifier())
            .map(str::to_string)
            .collect(),
    }
}

/// An RDS instance that is no member of a DB cluster, as the function sees it.
fn to_instance(i: &rds::types::DbInstance) -> Cluster {
    let replicas = i.read_replica_db_instance_identifiers().len()
        + i.read_replica_db_cluster_identifiers().len();
    Cluster {
        kind: DbKind::Instance,
        multi_az: i.multi_az().unwrap_or(false),
        id: i.db_instance_identifier().unwrap_or_default().to_string(),
        arn: i.db_instance_arn().unwrap_or_default().to_string(),
        status: i.db_instance_status().unwrap_or_default().to_string(),
        engine: i.engine().unwrap_or_default().to_string(),
        engine_version: i.engine_version().unwrap_or_default().to_string(),
        engine_mode: String::new(),
        tags: tags(i.tag_list()),
        serverless_v2: None,
        global_cluster: None,
        replication_source: i
            .read_replica_source_db_instance_identifier()
            .or(i.read_replica_source_db_cluster_identifier())
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        read_replicas: replicas,
        instance_classes: i
            .db_instance_class()
            .map(str::to_string)
            .into_iter()
            .collect(),
        members: Vec::new(),
    }
}

/// What differs between the two kinds of database besides the SDK call itself: the
/// operation names (counted, and named in errors) and the codes RDS answers for an
/// identifier that does not exist.
struct KindOps {
    describe: &'static str,
    stop: &'static str,
    start: &'static str,
    not_found: &'static [&'static str],
}

fn ops(kind: DbKind) -> &'static KindOps {
    const CLUSTER: KindOps = KindOps {
        describe: "DescribeDBClusters",
        stop: "StopDBCluster",
        start: "StartDBCluster",
        not_found: &["DBClusterNotFoundFault"],
    };
    // The API reference names the fault `DBInstanceNotFoundFault`; its code on the wire
    // is `DBInstanceNotFound`.
    const INSTANCE: KindOps = KindOps {
        describe: "DescribeDBInstances",
        stop: "StopDBInstance",
        start: "StartDBInstance",
        not_found: &["DBInstanceNotFound", "DBInstanceNotFoundFault"],
    };
    match kind {
        DbKind::Cluster => &CLUSTER,
        DbKind::Instance => &INSTANCE,
    }
}

/// An SDK answer to `()` or the crate's error, for the operation `op`.
fn done<T, E>(op: &'static str, r: Result<T, SdkError<E, HttpResponse>>) -> Result<(), Error>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    r.map(drop).map_err(|e| err(op, e))
}

/// A describe's answer: `None` when RDS says there is no such database.
fn found<E>(
    ops: &KindOps,
    r: Result<Option<Cluster>, SdkError<E, HttpResponse>>,
) -> Result<Option<Cluster>, Error>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match r {
        Ok(found) => Ok(found),
        Err(e) if e.code().is_some_and(|c| ops.not_found.contains(&c)) => Ok(None),
        Err(e) => Err(err(ops.describe, e)),
    }
}

fn source_type(kind: DbKind) -> rds::types::SourceType {
    match kind {
        DbKind::Cluster => rds::types::SourceType::DbCluster,
        DbKind::Instance => rds::types::SourceType::DbInstance,
    }
}

impl cloud::Rds for Aws {
    async fn describe(&self, kind: DbKind, id: &str) -> Result<Option<Cluster>, Error> {
        let ops = ops(kind);
        self.count(ops.describe);
        match kind {
            DbKind::Cluster => found(
                ops,
                self.rds
                    .describe_db_clusters()
                    .db_cluster_identifier(id)
                    .send()
                    .await
                    .map(|out| out.db_clusters().first().map(to_cluster)),
            ),
            DbKind::Instance => found(
                ops,
                self.rds
                    .describe_db_instances()
                    .db_instance_identifier(id)
                    .send()
                    .await
                    .map(|out| {
                        out.db_instances()
                            .iter()
                            .find(|i| i.db_cluster_identifier().is_none_or(str::is_empty))
                            .map(to_instance)
                    }),
            ),
        }
    }

    async fn stop(&self, kind: DbKind, id: &str) -> Result<(), Error> {
        let op = ops(kind).stop;
        self.count(op);
        match kind {
            DbKind::Cluster => done(
                op,
                self.rds
                    .stop_db_cluster()
                    .db_cluster_identifier(id)
                    .send()
                    .await,
            ),
            DbKind::Instance => done(
                op,
                self.rds
                    .stop_db_instance()
                    .db_instance_identifier(id)
                    .send()
                    .await,
            ),
        }
    }

    async fn start(&self, kind: DbKind, id: &str) -> Result<(), Error> {
        let op = ops(kind).start;
        self.count(op);
        match kind {
            DbKind::Cluster => done(
                op,
                self.rds
                    .start_db_cluster()
                    .db_cluster_identifier(id)
                    .send()
                    .await,
            ),
            DbKind::Instance => done(
                op,
                self.rds
                    .start_db_instance()
                    .db_instance_identifier(id)
                    .send()
                    .await,
            ),
        }
    }

    async fn instances(&self) -> Result<Vec<Cluster>, Error> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            self.count("DescribeDBInstances");
            let page = self
                .rds
                .describe_db_instances()
                .max_records(100)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| err("DescribeDBInstances", e))?;
            out.extend(
                page.db_instances()
                    .iter()
                    .filter(|i| i.db_cluster_identifier().is_none_or(str::is_empty))
                    .map(to_instance),
            );
            match page.marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_string()),
                _ => return Ok(out),
            }
        }
    }

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
        kind: DbKind,
        id: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, String)>, Error> {
        let events = self.describe_events(kind, Some(id), since).await?;
        Ok(events.into_iter().map(|e| (e.at, e.message)).collect())
    }

    async fn recent_events(
        &self,
        kind: DbKind,
        since: DateTime<Utc>,
    ) -> Result<Vec<cloud::DbEvent>, Error> {
        self.describe_events(kind, None, since).await
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

impl Aws {
    /// Every event of one kind of database since `since` (of one database when `id` is
    /// given), all pages, oldest first. Events without a date, source or message are
    /// skipped: there is nothing to match them on.
    async fn describe_events(
        &self,
        kind: DbKind,
        id: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<cloud::DbEvent>, Error> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            self.count("DescribeEvents");
            let page = self
                .rds
                .describe_events()
                .source_type(source_type(kind))
                .set_source_identifier(id.map(str::to_string))
                .start_time(SystemTime::from(since).into())
                .max_records(100)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| err("DescribeEvents", e))?;
            for e in page.events() {
                let at = e
                    .date()
                    .and_then(|d| SystemTime::try_from(*d).ok())
                    .map(DateTime::<Utc>::from);
                if let (Some(at), Some(source), Some(message)) =
                    (at, e.source_identifier(), e.message())
                {
                    out.push(cloud::DbEvent {
                        at,
                        kind,
                        source: source.to_string(),
                        message: message.to_string(),
                    });
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
}
