//! The measurement of one invocation's share of a run: for each configuration still to
//! measure, configure, publish, alias and invoke, recording every alias before it is
//! created and every version under the run's marker; stops handing on when the time left
//! would not fit the next value. Cleanup and restore are `cleanup`'s.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use groundcrew::Deadline;
use tokio::sync::Semaphore;

mod invoke;

pub use crate::allowed::check_allowed;
pub use crate::outcome::RunOutcome;
pub use crate::plan::{alias_name, estimate_seconds, Estimate, Target, ValueRun};

use crate::architecture::Architecture;
use crate::input::TuneRequest;
use crate::lambda::{CodeSource, LambdaApi, LambdaError};
use crate::state::{self, RunState};
use crate::store::ObjectStore;
use crate::wait::{call, until_updated, until_version_active};

/// The environment variable changed per version so that every `onlyColdStarts`
/// invocation runs a new version (Power Tuning uses the same name).
pub const COLD_START_VAR: &str = "LambdaPowerTunerForceColdStart";

/// What one invocation's measurement needs.
pub struct Measurement<'a, L, S> {
    pub lambda: &'a L,
    pub store: &'a S,
    /// The bucket of the run's state.
    pub bucket: &'a str,
    pub req: &'a TuneRequest,
    pub payloads: &'a [Vec<u8>],
    /// The code for each architecture other than the function's own.
    pub code: &'a dyn Fn(Architecture) -> CodeSource,
    pub concurrency: u32,
    /// When measuring must stop (the invocation's deadline less the cleanup reserve).
    pub deadline: Deadline,
    /// The estimated time of one value: a value is started only when it fits, unless
    /// nothing has been started yet (so every invocation makes progress).
    pub per_value: Duration,
    /// Distinguishes this invocation's cold-start versions from earlier ones.
    pub tag: u32,
}

/// Qualifiers ready to invoke for a target, and the index of their first payload.
type Batch = (Target, Vec<String>, usize);
type Sender = tokio::sync::mpsc::UnboundedSender<Batch>;

struct Shared<'a, 'm, L, S> {
    m: &'m Measurement<'a, L, S>,
    function: &'m str,
    state: Mutex<RunState>,
    semaphore: Semaphore,
    invocations: AtomicUsize,
    stopped_early: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<L: LambdaApi, S: ObjectStore> Shared<'_, '_, L, S> {
    fn fail(&self, target: Target, why: String) {
        let mut state = lock(&self.state);
        let run = state.value_mut(target);
        if run.failure.is_none() {
            tracing::warn!(memory = target.memory_mb, architecture = target.architecture.as_str(), reason = %why, "power value failed");
            run.failure = Some(why);
        }
    }

    fn failed(&self, target: Target) -> bool {
        lock(&self.state)
            .value(target)
            .is_some_and(|r| r.failure.is_some())
    }

    /// Saves the state (with the ledger) before something is created.
    async fn save(&self) -> Result<(), LambdaError> {
        let snapshot = lock(&self.state).clone();
        state::save(self.m.store, self.m.bucket, &snapshot)
            .await
            .map_err(LambdaError::other)
    }

    async fn publish(&self) -> Result<String, LambdaError> {
        let (f, d) = (self.function, self.m.deadline);
        until_updated(self.m.lambda, f, d).await?;
        let marker = lock(&self.state).marker.clone();
        // The marker (recorded in the state before the first change) finds this version
        // for cleanup even if this invocation dies before its number is saved.
        let version = call(d, "PublishVersion", || {
            self.m.lambda.publish_version(f, &marker)
        })
        .await?;
        {
            let mut state = lock(&self.state);
            if !state.existing_versions.contains(&version)
                && !state.ledger.versions.contains(&version)
            {
                state.ledger.versions.push(version.clone());
            }
        }
        until_version_active(self.m.lambda, f, &version, d).await?;
        Ok(version)
    }

    /// Configures one target and sends its qualifiers to the measurement as they are
    /// ready: one alias for all its invocations, or with `onlyColdStarts` one version per
    /// invocation, each sent as soon as it is `Active` (a SnapStart version can take
    /// minutes: the ones ready are measured while the next is made, and what the deadline
    /// cuts off is left to the next invocation).
    async fn setup(
        &self,
        target: Target,
        remaining: usize,
        offset: usize,
        tx: &Sender,
    ) -> Result<(), LambdaError> {
        let (f, d, lambda) = (self.function, self.m.deadline, self.m.lambda);
        until_updated(lambda, f, d).await?;
        call(d, "UpdateFunctionConfiguration", || {
            lambda.update_memory(f, target.memory_mb)
        })
        .await?;
        if self.m.req.only_cold_starts {
            let base = lock(&self.state)
                .original
                .environment
                .clone()
                .unwrap_or_default();
            for i in 0..remaining {
                let mut vars: HashMap<String, String> = base.clone();
                vars.insert(
                    COLD_START_VAR.to_string(),
                    format!(
                        "{}-{}-{}-{i}",
                        target.memory_mb,
                        target.architecture.as_str(),
                        self.m.tag
                    ),
                );
                until_updated(lambda, f, d).await?;
                call(d, "UpdateFunctionConfiguration", || {
                    lambda.update_environment(f, vars.clone())
                })
                .await?;
                let version = self.publish().await?;
                let _ = tx.send((target, vec![version], offset + i));
            }
            Ok(())
        } else {
            let version = self.publish().await?;
            let alias = {
                let mut state = lock(&self.state);
                let alias = alias_name(target, state.original.architecture);
                if !state.ledger.aliases.contains(&alias) {
                    state.ledger.aliases.push(alias.clone());
                }
                alias
            };
            // Recorded before it is created.
            self.save().await?;
            call(d, "CreateAlias", || lambda.put_alias(f, &alias, &version)).await?;
            let _ = tx.send((target, vec![alias; remaining], offset));
            Ok(())
        }
    }

    /// Makes sure the function writes a REPORT record for every invocation: with JSON
    /// logs at system level WARN it writes none (see `LogSettings::hides_reports`), so the
    /// run raises it to INFO; the cleanup puts the original back.
    async fn reports_visible(&self) -> Result<(), LambdaError> {
        let (f, d, lambda) = (self.function, self.m.deadline, self.m.lambda);
        let now = until_updated(lambda, f, d).await?;
        let Some(logging) = now.logging.filter(|l| l.hides_reports()) else {
            return Ok(());
        };
        let raised = logging.with_reports();
        call(d, "UpdateFunctionConfiguration", || {
            lambda.update_logging(f, &raised)
        })
        .await?;
        until_updated(lambda, f, d).await.map(|_| ())
    }

    /// Switches the architecture when the next target needs another.
    async fn switch(&self, arch: Architecture) -> Result<(), LambdaError> {
        let (f, d, lambda) = (self.function, self.m.deadline, self.m.lambda);
        let now = until_updated(lambda, f, d).await?;
        if now.architecture == arch {
            return Ok(());
        }
        let code = (self.m.code)(arch);
        call(d, "UpdateFunctionCode", || {
            lambda.update_architecture(f, arch, &code)
        })
        .await?;
        until_updated(lambda, f, d).await.map(|_| ())
    }

    /// Configures targets one after another while the configured ones are measured.
    async fn measure_all(&self) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Batch>();
        let producer = async move {
            let plan = lock(&self.state).plan.clone();
            if let Err(e) = self.reports_visible().await {
                // Measured anyway: a value without a REPORT record fails with the reason.
                tracing::warn!(error = %e, "raising the system log level for the run failed");
            }
            let mut started = false;
            let mut current_arch: Option<Architecture> = None;
            for target in plan {
                let (remaining, planned) = {
                    let state = lock(&self.state);
                    (
                        state.remaining(target),
                        state.value(target).map_or(0, |r| r.planned),
                    )
                };
                if remaining == 0 {
                    continue;
                }
                if started && !self.m.deadline.allows(self.m.per_value) {
                    self.stopped_early.store(true, Ordering::Relaxed);
                    break;
                }
                started = true;
                if current_arch != Some(target.architecture) {
                    current_arch = Some(target.architecture);
                    if let Err(e) = self.switch(target.architecture).await {
                        if self.m.deadline.is_past() {
                            break;
                        }
                        self.fail(
                            target,
                            format!("switching to {} failed: {e}", target.architecture.as_str()),
                        );
                        current_arch = None;
                        continue;
                    }
                }
                match self
                    .setup(target, remaining, planned - remaining, &tx)
                    .await
                {
                    Ok(()) => {}
                    // Out of time, not broken: the next invocation goes on from here.
                    Err(e) if e.is_deadline() || self.m.deadline.is_past() => {
                        self.stopped_early.store(true, Ordering::Relaxed);
                        break;
                    }
                    Err(e) => self.fail(
                        target,
                        format!("configuring {} MB failed: {e}", target.memory_mb),
                    ),
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
                        Some((target, qualifiers, done)) => {
                            let payloads = self.m.payloads.get(done..).unwrap_or_default();
                            running.push(self.measure_value(target, qualifiers, payloads));
                        }
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

/// What this invocation's measurement left.
pub struct Stint {
    pub state: RunState,
    /// Stopped before the plan was done because the next value would not fit.
    pub stopped_early: bool,
    pub deadline_reached: bool,
}

impl<L: LambdaApi, S: ObjectStore> Measurement<'_, L, S> {
    /// Measures what is left of the plan, as far as this invocation's time allows.
    pub async fn run(&self, state: RunState) -> Stint {
        let function = state.function.clone();
        let shared = Shared {
            m: self,
            function: &function,
            state: Mutex::new(state),
            semaphore: Semaphore::new(self.concurrency.max(1) as usize),
            invocations: AtomicUsize::new(0),
            stopped_early: AtomicBool::new(false),
        };
        let deadline_reached =
            self.deadline.run(shared.measure_all()).await.is_err() || self.deadline.is_past();
        let stopped_early = shared.stopped_early.load(Ordering::Relaxed);
        let state = shared.state.into_inner().unwrap_or_else(|p| p.into_inner());
        Stint {
            stopped_early: stopped_early || (deadline_reached && !state.complete()),
            deadline_reached,
            state,
        }
    }
}
