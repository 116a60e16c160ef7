//! A stand-in of the Lambda REST API (wiremock) whose invoke returns REPORT lines from a
//! known model, for the measurement tests and the benchmark.
//!
//! Model: `duration(mem) = overhead + work * knee / min(mem, knee)` ms (falling with memory
//! up to the knee, then flat); the first invocation of each version is a cold start
//! (`Init Duration`, billed); every `throttle_every`-th invoke answers 429
//! TooManyRequestsException; `failing_memory` always answers a function error.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};
use wiremock::{Request, Respond, ResponseTemplate};

#[derive(Debug, Clone)]
pub struct Model {
    pub overhead_ms: f64,
    pub work_ms: f64,
    pub knee_mb: u32,
    pub init_ms: f64,
    pub failing_memory: Option<u32>,
    pub throttle_every: Option<u64>,
    /// PublishVersion fails (400) while memory is this.
    pub fail_publish_at: Option<u32>,
    /// Real latency of invocations of versions at or above this memory.
    pub slow_from_mb: Option<(u32, Duration)>,
    /// Real latency of every invocation.
    pub latency: Duration,
    /// Real latency of configuration calls.
    pub control_latency: Duration,
    /// GetFunctionConfiguration answers InProgress this many times after an update.
    pub in_progress_reads: u32,
    /// Use the JSON log format in LogResult.
    pub json_logs: bool,
    /// x86_64 durations are this much longer.
    pub x86_factor: f64,
    /// GetFunctionConfiguration of a new version answers State Pending this many times
    /// (SnapStart).
    pub pending_version_reads: u32,
}

impl Default for Model {
    fn default() -> Self {
        Self {
            overhead_ms: 20.0,
            work_ms: 80.0,
            knee_mb: 1024,
            init_ms: 50.0,
            failing_memory: None,
            throttle_every: None,
            fail_publish_at: None,
            slow_from_mb: None,
            latency: Duration::ZERO,
            control_latency: Duration::ZERO,
            in_progress_reads: 1,
            json_logs: false,
            x86_factor: 1.25,
            pending_version_reads: 0,
        }
    }
}

impl Model {
    pub fn duration_ms(&self, mem: u32) -> f64 {
        self.overhead_ms + self.work_ms * f64::from(self.knee_mb) / f64::from(mem.min(self.knee_mb))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub memory: u32,
    pub arch: String,
    pub env: BTreeMap<String, String>,
    pub code_sha: String,
    /// `LoggingConfig.SystemLogLevel` (with the model's JSON logs).
    pub system_log_level: String,
}

#[derive(Debug)]
pub struct FunctionSim {
    pub latest: Config,
    pub versions: BTreeMap<u32, Config>,
    pub aliases: BTreeMap<String, u32>,
    pub pending_reads: u32,
    pub changed_since_publish: bool,
    pub invoked_versions: HashSet<String>,
    pub descriptions: BTreeMap<u32, String>,
    /// Reads of a version's configuration left before it is Active.
    pub version_pending: BTreeMap<u32, u32>,
    pub runtime: String,
    pub package_type: String,
    /// `CodeSha256` of the package `GetFunction` last served (what a copy of it holds).
    pub served_sha: Option<String>,
}

#[derive(Debug, Default)]
pub struct State {
    pub functions: HashMap<String, FunctionSim>,
    pub invokes: u64,
    pub throttled: u64,
    pub updates: u64,
    pub calls: Vec<String>,
    /// Payloads of `InvocationType=Event` invocations, by function.
    pub async_invokes: Vec<(String, Vec<u8>)>,
    /// Invocations of a version before it was Active (must stay 0).
    pub invoked_pending: u64,
    /// Payloads of the synchronous invocations of versions and aliases.
    pub payloads: Vec<Vec<u8>>,
}

#[derive(Clone)]
pub struct LambdaSim {
    pub model: Model,
    pub state: Arc<Mutex<State>>,
    /// The server's address, for code download locations.
    pub base: Arc<Mutex<String>>,
}

fn error(status: u16, kind: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("x-amzn-ErrorType", kind)
        .set_body_raw(
            json!({"message": message, "Type": "User"}).to_string(),
            "application/json",
        )
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_string(), "application/json")
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

impl LambdaSim {
    pub fn new(model: Model) -> Self {
        Self {
            model,
            state: Arc::new(Mutex::new(State::default())),
            base: Arc::new(Mutex::new(String::new())),
        }
    }

    /// Adds a function (with version 1 already published at its current configuration).
    pub fn add_function(&self, name: &str, memory: u32, arch: &str) {
        let config = Config {
            memory,
            arch: arch.to_string(),
            env: BTreeMap::from([("MODE".to_string(), "demo".to_string())]),
            code_sha: format!("sha-{arch}"),
            system_log_level: "INFO".into(),
        };
        let sim = FunctionSim {
            latest: config.clone(),
            versions: BTreeMap::from([(1, config)]),
            aliases: BTreeMap::new(),
            pending_reads: 0,
            changed_since_publish: false,
            invoked_versions: HashSet::new(),
            descriptions: BTreeMap::new(),
            version_pending: BTreeMap::new(),
            runtime: "provided.al2023".into(),
            package_type: "Zip".into(),
            served_sha: None,
        };
        self.state
            .lock()
            .unwrap()
            .functions
            .insert(name.to_string(), sim);
    }

    pub fn arn(name: &str) -> String {
        format!("arn:aws:lambda:us-east-1:123456789012:function:{name}")
    }

    fn config_json(name: &str, c: &Config, version: &str, status: &str) -> Value {
        let mut out = Self::config_json_without_logging(name, c, version, status);
        out["LoggingConfig"] = json!({"LogFormat": "JSON", "ApplicationLogLevel": "INFO",
            "SystemLogLevel": c.system_log_level, "LogGroup": format!("/aws/lambda/{name}")});
        out
    }

    fn config_json_without_logging(name: &str, c: &Config, version: &str, status: &str) -> Value {
        json!({
            "FunctionName": name,
            "FunctionArn": Self::arn(name),
            "Runtime": "provided.al2023",
            "PackageType": "Zip",
            "CodeSha256": c.code_sha,
            "MemorySize": c.memory,
            "Architectures": [c.arch],
            "Environment": {"Variables": c.env},
            "Version": version,
            "State": "Active",
            "LastUpdateStatus": status,
        })
    }

    fn handle(&self, req: &Request) -> ResponseTemplate {
        let path = req.url.path().to_string();
        if path.starts_with("/code/") {
            return ResponseTemplate::new(200).set_body_raw(
                b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec(),
                "application/zip",
            );
        }
        let Some(rest) = path.strip_prefix("/2015-03-31/functions/") else {
            return error(404, "UnknownOperationException", "no such path");
        };
        let mut parts = rest.splitn(3, '/');
        let raw_fn = decode(parts.next().unwrap_or(""));
        let name = raw_fn.rsplit(':').next().unwrap_or("").to_string();
        let sub = parts.next().unwrap_or("");
        let alias_name = parts.next().map(decode);
        let qualifier = req
            .url
            .query_pairs()
            .find(|(k, _)| k == "Qualifier")
            .map(|(_, v)| v.into_owned());
        let method = req.method.as_str().to_string();
        let model = &self.model;
        let mut st = self.state.lock().unwrap();
        st.calls.push(format!("{method} {sub}"));
        let st = &mut *st;
        let Some(f) = st.functions.get_mut(&name) else {
            return error(
                404,
                "ResourceNotFoundException",
                &format!("Function not found: {name}"),
            );
        };
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        match (method.as_str(), sub) {
            ("GET", "configuration")
                if qualifier.is_some() && qualifier.as_deref() != Some("$LATEST") =>
            {
                let q = qualifier.clone().unwrap_or_default();
                let v = match q.parse::<u32>() {
                    Ok(v) => Some(v),
                    Err(_) => f.aliases.get(&q).copied(),
                };
                let Some((v, c)) = v.and_then(|v| f.versions.get(&v).map(|c| (v, c.clone())))
                else {
                    return error(404, "ResourceNotFoundException", "no such qualifier");
                };
                let pending = f.version_pending.get(&v).copied().unwrap_or(0);
                let state = if pending > 0 {
                    f.version_pending.insert(v, pending - 1);
                    "Pending"
                } else {
                    "Active"
                };
                let mut out = Self::config_json(&name, &c, &v.to_string(), "Successful");
                out["State"] = json!(state);
                out["Runtime"] = json!(f.runtime);
                out["PackageType"] = json!(f.package_type);
                ok(out)
            }
            ("GET", "configuration") => {
                let status = if f.pending_reads > 0 {
                    f.pending_reads -= 1;
                    "InProgress"
                } else {
                    "Successful"
                };
                let mut out = Self::config_json(&name, &f.latest, "$LATEST", status);
                out["Runtime"] = json!(f.runtime);
                out["PackageType"] = json!(f.package_type);
                ok(out).set_delay(model.control_latency)
            }
            ("PUT", "configuration") => {
                if f.pending_reads > 0 {
                    return error(409, "ResourceConflictException", "An update is in progress");
                }
                if let Some(m) = body.get("MemorySize").and_then(Value::as_u64) {
                    if f.latest.memory != m as u32 {
                        f.latest.memory = m as u32;
                        f.changed_since_publish = true;
                    }
                }
                if let Some(level) = body
                    .get("LoggingConfig")
                    .and_then(|l| l.get("SystemLogLevel"))
                    .and_then(Value::as_str)
                {
                    if f.latest.system_log_level != level {
                        f.latest.system_log_level = level.to_string();
                        f.changed_since_publish = true;
                    }
                }
                if let Some(vars) = body
                    .get("Environment")
                    .and_then(|e| e.get("Variables"))
                    .and_then(Value::as_object)
                {
                    let env: BTreeMap<String, String> = vars
                        .iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                        .collect();
                    if env != f.latest.env {
                        f.latest.env = env;
                        f.changed_since_publish = true;
                    }
                }
                f.pending_reads = model.in_progress_reads;
                st.updates += 1;
                ok(Self::config_json(&name, &f.latest, "$LATEST", "InProgress"))
                    .set_delay(model.control_latency)
            }
            ("GET", "") => {
                f.served_sha = Some(f.latest.code_sha.clone());
                let location = format!("{}/code/{name}.zip", self.base.lock().unwrap());
                ok(
                    json!({"Configuration": Self::config_json(&name, &f.latest, "$LATEST", "Successful"),
                    "Code": {"RepositoryType": "S3", "Location": location}}),
                )
            }
            ("PUT", "code") => {
                if f.pending_reads > 0 {
                    return error(409, "ResourceConflictException", "An update is in progress");
                }
                if body.get("ZipFile").is_none()
                    && body.get("ImageUri").is_none()
                    && body.get("S3Key").is_none()
                {
                    return error(400, "InvalidParameterValueException", "code required");
                }
                let from = body
                    .get("S3Key")
                    .or(body.get("ImageUri"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                if let Some(a) = body
                    .get("Architectures")
                    .and_then(|a| a.get(0))
                    .and_then(Value::as_str)
                {
                    if f.latest.arch != a {
                        f.latest.arch = a.to_string();
                        f.changed_since_publish = true;
                    }
                    // Code from a location is "built for" what its key names; the
                    // current package re-deployed keeps its build.
                    // The tuner's copy of the package GetFunction served holds those bytes.
                    if let Some(from) = from {
                        f.latest.code_sha = match &f.served_sha {
                            Some(served) if from.starts_with("tuner-state/code/") => served.clone(),
                            _ => format!("sha-{from}"),
                        };
                    }
                }
                f.pending_reads = model.in_progress_reads;
                st.updates += 1;
                ok(Self::config_json(&name, &f.latest, "$LATEST", "InProgress"))
            }
            ("GET", "versions") => {
                let mut versions = vec![json!({"Version": "$LATEST", "FunctionName": name})];
                versions.extend(f.versions.keys().map(|v| {
                    json!({"Version": v.to_string(), "FunctionName": name,
                        "Description": f.descriptions.get(v).cloned().unwrap_or_default()})
                }));
                ok(json!({"Versions": versions}))
            }
            ("POST", "versions") => {
                if f.pending_reads > 0 {
                    return error(409, "ResourceConflictException", "An update is in progress");
                }
                if model.fail_publish_at == Some(f.latest.memory) {
                    return error(
                        400,
                        "InvalidParameterValueException",
                        "publishing is broken at this size",
                    );
                }
                let last = f.versions.keys().next_back().copied().unwrap_or(0);
                let version = if !f.changed_since_publish && last > 0 {
                    last
                } else {
                    f.versions.insert(last + 1, f.latest.clone());
                    f.descriptions.insert(
                        last + 1,
                        body["Description"].as_str().unwrap_or("").to_string(),
                    );
                    f.version_pending
                        .insert(last + 1, model.pending_version_reads);
                    f.changed_since_publish = false;
                    last + 1
                };
                let c = f.versions[&version].clone();
                ok(Self::config_json(
                    &name,
                    &c,
                    &version.to_string(),
                    "Successful",
                ))
                .set_delay(model.control_latency)
            }
            ("POST", "aliases") => {
                let alias = body["Name"].as_str().unwrap_or("").to_string();
                let version: u32 = body["FunctionVersion"]
                    .as_str()
                    .unwrap_or("")
                    .parse()
                    .unwrap_or(0);
                if f.aliases.contains_key(&alias) {
                    return error(409, "ResourceConflictException", "Alias already exists");
                }
                if !f.versions.contains_key(&version) {
                    return error(404, "ResourceNotFoundException", "no such version");
                }
                f.aliases.insert(alias.clone(), version);
                ok(json!({"Name": alias, "FunctionVersion": version.to_string(), "AliasArn": format!("{}:{alias}", Self::arn(&name))}))
                    .set_delay(model.control_latency)
            }
            ("PUT", "aliases") | ("GET", "aliases") | ("DELETE", "aliases") => {
                let alias = alias_name.unwrap_or_default();
                let Some(current) = f.aliases.get(&alias).copied() else {
                    return error(
                        404,
                        "ResourceNotFoundException",
                        &format!("Alias not found: {alias}"),
                    );
                };
                match method.as_str() {
                    "DELETE" => {
                        f.aliases.remove(&alias);
                        ResponseTemplate::new(204)
                    }
                    "PUT" => {
                        let version: u32 = body["FunctionVersion"]
                            .as_str()
                            .unwrap_or("")
                            .parse()
                            .unwrap_or(current);
                        f.aliases.insert(alias.clone(), version);
                        ok(json!({"Name": alias, "FunctionVersion": version.to_string()}))
                    }
                    _ => ok(json!({"Name": alias, "FunctionVersion": current.to_string()})),
                }
            }
            ("DELETE", "") => {
                let Some(q) = qualifier else {
                    return error(
                        400,
                        "InvalidParameterValueException",
                        "the tests never delete a whole function",
                    );
                };
                let Ok(v) = q.parse::<u32>() else {
                    return error(400, "InvalidParameterValueException", "bad qualifier");
                };
                if f.aliases.values().any(|a| *a == v) {
                    return error(
                        409,
                        "ResourceConflictException",
                        "an alias points at this version",
                    );
                }
                if f.versions.remove(&v).is_none() {
                    return error(404, "ResourceNotFoundException", "no such version");
                }
                ResponseTemplate::new(204)
            }
            ("POST", "invocations")
                if req
                    .headers
                    .get("X-Amz-Invocation-Type")
                    .is_some_and(|v| v.as_bytes() == b"Event") =>
            {
                st.async_invokes.push((name.clone(), req.body.clone()));
                ResponseTemplate::new(202)
            }
            ("POST", "invocations") => {
                st.invokes += 1;
                let n = st.invokes;
                if model.throttle_every.is_some_and(|k| n.is_multiple_of(k)) {
                    st.throttled += 1;
                    return error(429, "TooManyRequestsException", "Rate Exceeded.");
                }
                let (label, config) = match qualifier.as_deref() {
                    None | Some("$LATEST") => ("$LATEST".to_string(), f.latest.clone()),
                    Some(q) => {
                        let v = match q.parse::<u32>() {
                            Ok(v) => Some(v),
                            Err(_) => f.aliases.get(q).copied(),
                        };
                        match v.and_then(|v| f.versions.get(&v).map(|c| (v, c.clone()))) {
                            Some((v, c)) => (v.to_string(), c),
                            None => {
                                return error(404, "ResourceNotFoundException", "no such qualifier")
                            }
                        }
                    }
                };
                if label
                    .parse::<u32>()
                    .is_ok_and(|v| f.version_pending.get(&v).copied().unwrap_or(0) > 0)
                {
                    st.invoked_pending += 1;
                }
                if label != "$LATEST" {
                    st.payloads.push(req.body.clone());
                }
                let cold = f.invoked_versions.insert(label.clone());
                let mem = config.memory;
                let duration = model.duration_ms(mem)
                    * if config.arch == "x86_64" {
                        model.x86_factor
                    } else {
                        1.0
                    };
                let init = cold.then_some(model.init_ms);
                let billed = (duration + init.unwrap_or(0.0)).ceil();
                let log = if model.json_logs && config.system_log_level == "WARN" {
                    // platform.report is a system log at INFO: filtered out.
                    format!("{}\n", json!({"level": "WARN", "message": "app warning"}))
                } else if model.json_logs {
                    let mut metrics = json!({"durationMs": duration, "billedDurationMs": billed, "memorySizeMB": mem, "maxMemoryUsedMB": 40});
                    if let Some(i) = init {
                        metrics["initDurationMs"] = json!(i);
                    }
                    format!(
                        "{}\n",
                        json!({"type": "platform.report", "record": {"requestId": format!("r{n}"), "metrics": metrics}})
                    )
                } else {
                    let init_part = init
                        .map(|i| format!("Init Duration: {i:.2} ms\t"))
                        .unwrap_or_default();
                    format!(
                        "START RequestId: r{n} Version: {label}\nEND RequestId: r{n}\nREPORT RequestId: r{n}\tDuration: {duration:.2} ms\tBilled Duration: {billed:.0} ms\tMemory Size: {mem} MB\tMax Memory Used: 40 MB\t{init_part}\n"
                    )
                };
                let log_b64 = base64::engine::general_purpose::STANDARD.encode(log);
                let mut delay = model.latency;
                if let Some((from, d)) = model.slow_from_mb {
                    if mem >= from && label != "$LATEST" {
                        delay = d;
                    }
                }
                let resp = ResponseTemplate::new(200)
                    .insert_header("X-Amz-Log-Result", log_b64.as_str())
                    .insert_header("X-Amz-Executed-Version", label.as_str())
                    .set_delay(delay);
                if model.failing_memory == Some(mem) && label != "$LATEST" {
                    resp.insert_header("X-Amz-Function-Error", "Unhandled")
                        .set_body_raw(
                            r#"{"errorType":"Runtime.OutOfMemory","errorMessage":"boom"}"#,
                            "application/json",
                        )
                } else {
                    resp.set_body_raw(r#"{"ok":true}"#, "application/json")
                }
            }
            _ => error(
                400,
                "UnknownOperationException",
                &format!("{method} {sub} is not emulated"),
            ),
        }
    }
}

impl Respond for LambdaSim {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.handle(request)
    }
}

/// Starts the stand-in and returns it with an SDK configuration whose endpoint is the
/// stand-in (a client built with that endpoint).
pub async fn start(model: Model) -> (wiremock::MockServer, LambdaSim, aws_config::SdkConfig) {
    let (server, sdk) = groundcrew::testing::mock_aws().await;
    let sim = LambdaSim::new(model);
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(sim.clone())
        .mount(&server)
        .await;
    *sim.base.lock().unwrap() = server.uri();
    (server, sim, sdk)
}

/// An answer's JSON, as a caller of the function reads it: the tests check the wire.
pub fn wire(answer: power_tuner::answer::Answer) -> Value {
    serde_json::to_value(answer).expect("an answer serializes")
}

/// An in-memory S3 with conditional writes, for the handler tests.
pub use power_tuner::store::MemStore;
