//! The structured report an invocation returns, and its EMF metrics line.

use serde::Serialize;

use crate::event::Action;
use crate::model::DbKind;

impl From<DbKind> for Kind {
    fn from(k: DbKind) -> Self {
        match k {
            DbKind::Cluster => Kind::AuroraCluster,
            DbKind::Instance => Kind::RdsInstance,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    AuroraCluster,
    /// A plain RDS DB instance (no member of a DB cluster).
    RdsInstance,
    EcsService,
    /// An ECS cluster that could not be read (its services are not in this report).
    EcsCluster,
    /// A message of the follow-up queue that could not be handled.
    QueueMessage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The change was made.
    Done,
    /// Dry run: the change would have been made.
    DryRun,
    /// Nothing to do, or not allowed; `reason` says why.
    Skipped,
    /// An AWS call failed; `reason` holds the error.
    Failed,
}

/// One resource considered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub kind: Kind,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The state seen (cluster status, or `desired=N running=M` for a service).
    pub state: String,
    /// `stop`, `auto-pause`, `scale-to-zero`, `start`, `restore-scaling`, `restore-service`,
    /// `clear-record` or `none`.
    pub action: &'static str,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paused_at: Option<String>,
    /// What groundcrew recorded (to restore on wake).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hourly_saving_usd: Option<f64>,
    /// Set when the saving rests on a built-in price not confirmed (an Aurora or RDS
    /// class's, or the Fargate Spot estimate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_note: Option<String>,
    /// Hours paused this (UTC) month, the pause under way included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paused_hours_this_month: Option<f64>,
    /// Those hours at the resource's hourly price (when its price is known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saving_this_month_usd: Option<f64>,
    /// `status` only: the month's saving if the rest of it goes as it has so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projected_month_saving_usd: Option<f64>,
}

impl Item {
    pub fn new(
        kind: Kind,
        id: impl Into<String>,
        environment: Option<String>,
        state: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            id: id.into(),
            environment,
            state: state.into(),
            action: "none",
            outcome: Outcome::Skipped,
            reason: None,
            paused_at: None,
            recorded: None,
            hourly_saving_usd: None,
            price_note: None,
            paused_hours_this_month: None,
            saving_this_month_usd: None,
            projected_month_saving_usd: None,
        }
    }

    pub fn skipped(mut self, reason: impl Into<String>) -> Self {
        self.outcome = Outcome::Skipped;
        self.reason = Some(reason.into());
        self
    }

    pub fn failed(mut self, action: &'static str, reason: impl Into<String>) -> Self {
        self.action = action;
        self.outcome = Outcome::Failed;
        self.reason = Some(reason.into());
        self
    }

    pub fn acted(mut self, action: &'static str, dry_run: bool) -> Self {
        self.action = action;
        self.outcome = if dry_run {
            Outcome::DryRun
        } else {
            Outcome::Done
        };
        self
    }

    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    fn is_pause(&self) -> bool {
        matches!(self.action, "stop" | "auto-pause" | "scale-to-zero")
    }

    fn is_wake(&self) -> bool {
        matches!(self.action, "start" | "restore-scaling" | "restore-service")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub considered: usize,
    pub paused: usize,
    pub woken: usize,
    pub skipped: usize,
    pub failed: usize,
    /// Estimated USD per hour saved by what was paused (or would be, on a dry run).
    pub hourly_saving_usd: f64,
    /// Estimated USD saved this month by the resources reported.
    pub saving_this_month_usd: f64,
    /// `status` only: their saving over the whole month if it goes on as so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projected_month_saving_usd: Option<f64>,
    /// `sweep` only: the `GetMetricData` requests its idle check sent (up to 500 databases
    /// a request while the minutes read are at most 201, fewer beyond: 100,800 datapoints).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub get_metric_data_calls: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub action: Action,
    pub dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    pub summary: Summary,
    pub resources: Vec<Item>,
    /// Work handed on to a later invocation (a wake's services, queued with a delay).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub follow_ups: Vec<String>,
    /// For an SQS batch: the messages to come back later (Lambda's partial batch
    /// response: `ReportBatchItemFailures`).
    #[serde(
        rename = "batchItemFailures",
        skip_serializing_if = "Option::is_none",
        serialize_with = "item_failures"
    )]
    pub batch_item_failures: Option<Vec<String>>,
}

fn item_failures<S: serde::Serializer>(ids: &Option<Vec<String>>, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let ids = ids.as_deref().unwrap_or_default();
    let mut seq = s.serialize_seq(Some(ids.len()))?;
    for id in ids {
        seq.serialize_element(&serde_json::json!({ "itemIdentifier": id }))?;
    }
    seq.end()
}

impl Report {
    pub fn new(
        action: Action,
        dry_run: bool,
        environment: Option<String>,
        mut resources: Vec<Item>,
    ) -> Self {
        resources.sort_by(|a, b| (a.kind as u8, &a.id).cmp(&(b.kind as u8, &b.id)));
        let mut s = Summary {
            considered: resources.len(),
            ..Summary::default()
        };
        for item in &resources {
            s.saving_this_month_usd += item.saving_this_month_usd.unwrap_or(0.0);
            if let Some(p) = item.projected_month_saving_usd {
                *s.projected_month_saving_usd.get_or_insert(0.0) += p;
            }
            match item.outcome {
                Outcome::Failed => s.failed += 1,
                Outcome::Skipped => s.skipped += 1,
                Outcome::Done | Outcome::DryRun if item.is_pause() => {
                    s.paused += 1;
                    s.hourly_saving_usd += item.hourly_saving_usd.unwrap_or(0.0);
                }
                Outcome::Done | Outcome::DryRun if item.is_wake() => s.woken += 1,
                Outcome::Done | Outcome::DryRun => {}
            }
        }
        s.hourly_saving_usd = crate::savings::round(s.hourly_saving_usd);
        s.saving_this_month_usd = crate::savings::round(s.saving_this_month_usd);
        s.projected_month_saving_usd = s.projected_month_saving_usd.map(crate::savings::round);
        Self {
            action,
            dry_run,
            environment,
            summary: s,
            resources,
            follow_ups: Vec::new(),
            batch_item_failures: None,
        }
    }

    /// One CloudWatch Embedded Metric Format line: Paused, Woken, Skipped, Failed (Count)
    /// and HourlySavingUsd (None), by `Action` and `DryRun`.
    /// A sweep adds GetMetricDataCalls (Count).
    pub fn emf(&self, namespace: &str, timestamp_ms: i64) -> serde_json::Value {
        let mut line = serde_json::json!({
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": namespace,
                    "Dimensions": [["Action", "DryRun"]],
                    "Metrics": [
                        {"Name": "Paused", "Unit": "Count"},
                        {"Name": "Woken", "Unit": "Count"},
                        {"Name": "Skipped", "Unit": "Count"},
                        {"Name": "Failed", "Unit": "Count"},
                        {"Name": "HourlySavingUsd", "Unit": "None"}
                    ]
                }]
            },
            "Action": self.action.as_str(),
            "DryRun": if self.dry_run { "true" } else { "false" },
            "Paused": self.summary.paused,
            "Woken": self.summary.woken,
            "Skipped": self.summary.skipped,
            "Failed": self.summary.failed,
            "HourlySavingUsd": self.summary.hourly_saving_usd,
        });
        if let Some(calls) = self.summary.get_metric_data_calls {
            line["GetMetricDataCalls"] = calls.into();
            if let Some(metrics) = line["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array_mut() {
                metrics.push(serde_json::json!({"Name": "GetMetricDataCalls", "Unit": "Count"}));
            }
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_and_emf() {
        let items = vec![
            Item::new(Kind::AuroraCluster, "b", None, "available").acted("stop", false),
            Item {
                hourly_saving_usd: Some(0.26),
                ..Item::new(Kind::AuroraCluster, "a", None, "available").acted("stop", false)
            },
            Item::new(Kind::EcsService, "s", None, "desired=0 running=0")
                .acted("restore-service", false),
            Item::new(Kind::AuroraCluster, "c", None, "available").skipped("busy"),
            Item::new(Kind::AuroraCluster, "d", None, "available").failed("stop", "boom"),
        ];
        let mut r = Report::new(Action::Sweep, false, None, items);
        r.summary.get_metric_data_calls = Some(1);
        assert_eq!(r.resources[0].id, "a");
        assert_eq!(
            (
                r.summary.paused,
                r.summary.woken,
                r.summary.skipped,
                r.summary.failed
            ),
            (2, 1, 1, 1)
        );
        assert_eq!(r.summary.hourly_saving_usd, 0.26);
        let emf = r.emf("ns", 1);
        assert_eq!(emf["Paused"], 2);
        assert_eq!(emf["GetMetricDataCalls"], 1);
        assert_eq!(emf["_aws"]["CloudWatchMetrics"][0]["Namespace"], "ns");
        let names: Vec<&str> = emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        for n in names {
            assert!(emf.get(n).is_some(), "{n} has a value");
        }
        for d in emf["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]
            .as_array()
            .unwrap()
        {
            assert!(emf[d.as_str().unwrap()].is_string());
        }
    }
}
