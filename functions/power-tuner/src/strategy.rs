//! Power Tuning's three strategies, with its formula and tie-breaking.
//!
//! - `cost`: cheapest `averagePrice`; equal prices go to the faster.
//! - `speed`: fastest `averageDuration`; equal durations go to the cheaper.
//! - `balanced`: minimises `w * cost / maxCost + (1 - w) * duration / maxDuration`; equal
//!   scores keep the input order (Power Tuning's sort is stable), so the first listed wins.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    #[default]
    Cost,
    Speed,
    Balanced,
}

impl Strategy {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "cost" => Some(Self::Cost),
            "speed" => Some(Self::Speed),
            "balanced" => Some(Self::Balanced),
            _ => None,
        }
    }
}

/// One measured configuration as the strategies see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Power Tuning's `averagePrice` (USD per invocation).
    pub cost: f64,
    /// Power Tuning's `averageDuration` (ms).
    pub duration: f64,
}

/// The balanced score of each candidate (lower is better).
pub fn balanced_scores(candidates: &[Candidate], weight: f64) -> Vec<f64> {
    let w = weight.clamp(0.0, 1.0);
    let max_cost = candidates
        .iter()
        .map(|c| c.cost)
        .fold(f64::NEG_INFINITY, f64::max);
    let max_duration = candidates
        .iter()
        .map(|c| c.duration)
        .fold(f64::NEG_INFINITY, f64::max);
    let norm = |x: f64, max: f64| if max > 0.0 { x / max } else { 0.0 };
    candidates
        .iter()
        .map(|c| w * norm(c.cost, max_cost) + (1.0 - w) * norm(c.duration, max_duration))
        .collect()
}

/// Candidates best first, as indices into `candidates` (a stable sort, as Power Tuning's).
pub fn rank(strategy: Strategy, weight: f64, candidates: &[Candidate]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    let cmp = |a: f64, b: f64| a.partial_cmp(&b).unwrap_or(Ordering::Equal);
    match strategy {
        Strategy::Cost => order.sort_by(|&i, &j| {
            let (a, b) = (candidates[i], candidates[j]);
            if a.cost == b.cost {
                cmp(a.duration, b.duration)
            } else {
                cmp(a.cost, b.cost)
            }
        }),
        Strategy::Speed => order.sort_by(|&i, &j| {
            let (a, b) = (candidates[i], candidates[j]);
            if a.duration == b.duration {
                cmp(a.cost, b.cost)
            } else {
                cmp(a.duration, b.duration)
            }
        }),
        Strategy::Balanced => {
            let scores = balanced_scores(candidates, weight);
            order.sort_by(|&i, &j| cmp(scores[i], scores[j]));
        }
    }
    order
}

/// The winner's index, or `None` when there is no candidate.
pub fn pick(strategy: Strategy, weight: f64, candidates: &[Candidate]) -> Option<usize> {
    rank(strategy, weight, candidates).first().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(cost: f64, duration: f64) -> Candidate {
        Candidate { cost, duration }
    }

    #[test]
    fn cost_picks_the_cheapest_and_breaks_ties_by_speed() {
        let cs = [c(3.0, 10.0), c(2.0, 30.0), c(2.0, 20.0), c(5.0, 5.0)];
        assert_eq!(rank(Strategy::Cost, 0.5, &cs), vec![2, 1, 0, 3]);
        // a full tie keeps the input order
        assert_eq!(
            pick(Strategy::Cost, 0.5, &[c(1.0, 1.0), c(1.0, 1.0)]),
            Some(0)
        );
    }

    #[test]
    fn speed_picks_the_fastest_and_breaks_ties_by_cost() {
        let cs = [c(3.0, 10.0), c(2.0, 10.0), c(1.0, 30.0), c(5.0, 12.0)];
        assert_eq!(rank(Strategy::Speed, 0.5, &cs), vec![1, 0, 3, 2]);
    }

    #[test]
    fn balanced_uses_power_tunings_formula() {
        // maxCost 4, maxDuration 100
        // A: 0.5*1/4 + 0.5*100/100 = 0.625
        // B: 0.5*2/4 + 0.5*40/100  = 0.45
        // C: 0.5*4/4 + 0.5*10/100  = 0.55
        let cs = [c(1.0, 100.0), c(2.0, 40.0), c(4.0, 10.0)];
        let s = balanced_scores(&cs, 0.5);
        assert!(
            (s[0] - 0.625).abs() < 1e-12
                && (s[1] - 0.45).abs() < 1e-12
                && (s[2] - 0.55).abs() < 1e-12
        );
        assert_eq!(pick(Strategy::Balanced, 0.5, &cs), Some(1));
        // weight 1 is pure cost, weight 0 pure speed
        assert_eq!(pick(Strategy::Balanced, 1.0, &cs), Some(0));
        assert_eq!(pick(Strategy::Balanced, 0.0, &cs), Some(2));
        // out-of-range weights are clamped as Power Tuning does
        assert_eq!(pick(Strategy::Balanced, 7.0, &cs), Some(0));
    }

    #[test]
    fn balanced_ties_keep_input_order() {
        // A: 0.5*2/4 + 0.5*50/100 = 0.5 ; B: 0.5*4/4 + 0.5*0/100... use symmetric pair:
        // A: (cost 4, dur 50) -> 0.5 + 0.25 = 0.75 ; B: (cost 2, dur 100) -> 0.25 + 0.5 = 0.75
        let cs = [c(4.0, 50.0), c(2.0, 100.0)];
        assert_eq!(pick(Strategy::Balanced, 0.5, &cs), Some(0));
        let swapped = [c(2.0, 100.0), c(4.0, 50.0)];
        assert_eq!(pick(Strategy::Balanced, 0.5, &swapped), Some(0));
    }

    #[test]
    fn empty_and_parse() {
        assert_eq!(pick(Strategy::Cost, 0.5, &[]), None);
        assert_eq!(Strategy::parse("balanced"), Some(Strategy::Balanced));
        assert_eq!(Strategy::parse("Cost"), None);
    }
}
