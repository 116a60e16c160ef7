//! The direct invoke, `{"action": .., "environment": .., "dry_run": ..,
//! "idleMinutesBeforePause": ..}`: the one input people write, so unknown fields are
//! refused and each field's error names it.

use std::time::Duration;

use serde::de::{Deserializer, Error as _};
use serde::Deserialize;
use serde_json::Value;

use super::{bad, excerpt, valid_name, Action, Request};
use crate::Error;

/// A direct invoke, as people (and the schedules) write it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectInvoke {
    #[serde(deserialize_with = "action_name")]
    action: String,
    #[serde(default, deserialize_with = "environment")]
    environment: Option<String>,
    #[serde(default, deserialize_with = "dry_run")]
    dry_run: Option<bool>,
    #[serde(
        rename = "idleMinutesBeforePause",
        default,
        deserialize_with = "idle_minutes"
    )]
    idle_minutes: Option<u64>,
}

/// Fields of a direct invoke deserialised with an error that names the field and what it
/// must be, followed by serde's own words for what was found.
macro_rules! named_field {
    ($fn:ident, $ty:ty, $name:literal, $must_be:literal) => {
        fn $fn<'de, D: Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
            <$ty>::deserialize(d).map_err(|e| {
                D::Error::custom(format!(
                    concat!("`", $name, "` must be ", $must_be, " ({})"),
                    e
                ))
            })
        }
    };
}
named_field!(action_name, String, "action", "a string");
named_field!(environment, Option<String>, "environment", "a string");
named_field!(dry_run, Option<bool>, "dry_run", "true or false");
named_field!(
    idle_minutes,
    Option<u64>,
    "idleMinutesBeforePause",
    "a whole number of minutes from 5 to 1440"
);

pub(super) fn direct(event: &Value) -> Result<Request, Error> {
    let invoke = DirectInvoke::deserialize(event).map_err(|e| bad(e.to_string()))?;
    let action = match invoke.action.as_str() {
        "sweep" => Action::Sweep,
        "pause" => Action::Pause,
        "wake" => Action::Wake,
        "status" => Action::Status,
        other => {
            return Err(bad(format!(
                "unknown action `{}`; expected sweep, pause, wake or status",
                excerpt(other)
            )))
        }
    };
    if let Some(env) = invoke.environment.as_deref().filter(|e| !valid_name(e)) {
        return Err(bad(format!(
            "`environment` `{}` is not a valid tag value (1-128 of A-Z a-z 0-9 - _ . : / @ + =)",
            excerpt(env)
        )));
    }
    let idle_window = match invoke.idle_minutes {
        None => None,
        Some(m) if (5..=1440).contains(&m) => Some(Duration::from_secs(m * 60)),
        Some(m) => {
            return Err(bad(format!(
                "`idleMinutesBeforePause` must be a whole number of minutes from 5 to 1440, not {m}"
            )))
        }
    };
    if matches!(action, Action::Pause | Action::Wake) && invoke.environment.is_none() {
        return Err(bad(format!(
            "`{}` needs `environment` (the value of the environment tag to act on)",
            action.as_str()
        )));
    }
    Ok(Request {
        environment: invoke.environment,
        dry_run: invoke.dry_run,
        idle_window,
        ..Request::of(action)
    })
}
