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
mod tests {
    use super::*;
    use crate::paths::{normalize, Encoding};
    use proptest::prelude::*;

    fn input(paths: &[&str]) -> PlanInput {
        PlanInput {
            paths: paths
                .iter()
                .map(|p| normalize(p, Encoding::Url).unwrap())
                .collect(),
            ..PlanInput::default()
        }
    }

    fn covers(plan: &Plan, path: &str) -> bool {
        plan.exact.iter().any(|e| e == path)
            || plan
                .wildcards
                .iter()
                .any(|w| path.starts_with(w.trim_end_matches('*')))
    }

    #[test]
    fn small_deploys_stay_exact() {
        let plan = plan(
            &input(&["/index.html", "/about.html", "/_next/static/chunks/a.js"]),
            &PlanOptions::default(),
        )
        .unwrap();
        assert_eq!(plan.exact, vec!["/about.html", "/index.html"]);
        assert!(plan.wildcards.is_empty());
        assert_eq!(plan.immutable_dropped, 1);
        assert_eq!(plan.naive_paths, 3);
        assert_eq!(plan.billed(), 2);
    }

    #[test]
    fn a_whole_changed_directory_becomes_one_wildcard_with_an_inventory() {
        let mut i = input(&[
            "/blog/a.html",
            "/blog/b.html",
            "/blog/c.html",
            "/about.html",
        ]);
        i.inventory = Some(
            [
                "/blog/a.html",
                "/blog/b.html",
                "/blog/c.html",
                "/about.html",
                "/index.html",
                "/shop/x.html",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        );
        let plan = plan(
            &i,
            &PlanOptions {
                max_share: 0.0,
                ..PlanOptions::default()
            },
        )
        .unwrap();
        assert_eq!(plan.wildcards, vec!["/blog/*"]);
        assert_eq!(plan.exact, vec!["/about.html"]);
        assert_eq!(plan.collateral_files, Some(0));
    }

    #[test]
    fn the_share_limit_keeps_partial_directories_exact() {
        let mut i = input(&["/docs/a.html", "/docs/b.html", "/docs/c.html"]);
        let mut inventory: Vec<String> = (0..100).map(|n| format!("/docs/p{n}.html")).collect();
        inventory.extend((0..100).map(|n| format!("/other/p{n}.html")));
        i.inventory = Some(inventory);
        // /docs/ holds about half the site: too much to evict for three changed pages.
        let plan = plan(&i, &PlanOptions::default()).unwrap();
        assert!(plan.wildcards.is_empty(), "{plan:?}");
        assert_eq!(plan.billed(), 3);
        let generous = super::plan(
            &i,
            &PlanOptions {
                max_share: 0.6,
                ..PlanOptions::default()
            },
        )
        .unwrap();
        assert_eq!(generous.wildcards, vec!["/docs/*"]);
        assert_eq!(generous.collateral_files, Some(100));
    }

    #[test]
    fn without_an_inventory_only_big_directories_collapse_and_never_over_immutable() {
        let mut paths: Vec<String> = (0..30).map(|n| format!("/blog/post-{n}.html")).collect();
        paths.push("/pricing.html".into());
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let plan = plan(&input(&refs), &PlanOptions::default()).unwrap();
        assert_eq!(plan.wildcards, vec!["/blog/*"]);
        assert_eq!(plan.exact, vec!["/pricing.html"]);
        // `/` contains `/_next/static/`: never `/*` without an inventory.
        let many: Vec<String> = (0..500).map(|n| format!("/p{n}.html")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let flat = super::plan(&input(&refs), &PlanOptions::default()).unwrap();
        assert!(flat.wildcards.is_empty());
        assert_eq!(flat.billed(), 500);
    }

    #[test]
    fn an_inventory_never_opens_an_immutable_prefix() {
        // Every mutable file of the site changed: the inventory alone would allow `/*`,
        // which would also evict every hashed asset under /_next/static/.
        let changed: Vec<String> = (0..40).map(|n| format!("/p{n}.html")).collect();
        let refs: Vec<&str> = changed.iter().map(String::as_str).collect();
        let mut i = input(&refs);
        let mut inventory = changed.clone();
        inventory.extend((0..500).map(|n| format!("/_next/static/chunks/{n}.js")));
        i.inventory = Some(inventory);
        let plan = plan(
            &i,
            &PlanOptions {
                max_share: 1.0,
                ..PlanOptions::default()
            },
        )
        .unwrap();
        assert!(plan.wildcards.is_empty(), "{plan:?}");
        assert_eq!(plan.billed(), 40);
        // Nor `/_next/*` for changed data files beside the static ones: a wildcard stays
        // beside the prefix.
        let data: Vec<String> = (0..40).map(|n| format!("/_next/data/b/{n}.json")).collect();
        let refs: Vec<&str> = data.iter().map(String::as_str).collect();
        let mut i = input(&refs);
        i.inventory = Some(data.clone());
        let plan = super::plan(&i, &PlanOptions::default()).unwrap();
        assert_eq!(plan.wildcards, vec!["/_next/data/b/*"]);
    }

    #[test]
    fn a_given_wildcard_over_an_immutable_prefix_is_refused() {
        for given in ["/*", "/_next/*", "/_next/st*"] {
            let err = plan(&input(&[given, "/a.html"]), &PlanOptions::default()).unwrap_err();
            assert!(
                matches!(&err, PlanError::CoversImmutable { prefix, .. } if prefix == "/_next/static/"),
                "{given}: {err}"
            );
            assert!(err.to_string().contains("immutable prefix /_next/static/"));
        }
        // Inside the prefix it is simply dropped; beside it, kept.
        let p = plan(
            &input(&["/_next/static/*", "/_next/data/*"]),
            &PlanOptions::default(),
        )
        .unwrap();
        assert_eq!(p.wildcards, vec!["/_next/data/*"]);
        assert_eq!(p.immutable_dropped, 1);
    }

    #[test]
    fn the_wildcard_budget_goes_where_it_saves_most() {
        let mut paths = Vec::new();
        for (dir, n) in [("a", 50), ("b", 40), ("c", 30)] {
            paths.extend((0..n).map(|i| format!("/{dir}/{i}.html")));
        }
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let plan = plan(
            &input(&refs),
            &PlanOptions {
                max_wildcards: 2,
                ..PlanOptions::default()
            },
        )
        .unwrap();
        assert_eq!(plan.wildcards, vec!["/a/*", "/b/*"]);
        assert_eq!(plan.billed(), 2 + 30);
    }

    #[test]
    fn given_wildcards_and_tags_are_kept() {
        let mut i = input(&["/blog/*", "/blog/a.html", "/x.html"]);
        i.tags = vec!["#home".into(), "#home".into()];
        let plan = plan(&i, &PlanOptions::default()).unwrap();
        assert_eq!(plan.wildcards, vec!["/blog/*"]);
        assert_eq!(plan.exact, vec!["/x.html"]);
        assert_eq!(plan.tags, vec!["#home"]);
        assert_eq!(plan.billed(), 3);
        let too_many: Vec<String> = (0..16).map(|n| format!("/d{n}/*")).collect();
        let refs: Vec<&str> = too_many.iter().map(String::as_str).collect();
        assert!(matches!(
            super::plan(&input(&refs), &PlanOptions::default()),
            Err(PlanError::TooManyWildcards { given: 16, .. })
        ));
    }

    #[test]
    fn batches_respect_the_limits() {
        let paths: Vec<String> = (0..7001).map(|n| format!("/f{n}.html")).collect();
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let mut i = input(&refs);
        i.tags = vec!["#t".into()];
        let plan = plan(&i, &PlanOptions::default()).unwrap();
        let batches = plan.batches(&PlanOptions::default());
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![3000, 3000, 1002]
        );
        assert_eq!(batches[0][0], "#t");
    }

    fn arb_path() -> impl Strategy<Value = String> {
        let seg = prop::sample::select(vec!["a", "b", "c", "_next", "static", "blog", "x y", "ü"]);
        let file = prop::sample::select(vec!["index.html", "a.html", "b.json", "c", ""]);
        (prop::collection::vec(seg, 0..4), file).prop_map(|(segs, f)| {
            let mut s = String::from("/");
            for seg in segs {
                s.push_str(seg);
                s.push('/');
            }
            s.push_str(f);
            s
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn cover_is_correct_within_limits_and_never_dearer(
            raw in prop::collection::vec(arb_path(), 0..200),
            inventory in prop::option::of(prop::collection::vec(arb_path(), 0..200)),
            max_wildcards in 0usize..16,
            max_share in 0.0f64..1.0,
            blind_min in 0usize..30,
            per_batch in 1usize..50,
        ) {
            let options = PlanOptions {
                max_wildcards,
                max_share,
                blind_min_files: blind_min,
                max_paths_per_batch: per_batch,
                ..PlanOptions::default()
            };
            let mut i = PlanInput {
                paths: raw.iter().map(|p| normalize(p, Encoding::Raw).unwrap()).collect(),
                ..PlanInput::default()
            };
            i.inventory = inventory.map(|inv| inv.iter().map(|p| normalize(p, Encoding::Raw).unwrap().text).collect());
            let plan = plan(&i, &options).unwrap();
            // Every changed path outside the immutable prefixes is covered.
            for p in &i.paths {
                if !p.text.starts_with("/_next/static/") {
                    prop_assert!(covers(&plan, &p.text), "{} not covered by {:?}", p.text, plan);
                }
            }
            // Never more than the limits.
            prop_assert!(plan.wildcards.len() <= max_wildcards);
            for batch in plan.batches(&options) {
                let wild = batch.iter().filter(|p| p.ends_with('*')).count();
                prop_assert!(wild <= max_wildcards);
                prop_assert!(batch.len() - wild <= per_batch);
                prop_assert!(!batch.is_empty());
            }
            let batched: usize = plan.batches(&options).iter().map(Vec::len).sum();
            prop_assert_eq!(batched, plan.billed());
            // Never dearer than the naive list.
            prop_assert!(plan.billed() <= plan.naive_paths);
            // Never a wildcard over an immutable prefix without an inventory.
            if i.inventory.is_none() {
                for w in &plan.wildcards {
                    prop_assert!(!"/_next/static/".starts_with(w.trim_end_matches('*')), "{}", w);
                }
            }
        }

        #[test]
        fn no_path_or_wildcard_ever_covers_an_immutable_prefix(
            raw in prop::collection::vec(arb_path(), 0..120),
            given in prop::collection::vec(arb_path(), 0..3),
            inventory in prop::option::of(prop::collection::vec(arb_path(), 0..200)),
            immutable in prop::collection::vec(arb_path(), 1..3),
            max_wildcards in 0usize..16,
            max_share in 0.0f64..1.0,
            blind_min in 0usize..10,
        ) {
            // Immutable prefixes are directories or file-name prefixes anywhere in the tree.
            let immutable: Vec<String> = immutable.iter().map(|p| normalize(p, Encoding::Raw).unwrap().text).collect();
            let options = PlanOptions {
                max_wildcards,
                max_share,
                blind_min_files: blind_min,
                immutable_prefixes: immutable.clone(),
                ..PlanOptions::default()
            };
            let mut paths: Vec<NormPath> = raw.iter().map(|p| normalize(p, Encoding::Raw).unwrap()).collect();
            // Caller-given wildcards: the directory of a random path.
            paths.extend(given.iter().map(|p| {
                let text = normalize(p, Encoding::Raw).unwrap().text;
                let dir = &text[..text.rfind('/').unwrap_or(0) + 1];
                NormPath { text: dir.to_string(), wildcard: true }
            }));
            let i = PlanInput {
                paths,
                inventory: inventory.map(|inv| inv.iter().map(|p| normalize(p, Encoding::Raw).unwrap().text).collect()),
                ..PlanInput::default()
            };
            match plan(&i, &options) {
                Ok(plan) => {
                    for w in &plan.wildcards {
                        let dir = w.trim_end_matches('*');
                        for p in &immutable {
                            prop_assert!(!p.starts_with(dir) && !dir.starts_with(p.as_str()), "{} covers {}", w, p);
                        }
                    }
                    for e in &plan.exact {
                        prop_assert!(!immutable.iter().any(|p| e.starts_with(p.as_str())), "{} is immutable", e);
                    }
                    // Every changed mutable path is still covered.
                    for p in i.paths.iter().filter(|p| !immutable.iter().any(|m| p.text.starts_with(m.as_str()))) {
                        let target = if p.wildcard { format!("{}*", p.text) } else { p.text.clone() };
                        prop_assert!(
                            covers(&plan, &p.text) || plan.wildcards.contains(&target),
                            "{} not covered by {:?}", p.text, plan
                        );
                    }
                }
                Err(PlanError::CoversImmutable { wildcard, prefix }) => {
                    prop_assert!(prefix.starts_with(wildcard.as_str()));
                }
                Err(PlanError::TooManyWildcards { .. }) => {}
            }
        }

        #[test]
        fn the_plan_is_optimal_against_brute_force_on_small_trees(
            raw in prop::collection::vec(arb_path(), 0..25),
            max_wildcards in 0usize..4,
        ) {
            let options = PlanOptions { max_wildcards, blind_min_files: 2, ..PlanOptions::default() };
            let i = PlanInput {
                paths: raw.iter().map(|p| normalize(p, Encoding::Raw).unwrap()).collect(),
                ..PlanInput::default()
            };
            let plan = plan(&i, &options).unwrap();
            let changed: Vec<String> = {
                let mut v: Vec<String> = i.paths.iter().map(|p| p.text.clone()).filter(|t| !t.starts_with("/_next/static/")).collect();
                v.sort();
                v.dedup();
                v
            };
            // Every admissible directory, then every subset of at most max_wildcards.
            let mut dirs: Vec<String> = Vec::new();
            for p in &changed {
                let mut end = 0;
                while let Some(i) = p[end..].find('/') {
                    end += i + 1;
                    dirs.push(p[..end].to_string());
                }
            }
            dirs.sort();
            dirs.dedup();
            dirs.retain(|d| {
                let n = changed.iter().filter(|p| p.starts_with(d.as_str())).count();
                n >= 2 && !"/_next/static/".starts_with(d.as_str())
            });
            prop_assume!(dirs.len() <= 12);
            let mut best = changed.len();
            for mask in 0u32..(1 << dirs.len()) {
                if mask.count_ones() as usize > max_wildcards { continue; }
                let set: Vec<&String> = dirs.iter().enumerate().filter(|(b, _)| mask & (1 << b) != 0).map(|(_, d)| d).collect();
                let exact = changed.iter().filter(|p| !set.iter().any(|d| p.starts_with(d.as_str()))).count();
                best = best.min(exact + set.len());
            }
            prop_assert_eq!(plan.billed(), best);
        }
    }
}
