//! What groundcrew changed on a resource, kept in a tag so that a wake can restore it
//! exactly: the record's encoding, and the scaling state it holds for ECS services.

use std::collections::BTreeMap;

use crate::model::{ScalingV2, RECORD_TAG};

/// Which kinds of scaling are suspended on a scalable target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Suspended {
    pub scale_in: bool,
    pub scale_out: bool,
    pub scheduled: bool,
}

impl Suspended {
    pub const ALL: Suspended = Suspended {
        scale_in: true,
        scale_out: true,
        scheduled: true,
    };

    fn encode(self) -> String {
        let mut s = String::new();
        if self.scale_in {
            s.push('i');
        }
        if self.scale_out {
            s.push('o');
        }
        if self.scheduled {
            s.push('s');
        }
        if s.is_empty() {
            s.push('-');
        }
        s
    }

    fn decode(raw: &str) -> Option<Self> {
        if raw == "-" {
            return Some(Self::default());
        }
        if raw.is_empty() || raw.chars().any(|c| !"ios".contains(c)) {
            return None;
        }
        Some(Self {
            scale_in: raw.contains('i'),
            scale_out: raw.contains('o'),
            scheduled: raw.contains('s'),
        })
    }
}

/// An Application Auto Scaling target for `ecs:service:DesiredCount`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Target {
    pub min: i32,
    pub max: i32,
    pub suspended: Suspended,
}

/// What groundcrew changed on a resource, kept in the [`RECORD_TAG`] tag.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// Cluster stopped with `StopDBCluster`.
    Stopped,
    /// Serverless v2 cluster set to `MinCapacity 0`; the scaling it had before.
    AutoPause(ScalingV2),
    /// ECS service scaled to 0; its desired count and scaling target before.
    ScaledToZero {
        desired: i32,
        target: Option<Target>,
    },
}

fn fmt_acu(v: f64) -> String {
    format!("{v}")
}

impl Record {
    /// Tag value: only characters that RDS and ECS tag values allow (letters, digits,
    /// spaces and `+ - = . _ : / @`).
    pub fn encode(&self) -> String {
        match self {
            Record::Stopped => "mode=stop".to_string(),
            Record::AutoPause(s) => format!(
                "mode=auto-pause min={} max={} pause={}",
                fmt_acu(s.min),
                fmt_acu(s.max),
                s.seconds.map_or("-".to_string(), |v| v.to_string())
            ),
            Record::ScaledToZero { desired, target } => match target {
                None => format!("mode=scale-to-zero desired={desired} target=none"),
                Some(t) => format!(
                    "mode=scale-to-zero desired={desired} min={} max={} suspended={}",
                    t.min,
                    t.max,
                    t.suspended.encode()
                ),
            },
        }
    }

    pub fn decode(raw: &str) -> Option<Self> {
        let fields: BTreeMap<&str, &str> = raw
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .collect();
        match *fields.get("mode")? {
            "stop" => Some(Record::Stopped),
            "auto-pause" => {
                let min: f64 = fields.get("min")?.parse().ok()?;
                let max: f64 = fields.get("max")?.parse().ok()?;
                let seconds = match *fields.get("pause")? {
                    "-" => None,
                    v => Some(v.parse().ok()?),
                };
                (min.is_finite() && max.is_finite() && min >= 0.0 && max >= min)
                    .then_some(Record::AutoPause(ScalingV2 { min, max, seconds }))
            }
            "scale-to-zero" => {
                let desired: i32 = fields.get("desired")?.parse().ok()?;
                if desired < 0 {
                    return None;
                }
                let target = if fields.get("target") == Some(&"none") {
                    None
                } else {
                    let min: i32 = fields.get("min")?.parse().ok()?;
                    let max: i32 = fields.get("max")?.parse().ok()?;
                    let suspended = Suspended::decode(fields.get("suspended")?)?;
                    (min >= 0 && max >= min).then_some(())?;
                    Some(Target {
                        min,
                        max,
                        suspended,
                    })
                };
                Some(Record::ScaledToZero { desired, target })
            }
            _ => None,
        }
    }

    /// The record a resource carries, if any. A record that cannot be read is reported
    /// as an error by the callers (they never guess).
    pub fn of(tags: &BTreeMap<String, String>) -> Option<Result<Self, String>> {
        tags.get(RECORD_TAG).map(|raw| {
            Record::decode(raw).ok_or_else(|| format!("unreadable {RECORD_TAG} tag `{raw}`"))
        })
    }
}
