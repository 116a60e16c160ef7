//! Statistics over one power value's samples: Power Tuning's trimmed mean, percentiles,
//! spread, and the "within noise" test between two values.

/// Power Tuning's trimmed mean: sort numerically, drop `floor(n * discard)` samples from
/// each end (`discard` clamped to 0..=0.4), average the rest. 0 for no samples.
pub fn trimmed_mean(samples: &[f64], discard: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let discard = discard.clamp(0.0, 0.4);
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let drop = (sorted.len() as f64 * discard).floor() as usize;
    let kept = &sorted[drop..sorted.len() - drop];
    if kept.is_empty() {
        return 0.0;
    }
    kept.iter().sum::<f64>() / kept.len() as f64
}

/// Nearest-rank percentile (`p` in 0..=100) of unsorted samples; `None` when empty.
pub fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p.clamp(0.0, 100.0) / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

pub fn mean(samples: &[f64]) -> Option<f64> {
    (!samples.is_empty()).then(|| samples.iter().sum::<f64>() / samples.len() as f64)
}

/// Sample standard deviation (n - 1); 0 for fewer than two samples.
pub fn std_dev(samples: &[f64]) -> f64 {
    let Some(m) = mean(samples) else { return 0.0 };
    if samples.len() < 2 {
        return 0.0;
    }
    let var = samples.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (samples.len() - 1) as f64;
    var.sqrt()
}

/// Summary of a set of samples.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub count: usize,
    pub trimmed_mean: f64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub std_dev: f64,
    /// std_dev / mean: the run-to-run spread, comparable across values.
    pub coefficient_of_variation: f64,
}

pub fn summarize(samples: &[f64], discard: f64) -> Option<Summary> {
    let m = mean(samples)?;
    let sd = std_dev(samples);
    Some(Summary {
        count: samples.len(),
        trimmed_mean: trimmed_mean(samples, discard),
        mean: m,
        min: samples.iter().copied().fold(f64::INFINITY, f64::min),
        max: samples.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        p50: percentile(samples, 50.0)?,
        p90: percentile(samples, 90.0)?,
        p99: percentile(samples, 99.0)?,
        std_dev: sd,
        coefficient_of_variation: if m > 0.0 { sd / m } else { 0.0 },
    })
}

/// Whether two sets of samples of the same metric differ by less than their noise: the
/// difference of the means is within two standard errors of the difference
/// (`2 * sqrt(s1²/n1 + s2²/n2)`, about 95 % confidence for normal noise).
pub fn within_noise(a: &[f64], b: &[f64]) -> bool {
    let (Some(ma), Some(mb)) = (mean(a), mean(b)) else {
        return false;
    };
    let se = (std_dev(a).powi(2) / a.len() as f64 + std_dev(b).powi(2) / b.len() as f64).sqrt();
    (ma - mb).abs() <= 2.0 * se
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn trimmed_mean_as_power_tuning() {
        // n = 10, discard 0.2 -> drop 2 from each end: mean of 3..=8 = 5.5
        let s: Vec<f64> = (1..=10).rev().map(f64::from).collect();
        assert_eq!(trimmed_mean(&s, 0.2), 5.5);
        // n = 7, discard 0.2 -> floor(1.4) = 1 each end: mean of [2,3,4,5,100]... sorted
        let s = [100.0, 1.0, 2.0, 3.0, 4.0, 5.0, 1000.0];
        assert_eq!(trimmed_mean(&s, 0.2), (2.0 + 3.0 + 4.0 + 5.0 + 100.0) / 5.0);
        // discard 0 keeps all; numeric (not lexicographic) sort: 10 > 9
        assert_eq!(trimmed_mean(&[9.0, 10.0, 2.0], 0.0), 7.0);
        // n = 5, discard 0.1 -> floor(0.5) = 0: nothing dropped
        assert_eq!(trimmed_mean(&[1.0, 2.0, 3.0, 4.0, 100.0], 0.1), 22.0);
        // clamped to 0.4: n = 5 -> floor(2.0) = 2 each end -> the median
        assert_eq!(trimmed_mean(&[1.0, 2.0, 3.0, 4.0, 100.0], 0.9), 3.0);
        assert_eq!(trimmed_mean(&[], 0.2), 0.0);
    }

    #[test]
    fn percentiles_nearest_rank() {
        let s: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&s, 50.0), Some(50.0));
        assert_eq!(percentile(&s, 90.0), Some(90.0));
        assert_eq!(percentile(&s, 99.0), Some(99.0));
        assert_eq!(percentile(&[5.0, 1.0, 3.0], 50.0), Some(3.0));
        assert_eq!(percentile(&[5.0, 1.0, 3.0], 99.0), Some(5.0));
        assert_eq!(percentile(&[7.0], 0.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn spread_and_summary() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sample variance 32/7
        let s = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let sum = summarize(&s, 0.0).unwrap();
        assert_eq!(sum.mean, 5.0);
        assert!((sum.std_dev - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert_eq!((sum.min, sum.max), (2.0, 9.0));
        assert_eq!(sum.p50, 4.0);
        assert!((sum.coefficient_of_variation - (32.0f64 / 7.0).sqrt() / 5.0).abs() < 1e-12);
        assert_eq!(std_dev(&[3.0]), 0.0);
        assert!(summarize(&[], 0.2).is_none());
    }

    #[test]
    fn noise_verdict() {
        let a = [100.0, 102.0, 98.0, 101.0, 99.0];
        let b = [100.5, 101.5, 98.5, 100.0, 99.5];
        assert!(within_noise(&a, &b));
        let c = [50.0, 51.0, 49.0, 50.5, 49.5];
        assert!(!within_noise(&a, &c));
        // identical constant samples: zero noise, zero difference
        assert!(within_noise(&[5.0; 5], &[5.0; 5]));
        assert!(!within_noise(&[5.0; 5], &[6.0; 5]));
        assert!(!within_noise(&[], &[1.0]));
    }

    proptest! {
        #[test]
        fn trimmed_mean_lies_between_min_and_max(s in proptest::collection::vec(0.0f64..1e6, 1..60), d in 0.0f64..0.5) {
            let t = trimmed_mean(&s, d);
            let min = s.iter().copied().fold(f64::INFINITY, f64::min);
            let max = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            prop_assert!(t >= min - 1e-6 && t <= max + 1e-6);
        }

        #[test]
        fn percentiles_are_ordered(s in proptest::collection::vec(0.0f64..1e6, 1..60)) {
            let (p50, p90, p99) = (percentile(&s, 50.0).unwrap(), percentile(&s, 90.0).unwrap(), percentile(&s, 99.0).unwrap());
            prop_assert!(p50 <= p90 && p90 <= p99);
        }
    }
}
