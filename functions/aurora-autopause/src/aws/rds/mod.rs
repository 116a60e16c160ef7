//! RDS: one database's describe, stop and start (clusters and instances alike), scaling
//! and tags. The listings are in [`listing`], the events in [`events`], the conversion of
//! RDS's answers in [`convert`].

mod convert;
mod events;
mod listing;

use std::collections::HashMap;

use aws_sdk_rds as rds;
use aws_sdk_rds::config::http::HttpResponse;
use aws_sdk_rds::error::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, Utc};

use crate::cloud::{self, Tags};
use crate::model::{Cluster, DbKind, ScalingV2};
use crate::Error;

use super::{err, Aws};
use convert::{to_cluster, to_instance};

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
        self.list_instances().await
    }

    async fn clusters(&self) -> Result<Vec<Cluster>, Error> {
        self.list_clusters().await
    }

    async fn instance_classes(
        &self,
        cluster_ids: &[String],
    ) -> Result<HashMap<String, Vec<String>>, Error> {
        self.member_classes(cluster_ids).await
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
