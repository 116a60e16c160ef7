//! ECS services: scale to zero with their scaling target suspended, and back exactly.
//!
//! Race safety of the records: the record (desired count, scaling min/max and suspended
//! state) is written to the service's tags BEFORE anything is changed, in one TagResource
//! call, and an existing record is never overwritten. The scaling target is read before and
//! after the service, so a half-finished pause by someone else is always seen. A pause
//! checks afterwards that its record is still there; if a wake removed it meanwhile, the
//! pause puts back what the record said, so a service is never left at 0 after a wake.

use crate::cloud::{Cloud, Ecs};
use crate::model::{self, Record, Scope, Service, Suspended, Target, PAUSED_AT_TAG, RECORD_TAG};
use crate::report::Item;
use crate::Error;

use super::Ops;

impl<C: Cloud> Ops<'_, C> {
    /// A consistent read of a service and its scaling target: the target is read before
    /// and after the service; if it changed in between, the read is repeated.
    async fn read_service(
        &self,
        cluster: &str,
        name: &str,
    ) -> Result<Option<(Service, Option<Target>)>, Error> {
        let rid = format!("service/{cluster}/{name}");
        let ids = [rid.clone()];
        for _ in 0..5 {
            let before = self.cloud.targets(&ids).await?.remove(&rid);
            let Some(service) = self.cloud.service(cluster, name).await? else {
                return Ok(None);
            };
            let after = self.cloud.targets(&ids).await?.remove(&rid);
            if before == after {
                return Ok(Some((service, after)));
            }
        }
        Err(Error::aws(
            "DescribeScalableTargets",
            format!("the scaling target of {cluster}/{name} kept changing; try again"),
        ))
    }

    pub(super) async fn pause_service(&self, hint: &Service) -> Item {
        let item = self.service_item(hint);
        if self.out_of_time() {
            return item.skipped("the invocation deadline is near; left for the next run");
        }
        let (svc, target) = match self.read_service(&hint.cluster, &hint.name).await {
            Ok(Some(x)) => x,
            Ok(None) => return item.skipped("service no longer exists"),
            Err(e) => return item.failed("scale-to-zero", e.to_string()),
        };
        let item = self.service_item(&svc);
        match model::scope(self.config, &svc.tags) {
            Scope::InScope => {}
            Scope::Protected(r) => return item.skipped(r),
            Scope::NotOptedIn => return item.skipped("no longer opted in"),
        }
        let (record, fresh) = match Record::of(&svc.tags) {
            Some(Ok(r @ Record::ScaledToZero { .. })) => (r, false),
            Some(Ok(_)) => {
                return item.skipped(format!("{RECORD_TAG} tag is not a service record"))
            }
            Some(Err(e)) => return item.skipped(e),
            None if svc.desired == 0 => {
                return item.skipped("desired count is already 0 (not paused by groundcrew)")
            }
            None => (
                Record::ScaledToZero {
                    desired: svc.desired,
                    target,
                },
                true,
            ),
        };
        let Record::ScaledToZero {
            target: recorded_target,
            ..
        } = record.clone()
        else {
            return item.skipped("unexpected record");
        };
        let target_done = match (recorded_target, target) {
            (Some(_), Some(t)) => t.min == 0 && t.suspended == Suspended::ALL,
            _ => true,
        };
        if !fresh && svc.desired == 0 && target_done {
            let since = svc
                .tags
                .get(PAUSED_AT_TAG)
                .map(|t| format!(" at {t}"))
                .unwrap_or_default();
            return item.skipped(format!("already scaled to zero by groundcrew{since}"));
        }
        let encoded = record.encode();
        if self.dry_run {
            return Item {
                recorded: Some(encoded),
                ..item.acted("scale-to-zero", true)
            };
        }
        let mut item = item;
        if fresh {
            let tags = [
                (RECORD_TAG.to_string(), encoded.clone()),
                (PAUSED_AT_TAG.to_string(), self.stamp()),
            ];
            if let Err(e) = Ecs::tag(self.cloud, &svc.arn, &tags).await {
                return item.failed("scale-to-zero", e.to_string());
            }
            item.paused_at = Some(self.stamp());
            item.recorded = Some(encoded);
        }
        if let (Some(_), Some(t)) = (recorded_target, target) {
            if !(t.min == 0 && t.suspended == Suspended::ALL) {
                let suspended = Target {
                    min: 0,
                    max: t.max,
                    suspended: Suspended::ALL,
                };
                if let Err(e) = self.cloud.register(&svc.resource_id(), suspended).await {
                    return item.failed(
                        "scale-to-zero",
                        format!("record kept, scaling not suspended: {e}"),
                    );
                }
            }
        }
        if svc.desired != 0 {
            if let Err(e) = self.cloud.set_desired(&svc.cluster, &svc.name, 0).await {
                return item.failed(
                    "scale-to-zero",
                    format!("record kept, scaling suspended, desired count not set: {e}"),
                );
            }
        }
        // A wake that finished meanwhile removed the record: undo, so the wake wins.
        match self.cloud.service(&svc.cluster, &svc.name).await {
            Ok(Some(after)) if Record::of(&after.tags).is_none() => {
                match self.restore_service(&svc, &record).await {
                    Ok(()) => item.skipped(
                        "a wake finished during the pause; the recorded state was put back",
                    ),
                    Err(e) => item.failed(
                        "scale-to-zero",
                        format!("a wake finished during the pause and restoring failed: {e}"),
                    ),
                }
            }
            Ok(_) => item.acted("scale-to-zero", false),
            Err(e) => item.failed(
                "scale-to-zero",
                format!("scaled to zero, but the record could not be checked: {e}"),
            ),
        }
    }

    async fn restore_service(&self, svc: &Service, record: &Record) -> Result<(), Error> {
        let Record::ScaledToZero { desired, target } = record else {
            return Ok(());
        };
        if let Some(t) = target {
            self.cloud.register(&svc.resource_id(), *t).await?;
        }
        self.cloud
            .set_desired(&svc.cluster, &svc.name, *desired)
            .await
    }

    pub(super) async fn wake_service(&self, hint: &Service) -> Item {
        let item = self.service_item(hint);
        if self.out_of_time() {
            return item.skipped("the invocation deadline is near; left for the next run");
        }
        let svc = match self.cloud.service(&hint.cluster, &hint.name).await {
            Ok(Some(s)) => s,
            Ok(None) => return item.skipped("service no longer exists"),
            Err(e) => return item.failed("restore-service", e.to_string()),
        };
        let item = self.service_item(&svc);
        let record = match Record::of(&svc.tags) {
            None => return item.skipped("not paused by groundcrew"),
            Some(Err(e)) => return item.skipped(e),
            Some(Ok(r @ Record::ScaledToZero { .. })) => r,
            Some(Ok(_)) => {
                return item.skipped(format!("{RECORD_TAG} tag is not a service record"))
            }
        };
        if self.dry_run {
            return item.acted("restore-service", true);
        }
        if let Err(e) = self.restore_service(&svc, &record).await {
            return item.failed("restore-service", e.to_string());
        }
        match Ecs::untag(self.cloud, &svc.arn, &[RECORD_TAG, PAUSED_AT_TAG]).await {
            Ok(()) => {
                // The pause's hours join the month's (see `keep_paused_hours`).
                let tag = crate::savings::closing_tag(&svc.tags, self.now);
                if let Err(e) = Ecs::tag(self.cloud, &svc.arn, &[tag]).await {
                    tracing::warn!(service = %svc.name, error = %e, "paused hours not kept");
                }
                item.acted("restore-service", false)
            }
            Err(e) => item.failed(
                "restore-service",
                format!("restored, but its record stays: {e}"),
            ),
        }
    }
}
