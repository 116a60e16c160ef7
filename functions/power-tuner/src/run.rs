//! The measurement: for each architecture and power value, configure, publish, alias and
//! invoke; then delete what was created and restore the original configuration, on
//! success, on failure and when the deadline approaches.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use groundcrew::retry::{retry, RetryPolicy};
use groundcrew::Deadline;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::input::{Architecture, TuneRequest};
use crate::lambda::{FunctionState, LambdaApi, LambdaError};
use crate::logs::{parse_log_result, Report};
use crate::{Settings, TunerError};

/// The environment variable changed per version so that every `onlyColdStarts`
/// invocation runs a new version (Power Tuning uses the same name).
/// Deletions in flight during cleanup (throttling is retried).
const CLEANUP_PARALLELISM: usize = 6;

pub const COLD_START_VAR: &str = "LambdaPowerTunerForceColdStart";

/// One configuration under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    pub architecture: Architecture,
    pub memory_mb: u32,
}

/// What happened to one configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ValueRun {
    pub reports: Vec<Report>,
    /// Invocations that failed with an error type listed in `allowedExceptions`.
    pub allowed_errors: usize,
    /// Why this value is excluded, if it is.
    pub failure: Option<String>,
    pub planned: usize,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Estimate {
    pub dry_invocation_ms: f64,
    pub estimate_seconds: f64,
    pub available_seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupReport {
    pub complete: bool,
    pub aliases_deleted: usize,
    pub versions_deleted: usize,
    pub restored: bool,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub original: FunctionState,
    pub values: BTreeMap<Target, ValueRun>,
    /// The order the values were given in (architecture, then power value).
    pub order: Vec<Target>,
    pub estimate: Option<Estimate>,
    pub cleanup: CleanupReport,
    pub deadline_reached: bool,
    pub wall: Duration,
    pub invocations: usize,
}

/// What was created, for cleanup.
#[derive(Debug, Default)]
struct Ledger {
    aliases: Vec<String>,
    versions: Vec<String>,
}

pub fn retry_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 8,
        min_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(5),
        max_retry_after: Duration::from_secs(30),
    }
}

async fn call<T, F, Fut>(deadline: Deadline, what: &str, op: F) -> Result<T, LambdaError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, LambdaError>>,
{
    match deadline
        .run(retry(&retry_policy(), deadline, what, op))
        .await
    {
        Ok(r) => r,
        Err(_) => Err(LambdaError::other(format!("{what}: the deadline passed"))),
    }
}

/// Waits until the function's last update has finished (`LastUpdateStatus` is not
/// `InProgress`); fails when it ended `Failed`.
pub async fn wait_until_updated<L: LambdaApi>(
    lambda: &L,
    function: &str,
    deadline: Deadline,
) -> Result<FunctionState, LambdaError> {
    let mut delay = Duration::from_millis(50);
    loop {
        let state = call(deadline, "GetFunctionConfiguration", || {
            lambda.get_configuration(function)
        })
        .await?;
        match state.last_update_status.as_deref() {
            Some("InProgress") => {}
            Some("Failed") => {
                return Err(LambdaError::other(
                    "the function's last update failed (LastUpdateStatus Failed)",
                ))
            }
            _ => return Ok(state),
        }
        if !deadline.allows(delay) {
            return Err(LambdaError::other(
                "the function's update did not finish before the deadline",
            ));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
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

struct Shared<'a, L> {
    lambda: &'a L,
    function: &'a str,
    req: &'a TuneRequest,
    payloads: &'a [Vec<u8>],
    original: &'a FunctionState,
    existing_versions: HashSet<String>,
    ledger: Mutex<Ledger>,
    results: Mutex<BTreeMap<Target, ValueRun>>,
    semaphore: Semaphore,
    deadline: Deadline,
    invocations: std::sync::atomic::AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<L: LambdaApi> Shared<'_, L> {
    fn fail(&self, target: Target, why: String) {
        let mut results = lock(&self.results);
        let run = results.entry(target).or_default();
        if run.failure.is_none() {
            tracing::warn!(memory = target.memory_mb, architecture = target.architecture.as_str(), reason = %why, "power value failed");
            run.failure = Some(why);
        }
    }

    fn failed(&self, target: Target) -> bool {
        lock(&self.results)
            .get(&target)
            .is_some_and(|r| r.failure.is_some())
    }

    async fn publish(&self) -> Result<String, LambdaError> {
        let f = self.function;
        wait_until_updated(self.lambda, f, self.deadline).await?;
        let version = call(self.deadline, "PublishVersion", || {
            self.lambda.publish_version(f)
        })
        .await?;
        if !self.existing_versions.contains(&version) {
            let mut ledger = lock(&self.ledger);
            if !ledger.versions.contains(&version) {
                ledger.versions.push(version.clone());
            }
        }
        Ok(version)
    }

    /// Configures one target; returns the qualifiers to invoke, one per invocation.
    async fn setup(&self, target: Target) -> Result<Vec<String>, LambdaError> {
        let f = self.function;
        wait_until_updated(self.lambda, f, self.deadline).await?;
        call(self.deadline, "UpdateFunctionConfiguration", || {
            self.lambda.update_memory(f, target.memory_mb)
        })
        .await?;
        let n = self.req.invocations() as usize;
        if self.req.only_cold_starts {
            let mut versions = Vec::with_capacity(n);
            let base = self.original.environment.clone().unwrap_or_default();
            for i in 0..n {
                let mut vars: HashMap<String, String> = base.clone();
                vars.insert(
                    COLD_START_VAR.to_string(),
                    format!(
                        "{}-{}-{}",
                        target.memory_mb,
                        target.architecture.as_str(),
                        i
                    ),
                );
                wait_until_updated(self.lambda, f, self.deadline).await?;
                call(self.deadline, "UpdateFunctionConfiguration", || {
                    self.lambda.update_environment(f, vars.clone())
                })
                .await?;
                versions.push(self.publish().await?);
            }
            Ok(versions)
        } else {
            let version = self.publish().await?;
            let alias = alias_name(target, self.original.architecture);
            lock(&self.ledger).aliases.push(alias.clone());
            call(self.deadline, "CreateAlias", || {
                self.lambda.put_alias(f, &alias, &version)
            })
            .await?;
            Ok(vec![alias; n])
        }
    }

    /// One invocation with its pre- and post-processors; `Ok(None)` for an allowed error
    /// without a report.
    async fn invoke_once(
        &self,
        qualifier: &str,
        payload: &[u8],
    ) -> Result<(Option<Report>, bool), String> {
        let mut payload = payload.to_vec();
        if let Some(pre) = &self.req.pre_processor_arn {
            let p = payload.clone();
            let out = call(self.deadline, "Invoke preProcessor", || {
                self.lambda.invoke(pre, None, p.clone())
            })
            .await
            .map_err(|e| e.to_string())?;
            if let Some(t) = out.error_type() {
                return Err(format!("the preProcessor failed with {t}"));
            }
            if !out.payload.is_empty() && out.payload != b"null" {
                payload = out.payload;
            }
        }
        let f = self.function;
        let out = call(self.deadline, "Invoke", || {
            self.lambda.invoke(f, Some(qualifier), payload.clone())
        })
        .await
        .map_err(|e| e.to_string())?;
        self.invocations
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut allowed = false;
        if let Some(t) = out.error_type() {
            if self.req.allowed_exceptions.iter().any(|a| a == &t) {
                allowed = true;
            } else {
                return Err(format!("invocation error {t}"));
            }
        }
        if let Some(post) = &self.req.post_processor_arn {
            let p = out.payload.clone();
            let post_out = call(self.deadline, "Invoke postProcessor", || {
                self.lambda.invoke(post, None, p.clone())
            })
            .await
            .map_err(|e| e.to_string())?;
            if let Some(t) = post_out.error_type() {
                return Err(format!("the postProcessor failed with {t}"));
            }
        }
        let report = out.log_result.as_deref().and_then(parse_log_result);
        if report.is_none() && !allowed {
            return Err("the log tail held no REPORT line".to_string());
        }
        Ok((report, allowed))
    }

    async fn one(&self, target: Target, qualifier: &str, payload: &[u8]) {
        if self.failed(target) || self.deadline.is_past() {
            return;
        }
        let Ok(_permit) = self.semaphore.acquire().await else {
            return;
        };
        if self.failed(target) {
            return;
        }
        match self.invoke_once(qualifier, payload).await {
            Ok((report, allowed)) => {
                let mut results = lock(&self.results);
                let run = results.entry(target).or_default();
                if allowed {
                    run.allowed_errors += 1;
                }
                if let Some(r) = report {
                    run.reports.push(r);
                }
            }
            // Cut short by the deadline: reported as interrupted after cleanup.
            Err(_) if self.deadline.is_past() => {}
            Err(why) => self.fail(target, why),
        }
    }

    async fn measure_value(&self, target: Target, qualifiers: Vec<String>) {
        if self.req.parallel_invocation {
            let mut all: FuturesUnordered<_> = qualifiers
                .iter()
                .zip(self.payloads)
                .map(|(q, p)| self.one(target, q, p))
                .collect();
            while all.next().await.is_some() {}
        } else {
            for (i, (q, p)) in qualifiers.iter().zip(self.payloads).enumerate() {
                self.one(target, q, p).await;
                if self.failed(target) || self.deadline.is_past() {
                    break;
                }
                if self.req.sleep_between_runs_ms > 0 && i + 1 < qualifiers.len() {
                    tokio::time::sleep(Duration::from_millis(self.req.sleep_between_runs_ms)).await;
                }
            }
        }
    }

    /// Configures targets one after another while the configured ones are measured.
    async fn measure_all(&self, archs: &[Architecture], per_value_s: f64) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Target, Vec<String>)>();
        let producer = async move {
            let mut current_arch = self.original.architecture;
            for &arch in archs {
                if arch != current_arch {
                    let f = self.function;
                    let switched = async {
                        wait_until_updated(self.lambda, f, self.deadline).await?;
                        call(self.deadline, "UpdateFunctionCode", || {
                            self.lambda.update_architecture(f, arch)
                        })
                        .await?;
                        wait_until_updated(self.lambda, f, self.deadline).await
                    }
                    .await;
                    current_arch = arch;
                    if let Err(e) = switched {
                        for &m in &self.req.power_values {
                            self.fail(
                                Target {
                                    architecture: arch,
                                    memory_mb: m,
                                },
                                format!("switching to {} failed: {e}", arch.as_str()),
                            );
                        }
                        continue;
                    }
                }
                for &m in &self.req.power_values {
                    let target = Target {
                        architecture: arch,
                        memory_mb: m,
                    };
                    if !self.deadline.allows(Duration::from_secs_f64(per_value_s)) {
                        self.fail(
                            target,
                            "skipped: not enough time left before the deadline".to_string(),
                        );
                        continue;
                    }
                    match self.setup(target).await {
                        Ok(qualifiers) => {
                            let _ = tx.send((target, qualifiers));
                        }
                        Err(e) => self.fail(target, format!("configuring {m} MB failed: {e}")),
                    }
                }
            }
            drop(tx);
        };
        let consumer = async {
            let mut running = FuturesUnordered::new();
            let mut open = true;
            loop {
                tokio::select! {
                    msg = rx.recv(), if open => match msg {
                        Some((target, qualifiers)) => running.push(self.measure_value(target, qualifiers)),
                        None => open = false,
                    },
                    Some(()) = running.next(), if !running.is_empty() => {}
                    else => break,
                }
            }
        };
        futures::join!(producer, consumer);
    }
}

/// Refuses a request naming a function outside the tuner's prefix: the target and the
/// pre- and post-processors alike, since all three are invoked. Checked before anything
/// is read or changed, so a refused request costs nothing.
pub fn check_allowed(req: &TuneRequest, settings: &Settings) -> Result<(), TunerError> {
    let Some(prefix) = &settings.function_prefix else {
        return Ok(());
    };
    let named = [
        ("lambdaARN", Some(req.lambda_arn.as_str())),
        ("preProcessorARN", req.pre_processor_arn.as_deref()),
        ("postProcessorARN", req.post_processor_arn.as_deref()),
    ];
    for (field, arn) in named {
        let Some(arn) = arn else { continue };
        let name = arn.rsplit(':').next().unwrap_or(arn);
        if !name.starts_with(prefix.as_str()) {
            return Err(TunerError::NotAllowed(format!(
                "{field}: this tuner may only invoke functions whose name starts with {prefix:?}"
            )));
        }
    }
    Ok(())
}

/// Measures every target and cleans up. Fails before acting on anything when the function
/// is not allowed or the estimate does not fit.
pub async fn measure<L: LambdaApi>(
    lambda: &L,
    req: &TuneRequest,
    payloads: &[Vec<u8>],
    deadline: Deadline,
    settings: &Settings,
) -> Result<RunOutcome, TunerError> {
    let started = Instant::now();
    let function = req.lambda_arn.as_str();
    check_allowed(req, settings)?;
    let original = wait_until_updated(lambda, function, deadline).await?;
    let existing_versions: HashSet<String> = call(deadline, "ListVersionsByFunction", || {
        lambda.list_versions(function)
    })
    .await?
    .into_iter()
    .collect();

    let mut archs = if req.architectures.is_empty() {
        vec![original.architecture]
    } else {
        req.architectures.clone()
    };
    // The function's own architecture first: one switch away and one back at most.
    archs.sort_by_key(|a| *a != original.architecture);
    let order: Vec<Target> = archs
        .iter()
        .flat_map(|&a| {
            req.power_values.iter().map(move |&m| Target {
                architecture: a,
                memory_mb: m,
            })
        })
        .collect();
    let arch_switches = archs
        .iter()
        .filter(|a| **a != original.architecture)
        .count();
    let concurrency = req.concurrency.unwrap_or(settings.default_concurrency);
    let measure_deadline = deadline.less(settings.cleanup_reserve);

    // The estimate, from one dry invocation at the current configuration.
    let mut estimate = None;
    let mut per_value_s = 0.0;
    if !req.dry_run {
        let t0 = Instant::now();
        let first = payloads.first().cloned().unwrap_or_default();
        let dry = call(deadline, "Invoke", || {
            lambda.invoke(function, None, first.clone())
        })
        .await?;
        let wall_ms = t0.elapsed().as_secs_f64() * 1000.0;
        let reported = dry
            .log_result
            .as_deref()
            .and_then(parse_log_result)
            .map(|r| r.speed_ms())
            .unwrap_or(0.0);
        let invocation_ms = wall_ms.max(reported);
        let estimate_s = estimate_seconds(
            &order,
            arch_switches,
            original.memory_mb,
            invocation_ms,
            settings.setup_estimate,
            req.invocations(),
            concurrency,
            req.parallel_invocation,
            req.sleep_between_runs_ms,
            req.only_cold_starts,
        );
        let available_s = measure_deadline.remaining().as_secs_f64();
        if estimate_s > available_s {
            return Err(TunerError::WouldNotFinish {
                estimate_s,
                available_s,
                detail: format!(
                    "{} configurations x {} invocations, one invocation about {:.0} ms; lower num, powerValues or raise concurrency",
                    order.len(),
                    req.invocations(),
                    invocation_ms
                ),
            });
        }
        per_value_s = estimate_s / order.len().max(1) as f64;
        estimate = Some(Estimate {
            dry_invocation_ms: invocation_ms,
            estimate_seconds: estimate_s,
            available_seconds: available_s,
        });
    }

    let shared = Shared {
        lambda,
        function,
        req,
        payloads,
        original: &original,
        existing_versions,
        ledger: Mutex::new(Ledger::default()),
        results: Mutex::new(
            order
                .iter()
                .map(|t| {
                    (
                        *t,
                        ValueRun {
                            planned: req.invocations() as usize,
                            ..Default::default()
                        },
                    )
                })
                .collect(),
        ),
        semaphore: Semaphore::new(concurrency as usize),
        deadline: measure_deadline,
        invocations: std::sync::atomic::AtomicUsize::new(0),
    };
    let deadline_reached = measure_deadline
        .run(shared.measure_all(&archs, per_value_s))
        .await
        .is_err()
        || measure_deadline.is_past();
    if deadline_reached {
        tracing::warn!("the deadline approached: measurement stopped, cleaning up");
    }
    let ledger = std::mem::take(&mut *lock(&shared.ledger));
    let cleanup = cleanup(lambda, function, &original, ledger, deadline).await;
    let mut values = std::mem::take(&mut *lock(&shared.results));
    for run in values.values_mut() {
        if run.failure.is_none() && run.reports.len() + run.allowed_errors < run.planned {
            run.failure = Some(format!(
                "interrupted by the deadline after {} of {} invocations",
                run.reports.len() + run.allowed_errors,
                run.planned
            ));
        }
    }
    Ok(RunOutcome {
        original: original.clone(),
        values,
        order,
        estimate,
        cleanup,
        deadline_reached,
        wall: started.elapsed(),
        invocations: shared
            .invocations
            .load(std::sync::atomic::Ordering::Relaxed),
    })
}

async fn cleanup<L: LambdaApi>(
    lambda: &L,
    function: &str,
    original: &FunctionState,
    ledger: Ledger,
    deadline: Deadline,
) -> CleanupReport {
    let mut report = CleanupReport::default();
    // Aliases first (a version an alias points at cannot be deleted), a few at a time.
    let aliases: Vec<(String, Result<(), LambdaError>)> = futures::stream::iter(&ledger.aliases)
        .map(|alias| async move {
            let r = call(deadline, "DeleteAlias", || {
                lambda.delete_alias(function, alias)
            })
            .await;
            (alias.clone(), r)
        })
        .buffer_unordered(CLEANUP_PARALLELISM)
        .collect()
        .await;
    for (alias, r) in aliases {
        match r {
            Ok(()) => report.aliases_deleted += 1,
            Err(e) => report
                .problems
                .push(format!("alias {alias} not deleted: {e}")),
        }
    }
    let versions: Vec<(String, Result<(), LambdaError>)> = futures::stream::iter(&ledger.versions)
        .map(|version| async move {
            let r = call(deadline, "DeleteFunction", || {
                lambda.delete_version(function, version)
            })
            .await;
            (version.clone(), r)
        })
        .buffer_unordered(CLEANUP_PARALLELISM)
        .collect()
        .await;
    for (version, r) in versions {
        match r {
            Ok(()) => report.versions_deleted += 1,
            Err(e) => report
                .problems
                .push(format!("version {version} not deleted: {e}")),
        }
    }
    match restore(lambda, function, original, deadline).await {
        Ok(()) => report.restored = true,
        Err(e) => report
            .problems
            .push(format!("the original configuration was not restored: {e}")),
    }
    report.complete = report.problems.is_empty();
    if !report.complete {
        tracing::error!(problems = ?report.problems, "cleanup incomplete");
    }
    report
}

/// Puts memory, architecture and environment back as they were.
pub async fn restore<L: LambdaApi>(
    lambda: &L,
    function: &str,
    original: &FunctionState,
    deadline: Deadline,
) -> Result<(), LambdaError> {
    let now = wait_until_updated(lambda, function, deadline).await?;
    if now.architecture != original.architecture {
        call(deadline, "UpdateFunctionCode", || {
            lambda.update_architecture(function, original.architecture)
        })
        .await?;
        wait_until_updated(lambda, function, deadline).await?;
    }
    if now.memory_mb != original.memory_mb {
        call(deadline, "UpdateFunctionConfiguration", || {
            lambda.update_memory(function, original.memory_mb)
        })
        .await?;
        wait_until_updated(lambda, function, deadline).await?;
    }
    if now.environment != original.environment {
        let vars = original.environment.clone().unwrap_or_default();
        call(deadline, "UpdateFunctionConfiguration", || {
            lambda.update_environment(function, vars.clone())
        })
        .await?;
        wait_until_updated(lambda, function, deadline).await?;
    }
    Ok(())
}

/// `autoOptimize`: applies the winner to `$LATEST`, and to `alias` when given (a new
/// version published at the winning configuration). Returns the version aliased.
pub async fn apply<L: LambdaApi>(
    lambda: &L,
    function: &str,
    winner: Target,
    alias: Option<&str>,
    deadline: Deadline,
) -> Result<Option<String>, LambdaError> {
    let now = wait_until_updated(lambda, function, deadline).await?;
    if now.architecture != winner.architecture {
        call(deadline, "UpdateFunctionCode", || {
            lambda.update_architecture(function, winner.architecture)
        })
        .await?;
        wait_until_updated(lambda, function, deadline).await?;
    }
    if now.memory_mb != winner.memory_mb {
        call(deadline, "UpdateFunctionConfiguration", || {
            lambda.update_memory(function, winner.memory_mb)
        })
        .await?;
        wait_until_updated(lambda, function, deadline).await?;
    }
    let Some(alias) = alias else { return Ok(None) };
    let version = call(deadline, "PublishVersion", || {
        lambda.publish_version(function)
    })
    .await?;
    call(deadline, "UpdateAlias", || {
        lambda.put_alias(function, alias, &version)
    })
    .await?;
    Ok(Some(version))
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
