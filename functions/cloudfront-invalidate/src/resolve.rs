//! Resolving a distribution selector (id, alias, `tag:Key=Value`) to one distribution,
//! among the configured ones when `DISTRIBUTIONS` is set; a warm container remembers the
//! answer for a while.

use std::time::{Duration, Instant};

use groundcrew::Deadline;

use crate::aws::{CloudFront, DistributionInfo, SiteListing};
use crate::error::Error;
use crate::invalidate::{call, Invalidator};

/// How long a resolved distribution is remembered by a warm container.
const RESOLVE_TTL: Duration = Duration::from_secs(300);

fn looks_like_id(selector: &str) -> bool {
    (8..=24).contains(&selector.len())
        && selector
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn alias_matches(alias: &str, host: &str) -> bool {
    let alias = alias.to_ascii_lowercase();
    match alias.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .is_some_and(|head| head.ends_with('.') && !head[..head.len() - 1].contains('.')),
        None => alias == host,
    }
}

impl<C: CloudFront, S: SiteListing> Invalidator<C, S> {
    /// Finds the distribution by id, alias (CNAME, wildcard aliases included) or
    /// `tag:Key=Value`, among the configured ones when `DISTRIBUTIONS` is set.
    pub async fn resolve(
        &self,
        selector: &str,
        deadline: Deadline,
    ) -> Result<DistributionInfo, Error> {
        if let Ok(cache) = self.resolved.lock() {
            if let Some((at, info)) = cache.get(selector) {
                if at.elapsed() < RESOLVE_TTL {
                    return Ok(info.clone());
                }
            }
        }
        let info = self.resolve_uncached(selector, deadline).await?;
        if let Ok(mut cache) = self.resolved.lock() {
            cache.insert(selector.to_string(), (Instant::now(), info.clone()));
        }
        Ok(info)
    }

    async fn resolve_uncached(
        &self,
        selector: &str,
        deadline: Deadline,
    ) -> Result<DistributionInfo, Error> {
        let allowed = &self.config.distributions;
        let policy = &self.read_retry;
        if looks_like_id(selector) {
            if !allowed.is_empty() && !allowed.iter().any(|a| a == selector) {
                return Err(Error::NotAllowed(selector.to_string()));
            }
            return call(policy, deadline, "GetDistribution", || {
                self.cloudfront.get_distribution(selector)
            })
            .await?
            .ok_or_else(|| Error::UnknownDistribution(selector.to_string()));
        }
        let candidates: Vec<DistributionInfo> = if allowed.is_empty() {
            call(policy, deadline, "ListDistributions", || {
                self.cloudfront.list_distributions()
            })
            .await?
        } else {
            let mut found = Vec::new();
            for id in allowed {
                match call(policy, deadline, "GetDistribution", || {
                    self.cloudfront.get_distribution(id)
                })
                .await?
                {
                    Some(d) => found.push(d),
                    None => {
                        tracing::warn!(distribution = %id, "a configured distribution does not exist")
                    }
                }
            }
            found
        };
        let matches: Vec<DistributionInfo> = if let Some(tag) = selector.strip_prefix("tag:") {
            let (key, value) = tag.split_once('=').ok_or_else(|| {
                Error::BadEvent(format!("distribution {selector:?}: expected tag:Key=Value"))
            })?;
            let mut out = Vec::new();
            for d in candidates {
                let tags = call(policy, deadline, "ListTagsForResource", || {
                    self.cloudfront.tags(&d.arn)
                })
                .await?;
                if tags.iter().any(|(k, v)| k == key && v == value) {
                    out.push(d);
                }
            }
            out
        } else {
            let host = selector.to_ascii_lowercase();
            let exact: Vec<DistributionInfo> = candidates
                .iter()
                .filter(|d| d.aliases.iter().any(|a| a.eq_ignore_ascii_case(&host)))
                .cloned()
                .collect();
            if exact.is_empty() {
                candidates
                    .into_iter()
                    .filter(|d| d.aliases.iter().any(|a| alias_matches(a, &host)))
                    .collect()
            } else {
                exact
            }
        };
        match matches.len() {
            0 => Err(Error::UnknownDistribution(selector.to_string())),
            1 => Ok(matches
                .into_iter()
                .next()
                .ok_or_else(|| Error::UnknownDistribution(selector.to_string()))?),
            _ => Err(Error::AmbiguousDistribution {
                selector: selector.to_string(),
                ids: matches
                    .iter()
                    .map(|d| d.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }
}
