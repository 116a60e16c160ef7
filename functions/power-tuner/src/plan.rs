//! A run's plan: the configurations to measure, what each gave, the aliases they are
//! measured through, and how long the whole should take.

use std::time::Duration;

use crate::architecture::Architecture;
use crate::logs::Report;

/// One configuration under test.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub architecture: Architecture,
    pub memory_mb: u32,
}

/// What happened to one configuration.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValueRun {
    pub reports: Vec<Report>,
    /// Invocations that failed with an error type listed in `allowedExceptions`.
    pub allowed_errors: usize,
    /// Why this value is excluded, if it is.
    pub failure: Option<String>,
    pub planned: usize,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Estimate {
    pub dry_invocation_ms: f64,
    pub estimate_seconds: f64,
    pub available_seconds: f64,
}

/// The alias for a configuration: `RAM<mem>` as Power Tuning names it, suffixed with the
/// architecture when it is not the function's own.
pub fn alias_name(target: Target, original: Architecture) -> String {
    if target.architecture == original {
        format!("RAM{}", target.memory_mb)
    } else {
        format!(
            "RAM{}-{}",
            target.memory_mb,
            target.architecture.as_str().replace('_', "-")
        )
    }
}

/// How long the run should take, in seconds: the configuration updates plus the
/// invocations, each value's invocation time scaled up from the dry invocation for memory
/// sizes below the current one (CPU is proportional to memory), spread over `concurrency`.
#[allow(clippy::too_many_arguments)]
pub fn estimate_seconds(
    targets: &[Target],
    arch_switches: usize,
    current_memory: u32,
    invocation_ms: f64,
    setup: Duration,
    invocations: u32,
    concurrency: u32,
    parallel: bool,
    sleep_ms: u64,
    only_cold: bool,
) -> f64 {
    let per_value_setups = if only_cold { invocations as usize } else { 1 };
    let setup_s =
        (targets.len() * per_value_setups + 2 * arch_switches) as f64 * setup.as_secs_f64();
    let n = f64::from(invocations);
    let c = f64::from(concurrency.max(1));
    let mut work = 0.0;
    let mut longest: f64 = 0.0;
    for t in targets {
        let per =
            invocation_ms / 1000.0 * (f64::from(current_memory) / f64::from(t.memory_mb)).max(1.0);
        work += n * per;
        let chain = if parallel {
            per * (n / c).ceil()
        } else {
            n * per + (n - 1.0).max(0.0) * sleep_ms as f64 / 1000.0
        };
        longest = longest.max(chain);
    }
    setup_s + longest.max(work / c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(m: u32) -> Target {
        Target {
            architecture: Architecture::Arm64,
            memory_mb: m,
        }
    }

    #[test]
    fn alias_names() {
        assert_eq!(alias_name(t(1024), Architecture::Arm64), "RAM1024");
        assert_eq!(
            alias_name(
                Target {
                    architecture: Architecture::X86_64,
                    memory_mb: 512
                },
                Architecture::Arm64
            ),
            "RAM512-x86-64"
        );
    }

    #[test]
    fn estimate_by_hand() {
        // 2 values (128, 1024) from 1024 MB, 100 ms per invocation, 1 s per setup.
        // 128 MB: 0.1 s * 8 = 0.8 s per invocation; 1024 MB: 0.1 s.
        // sequential, 5 invocations, concurrency 10: longest chain 5 * 0.8 = 4 s,
        // work (4 + 0.5) / 10 = 0.45 s -> 2 s setup + 4 s = 6 s
        let targets = [t(128), t(1024)];
        let e = estimate_seconds(
            &targets,
            0,
            1024,
            100.0,
            Duration::from_secs(1),
            5,
            10,
            false,
            0,
            false,
        );
        assert!((e - 6.0).abs() < 1e-9, "{e}");
        // parallel, concurrency 2: chain 0.8 * ceil(5/2) = 2.4, work 4.5 / 2 = 2.25 -> 2 + 2.4
        let e = estimate_seconds(
            &targets,
            0,
            1024,
            100.0,
            Duration::from_secs(1),
            5,
            2,
            true,
            0,
            false,
        );
        assert!((e - 4.4).abs() < 1e-9, "{e}");
        // cold starts: a setup per invocation: 10 s of setups; one arch switch adds 2 more
        let e = estimate_seconds(
            &targets,
            1,
            1024,
            100.0,
            Duration::from_secs(1),
            5,
            10,
            true,
            0,
            true,
        );
        assert!((e - (12.0 + 0.8)).abs() < 1e-9, "{e}");
        // sleeps between sequential runs count
        let e = estimate_seconds(
            &[t(1024)],
            0,
            1024,
            100.0,
            Duration::ZERO,
            5,
            10,
            false,
            1000,
            false,
        );
        assert!((e - 4.5).abs() < 1e-9, "{e}");
    }
}
