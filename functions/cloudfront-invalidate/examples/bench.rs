//! Benchmark: deploys of 10, 1,000 and 10,000 changed files in a realistic Next.js layout.
//! For each, the paths billed by the plan (without and with a site inventory), by the
//! naive list and by a plain `/*`, the unchanged files the plan's wildcards also evict,
//! and the planning time. Run: `cargo run -p cloudfront-invalidate --example bench --profile measure`.

use std::time::Instant;

use cloudfront_invalidate::paths::{index_directory, normalize, Encoding};
use cloudfront_invalidate::planner::{plan, PlanInput, PlanOptions};

/// A small deterministic generator (no dependency needed).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A Next.js static export: pages under /, /blog, /docs, /products, /tags; its build
/// output under /_next/static (hashed) and /_next/data/<buildId>; images.
fn site(pages: usize, build: &str, rng: &mut Lcg) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut html = vec![
        "/index.html".to_string(),
        "/pricing/index.html".into(),
        "/about/index.html".into(),
        "/404.html".into(),
    ];
    for n in 0..pages {
        let path = match n % 10 {
            0..=3 => format!("/blog/{}/post-{n}/index.html", 2020 + n % 6),
            4..=6 => format!(
                "/docs/{}/page-{n}/index.html",
                ["guides", "api", "reference", "cli"][n % 4]
            ),
            7 | 8 => format!(
                "/products/{}/item-{n}/index.html",
                ["shoes", "hats", "bags"][n % 3]
            ),
            _ => format!("/tags/tag-{n}/index.html"),
        };
        html.push(path);
    }
    let data: Vec<String> = html
        .iter()
        .map(|p| {
            format!(
                "/_next/data/{build}{}.json",
                p.trim_end_matches("/index.html").trim_end_matches(".html")
            )
        })
        .collect();
    let mut assets: Vec<String> = (0..(pages / 4).max(20))
        .map(|n| format!("/_next/static/chunks/{n}-{:08x}.js", rng.next()))
        .collect();
    assets.extend(
        (0..(pages / 20).max(4)).map(|n| format!("/_next/static/css/{n}-{:08x}.css", rng.next())),
    );
    assets.extend((0..(pages / 10).max(10)).map(|n| format!("/images/photo-{n}.jpg")));
    (html, data, assets)
}

/// The changed files of a deploy of `n` files: a new build id's data, new hashed assets,
/// and the HTML pages whose content changed (a random subset, clustered by section).
fn deploy(n: usize, rng: &mut Lcg) -> (Vec<String>, Vec<String>) {
    let pages = (n * 3).max(200);
    let (old_html, _old_data, old_assets) = site(pages, "build-41", &mut Lcg(7));
    let (html, data, assets) = site(pages, "build-42", rng);
    let mut changed: Vec<String> = Vec::new();
    // Share of a deploy: 40% hashed assets, 25% data of the new build, 35% HTML.
    let n_assets = n * 40 / 100;
    let n_data = n * 25 / 100;
    let n_html = n - n_assets - n_data;
    changed.extend(
        assets
            .iter()
            .filter(|a| a.starts_with("/_next/static/"))
            .take(n_assets)
            .cloned(),
    );
    changed.extend(data.iter().take(n_data).cloned());
    // HTML: whole sections sometimes (a template change), else scattered pages.
    let mut picked = 0;
    let mut i = 0;
    while picked < n_html && i < html.len() * 4 {
        let p = &html[rng.below(html.len() as u64) as usize];
        if !changed.contains(p) || n_html > 2000 {
            changed.push(p.clone());
            picked += 1;
        }
        i += 1;
    }
    changed.truncate(n);
    let mut inventory: Vec<String> = old_html
        .into_iter()
        .chain(data)
        .chain(old_assets)
        .chain(assets)
        .collect();
    inventory.sort();
    inventory.dedup();
    (changed, inventory)
}

fn figure(name: &str, value: f64, unit: &str, how: &str) {
    println!(
        "{}",
        serde_json::json!({"figure": name, "value": value, "unit": unit, "how": how})
    );
}

fn main() {
    let options = PlanOptions::default();
    for n in [10usize, 1_000, 10_000] {
        let mut rng = Lcg(42 + n as u64);
        let (changed_raw, inventory_raw) = deploy(n, &mut rng);
        let mut paths = Vec::new();
        for raw in &changed_raw {
            let p = normalize(raw, Encoding::Url).expect("generated paths are valid");
            if let Some(dir) = index_directory(&p, "index.html") {
                paths.push(dir);
            }
            paths.push(p);
        }
        let mut inventory = Vec::new();
        for raw in &inventory_raw {
            let p = normalize(raw, Encoding::Url).expect("generated paths are valid");
            if let Some(dir) = index_directory(&p, "index.html") {
                inventory.push(dir.text);
            }
            inventory.push(p.text);
        }
        let blind = PlanInput {
            paths: paths.clone(),
            tags: vec![],
            inventory: None,
        };
        let known = PlanInput {
            paths,
            tags: vec![],
            inventory: Some(inventory.clone()),
        };
        let time = |input: &PlanInput| {
            let runs = if n >= 10_000 { 5 } else { 21 };
            let mut times: Vec<f64> = (0..runs)
                .map(|_| {
                    let t = Instant::now();
                    let p = plan(input, &options).expect("plans");
                    std::hint::black_box(&p);
                    t.elapsed().as_secs_f64() * 1000.0
                })
                .collect();
            times.sort_by(f64::total_cmp);
            times[times.len() / 2]
        };
        let blind_plan = plan(&blind, &options).expect("plans");
        let known_plan = plan(&known, &options).expect("plans");
        let layout = format!("Next.js export, {n} changed files (40% /_next/static, 25% /_next/data/<build>, 35% HTML pages with index.html + dir path) of a {}-file site", inventory.len());
        figure(
            &format!("deploy_{n}_naive_paths_billed"),
            blind_plan.naive_paths as f64,
            "paths",
            &format!("every changed path as is; {layout}"),
        );
        figure(&format!("deploy_{n}_plan_paths_billed_no_inventory"), blind_plan.billed() as f64, "paths", &format!("planner without a site inventory (defaults: immutable /_next/static/, 15 wildcards, blind wildcard >= 20 files); {layout}"));
        figure(
            &format!("deploy_{n}_plan_paths_billed_with_inventory"),
            known_plan.billed() as f64,
            "paths",
            &format!("planner with the site inventory (max_share 0.2); {layout}"),
        );
        figure(
            &format!("deploy_{n}_plan_unchanged_files_evicted_with_inventory"),
            known_plan.collateral_files.unwrap_or(0) as f64,
            "files",
            "unchanged files under the plan's wildcards",
        );
        figure(
            &format!("deploy_{n}_star_paths_billed"),
            1.0,
            "paths",
            &format!(
                "a plain /* (evicts all {} files, hashed assets included)",
                inventory.len()
            ),
        );
        figure(
            &format!("deploy_{n}_plan_cost_usd_no_inventory"),
            blind_plan.billed() as f64 * 0.005,
            "USD",
            "paths billed x $0.005, past the free 1,000 a month",
        );
        figure(
            &format!("deploy_{n}_naive_cost_usd"),
            blind_plan.naive_paths as f64 * 0.005,
            "USD",
            "paths billed x $0.005, past the free 1,000 a month",
        );
        figure(
            &format!("deploy_{n}_planning_ms_no_inventory"),
            time(&blind),
            "ms",
            "median wall time of plan(), measure profile, one core",
        );
        figure(
            &format!("deploy_{n}_planning_ms_with_inventory"),
            time(&known),
            "ms",
            "median wall time of plan() with the inventory, measure profile, one core",
        );
        figure(
            &format!("deploy_{n}_plan_wildcards_no_inventory"),
            blind_plan.wildcards.len() as f64,
            "wildcards",
            "wildcards used (limit 15)",
        );
    }
}
