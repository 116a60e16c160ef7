//! The Lambda control and data plane power-tuner works against: one function's `$LATEST`,
//! its versions and aliases, on the virtual clock.
//!
//! - A configuration or code update leaves `LastUpdateStatus` `InProgress` for a few
//!   seconds; another change or a publish meanwhile answers `ResourceConflictException`
//!   (Lambda Developer Guide, "Lambda function states"). How long an update takes is not
//!   published: 1-5 s here (assumption).
//! - A SnapStart version is `Pending` while its snapshot is made; invoking it then answers
//!   `ResourceConflictException`. AWS says minutes without a figure: 1-3 min here
//!   (assumption).
//! - `PublishVersion` returns the latest version when nothing changed since it.
//! - An invocation lasts the model's duration on the virtual clock; its log tail ends in a
//!   REPORT record (text), a `platform.report` record (JSON logs at system level INFO), or
//!   none (JSON logs at system level WARN: log-level filtering drops the INFO record).
//! - Throttling comes from the fault plan (`lambda`, operation).
//! - `InvocationType=Event` is queued for the scenario to deliver.
//! - The function lives in one Region (`region`): a call naming an ARN of another Region
//!   is refused as not found (ASSUMPTION: AWS documents only that a client talks to one
//!   Region's endpoint; the exact error for a foreign ARN is not documented), so a
//!   tuner that sends a call to the wrong Region's client fails visibly.
//! - `GetFunction` gives the deployed .zip package; `UpdateFunctionCode` from the copy the
//!   tuner keeps (`tuner-state/code/...`) deploys the same bytes, so `CodeSha256` is the
//!   original's again; any other package has its own `CodeSha256`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use groundcrew::aws_error::AwsError;
use power_tuner::architecture::Architecture;
use power_tuner::lambda::{
    CodeSource, FunctionState, Invocation, LambdaApi, LambdaError, LogSettings, OriginalCode,
    VersionInfo,
};
use power_tuner::regions::region_of;

use crate::kernel::{lock, Fault, Sim};

/// How a function's duration depends on its configuration: `overhead + work * knee /
/// min(memory, knee)` ms (CPU share grows with memory up to the knee), x86_64 `x86_factor`
/// slower, each invocation within `noise` of that.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Curve {
    pub overhead_ms: f64,
    pub work_ms: f64,
    pub knee_mb: u32,
    pub x86_factor: f64,
    pub init_ms: f64,
    pub noise: f64,
}

impl Curve {
    pub fn duration_ms(&self, memory: u32, arch: Architecture) -> f64 {
        let base = self.overhead_ms
            + self.work_ms * f64::from(self.knee_mb) / f64::from(memory.min(self.knee_mb));
        match arch {
            Architecture::Arm64 => base,
            Architecture::X86_64 => base * self.x86_factor,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub memory: u32,
    pub arch: Architecture,
    pub env: BTreeMap<String, String>,
    pub system_log_level: String,
    /// `CodeSha256` of the deployed package.
    pub code_sha: String,
}

/// The deployed package's `CodeSha256` in the model.
pub const DEPLOYED_SHA: &str = "sha-deployed";

#[derive(Debug, Clone)]
struct Version {
    config: Config,
    description: String,
    active_at: DateTime<Utc>,
}

#[derive(Debug)]
struct State {
    latest: Config,
    updated_at: DateTime<Utc>,
    changed: bool,
    versions: BTreeMap<u32, Version>,
    next_version: u32,
    aliases: BTreeMap<String, u32>,
    invoked: BTreeMap<String, u64>,
    continuations: Vec<Vec<u8>>,
    invocations: u64,
    invoked_pending: u64,
}

/// The function under tuning, and the tuner's own function (for its continuations).
pub struct LambdaModel {
    sim: Arc<Sim>,
    pub name: String,
    /// The Region the function is in.
    pub region: String,
    pub curve: Curve,
    pub snapstart: bool,
    /// A memory size at which every invocation fails.
    pub failing_memory: Option<u32>,
    state: Mutex<State>,
}

/// An error as the SDK adapter reports it: the operation, Lambda's error code and message,
/// classified by `groundcrew::aws_error` (throttling and `ResourceConflictException` are
/// transient, `ResourceNotFoundException` is not).
fn err(operation: &'static str, code: &str, message: impl Into<String>) -> LambdaError {
    AwsError::new(operation, message).with_code(code).into()
}

impl LambdaModel {
    pub fn new(sim: Arc<Sim>, name: &str, curve: Curve, original: Config) -> Self {
        let now = sim.now();
        Self {
            name: name.to_string(),
            region: "us-east-1".into(),
            curve,
            snapstart: false,
            failing_memory: None,
            state: Mutex::new(State {
                latest: original.clone(),
                updated_at: now,
                changed: false,
                versions: BTreeMap::from([(
                    1,
                    Version {
                        config: original,
                        description: "deployed".into(),
                        active_at: now,
                    },
                )]),
                next_version: 2,
                aliases: BTreeMap::from([("live".to_string(), 1)]),
                invoked: BTreeMap::new(),
                continuations: Vec::new(),
                invocations: 0,
                invoked_pending: 0,
            }),
            sim,
        }
    }

    pub fn arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:123456789012:function:{}",
            self.region, self.name
        )
    }

    pub fn latest(&self) -> Config {
        lock(&self.state).latest.clone()
    }

    /// Versions other than the deployed one, and aliases other than `live -> 1`.
    pub fn leftovers(&self) -> (Vec<u32>, Vec<String>) {
        let st = lock(&self.state);
        let versions = st.versions.keys().copied().filter(|v| *v != 1).collect();
        let aliases = st
            .aliases
            .iter()
            .filter(|(a, v)| !(a.as_str() == "live" && **v == 1))
            .map(|(a, _)| a.clone())
            .collect();
        (versions, aliases)
    }

    pub fn take_continuations(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut lock(&self.state).continuations)
    }

    pub fn invocations(&self) -> u64 {
        lock(&self.state).invocations
    }

    pub fn invoked_pending(&self) -> u64 {
        lock(&self.state).invoked_pending
    }

    fn gate(&self, op: &'static str) -> Result<(), LambdaError> {
        match self.sim.fault("lambda", op) {
            Fault::None => Ok(()),
            _ => Err(err(op, "TooManyRequestsException", "Rate exceeded")),
        }
    }

    fn change(&self, op: &'static str, apply: impl FnOnce(&mut Config)) -> Result<(), LambdaError> {
        self.gate(op)?;
        let now = self.sim.now();
        let mut st = lock(&self.state);
        if now < st.updated_at {
            return Err(err(
                op,
                "ResourceConflictException",
                "an update is in progress",
            ));
        }
        let before = st.latest.clone();
        apply(&mut st.latest);
        if st.latest != before {
            st.changed = true;
        }
        let secs = self.sim.rng().between(1, 5);
        st.updated_at = now + chrono::Duration::seconds(secs as i64);
        Ok(())
    }

    fn state_of(&self, config: &Config, status: &str, state: &str) -> FunctionState {
        FunctionState {
            memory_mb: config.memory,
            architecture: config.arch,
            last_update_status: Some(status.into()),
            environment: Some(config.env.clone().into_iter().collect::<HashMap<_, _>>()),
            state: Some(state.into()),
            reason: None,
            runtime: Some("python3.12".into()),
            package_type: Some("Zip".into()),
            code_sha256: Some(config.code_sha.clone()),
            logging: Some(LogSettings {
                format: "JSON".into(),
                application_level: Some("INFO".into()),
                system_level: Some(config.system_log_level.clone()),
                log_group: Some(format!("/aws/lambda/{}", self.name)),
            }),
        }
    }

    fn tail(&self, n: u64, config: &Config, duration: f64, init: Option<f64>) -> String {
        let billed = (duration + init.unwrap_or(0.0)).ceil();
        let text = if config.system_log_level == "WARN" {
            format!(
                "{}\n",
                serde_json::json!({"level": "WARN", "message": "slow request"})
            )
        } else {
            let mut metrics = serde_json::json!({"durationMs": duration, "billedDurationMs": billed,
                "memorySizeMB": config.memory, "maxMemoryUsedMB": 60});
            if let Some(i) = init {
                metrics["initDurationMs"] = serde_json::json!(i);
            }
            format!(
                "{}\n",
                serde_json::json!({"type": "platform.report", "record": {"requestId": format!("r{n}"), "metrics": metrics}})
            )
        };
        base64::engine::general_purpose::STANDARD.encode(text)
    }
}

type Res<T> = Result<T, LambdaError>;

impl LambdaApi for LambdaModel {
    async fn get_configuration(&self, _f: &str, qualifier: Option<&str>) -> Res<FunctionState> {
        self.gate("GetFunctionConfiguration")?;
        let now = self.sim.now();
        let st = lock(&self.state);
        match qualifier {
            None => {
                let status = if now < st.updated_at {
                    "InProgress"
                } else {
                    "Successful"
                };
                Ok(self.state_of(&st.latest, status, "Active"))
            }
            Some(q) => {
                let v = q.parse::<u32>().ok().or_else(|| st.aliases.get(q).copied());
                let version = v.and_then(|v| st.versions.get(&v)).ok_or_else(|| {
                    err(
                        "GetFunctionConfiguration",
                        "ResourceNotFoundException",
                        format!("no version {q}"),
                    )
                })?;
                let state = if now < version.active_at {
                    "Pending"
                } else {
                    "Active"
                };
                Ok(self.state_of(&version.config, "Successful", state))
            }
        }
    }

    async fn update_memory(&self, _f: &str, memory_mb: u32) -> Res<()> {
        self.change("UpdateFunctionConfiguration", |c| c.memory = memory_mb)
    }

    async fn update_environment(&self, _f: &str, vars: HashMap<String, String>) -> Res<()> {
        self.change("UpdateFunctionConfiguration", |c| {
            c.env = vars.into_iter().collect()
        })
    }

    async fn update_logging(&self, _f: &str, logging: &LogSettings) -> Res<()> {
        let level = logging
            .system_level
            .clone()
            .unwrap_or_else(|| "INFO".into());
        self.change("UpdateFunctionConfiguration", |c| {
            c.system_log_level = level
        })
    }

    async fn update_architecture(
        &self,
        _f: &str,
        arch: Architecture,
        code: &CodeSource,
    ) -> Res<()> {
        let sha = match code {
            CodeSource::Current => None,
            CodeSource::S3 { key, .. } if key.starts_with("tuner-state/code/") => {
                Some(DEPLOYED_SHA.to_string())
            }
            CodeSource::S3 { key, .. } => Some(format!("sha-{key}")),
            CodeSource::Image(uri) => Some(format!("sha-{uri}")),
        };
        self.change("UpdateFunctionCode", |c| {
            c.arch = arch;
            if let Some(sha) = sha {
                c.code_sha = sha;
            }
        })
    }

    async fn original_code(&self, _f: &str) -> Res<OriginalCode> {
        self.gate("GetFunction")?;
        Ok(OriginalCode::Zip(b"PK model package".to_vec()))
    }

    async fn list_versions(&self, _f: &str) -> Res<Vec<VersionInfo>> {
        self.gate("ListVersionsByFunction")?;
        let st = lock(&self.state);
        let mut out = vec![VersionInfo {
            version: "$LATEST".into(),
            description: String::new(),
        }];
        out.extend(st.versions.iter().map(|(v, version)| VersionInfo {
            version: v.to_string(),
            description: version.description.clone(),
        }));
        Ok(out)
    }

    async fn publish_version(&self, _f: &str, description: &str) -> Res<String> {
        self.gate("PublishVersion")?;
        let now = self.sim.now();
        let mut st = lock(&self.state);
        if now < st.updated_at {
            return Err(err(
                "PublishVersion",
                "ResourceConflictException",
                "an update is in progress",
            ));
        }
        if !st.changed {
            if let Some((v, _)) = st.versions.iter().next_back() {
                return Ok(v.to_string());
            }
        }
        // Two runs never tune one function at once: their versions never coexist.
        let other_run = st.versions.values().find(|v| {
            v.description.starts_with("power-tuner run ") && v.description != description
        });
        self.sim.check(
            "two runs never tune one function at once",
            other_run.is_none() || !description.starts_with("power-tuner run "),
            || format!("{description} published while {other_run:?} exists"),
        );
        let v = st.next_version;
        st.next_version += 1;
        let pending = if self.snapstart {
            chrono::Duration::seconds(self.sim.rng().between(60, 180) as i64)
        } else {
            chrono::Duration::zero()
        };
        let config = st.latest.clone();
        st.versions.insert(
            v,
            Version {
                config,
                description: description.to_string(),
                active_at: now + pending,
            },
        );
        st.changed = false;
        Ok(v.to_string())
    }

    async fn put_alias(&self, _f: &str, alias: &str, version: &str) -> Res<()> {
        self.gate("CreateAlias")?;
        let mut st = lock(&self.state);
        let v: u32 = version
            .parse()
            .map_err(|_| LambdaError::other("bad version"))?;
        if !st.versions.contains_key(&v) {
            return Err(err(
                "CreateAlias",
                "ResourceNotFoundException",
                "no such version",
            ));
        }
        st.aliases.insert(alias.to_string(), v);
        Ok(())
    }

    async fn delete_alias(&self, _f: &str, alias: &str) -> Res<()> {
        self.gate("DeleteAlias")?;
        lock(&self.state).aliases.remove(alias);
        Ok(())
    }

    async fn delete_version(&self, _f: &str, version: &str) -> Res<()> {
        self.gate("DeleteFunction")?;
        let mut st = lock(&self.state);
        let Ok(v) = version.parse::<u32>() else {
            return Err(LambdaError::other("bad version"));
        };
        if st.aliases.values().any(|a| *a == v) {
            return Err(err(
                "DeleteFunction",
                "ResourceConflictException",
                "an alias points at this version",
            ));
        }
        st.versions.remove(&v);
        Ok(())
    }

    async fn invoke(
        &self,
        _f: &str,
        qualifier: Option<&str>,
        _payload: Vec<u8>,
    ) -> Res<Invocation> {
        self.gate("Invoke")?;
        let now = self.sim.now();
        let (config, label, n, cold) = {
            let mut st = lock(&self.state);
            let (config, label) = match qualifier {
                None | Some("$LATEST") => (st.latest.clone(), "$LATEST".to_string()),
                Some(q) => {
                    let v = q.parse::<u32>().ok().or_else(|| st.aliases.get(q).copied());
                    let Some((v, version)) =
                        v.and_then(|v| st.versions.get(&v).map(|x| (v, x.clone())))
                    else {
                        return Err(err(
                            "Invoke",
                            "ResourceNotFoundException",
                            "no such version",
                        ));
                    };
                    if now < version.active_at {
                        st.invoked_pending += 1;
                        return Err(err(
                            "Invoke",
                            "ResourceConflictException",
                            "the function is in state Pending",
                        ));
                    }
                    (version.config, v.to_string())
                }
            };
            st.invocations += 1;
            let n = st.invocations;
            let seen = st.invoked.entry(label.clone()).or_insert(0);
            *seen += 1;
            (config, label, n, *seen == 1)
        };
        let noise = 1.0 + self.curve.noise * (2.0 * self.sim.rng().unit() - 1.0);
        let duration = self.curve.duration_ms(config.memory, config.arch) * noise;
        let init = cold.then_some(self.curve.init_ms);
        tokio::time::sleep(Duration::from_secs_f64(
            (duration + init.unwrap_or(0.0)) / 1000.0,
        ))
        .await;
        let _ = label;
        let log_result = Some(self.tail(n, &config, duration, init));
        if self.failing_memory == Some(config.memory) && qualifier.is_some() {
            return Ok(Invocation {
                function_error: Some("Unhandled".into()),
                log_result,
                payload: br#"{"errorType":"Runtime.OutOfMemory","errorMessage":"killed"}"#.to_vec(),
            });
        }
        Ok(Invocation {
            function_error: None,
            log_result,
            payload: b"{}".to_vec(),
        })
    }

    async fn invoke_async(&self, _f: &str, payload: Vec<u8>) -> Res<()> {
        self.gate("InvokeAsync")?;
        lock(&self.state).continuations.push(payload);
        Ok(())
    }
}

/// The tuner holds its Lambda client by value: a shared handle to the model, which
/// answers only for ARNs of its own Region.
#[derive(Clone)]
pub struct Shared(pub Arc<LambdaModel>);

impl Shared {
    fn here(&self, f: &str) -> Res<()> {
        match region_of(f) {
            Some(r) if r != self.0.region => Err(err(
                "GetFunctionConfiguration",
                "ResourceNotFoundException",
                format!("{f} is not in {}", self.0.region),
            )),
            _ => Ok(()),
        }
    }
}

impl LambdaApi for Shared {
    async fn get_configuration(&self, f: &str, q: Option<&str>) -> Res<FunctionState> {
        self.here(f)?;
        self.0.get_configuration(f, q).await
    }
    async fn update_memory(&self, f: &str, m: u32) -> Res<()> {
        self.here(f)?;
        self.0.update_memory(f, m).await
    }
    async fn update_environment(&self, f: &str, v: HashMap<String, String>) -> Res<()> {
        self.here(f)?;
        self.0.update_environment(f, v).await
    }
    async fn update_logging(&self, f: &str, l: &LogSettings) -> Res<()> {
        self.here(f)?;
        self.0.update_logging(f, l).await
    }
    async fn update_architecture(&self, f: &str, a: Architecture, c: &CodeSource) -> Res<()> {
        self.here(f)?;
        self.0.update_architecture(f, a, c).await
    }
    async fn original_code(&self, f: &str) -> Res<OriginalCode> {
        self.here(f)?;
        self.0.original_code(f).await
    }
    async fn list_versions(&self, f: &str) -> Res<Vec<VersionInfo>> {
        self.here(f)?;
        self.0.list_versions(f).await
    }
    async fn publish_version(&self, f: &str, d: &str) -> Res<String> {
        self.here(f)?;
        self.0.publish_version(f, d).await
    }
    async fn put_alias(&self, f: &str, a: &str, v: &str) -> Res<()> {
        self.here(f)?;
        self.0.put_alias(f, a, v).await
    }
    async fn delete_alias(&self, f: &str, a: &str) -> Res<()> {
        self.here(f)?;
        self.0.delete_alias(f, a).await
    }
    async fn delete_version(&self, f: &str, v: &str) -> Res<()> {
        self.here(f)?;
        self.0.delete_version(f, v).await
    }
    async fn invoke(&self, f: &str, q: Option<&str>, p: Vec<u8>) -> Res<Invocation> {
        self.here(f)?;
        self.0.invoke(f, q, p).await
    }
    async fn invoke_async(&self, f: &str, p: Vec<u8>) -> Res<()> {
        self.here(f)?;
        self.0.invoke_async(f, p).await
    }
}
