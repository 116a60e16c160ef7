//! Checking a routing document whole when it is loaded: every error names its field.

use groundcrew::secrets::SecretRef;

use super::document::{RawDocument, Receiver};
use super::tree::{parse_duration, Route, Settings};
use super::Routing;
use crate::error::Error;
use crate::windows::TimeIntervals;

/// The check every list of names a document gives shares (a route's `receivers`, its
/// `active_time_intervals` and `mute_time_intervals`, the `default`): each name must be
/// defined under `section`, and an error names the field and the name.
pub(super) fn check_names(
    field: &str,
    names: &[String],
    section: &str,
    what: &str,
    defined: impl Fn(&str) -> bool,
) -> Result<(), String> {
    match names.iter().find(|n| !defined(n)) {
        Some(n) => Err(format!(
            "{field}: unknown {what} {n:?} (not under {section})"
        )),
        None => Ok(()),
    }
}

/// An optional duration field (`repeat_interval`), its error naming the field.
pub(super) fn duration_field(
    field: &str,
    text: Option<String>,
) -> Result<Option<std::time::Duration>, String> {
    text.map(|t| parse_duration(&t).map_err(|e| format!("{field}: {e}")))
        .transpose()
}

impl Routing {
    /// Parses and validates a JSON or YAML document.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let trimmed = text.trim_start();
        let raw: RawDocument = if trimmed.starts_with('{') {
            serde_json::from_str(text).map_err(|e| Error::Routing(format!("invalid JSON: {e}")))?
        } else {
            serde_yaml_ng::from_str(text)
                .map_err(|e| Error::Routing(format!("invalid YAML: {e}")))?
        };
        Self::validate(raw).map_err(Error::Routing)
    }

    fn validate(raw: RawDocument) -> Result<Self, String> {
        if raw.receivers.is_empty() {
            return Err("receivers: at least one receiver is needed".into());
        }
        for (name, receiver) in &raw.receivers {
            if name.trim().is_empty() {
                return Err("receivers: a receiver has an empty name".into());
            }
            if let Some((field, reference)) = receiver.secret() {
                SecretRef::parse(reference)
                    .map_err(|e| format!("receivers.{name}.{field}: {e}"))?;
            }
            if let Receiver::Sns { topic_arn } = receiver {
                let ok =
                    topic_arn.starts_with("arn:") && topic_arn.split(':').nth(2) == Some("sns");
                if !ok {
                    return Err(format!(
                        "receivers.{name}.topic_arn: {topic_arn:?} is not an SNS topic ARN"
                    ));
                }
            }
        }
        let receivers = |field: &str, names: &[String]| {
            if names.is_empty() {
                return Err(format!("{field}: at least one receiver is needed"));
            }
            check_names(field, names, "receivers", "receiver", |n| {
                raw.receivers.contains_key(n)
            })
        };
        let default = raw.default.unwrap_or_default();
        receivers("default", &default)?;
        let repeat_interval = duration_field("repeat_interval", raw.repeat_interval)?;
        let time_intervals = TimeIntervals::build(raw.time_intervals)?;
        let intervals = |field: &str, names: &[String]| {
            check_names(field, names, "time_intervals", "time interval", |n| {
                time_intervals.contains_name(n)
            })
        };
        let root = Settings {
            receivers: default.clone(),
            repeat_interval,
            active_time_intervals: Vec::new(),
            mute_time_intervals: Vec::new(),
        };
        let routes = raw
            .routes
            .into_iter()
            .enumerate()
            .map(|(i, r)| Route::build(format!("routes[{i}]"), r, &root, &receivers, &intervals))
            .collect::<Result<Vec<_>, _>>()?;
        let inhibit_rules = crate::inhibition::parse_rules(&raw.inhibit_rules)?;
        Ok(Self {
            receivers: raw.receivers,
            routes,
            default,
            repeat_interval,
            time_intervals,
            inhibit_rules,
        })
    }
}
