//! `Config`: the tuner's settings from the environment, read once at start-up; an error
//! names the variable.

use std::time::Duration;

use groundcrew::config::{ConfigError, Env, EnvSource};

use crate::input;

/// Config from the environment (read once, in `main`).
#[derive(Debug, Clone)]
pub struct Config {
    /// Only functions whose name starts with this may be tuned (`GC_TUNE_FUNCTION_PREFIX`;
    /// empty: any function the role may touch).
    pub function_prefix: Option<String>,
    /// Upper bound on parallel invocations when the input sets none (`GC_MAX_CONCURRENCY`).
    pub default_concurrency: u32,
    /// Time kept back for cleanup and restore (`GC_CLEANUP_RESERVE_SECONDS`).
    pub cleanup_reserve: Duration,
    /// Assumed time of one configuration update + publish + alias, for the estimate
    /// (`GC_SETUP_ESTIMATE_MS`).
    pub setup_estimate: Duration,
    /// Where reports go when the input has no `reportS3` (`GC_REPORT_S3`); its bucket
    /// also holds every run's state and the per-function locks.
    pub default_report_s3: Option<String>,
    /// The tuner's own function, which a run invokes to continue
    /// (`AWS_LAMBDA_FUNCTION_NAME`, set by Lambda). Without it a run must fit in one
    /// invocation.
    pub self_function: Option<String>,
    /// The tuner's memory size, for its own cost (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`).
    pub self_memory_mb: u32,
    /// The Region the tuner's clients work in (`AWS_REGION`).
    pub region: Option<String>,
    /// Regions besides its own where the tuner may tune functions (`GC_TUNING_REGIONS`,
    /// comma-separated; the template's `PowerTunerTuningRegions`, which scopes IAM the same way).
    pub tuning_regions: Vec<String>,
    /// How long past an invocation's deadline its run's lock stays held
    /// (`GC_LOCK_GRACE_SECONDS`): long enough for Lambda's retries of a failed
    /// asynchronous invocation (after about 1 and 2 minutes) and a queued continuation.
    pub lock_grace: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            function_prefix: None,
            default_concurrency: 50,
            cleanup_reserve: Duration::from_secs(20),
            setup_estimate: Duration::from_millis(3000),
            default_report_s3: None,
            self_function: None,
            self_memory_mb: 256,
            region: None,
            tuning_regions: Vec::new(),
            lock_grace: Duration::from_secs(600),
        }
    }
}

impl Config {
    pub fn from_env<S: EnvSource>(env: &Env<S>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let default_concurrency = env.parse_or("GC_MAX_CONCURRENCY", d.default_concurrency)?;
        if !(1..=1000).contains(&default_concurrency) {
            return Err(ConfigError::Malformed {
                name: "GC_MAX_CONCURRENCY".into(),
                reason: "must be from 1 to 1000".into(),
            });
        }
        let default_report_s3 = env.optional("GC_REPORT_S3");
        if default_report_s3
            .as_deref()
            .is_some_and(|raw| input::S3Location::parse(raw).is_none())
        {
            return Err(ConfigError::Malformed {
                name: "GC_REPORT_S3".into(),
                reason: "expected s3://bucket[/prefix]".into(),
            });
        }
        Ok(Self {
            function_prefix: env.optional("GC_TUNE_FUNCTION_PREFIX"),
            default_concurrency,
            cleanup_reserve: env.seconds_or("GC_CLEANUP_RESERVE_SECONDS", d.cleanup_reserve)?,
            setup_estimate: Duration::from_millis(
                env.parse_or("GC_SETUP_ESTIMATE_MS", d.setup_estimate.as_millis() as u64)?,
            ),
            default_report_s3,
            self_function: env.optional("AWS_LAMBDA_FUNCTION_NAME"),
            self_memory_mb: env.parse_or("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", d.self_memory_mb)?,
            region: env.optional("AWS_REGION"),
            tuning_regions: regions(env.optional("GC_TUNING_REGIONS").as_deref())?,
            lock_grace: env.seconds_or("GC_LOCK_GRACE_SECONDS", d.lock_grace)?,
        })
    }

    /// The bucket of the runs' state and locks.
    pub fn state_bucket(&self) -> Option<String> {
        self.default_report_s3
            .as_deref()
            .and_then(input::S3Location::parse)
            .map(|l| l.bucket)
    }
}

/// A Region name: `<area>-<place>-<n>` in lower case (`eu-west-1`, `us-gov-east-1`).
fn is_region(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

fn regions(raw: Option<&str>) -> Result<Vec<String>, ConfigError> {
    let mut out: Vec<String> = Vec::new();
    for name in raw.unwrap_or_default().split(',').map(str::trim) {
        if name.is_empty() || out.iter().any(|r| r == name) {
            continue;
        }
        if !is_region(name) {
            return Err(ConfigError::Malformed {
                name: "GC_TUNING_REGIONS".into(),
                reason: format!("{name:?} is not a Region name (expected e.g. eu-west-1)"),
            });
        }
        out.push(name.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use groundcrew::testing::env;

    #[test]
    fn settings_defaults_and_errors() {
        let s = Config::from_env(&env(&[])).unwrap();
        assert_eq!(s.default_concurrency, 50);
        assert_eq!(s.function_prefix, None);
        let given = env(&[
            ("GC_TUNE_FUNCTION_PREFIX", "groundcrew-dev-"),
            ("GC_CLEANUP_RESERVE_SECONDS", "5"),
        ]);
        let s = Config::from_env(&given).unwrap();
        assert_eq!(s.function_prefix.as_deref(), Some("groundcrew-dev-"));
        assert_eq!(s.cleanup_reserve, Duration::from_secs(5));
        let err = Config::from_env(&env(&[("GC_MAX_CONCURRENCY", "0")])).unwrap_err();
        assert!(err.to_string().contains("GC_MAX_CONCURRENCY"));
        let err = Config::from_env(&env(&[("GC_REPORT_S3", "s3://NO")])).unwrap_err();
        assert!(err.to_string().contains("GC_REPORT_S3"));
    }

    #[test]
    fn tuning_regions_are_a_list_of_region_names() {
        let given = env(&[("GC_TUNING_REGIONS", " eu-west-1,us-gov-east-1,,eu-west-1")]);
        let c = Config::from_env(&given).unwrap();
        assert_eq!(c.tuning_regions, vec!["eu-west-1", "us-gov-east-1"]);
        let err = Config::from_env(&env(&[("GC_TUNING_REGIONS", "eu-west-1,Paris")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("GC_TUNING_REGIONS") && err.contains("\"Paris\""),
            "{err}"
        );
        assert!(Config::from_env(&env(&[]))
            .unwrap()
            .tuning_regions
            .is_empty());
    }
}
