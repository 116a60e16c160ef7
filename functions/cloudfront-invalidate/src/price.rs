//! Pricing a plan: what it bills and what it evicts.
//!
//! The planner finds the cover with the fewest billed paths. That is not always the
//! cheapest: while the month's free paths last, the exact list costs nothing and evicts
//! nothing; and a wildcard that saves one billed path may evict most of the site. So the
//! objective here is the money billed (paths past the free ones, at the path price) plus
//! `eviction_weight` dollars for every unchanged object a wildcard evicts, and the
//! wildcards together may evict at most `max_share` of the unchanged site. Wildcards the
//! planner chose are turned back into their exact paths, the worst first, while that
//! lowers the objective or the share is exceeded. Without an inventory, what a wildcard
//! evicts is unknown: the planner's blind rules stand and only the free paths count.

use serde::{Deserialize, Serialize};

use crate::planner::Plan;

/// What the pricing knows besides the plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pricing {
    pub price_per_path_usd: f64,
    /// Free paths left this month (a lower bound: other tools share them).
    pub free_paths_left: u64,
    /// Dollars charged per unchanged object evicted.
    pub eviction_weight: f64,
    /// The largest share of the unchanged site all wildcards together may evict.
    pub max_share: f64,
}

/// Paths billed, their cost and objects evicted (unknown without an inventory).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Priced {
    pub paths_billed: usize,
    pub cost_usd: f64,
    pub objects_evicted: Option<usize>,
}

/// The chosen plan against the exact list and `/*`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub free_paths_left: u64,
    pub chosen: Priced,
    pub exact: Priced,
    /// `/*` (which would also evict the immutable assets: never chosen).
    pub everything: Priced,
}

impl Pricing {
    fn cost(&self, billed: usize) -> f64 {
        let paid = (billed as u64).saturating_sub(self.free_paths_left);
        round_usd(paid as f64 * self.price_per_path_usd)
    }

    fn objective(&self, billed: usize, evicted: usize) -> f64 {
        self.cost(billed) + self.eviction_weight * evicted as f64
    }
}

fn evicted(plan: &Plan) -> usize {
    plan.collapses.iter().filter_map(|c| c.unchanged).sum()
}

/// Turns one chosen wildcard back into its exact paths.
fn expand(plan: &mut Plan, index: usize) {
    let c = plan.collapses.remove(index);
    plan.wildcards.retain(|w| *w != c.wildcard);
    plan.exact.extend(c.paths);
    plan.exact.sort();
    plan.exact.dedup();
}

/// The plan to submit, and how it compares.
pub fn choose(mut plan: Plan, pricing: &Pricing) -> (Plan, Comparison) {
    let known = plan.unchanged_site.is_some();
    let cap = plan
        .unchanged_site
        .map(|u| (pricing.max_share * u as f64).floor() as usize);
    if plan.exact_billed as u64 <= pricing.free_paths_left {
        // The exact list is free: nothing needs evicting.
        while !plan.collapses.is_empty() {
            expand(&mut plan, 0);
        }
    }
    loop {
        let current = pricing.objective(plan.billed(), evicted(&plan));
        let over_cap = cap.is_some_and(|cap| evicted(&plan) > cap);
        // The wildcard whose expansion lowers the objective most (or, over the cap,
        // evicts most per billed path it saves).
        let best = (0..plan.collapses.len())
            .map(|i| {
                let c = &plan.collapses[i];
                let billed = plan.billed() + c.paths.len() - 1;
                let after = pricing.objective(billed, evicted(&plan) - c.unchanged.unwrap_or(0));
                let ratio = c.unchanged.unwrap_or(0) as f64 / c.paths.len().max(1) as f64;
                (i, current - after, ratio)
            })
            .max_by(|a, b| {
                let key = |x: &(usize, f64, f64)| if over_cap { x.2 } else { x.1 };
                key(a).total_cmp(&key(b))
            });
        match best {
            Some((i, gain, _)) if over_cap || (known && gain > 0.0) => expand(&mut plan, i),
            _ => break,
        }
    }
    plan.collateral_files = plan.unchanged_site.map(|_| evicted(&plan));
    let comparison = Comparison {
        free_paths_left: pricing.free_paths_left,
        chosen: Priced {
            paths_billed: plan.billed(),
            cost_usd: pricing.cost(plan.billed()),
            objects_evicted: plan.collateral_files,
        },
        exact: Priced {
            paths_billed: plan.exact_billed,
            cost_usd: pricing.cost(plan.exact_billed),
            objects_evicted: plan.unchanged_site.map(|_| 0),
        },
        everything: Priced {
            paths_billed: 1,
            cost_usd: pricing.cost(1),
            objects_evicted: plan.unchanged_site,
        },
    };
    (plan, comparison)
}

pub fn round_usd(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::{normalize, Encoding};
    use crate::planner::{plan, PlanInput, PlanOptions};

    fn planned(changed: &[String], inventory: Option<Vec<String>>) -> Plan {
        let input = PlanInput {
            paths: changed
                .iter()
                .map(|p| normalize(p, Encoding::Url).unwrap())
                .collect(),
            tags: Vec::new(),
            inventory,
        };
        plan(
            &input,
            &PlanOptions {
                max_share: 1.0,
                blind_min_files: 2,
                ..PlanOptions::default()
            },
        )
        .unwrap()
    }

    fn pricing(free: u64, weight: f64, share: f64) -> Pricing {
        Pricing {
            price_per_path_usd: 0.005,
            free_paths_left: free,
            eviction_weight: weight,
            max_share: share,
        }
    }

    fn site(changed: usize, unchanged: usize) -> (Vec<String>, Vec<String>) {
        let changed: Vec<String> = (0..changed).map(|n| format!("/blog/c{n}.html")).collect();
        let mut inventory = changed.clone();
        inventory.extend((0..unchanged).map(|n| format!("/blog/u{n}.html")));
        inventory.extend((0..100).map(|n| format!("/shop/{n}.html")));
        (changed, inventory)
    }

    #[test]
    fn exact_paths_while_the_free_paths_last() {
        let (changed, inventory) = site(50, 10);
        let p = planned(&changed, Some(inventory));
        assert_eq!(p.wildcards, vec!["/blog/*"]);
        let (chosen, cmp) = choose(p, &pricing(1000, 0.0, 1.0));
        assert!(chosen.wildcards.is_empty());
        assert_eq!(chosen.billed(), 50);
        assert_eq!(cmp.chosen.cost_usd, 0.0);
        assert_eq!(cmp.chosen.objects_evicted, Some(0));
        assert_eq!(cmp.everything.objects_evicted, Some(110));
    }

    #[test]
    fn a_wildcard_pays_for_itself_or_is_expanded() {
        // 50 changed, 10 unchanged beside them: the wildcard saves 49 paths ($0.245) and
        // evicts 10 objects.
        let (changed, inventory) = site(50, 10);
        let p = planned(&changed, Some(inventory.clone()));
        let (cheap, cmp) = choose(p.clone(), &pricing(0, 0.001, 1.0));
        assert_eq!(cheap.wildcards, vec!["/blog/*"]);
        assert_eq!(cmp.chosen.paths_billed, 1);
        assert_eq!(cmp.chosen.objects_evicted, Some(10));
        assert_eq!(cmp.exact.cost_usd, 0.25);
        // At 3 cents an evicted object, the 10 evictions cost more than 49 paths.
        let (dear, _) = choose(p.clone(), &pricing(0, 0.03, 1.0));
        assert!(dear.wildcards.is_empty());
        assert_eq!(dear.billed(), 50);
        // The share cap holds in total: 10 of 110 unchanged objects is over 5%.
        let (capped, cmp) = choose(p, &pricing(0, 0.0, 0.05));
        assert!(capped.wildcards.is_empty(), "{cmp:?}");
    }

    #[test]
    fn without_an_inventory_only_the_free_paths_count() {
        let changed: Vec<String> = (0..30).map(|n| format!("/blog/{n}.html")).collect();
        let p = planned(&changed, None);
        let (blind, cmp) = choose(p.clone(), &pricing(0, 1.0, 0.0));
        assert_eq!(blind.wildcards, vec!["/blog/*"]);
        assert_eq!(cmp.chosen.objects_evicted, None);
        let (free, _) = choose(p, &pricing(30, 1.0, 0.0));
        assert!(free.wildcards.is_empty());
    }
}
