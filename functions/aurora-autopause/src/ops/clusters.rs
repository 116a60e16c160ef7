//! Carrying out a database's plan (an Aurora cluster's or an RDS instance's): stop,
//! auto-pause, start, restore scaling, clear a record.

use crate::cloud::{Cloud, Rds};
use crate::hourly;
use crate::model::{Cluster, Record, PAUSED_AT_TAG, RECORD_TAG};
use crate::plan::ClusterPlan;
use crate::rds_messages;
use crate::report::Item;
use crate::savings;

use super::Ops;

impl<C: Cloud> Ops<'_, C> {
    /// A pause has ended: its hours join the month's ([`savings::PAUSED_HOURS_TAG`]). Written
    /// after the record is gone, so that a failure loses hours rather than counting
    /// them twice; a failure only makes the month's figure low.
    async fn keep_paused_hours(&self, c: &Cluster) {
        if !c.tags.contains_key(PAUSED_AT_TAG) {
            return;
        }
        let tag = savings::closing_tag(&c.tags, self.now);
        if let Err(e) = Rds::tag(self.cloud, &c.arn, &[tag]).await {
            tracing::warn!(database = %c.id, error = %e, "paused hours not kept");
        }
    }

    /// Carries out a cluster plan (or reports it, on a dry run).
    pub(super) async fn execute(&self, c: &Cluster, plan: ClusterPlan) -> Item {
        let item = self.cluster_item(c);
        let saving = hourly::hourly_saving(c, &plan, self.config);
        let item = Item {
            hourly_saving_usd: saving,
            price_note: saving.and_then(|_| hourly::price_note(c, &plan, self.config)),
            ..item
        };
        if let ClusterPlan::Skip(reason) = plan {
            return item.skipped(reason);
        }
        if self.out_of_time() {
            return item.skipped("the invocation deadline is near; left for the next run");
        }
        let rds = self.cloud;
        let dry = self.dry_run;
        match plan {
            ClusterPlan::Skip(_) => item,
            ClusterPlan::Stop { record } => {
                if dry {
                    return item.acted("stop", true);
                }
                if record {
                    let tags = [
                        (RECORD_TAG.to_string(), Record::Stopped.encode()),
                        (PAUSED_AT_TAG.to_string(), self.stamp()),
                    ];
                    if let Err(e) = Rds::tag(rds, &c.arn, &tags).await {
                        return item.failed("stop", e.to_string());
                    }
                }
                match rds.stop(c.kind, &c.id).await {
                    Ok(()) => {
                        let mut item = item.acted("stop", false);
                        if record {
                            item.paused_at = Some(self.stamp());
                            item.recorded = Some(Record::Stopped.encode());
                        } else {
                            // When groundcrew last stopped it: an AWS start before this
                            // is history for the next sweep's DescribeEvents.
                            item.paused_at = super::restop::stamp_paused_at(rds, c, self.now).await;
                            item =
                                item.with_reason("started again after being paused; stopped again");
                        }
                        item
                    }
                    Err(e) => {
                        if !record && !e.is_refusal() {
                            // A re-stop whose answer was lost: if the cluster is stopping
                            // after all, AWS's start is history (see above).
                            if let Ok(Some(now)) = rds.describe(c.kind, &c.id).await {
                                if matches!(now.status.as_str(), "stopping" | "stopped") {
                                    super::restop::stamp_paused_at(rds, c, self.now).await;
                                }
                            }
                        }
                        if record && e.is_refusal() {
                            // RDS refused: the cluster was not stopped, so it carries no
                            // record. After a timeout or a service error the stop may have
                            // happened: the record stays, so that a wake and the 7-day
                            // re-stop still know the cluster (a running cluster with a
                            // stale record is cleared by the next sweep).
                            let _ = Rds::untag(rds, &c.arn, &[RECORD_TAG, PAUSED_AT_TAG]).await;
                        }
                        match e.code() {
                            code if rds_messages::is_state_fault(code) => {
                                item.skipped(format!("not stoppable now: {}", e.aws_message()))
                            }
                            Some("InvalidParameterCombination" | "InvalidParameterValue") => item
                                .skipped(format!(
                                    "AWS does not allow stopping it: {}",
                                    e.aws_message()
                                )),
                            _ => item.failed("stop", e.to_string()),
                        }
                    }
                }
            }
            ClusterPlan::AutoPause { previous, seconds } => {
                if dry {
                    return item.acted("auto-pause", true);
                }
                let record = Record::AutoPause(previous).encode();
                let tags = [
                    (RECORD_TAG.to_string(), record.clone()),
                    (PAUSED_AT_TAG.to_string(), self.stamp()),
                ];
                if let Err(e) = Rds::tag(rds, &c.arn, &tags).await {
                    return item.failed("auto-pause", e.to_string());
                }
                let scaling = crate::model::ScalingV2 {
                    min: 0.0,
                    max: previous.max,
                    seconds: Some(seconds),
                };
                match rds.set_scaling(&c.id, scaling).await {
                    Ok(()) => Item {
                        paused_at: Some(self.stamp()),
                        recorded: Some(record),
                        ..item.acted("auto-pause", false)
                    }
                    .with_reason(format!("MinCapacity 0, SecondsUntilAutoPause {seconds}")),
                    Err(e) => {
                        if e.is_refusal() {
                            let _ = Rds::untag(rds, &c.arn, &[RECORD_TAG, PAUSED_AT_TAG]).await;
                        }
                        item.failed("auto-pause", e.to_string())
                    }
                }
            }
            ClusterPlan::Start => {
                if dry {
                    return item.acted("start", true);
                }
                match rds.start(c.kind, &c.id).await {
                    Ok(()) => match Rds::untag(rds, &c.arn, &[RECORD_TAG, PAUSED_AT_TAG]).await {
                        Ok(()) => {
                            self.keep_paused_hours(c).await;
                            item.acted("start", false)
                        }
                        Err(e) => {
                            item.failed("start", format!("started, but its record stays: {e}"))
                        }
                    },
                    Err(e) if rds_messages::is_state_fault(e.code()) => {
                        item.skipped(format!("not startable now: {}", e.aws_message()))
                    }
                    Err(e) => item.failed("start", e.to_string()),
                }
            }
            ClusterPlan::RestoreScaling(previous) => {
                if dry {
                    return item.acted("restore-scaling", true);
                }
                match rds.set_scaling(&c.id, previous).await {
                    Ok(()) => match Rds::untag(rds, &c.arn, &[RECORD_TAG, PAUSED_AT_TAG]).await {
                        Ok(()) => {
                            self.keep_paused_hours(c).await;
                            item.acted("restore-scaling", false)
                        }
                        Err(e) => item.failed(
                            "restore-scaling",
                            format!("scaling restored, but its record stays: {e}"),
                        ),
                    },
                    Err(e) => item.failed("restore-scaling", e.to_string()),
                }
            }
            ClusterPlan::ClearRecord(reason) => {
                if dry {
                    return item.acted("clear-record", true).with_reason(reason);
                }
                match Rds::untag(rds, &c.arn, &[RECORD_TAG, PAUSED_AT_TAG]).await {
                    Ok(()) => {
                        self.keep_paused_hours(c).await;
                        item.acted("clear-record", false).with_reason(reason)
                    }
                    Err(e) => item.failed("clear-record", e.to_string()),
                }
            }
        }
    }
}
