//! Our additions to Power Tuning's input: `architectures`, `codeLocations`,
//! `concurrency`, `pricing` and `reportS3`.

use std::collections::BTreeMap;

use super::fields::{bad, text, S3Location};
use super::wire::TuneInput;
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
    pub(super) fn read(input: &TuneInput) -> Result<Self, Error> {
        let architectures = match &input.architectures {
            None => Vec::new(),
            Some(items) if items.is_empty() => {
                return Err(bad(
                    "architectures",
                    "must be a non-empty list of arm64 and/or x86_64",
                ))
            }
            Some(items) => {
                let mut archs = Vec::new();
                for &a in items {
                    if !archs.contains(&a) {
                        archs.push(a);
                    }
                }
                archs
            }
        };

        let concurrency = match input.concurrency.map(|n| n.0) {
            None => None,
            Some(n) if (1..=1000).contains(&n) => Some(n as u32),
            Some(_) => return Err(bad("concurrency", "must be from 1 to 1000")),
        };

        let pricing = match input.pricing {
            None => PriceModel::default(),
            Some(p) => {
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

        let report_s3 = match text(&input.report_s3) {
            None => None,
            Some(raw) => Some(
                S3Location::parse(&raw)
                    .ok_or_else(|| bad("reportS3", "must be s3://bucket[/prefix]"))?,
            ),
        };

        let mut code_locations = BTreeMap::new();
        for (arch, loc) in input.code_locations.iter().flatten() {
            let a = Architecture::parse(arch)
                .ok_or_else(|| bad("codeLocations", format!("{arch:?} is not arm64 or x86_64")))?;
            let loc = code_source(loc).ok_or_else(|| {
                bad(
                    "codeLocations",
                    format!("{arch}: expected s3://bucket/key or an image URI"),
                )
            })?;
            code_locations.insert(a, loc);
        }

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
