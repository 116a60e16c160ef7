//! S3 objects to the paths of the distributions that serve their buckets.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::spec::push_with_index;
use super::{Overrides, Request};
use crate::config::Config;
use crate::error::Error;
use crate::paths::{normalize, normalize_prefix, Encoding, NormPath};
use crate::s3_records::S3Notification;

/// S3 notification records invoked directly: one request per distribution, named by a
/// hash of the records (a retried delivery of the same records gets the same id).
pub(crate) fn s3_records(n: S3Notification, config: &Config) -> Result<Vec<Request>, Error> {
    if n.records.is_empty() {
        return Err(Error::BadEvent("`Records` is empty".into()));
    }
    let mut changes = Vec::with_capacity(n.records.len());
    let mut identity = Sha256::new();
    for (i, r) in n.records.into_iter().enumerate() {
        let c = r.change(i).map_err(Error::BadEvent)?;
        identity.update(format!(
            "{}\n{}\n{}\n{}\n",
            c.bucket, c.key, c.sequencer, c.event_name
        ));
        changes.push(c);
    }
    let deployment = format!("s3-{}", &hex::encode(identity.finalize())[..32]);
    let objects: Vec<(&str, &str)> = changes
        .iter()
        .map(|c| (c.bucket.as_str(), c.key.as_str()))
        .collect();
    s3_requests(&objects, &deployment, config)
}

/// Maps S3 objects to paths of the distributions serving their buckets.
pub fn s3_requests(
    objects: &[(&str, &str)],
    deployment: &str,
    config: &Config,
) -> Result<Vec<Request>, Error> {
    let bad = |m: String| Error::BadEvent(m);
    let mut by_distribution: BTreeMap<String, Vec<NormPath>> = BTreeMap::new();
    for (bucket, key) in objects {
        let site = config.bucket(bucket).ok_or_else(|| {
            bad(format!(
                "bucket {bucket:?} is not mapped to a distribution in SITE_BUCKETS"
            ))
        })?;
        let path = normalize(key, Encoding::S3Event).map_err(bad)?;
        let prefix = if site.prefix.is_empty() {
            "/".to_string()
        } else {
            normalize_prefix(&format!("{}/", site.prefix)).map_err(bad)?
        };
        // Objects outside the origin path are not part of the site.
        let Some(rest) = path.text.strip_prefix(&prefix) else {
            continue;
        };
        let site_path = NormPath {
            text: format!("/{rest}"),
            wildcard: false,
        };
        let entry = by_distribution
            .entry(site.distribution.clone())
            .or_default();
        push_with_index(entry, site_path, config);
    }
    Ok(by_distribution
        .into_iter()
        .map(|(distribution, paths)| Request {
            distribution,
            paths,
            tags: Vec::new(),
            deployment_id: deployment.to_string(),
            wait: false,
            site_paths: None,
            caller_reference: None,
            overrides: Overrides::default(),
        })
        .collect())
}
