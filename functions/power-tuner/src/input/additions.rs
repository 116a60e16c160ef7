//! Our additions to Power Tuning's input: `architectures`, `codeLocations`,
//! `concurrency`, `pricing` and `reportS3`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::fields::{bad, integer, string, S3Location};
use crate::architecture::Architecture;
use crate::lambda::CodeSource;
use crate::price::PriceModel;
use crate::Error;

/// The fields Power Tuning does not have.
pub(super) struct Additions {
    pub architectures: Vec<Architecture>,
    pub concurrency: Option<u32>,
    pub pricing: PriceModel,
    pub report_s3: Option<S3Location>,
    pub code_locations: BTreeMap<Architecture, CodeSource>,
}

impl Additions {
    pub(super) fn read(obj: &Map<String, Value>) -> Result<Self, Error> {
        let architectures = match obj.get("architectures") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) if !items.is_empty() => {
                let mut archs = Vec::new();
                for item in items {
                    let a = item.as_str().and_then(Architecture::parse).ok_or_else(|| {
                        bad("architectures", format!("{item} is not arm64 or x86_64"))
                    })?;
                    if !archs.contains(&a) {
                        archs.push(a);
                    }
                }
                archs
            }
            Some(_) => {
                return Err(bad(
                    "architectures",
                    "must be a non-empty list of arm64 and/or x86_64",
                ))
            }
        };

        let concurrency = match integer(obj, "concurrency")? {
            None => None,
            Some(n) if (1..=1000).contains(&n) => Some(n as u32),
            Some(_) => return Err(bad("concurrency", "must be from 1 to 1000")),
        };

        let pricing = match obj.get("pricing") {
            None | Some(Value::Null) => PriceModel::default(),
            Some(v) => {
                let p: PriceModel =
                    serde_json::from_value(v.clone()).map_err(|e| bad("pricing", e))?;
                let ok = [
                    p.arm64_per_gb_second,
                    p.x86_64_per_gb_second,
                    p.per_million_requests,
                ]
                .iter()
                .all(|x| x.is_finite() && *x >= 0.0);
                if !ok {
                    return Err(bad("pricing", "prices must be non-negative numbers"));
                }
                p
            }
        };

        let report_s3 = match string(obj, "reportS3")? {
            None => None,
            Some(raw) => Some(
                S3Location::parse(&raw)
                    .ok_or_else(|| bad("reportS3", "must be s3://bucket[/prefix]"))?,
            ),
        };

        let code_locations = match obj.get("codeLocations") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Object(map)) => {
                let mut out = BTreeMap::new();
                for (arch, loc) in map {
                    let a = Architecture::parse(arch).ok_or_else(|| {
                        bad("codeLocations", format!("{arch:?} is not arm64 or x86_64"))
                    })?;
                    let loc = loc.as_str().and_then(code_source).ok_or_else(|| {
                        bad(
                            "codeLocations",
                            format!("{arch}: expected s3://bucket/key or an image URI"),
                        )
                    })?;
                    out.insert(a, loc);
                }
                out
            }
            Some(_) => {
                return Err(bad(
                    "codeLocations",
                    "must map arm64 / x86_64 to s3://bucket/key or an image URI",
                ))
            }
        };

        Ok(Self {
            architectures,
            concurrency,
            pricing,
            report_s3,
            code_locations,
        })
    }
}

/// `s3://bucket/key` or an image URI (`<registry>/<repository>[:tag|@digest]`).
fn code_source(raw: &str) -> Option<CodeSource> {
    if raw.starts_with("s3://") {
        let l = S3Location::parse(raw).filter(|l| !l.key.is_empty())?;
        return Some(CodeSource::S3 {
            bucket: l.bucket,
            key: l.key,
            object_version: None,
        });
    }
    let image = raw.contains('/') && !raw.chars().any(char::is_whitespace);
    image.then(|| CodeSource::Image(raw.to_string()))
}
