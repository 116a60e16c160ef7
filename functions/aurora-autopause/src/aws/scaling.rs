//! Application Auto Scaling: ECS services' scalable targets.

use std::collections::HashMap;

use aws_sdk_applicationautoscaling as aas;

use crate::cloud;
use crate::model::{Suspended, Target};
use crate::Error;

use super::{err, Aws};

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
