//! AWS's own EventBridge events: a `Scheduled Event` (a sweep) and RDS's
//! `RDS-EVENT-0153` / `RDS-EVENT-0154` (AWS started a database after seven days stopped).
//! Never `deny_unknown_fields`: AWS adds fields.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    bad, excerpt, valid_name, Action, Request, INSTANCE_RESTART_EVENT_ID, RESTART_EVENT_ID,
};
use crate::model::DbKind;
use crate::Error;

/// Which EventBridge event it is: read before its `detail`, whose shape depends on it.
#[derive(Deserialize)]
struct EventKind {
    source: String,
    #[serde(rename = "detail-type")]
    detail_type: String,
}

/// The `detail` of an RDS event (RDS User Guide, "Amazon RDS event categories and event
/// messages" and the EventBridge example there). The fields are optional here so that a
/// missing one is named in the error.
#[derive(Debug, Default, Deserialize, Serialize)]
struct RdsEventDetail {
    #[serde(rename = "EventID", default)]
    event_id: Option<String>,
    #[serde(rename = "SourceType", default)]
    source_type: Option<String>,
    #[serde(rename = "SourceIdentifier", default)]
    source_identifier: Option<String>,
}

pub(super) fn eventbridge(event: &Value) -> Result<Request, Error> {
    let kind = EventKind::deserialize(event).map_err(|e| bad(format!("EventBridge event: {e}")))?;
    match (kind.source.as_str(), kind.detail_type.as_str()) {
        ("aws.events" | "aws.scheduler", "Scheduled Event") => Ok(Request::of(Action::Sweep)),
        ("aws.rds", "RDS DB Cluster Event") => rds_restart(event, DbKind::Cluster),
        ("aws.rds", "RDS DB Instance Event") => rds_restart(event, DbKind::Instance),
        (source, detail_type) => Err(bad(format!(
            "unsupported EventBridge event: source {} detail-type {}",
            excerpt(source),
            excerpt(detail_type)
        ))),
    }
}

/// RDS-EVENT-0153 (a cluster) or RDS-EVENT-0154 (an instance): AWS started a database
/// that had been stopped for seven days.
fn rds_restart(event: &Value, kind: DbKind) -> Result<Request, Error> {
    let (want_id, source_type, what) = match kind {
        DbKind::Cluster => (RESTART_EVENT_ID, "CLUSTER", "cluster"),
        DbKind::Instance => (INSTANCE_RESTART_EVENT_ID, "DB_INSTANCE", "instance"),
    };
    let event = EventBridgeEvent::<RdsEventDetail>::deserialize(event)
        .map_err(|e| bad(format!("RDS event: {e}")))?;
    let detail = event.detail;
    let event_id = detail
        .event_id
        .ok_or_else(|| bad("RDS event without `detail.EventID`"))?;
    if event_id != want_id {
        return Err(bad(format!(
            "RDS event {} is not handled; only {want_id} ({what} started after 7 days stopped)",
            excerpt(&event_id)
        )));
    }
    if let Some(t) = detail.source_type.filter(|t| t != source_type) {
        return Err(bad(format!(
            "RDS event SourceType {} is not {source_type}",
            excerpt(&t)
        )));
    }
    let id = detail.source_identifier.ok_or_else(|| {
        bad(format!(
            "RDS event without `detail.SourceIdentifier` (the {what})"
        ))
    })?;
    if !valid_name(&id) || id.contains(':') {
        return Err(bad(format!(
            "`detail.SourceIdentifier` `{}` is not a DB {what} identifier",
            excerpt(&id)
        )));
    }
    Ok(Request {
        database: Some(id),
        database_kind: kind,
        ..Request::of(Action::Restop)
    })
}
