//! ECS: clusters, services, task sizes, desired counts and tags.

use std::collections::BTreeMap;

use aws_sdk_ecs as ecs;

use crate::cloud::{self, Tags};
use crate::model::{Service, TaskSize};
use crate::Error;

use super::{err, Aws};

fn name_from_arn(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Whether a service's tasks run on Fargate Spot: its capacity provider strategy gives
/// `FARGATE_SPOT` the larger weight.
fn on_spot(s: &ecs::types::Service) -> bool {
    let weight = |name: &str| {
        s.capacity_provider_strategy()
            .iter()
            .filter(|c| c.capacity_provider() == name)
            .map(|c| c.weight())
            .sum::<i32>()
    };
    weight("FARGATE_SPOT") > weight("FARGATE")
}

fn to_service(s: &ecs::types::Service, cluster: &str) -> Service {
    Service {
        task: None,
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
        let mut services = Vec::new();
        for s in out
            .services()
            .iter()
            .filter(|s| s.status() == Some("ACTIVE"))
        {
            let mut service = to_service(s, cluster);
            if let Some(td) = s.task_definition() {
                service.task = self
                    .task_size(td)
                    .await
                    .map(|(cpu_units, memory_mib)| TaskSize {
                        cpu_units,
                        memory_mib,
                        spot: on_spot(s),
                    });
            }
            services.push(service);
        }
        Ok(services)
    }

    /// A task definition's task-level `cpu` and `memory` (`DescribeTaskDefinition`, once per
    /// revision). Unknown (no task-level size, or the call failed) is `None`: the saving is
    /// then not estimated, and nothing else depends on it.
    async fn task_size(&self, task_definition: &str) -> Option<(u32, u32)> {
        if let Some(known) = self
            .task_sizes
            .lock()
            .ok()
            .and_then(|m| m.get(task_definition).copied())
        {
            return known;
        }
        self.count("DescribeTaskDefinition");
        let size = match self
            .ecs
            .describe_task_definition()
            .task_definition(task_definition)
            .send()
            .await
        {
            Ok(out) => out.task_definition().and_then(|t| {
                Some((
                    t.cpu()?.trim().parse().ok()?,
                    t.memory()?.trim().parse().ok()?,
                ))
            }),
            Err(e) => {
                tracing::warn!(task_definition, error = %err("DescribeTaskDefinition", e), "task size unknown; saving not estimated");
                return None;
            }
        };
        if let Ok(mut m) = self.task_sizes.lock() {
            m.insert(task_definition.to_string(), size);
        }
        size
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
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_arns() {
        assert_eq!(name_from_arn("arn:aws:ecs:us-east-1:1:cluster/dev"), "dev");
    }
}
