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
