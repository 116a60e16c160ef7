//! The planner: from changed paths to the cheapest correct invalidation.
//!
//! Pure logic, no I/O. The cover is chosen by dynamic programming over the directory tree
//! of the changed paths: for every directory `D` and wildcard budget `k`, the fewest
//! billed paths that cover every changed path under `D` using at most `k` wildcards. A
//! directory may become the wildcard `D*` only when that is admissible:
//!
//! - never when `D*` would cover an immutable prefix (hashed assets cached for a year),
//!   with or without an inventory: an inventory may say every file under `/` changed, yet
//!   `/*` would still evict `/_next/static/`;
//! - with a site inventory (every file the site serves): when every file under `D`
//!   changed, or when `D` holds at most `max_share` of the site's files;
//! - without one: when at least `blind_min_files` changed files lie under `D`.
//!
//! The result never bills more than the naive list (every changed path as it is), never
//! uses more than `max_wildcards` wildcards, covers every changed path outside the
//! immutable prefixes, and no path or wildcard of it covers an immutable prefix (a
//! wildcard given by the caller that would is refused).

use crate::paths::NormPath;

mod tree;

use tree::{Site, Tree};

/// CloudFront's limits per distribution, in progress at once.
pub const CLOUDFRONT_MAX_FILE_PATHS: usize = 3000;
pub const CLOUDFRONT_MAX_WILDCARDS: usize = 15;

#[derive(Debug, Clone, PartialEq)]
pub struct PlanOptions {
    /// Wildcards one plan may use (CloudFront allows 15 in progress).
    pub max_wildcards: usize,
    /// Paths (files and tags) per invalidation batch (CloudFront allows 3,000 in progress).
    pub max_paths_per_batch: usize,
    /// With an inventory: the largest share of the site's files a wildcard may cover when
    /// not all of the files under it changed.
    pub max_share: f64,
    /// Without an inventory: changed files a directory needs before it may become a wildcard.
    pub blind_min_files: usize,
    /// Prefixes of immutable (hashed) assets that never need invalidating.
    pub immutable_prefixes: Vec<String>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            max_wildcards: CLOUDFRONT_MAX_WILDCARDS,
            max_paths_per_batch: CLOUDFRONT_MAX_FILE_PATHS,
            max_share: 0.2,
            blind_min_files: 20,
            immutable_prefixes: vec!["/_next/static/".to_string()],
        }
    }
}

/// What the planner was asked to cover, already normalised.
#[derive(Debug, Clone, Default)]
pub struct PlanInput {
    /// Changed paths, exact or wildcard (given by the caller).
    pub paths: Vec<NormPath>,
    /// Cache-tag items (`#tag`).
    pub tags: Vec<String>,
    /// Every path the site serves (normalised exact paths), when known.
    pub inventory: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// Exact paths to invalidate, sorted.
    pub exact: Vec<String>,
    /// Wildcard paths (ending in `*`), sorted.
    pub wildcards: Vec<String>,
    /// Cache-tag items, sorted.
    pub tags: Vec<String>,
    /// Paths the naive list would bill: every distinct changed path and tag.
    pub naive_paths: usize,
    /// Changed paths dropped because they lie under an immutable prefix.
    pub immutable_dropped: usize,
    /// With an inventory: unchanged files the chosen wildcards also invalidate.
    pub collateral_files: Option<usize>,
    /// The wildcards the planner chose (not those given), with what each covers, so that
    /// pricing can turn one back into its exact paths.
    pub collapses: Vec<Collapse>,
    /// Paths the exact list bills: every mutable changed path and tag (a given wildcard
    /// counts once).
    pub exact_billed: usize,
    /// With an inventory: the site's files that did not change (what `/*` would evict).
    pub unchanged_site: Option<usize>,
}

/// A directory the planner turned into a wildcard.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Collapse {
    /// The wildcard path (`/blog/*`).
    pub wildcard: String,
    /// The changed paths it covers.
    pub paths: Vec<String>,
    /// With an inventory: unchanged files it evicts too.
    pub unchanged: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("the input names {given} wildcard paths; the limit is {limit}")]
    TooManyWildcards { given: usize, limit: usize },
    #[error(
        "the wildcard {wildcard}* would also invalidate the immutable prefix {prefix}; \
         name the directories that changed instead (or change IMMUTABLE_PREFIXES)"
    )]
    CoversImmutable { wildcard: String, prefix: String },
}

/// The immutable prefix a wildcard `dir*` would cover, if any.
fn covered_immutable<'a>(dir: &str, options: &'a PlanOptions) -> Option<&'a str> {
    options
        .immutable_prefixes
        .iter()
        .find(|p| p.starts_with(dir))
        .map(String::as_str)
}

impl Plan {
    /// Paths CloudFront bills: a wildcard counts as one, so does a tag.
    pub fn billed(&self) -> usize {
        self.exact.len() + self.wildcards.len() + self.tags.len()
    }

    pub fn is_empty(&self) -> bool {
        self.billed() == 0
    }

    /// The batches to submit: the wildcards and tags go first; no batch holds more than
    /// `max_paths_per_batch` non-wildcard paths or more than `max_wildcards` wildcards.
    pub fn batches(&self, options: &PlanOptions) -> Vec<Vec<String>> {
        let per_batch = options.max_paths_per_batch.max(1);
        let wild_per_batch = options.max_wildcards.max(1);
        let mut batches: Vec<Vec<String>> = Vec::new();
        let mut wild = self.wildcards.chunks(wild_per_batch);
        let others: Vec<&String> = self.tags.iter().chain(self.exact.iter()).collect();
        let mut rest = others.chunks(per_batch);
        loop {
            let mut batch: Vec<String> = wild.next().map(<[String]>::to_vec).unwrap_or_default();
            if let Some(chunk) = rest.next() {
                batch.extend(chunk.iter().map(|s| s.to_string()));
            }
            if batch.is_empty() {
                break;
            }
            batches.push(batch);
        }
        batches
    }
}

/// Plans the invalidation for `input` under `options`.
pub fn plan(input: &PlanInput, options: &PlanOptions) -> Result<Plan, PlanError> {
    let mut tags: Vec<String> = input.tags.clone();
    tags.sort();
    tags.dedup();
    let mut all: Vec<NormPath> = input.paths.clone();
    all.sort();
    all.dedup();
    let naive_paths = all.len() + tags.len();

    let immutable = |text: &str| {
        options
            .immutable_prefixes
            .iter()
            .any(|p| text.starts_with(p.as_str()))
    };
    let kept: Vec<&NormPath> = all.iter().filter(|p| !immutable(&p.text)).collect();
    let immutable_dropped = all.len() - kept.len();

    // Wildcards given by the caller are kept as they are, minus those inside another.
    let mut given: Vec<&str> = kept
        .iter()
        .filter(|p| p.wildcard)
        .map(|p| p.text.as_str())
        .collect();
    given.sort();
    let mut forced: Vec<String> = Vec::new();
    for w in given {
        if !forced.iter().any(|f| w.starts_with(f.as_str())) {
            forced.push(w.to_string());
        }
    }
    if let Some((wildcard, prefix)) = forced
        .iter()
        .find_map(|w| covered_immutable(w, options).map(|p| (w, p)))
    {
        return Err(PlanError::CoversImmutable {
            wildcard: wildcard.clone(),
            prefix: prefix.to_string(),
        });
    }
    if forced.len() > options.max_wildcards {
        return Err(PlanError::TooManyWildcards {
            given: forced.len(),
            limit: options.max_wildcards,
        });
    }
    let changed: Vec<&str> = kept
        .iter()
        .filter(|p| !p.wildcard && !forced.iter().any(|f| p.text.starts_with(f.as_str())))
        .map(|p| p.text.as_str())
        .collect();

    let budget = options.max_wildcards - forced.len();
    let site = input.inventory.as_ref().map(|inv| Site::new(inv, &changed));
    let tree = Tree::build(&changed);
    let chosen = tree.cover(budget, &|dir: &str, changed_under: usize| {
        admissible(dir, changed_under, site.as_ref(), options)
    });

    let mut wildcards: Vec<String> = forced.iter().map(|f| format!("{f}*")).collect();
    let mut exact: Vec<String> = Vec::new();
    for path in &changed {
        if !chosen.iter().any(|d| path.starts_with(d.as_str())) {
            exact.push(path.to_string());
        }
    }
    let collapses: Vec<Collapse> = chosen
        .iter()
        .map(|d| {
            let paths: Vec<String> = changed
                .iter()
                .filter(|p| p.starts_with(d.as_str()))
                .map(|p| p.to_string())
                .collect();
            Collapse {
                wildcard: format!("{d}*"),
                unchanged: site
                    .as_ref()
                    .map(|s| s.under(d).saturating_sub(paths.len())),
                paths,
            }
        })
        .collect();
    let collateral_files = site
        .as_ref()
        .map(|_| collapses.iter().filter_map(|c| c.unchanged).sum());
    let unchanged_site = site.as_ref().map(|s| s.total.saturating_sub(changed.len()));
    let exact_billed = kept.len() + tags.len();
    wildcards.extend(chosen.iter().map(|d| format!("{d}*")));
    wildcards.sort();
    exact.sort();
    Ok(Plan {
        exact,
        wildcards,
        tags,
        naive_paths,
        immutable_dropped,
        collateral_files,
        collapses,
        exact_billed,
        unchanged_site,
    })
}

/// The plan of `input` that uses exactly `wildcards` (as an earlier [`plan`] of the same
/// changes chose them): every changed path outside the immutable prefixes and outside
/// those wildcards, exactly. A retry rebuilds its first attempt's batches this way, so
/// the same `CallerReference` always names the same paths, whatever the free paths or the
/// inventory say by then.
pub fn plan_with_wildcards(
    input: &PlanInput,
    wildcards: &[String],
    options: &PlanOptions,
) -> Result<Plan, PlanError> {
    // No inventory, and no directory ever admissible blind: the caller's wildcards only.
    let blind = PlanInput {
        inventory: None,
        ..input.clone()
    };
    let only_given = PlanOptions {
        blind_min_files: usize::MAX,
        ..options.clone()
    };
    let mut out = plan(&blind, &only_given)?;
    let prefixes: Vec<&str> = wildcards.iter().map(|w| w.trim_end_matches('*')).collect();
    out.exact
        .retain(|p| !prefixes.iter().any(|w| p.starts_with(w)));
    out.wildcards = wildcards.to_vec();
    out.wildcards.sort();
    out.wildcards.dedup();
    Ok(out)
}

fn admissible(dir: &str, changed_under: usize, site: Option<&Site>, options: &PlanOptions) -> bool {
    if covered_immutable(dir, options).is_some() {
        return false;
    }
    match site {
        Some(site) => {
            let under = site.under(dir);
            under == changed_under || (under as f64) <= options.max_share * site.total as f64
        }
        None => changed_under >= options.blind_min_files.max(2),
    }
}

#[cfg(test)]
mod tests;
