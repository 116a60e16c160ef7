//! Amazon ECS services and their Application Auto Scaling targets.
//!
//! `UpdateService` sets the desired count at once; tasks then start (running follows
//! desired) only while the databases they use are available: a task whose database is
//! stopped or starting fails its health check and is replaced, over and over (the
//! scenario drives `running` from the databases' states). A scalable target
//! (`ecs:service:DesiredCount`) has a min, a max and a suspended state
//! (`RegisterScalableTarget`); while not suspended it keeps desired within [min, max].

use std::collections::BTreeMap;

use aurora_autopause::model::{Service, Target};

#[derive(Debug, Default)]
pub struct EcsModel {
    /// By (cluster, name).
    pub services: BTreeMap<(String, String), Service>,
    /// By resource id (`service/<cluster>/<name>`).
    pub targets: BTreeMap<String, Target>,
    /// ECS clusters that exist (a configured one that does not answers ClusterNotFound).
    pub clusters: Vec<String>,
}

/// An ECS or Application Auto Scaling error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcsError {
    pub code: &'static str,
    pub message: String,
}

impl EcsModel {
    pub fn add(&mut self, service: Service, target: Option<Target>) {
        if !self.clusters.contains(&service.cluster) {
            self.clusters.push(service.cluster.clone());
        }
        if let Some(t) = target {
            self.targets.insert(service.resource_id(), t);
        }
        self.services
            .insert((service.cluster.clone(), service.name.clone()), service);
    }

    pub fn services_in(&self, cluster: &str) -> Result<Vec<Service>, EcsError> {
        if !self.clusters.iter().any(|c| c == cluster) {
            return Err(EcsError {
                code: "ClusterNotFoundException",
                message: "Cluster not found.".into(),
            });
        }
        Ok(self
            .services
            .values()
            .filter(|s| s.cluster == cluster)
            .cloned()
            .collect())
    }

    pub fn service(&self, cluster: &str, name: &str) -> Option<Service> {
        self.services
            .get(&(cluster.to_string(), name.to_string()))
            .cloned()
    }

    pub fn set_desired(&mut self, cluster: &str, name: &str, desired: i32) -> Result<(), EcsError> {
        let s = self
            .services
            .get_mut(&(cluster.to_string(), name.to_string()))
            .ok_or_else(|| EcsError {
                code: "ServiceNotFoundException",
                message: "Service not found.".into(),
            })?;
        s.desired = desired;
        if desired == 0 {
            s.running = 0;
        }
        Ok(())
    }

    pub fn register(&mut self, resource_id: &str, target: Target) -> Result<(), EcsError> {
        if target.min > target.max || target.min < 0 {
            return Err(EcsError {
                code: "ValidationException",
                message: format!("min {} max {}", target.min, target.max),
            });
        }
        self.targets.insert(resource_id.to_string(), target);
        Ok(())
    }

    /// What a target's scaling would do: keep desired within [min, max] while scaling is
    /// not suspended (the reason a pause must suspend it first).
    pub fn apply_scaling(&mut self) {
        for s in self.services.values_mut() {
            if let Some(t) = self.targets.get(&s.resource_id()) {
                if !t.suspended.scale_in && s.desired > t.max {
                    s.desired = t.max;
                }
                if !t.suspended.scale_out && s.desired < t.min {
                    s.desired = t.min;
                }
            }
        }
    }

    pub fn find_by_arn(&mut self, arn: &str) -> Option<&mut Service> {
        self.services.values_mut().find(|s| s.arn == arn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aurora_autopause::model::Suspended;

    fn svc() -> Service {
        Service {
            cluster: "apps".into(),
            name: "web".into(),
            arn: "arn:aws:ecs:us-east-1:1:service/apps/web".into(),
            desired: 2,
            running: 2,
            ..Default::default()
        }
    }

    #[test]
    fn scaling_that_is_not_suspended_undoes_a_scale_to_zero() {
        let mut m = EcsModel::default();
        m.add(
            svc(),
            Some(Target {
                min: 1,
                max: 4,
                suspended: Suspended::default(),
            }),
        );
        m.set_desired("apps", "web", 0).unwrap();
        m.apply_scaling();
        assert_eq!(m.service("apps", "web").unwrap().desired, 1);
        m.register(
            "service/apps/web",
            Target {
                min: 0,
                max: 4,
                suspended: Suspended::ALL,
            },
        )
        .unwrap();
        m.set_desired("apps", "web", 0).unwrap();
        m.apply_scaling();
        assert_eq!(m.service("apps", "web").unwrap().desired, 0);
    }

    #[test]
    fn a_missing_cluster_or_service_is_an_error() {
        let mut m = EcsModel::default();
        m.add(svc(), None);
        assert_eq!(
            m.services_in("nope").unwrap_err().code,
            "ClusterNotFoundException"
        );
        assert_eq!(
            m.set_desired("apps", "nope", 1).unwrap_err().code,
            "ServiceNotFoundException"
        );
        assert_eq!(m.services_in("apps").unwrap().len(), 1);
    }
}
