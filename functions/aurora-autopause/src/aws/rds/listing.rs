//! The listings a sweep starts from: every DB cluster, every instance outside a cluster,
//! and the instance classes of the clusters' members. All pages, each page counted.

use std::collections::HashMap;

use aws_sdk_rds as rds;

use crate::model::Cluster;
use crate::Error;

use super::convert::{to_cluster, to_instance};
use crate::aws::{err, Aws};

impl Aws {
    /// Every DB cluster in the Region, pages of 100.
    pub(super) async fn list_clusters(&self) -> Result<Vec<Cluster>, Error> {
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

    /// Every DB instance that is no member of a DB cluster, pages of 100.
    pub(super) async fn list_instances(&self) -> Result<Vec<Cluster>, Error> {
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

    /// The instance classes of these clusters' members, by cluster id (a filter of up to
    /// 100 cluster ids a request).
    pub(super) async fn member_classes(
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
}
