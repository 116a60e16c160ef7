//! From measured reports to per-value statistics, the winner and its reasoning.

use serde::Serialize;

use crate::architecture::Architecture;
use crate::price::PriceModel;
use crate::run::{Target, ValueRun};
use crate::stats::{self, Summary};
use crate::strategy::{self, Candidate, Strategy};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ValueStats {
    pub value: u32,
    pub architecture: Architecture,
    /// Power Tuning's fields.
    pub average_price: f64,
    pub average_duration: f64,
    pub total_cost: f64,
    /// Ours: what an invocation costs with the request charge, and per million.
    pub cost_per_invocation: f64,
    pub cost_per_million: f64,
    pub invocations: usize,
    pub allowed_errors: usize,
    pub duration: Summary,
    pub billed_duration: Summary,
    pub cold_starts: usize,
    pub init: Option<Summary>,
    pub max_memory_used_mb: Option<u32>,
    #[serde(skip)]
    pub target: Target,
    #[serde(skip)]
    pub speed_samples: Vec<f64>,
    #[serde(skip)]
    pub price_samples: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedValue {
    pub value: u32,
    pub architecture: Architecture,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recommendation {
    pub power: u32,
    pub architecture: Architecture,
    pub strategy: Strategy,
    pub runner_up: Option<u32>,
    pub runner_up_architecture: Option<Architecture>,
    /// The best two are within measurement noise of each other on the strategy's metric.
    pub within_noise: bool,
    pub reasoning: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchitectureBest {
    pub architecture: Architecture,
    pub power: u32,
    pub average_price: f64,
    pub average_duration: f64,
    pub cost_per_million: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Analysis {
    pub values: Vec<ValueStats>,
    pub failed: Vec<FailedValue>,
    pub recommendation: Option<Recommendation>,
    pub architectures: Vec<ArchitectureBest>,
    /// Sum of Power Tuning's prices over every invocation (its `lambdaCost`).
    pub lambda_cost: f64,
}

/// Statistics of one measured value; `None` when it produced no report.
pub fn value_stats(
    target: Target,
    run: &ValueRun,
    discard: f64,
    prices: &PriceModel,
) -> Option<ValueStats> {
    let arch = target.architecture;
    let mem = target.memory_mb;
    let speed: Vec<f64> = run.reports.iter().map(|r| r.speed_ms()).collect();
    let billed: Vec<f64> = run.reports.iter().map(|r| r.billed_ms()).collect();
    let price_samples: Vec<f64> = billed
        .iter()
        .map(|b| prices.power_tuning_price(arch, mem, *b))
        .collect();
    let inits: Vec<f64> = run
        .reports
        .iter()
        .filter_map(|r| r.init_duration_ms.or(r.restore_duration_ms))
        .collect();
    let duration = stats::summarize(&speed, discard)?;
    let billed_summary = stats::summarize(&billed, discard)?;
    let average_price = prices.power_tuning_price(arch, mem, billed_summary.trimmed_mean);
    let cost_per_invocation = average_price + prices.per_request();
    Some(ValueStats {
        value: mem,
        architecture: arch,
        average_price,
        average_duration: duration.trimmed_mean,
        total_cost: price_samples.iter().sum(),
        cost_per_invocation,
        cost_per_million: cost_per_invocation * 1_000_000.0,
        invocations: run.reports.len(),
        allowed_errors: run.allowed_errors,
        duration,
        billed_duration: billed_summary,
        cold_starts: run.reports.iter().filter(|r| r.is_cold()).count(),
        init: stats::summarize(&inits, 0.0),
        max_memory_used_mb: run
            .reports
            .iter()
            .filter_map(|r| r.max_memory_used_mb)
            .max(),
        target,
        speed_samples: speed,
        price_samples,
    })
}

fn usd(x: f64) -> String {
    format!("{x:.3e} USD")
}

pub fn analyse(
    order: &[Target],
    runs: &std::collections::BTreeMap<Target, ValueRun>,
    strategy: Strategy,
    weight: f64,
    discard: f64,
    prices: &PriceModel,
) -> Analysis {
    let mut values = Vec::new();
    let mut failed = Vec::new();
    let mut lambda_cost = 0.0;
    for target in order {
        let Some(run) = runs.get(target) else {
            continue;
        };
        let stats = value_stats(*target, run, discard, prices);
        if let Some(s) = &stats {
            lambda_cost += s.total_cost;
        }
        match (&run.failure, stats) {
            (None, Some(s)) => values.push(s),
            (Some(reason), _) => failed.push(FailedValue {
                value: target.memory_mb,
                architecture: target.architecture,
                reason: reason.clone(),
            }),
            (None, None) => failed.push(FailedValue {
                value: target.memory_mb,
                architecture: target.architecture,
                reason: "no invocation produced a report".into(),
            }),
        }
    }
    let candidates: Vec<Candidate> = values
        .iter()
        .map(|v| Candidate {
            cost: v.average_price,
            duration: v.average_duration,
        })
        .collect();
    let ranking = strategy::rank(strategy, weight, &candidates);
    let recommendation = ranking.first().map(|&w| {
        let win = &values[w];
        let second = ranking.get(1).map(|&i| &values[i]);
        let within_noise = second.is_some_and(|s| match strategy {
            Strategy::Cost => stats::within_noise(&win.price_samples, &s.price_samples),
            Strategy::Speed => stats::within_noise(&win.speed_samples, &s.speed_samples),
            Strategy::Balanced => {
                let max_cost = candidates.iter().map(|c| c.cost).fold(0.0, f64::max);
                let max_dur = candidates.iter().map(|c| c.duration).fold(0.0, f64::max);
                let w8 = weight.clamp(0.0, 1.0);
                let score = |v: &ValueStats| -> Vec<f64> {
                    v.price_samples
                        .iter()
                        .zip(&v.speed_samples)
                        .map(|(p, d)| {
                            w8 * if max_cost > 0.0 { p / max_cost } else { 0.0 } + (1.0 - w8) * if max_dur > 0.0 { d / max_dur } else { 0.0 }
                        })
                        .collect()
                };
                stats::within_noise(&score(win), &score(s))
            }
        });
        let what = match strategy {
            Strategy::Cost => "the cheapest",
            Strategy::Speed => "the fastest",
            Strategy::Balanced => "the best balance of cost and speed",
        };
        let mut reasoning = format!(
            "{} MB ({}) is {what} of {} measured configurations: {:.1} ms average, {} per invocation ({:.4} USD per million with requests).",
            win.value,
            win.architecture.as_str(),
            values.len(),
            win.average_duration,
            usd(win.average_price),
            win.cost_per_million
        );
        if let Some(s) = second {
            reasoning.push_str(&format!(
                " Runner-up: {} MB ({}) at {:.1} ms, {}.",
                s.value,
                s.architecture.as_str(),
                s.average_duration,
                usd(s.average_price)
            ));
            if within_noise {
                reasoning.push_str(" The two are within measurement noise of each other: either is a sound choice; more invocations (num) would separate them.");
            } else {
                reasoning.push_str(" The difference is larger than the measurement noise.");
            }
        }
        if !failed.is_empty() {
            reasoning.push_str(&format!(" {} configuration(s) failed and were excluded.", failed.len()));
        }
        Recommendation {
            power: win.value,
            architecture: win.architecture,
            strategy,
            runner_up: second.map(|s| s.value),
            runner_up_architecture: second.map(|s| s.architecture),
            within_noise,
            reasoning,
        }
    });
    let mut architectures = Vec::new();
    let mut archs: Vec<Architecture> = values.iter().map(|v| v.architecture).collect();
    archs.dedup();
    for arch in archs {
        let idx: Vec<usize> = (0..values.len())
            .filter(|&i| values[i].architecture == arch)
            .collect();
        let sub: Vec<Candidate> = idx.iter().map(|&i| candidates[i]).collect();
        if let Some(best) = strategy::pick(strategy, weight, &sub) {
            let v = &values[idx[best]];
            architectures.push(ArchitectureBest {
                architecture: arch,
                power: v.value,
                average_price: v.average_price,
                average_duration: v.average_duration,
                cost_per_million: v.cost_per_million,
            });
        }
    }
    Analysis {
        values,
        failed,
        recommendation,
        architectures,
        lambda_cost,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::Report;
    use std::collections::BTreeMap;

    fn report(d: f64, billed: f64, init: Option<f64>) -> Report {
        Report {
            duration_ms: d,
            billed_duration_ms: billed,
            memory_size_mb: None,
            max_memory_used_mb: Some(20),
            init_duration_ms: init,
            restore_duration_ms: None,
            billed_restore_duration_ms: None,
        }
    }

    fn t(m: u32) -> Target {
        Target {
            architecture: Architecture::Arm64,
            memory_mb: m,
        }
    }

    #[test]
    fn value_stats_by_hand() {
        let run = ValueRun {
            reports: vec![
                report(10.0, 10.0, Some(100.0)),
                report(20.0, 20.0, None),
                report(30.0, 30.0, None),
                report(40.0, 40.0, None),
                report(50.0, 50.0, None),
            ],
            planned: 5,
            ..Default::default()
        };
        let p = PriceModel::default();
        let s = value_stats(t(256), &run, 0.2, &p).unwrap();
        // speed samples 110, 20, 30, 40, 50 -> drop 1 each end -> (30+40+50)/3 = 40
        assert_eq!(s.average_duration, 40.0);
        // billed 10..50 -> trimmed mean 30 -> 30 * 1.666675e-9 * 2
        assert!((s.average_price - 30.0 * 1.666675e-9 * 2.0).abs() < 1e-20);
        assert!((s.total_cost - 150.0 * 1.666675e-9 * 2.0).abs() < 1e-18);
        assert!((s.cost_per_million - (s.average_price + 2e-7) * 1e6).abs() < 1e-12);
        assert_eq!(s.cold_starts, 1);
        assert_eq!(s.init.as_ref().unwrap().mean, 100.0);
        assert_eq!(s.max_memory_used_mb, Some(20));
    }

    #[test]
    fn failed_values_are_excluded_and_noise_reported() {
        let mk = |d: f64| ValueRun {
            reports: (0..5)
                .map(|i| report(d + i as f64 * 0.1, d.ceil(), None))
                .collect(),
            planned: 5,
            ..Default::default()
        };
        let mut runs = BTreeMap::new();
        runs.insert(t(128), mk(100.0));
        runs.insert(t(256), mk(50.0));
        runs.insert(
            t(512),
            ValueRun {
                failure: Some("invocation error Boom".into()),
                planned: 5,
                ..Default::default()
            },
        );
        let order = [t(128), t(256), t(512)];
        let a = analyse(
            &order,
            &runs,
            Strategy::Speed,
            0.5,
            0.2,
            &PriceModel::default(),
        );
        assert_eq!(a.values.len(), 2);
        assert_eq!(a.failed.len(), 1);
        assert_eq!(a.failed[0].value, 512);
        let rec = a.recommendation.unwrap();
        assert_eq!(rec.power, 256);
        assert_eq!(rec.runner_up, Some(128));
        assert!(!rec.within_noise);
        // cost: 128 MB at 100 ms == 256 MB at 50 ms: equal price, faster wins
        let a = analyse(
            &order,
            &runs,
            Strategy::Cost,
            0.5,
            0.2,
            &PriceModel::default(),
        );
        let rec = a.recommendation.unwrap();
        assert_eq!(rec.power, 256);
        assert!(rec.within_noise, "identical prices are within noise");
        assert!(rec.reasoning.contains("256 MB"));
    }
}
