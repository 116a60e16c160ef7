//! The site's files, for the planner to weigh wildcards: from the event, or a listing of
//! the site bucket mapped to the distribution.

use groundcrew::Deadline;

use super::{call, Invalidator};
use crate::aws::{CloudFront, DistributionInfo, SiteListing};
use crate::error::Error;
use crate::event::Request;
use crate::paths::{index_directory, key_to_path, normalize, Encoding};

impl<C: CloudFront, S: SiteListing> Invalidator<C, S> {
    /// The site's files: from the event, else from a mapped site bucket's listing.
    pub(super) async fn inventory(
        &self,
        request: &Request,
        dist: &DistributionInfo,
        deadline: Deadline,
    ) -> Result<(Option<Vec<String>>, &'static str), Error> {
        if let Some(site) = &request.site_paths {
            return Ok((Some(site.clone()), "event"));
        }
        if !self.config.bucket_inventory {
            return Ok((None, "none"));
        }
        let serves = |selector: &str| {
            selector == request.distribution
                || selector == dist.id
                || dist
                    .aliases
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(selector))
        };
        let Some(site) = self
            .config
            .site_buckets
            .iter()
            .find(|b| serves(&b.distribution))
        else {
            return Ok((None, "none"));
        };
        let max = self.config.inventory_max_keys;
        let keys = call(&self.read_retry, deadline, "ListObjectsV2", || {
            self.listing.keys(&site.bucket, &site.prefix, max)
        })
        .await?;
        let Some(keys) = keys else {
            tracing::warn!(bucket = %site.bucket, max, "the site bucket holds too many objects to use as inventory");
            return Ok((None, "none"));
        };
        let mut files = Vec::with_capacity(keys.len());
        for key in &keys {
            let Some(rel) = key_to_path(key, &site.prefix) else {
                continue;
            };
            if rel.is_empty() || rel.ends_with('/') {
                continue;
            }
            if let Ok(p) = normalize(rel, Encoding::Raw) {
                if let Some(dir) = index_directory(&p, &self.config.index_document) {
                    files.push(dir.text);
                }
                files.push(p.text);
            }
        }
        Ok((Some(files), "bucket"))
    }
}
