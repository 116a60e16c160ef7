//! RDS's answers as the function's model: clusters and instances with their tags.

use std::collections::BTreeMap;

use aws_sdk_rds as rds;

use crate::model::{Cluster, DbKind, ScalingV2};

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

/// An Aurora DB cluster as the function sees it (its members' classes are read apart).
pub(super) fn to_cluster(c: &rds::types::DbCluster) -> Cluster {
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
pub(super) fn to_instance(i: &rds::types::DbInstance) -> Cluster {
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
