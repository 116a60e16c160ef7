//! The price model: duration per GB-second by architecture, plus the per-request charge.
//!
//! Defaults are us-east-1's first tier (docs/reference.md); the input's `pricing` overrides
//! them for other regions or negotiated prices. Volume tiers are not modelled: a tuning
//! run compares configurations at the same volume, and the first tier is the upper bound.

use serde::{Deserialize, Serialize};

use crate::architecture::Architecture;

/// Step Functions charge per state transition (standard workflows).
pub const STEP_FUNCTIONS_PER_TRANSITION: f64 = 0.000025;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PriceModel {
    /// USD per GB-second, arm64.
    #[serde(default = "default_arm64")]
    pub arm64_per_gb_second: f64,
    /// USD per GB-second, x86_64.
    #[serde(default = "default_x86")]
    pub x86_64_per_gb_second: f64,
    /// USD per million requests.
    #[serde(default = "default_requests")]
    pub per_million_requests: f64,
}

fn default_arm64() -> f64 {
    0.0000133334
}
fn default_x86() -> f64 {
    0.0000166667
}
fn default_requests() -> f64 {
    0.20
}

impl Default for PriceModel {
    fn default() -> Self {
        Self {
            arm64_per_gb_second: default_arm64(),
            x86_64_per_gb_second: default_x86(),
            per_million_requests: default_requests(),
        }
    }
}

impl PriceModel {
    pub fn per_gb_second(&self, arch: Architecture) -> f64 {
        match arch {
            Architecture::Arm64 => self.arm64_per_gb_second,
            Architecture::X86_64 => self.x86_64_per_gb_second,
        }
    }

    /// Power Tuning's `minCost`: USD per millisecond at 128 MB.
    pub fn per_ms_at_128(&self, arch: Architecture) -> f64 {
        self.per_gb_second(arch) * (128.0 / 1024.0) / 1000.0
    }

    pub fn per_request(&self) -> f64 {
        self.per_million_requests / 1_000_000.0
    }

    /// Power Tuning's `computePrice`: `ceil(ms) * minCost * (mem / 128)`; no request charge.
    pub fn power_tuning_price(&self, arch: Architecture, memory_mb: u32, billed_ms: f64) -> f64 {
        billed_ms.ceil() * self.per_ms_at_128(arch) * (f64::from(memory_mb) / 128.0)
    }

    /// What one invocation really costs: its billed milliseconds at the memory size, plus
    /// the request charge.
    pub fn invocation_cost(&self, arch: Architecture, memory_mb: u32, billed_ms: f64) -> f64 {
        self.power_tuning_price(arch, memory_mb, billed_ms) + self.per_request()
    }
}

/// Power Tuning's Step Functions charge for a run over `n_values` power values, as its
/// `stepFunctionsCost` counts state transitions: `6 + 3N`, or with `onlyColdStarts`
/// `6 + N + 2 * N * num` (a publish loop per invocation).
pub fn step_functions_cost(n_values: usize, only_cold_starts: bool, num: u32) -> f64 {
    let n = n_values as f64;
    let transitions = if only_cold_starts {
        6.0 + n + 2.0 * n * f64::from(num)
    } else {
        6.0 + 3.0 * n
    };
    transitions * STEP_FUNCTIONS_PER_TRANSITION
}

/// What the tuner's own invocations cost: their seconds at the tuner's memory size
/// (arm64), plus a request each.
pub fn tuner_cost(prices: &PriceModel, seconds: f64, memory_mb: u32, invocations: u32) -> f64 {
    seconds * f64::from(memory_mb) / 1024.0 * prices.arm64_per_gb_second
        + f64::from(invocations) * prices.per_request()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-15_f64.max(b.abs() * 1e-9)
    }

    #[test]
    fn per_ms_prices_match_the_reference() {
        let p = PriceModel::default();
        // 0.0000133334 * 0.125 / 1000
        assert!(close(p.per_ms_at_128(Architecture::Arm64), 1.666675e-9));
        assert!(close(p.per_ms_at_128(Architecture::X86_64), 2.0833375e-9));
        assert!(close(p.per_request(), 2e-7));
    }

    #[test]
    fn power_tuning_price_ceils_the_milliseconds() {
        let p = PriceModel::default();
        // 12.1 ms at 1024 MB arm64: 13 * 1.666675e-9 * 8
        assert!(close(
            p.power_tuning_price(Architecture::Arm64, 1024, 12.1),
            13.0 * 1.666675e-9 * 8.0
        ));
        // 100 ms at 128 MB x86: 100 * 2.0833375e-9
        assert!(close(
            p.power_tuning_price(Architecture::X86_64, 128, 100.0),
            2.0833375e-7
        ));
    }

    #[test]
    fn invocation_cost_adds_the_request_charge() {
        let p = PriceModel::default();
        // 1000 ms at 1024 MB arm64 = 1 GB-s = 0.0000133334, + 0.0000002
        assert!(close(
            p.invocation_cost(Architecture::Arm64, 1024, 1000.0),
            0.0000135334
        ));
    }

    #[test]
    fn overrides_and_step_functions() {
        let d = PriceModel::default();
        let p: PriceModel = serde_json::from_str(r#"{"arm64PerGbSecond": 0.00001}"#).unwrap();
        assert_eq!(p.arm64_per_gb_second, 0.00001);
        assert_eq!(p.x86_64_per_gb_second, 0.0000166667);
        assert!(serde_json::from_str::<PriceModel>(r#"{"arm": 1}"#).is_err());
        // 6 power values: 24 transitions
        assert!(close(step_functions_cost(6, false, 10), 0.0006));
        // onlyColdStarts, 6 values x 10: 6 + 6 + 120 = 132 transitions
        assert!(close(step_functions_cost(6, true, 10), 132.0 * 0.000025));
        // 100 s at 1024 MB = 100 GB-s, + 3 requests
        assert!(close(
            tuner_cost(&d, 100.0, 1024, 3),
            100.0 * 0.0000133334 + 3.0 * 2e-7
        ));
    }
}
