//! The AWS SDK crates a crate depends on (its Cargo.toml, versions from Cargo.lock) and
//! their operations, read from the SDK sources in the cargo registry: one
//! `src/operation/<snake>/` folder per operation whose module holds
//! `pub struct <PascalName>;`, and the client's fluent method `pub fn <snake>(&self)` in
//! `src/client/<snake>.rs`.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde::Deserialize;

use crate::rules::iam_prefix;
use crate::CheckError;

#[derive(Debug)]
pub struct SdkCrate {
    /// The `aws-sdk-<svc>` suffix.
    pub svc: String,
    pub version: String,
    /// Fluent method name -> PascalCase operation name.
    pub ops: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    package: Option<Package>,
    #[serde(default)]
    dependencies: BTreeMap<String, Dependency>,
    #[serde(default)]
    target: BTreeMap<String, Target>,
    workspace: Option<Workspace>,
}

#[derive(Debug, Deserialize)]
struct Package {
    name: String,
}

#[derive(Debug, Deserialize)]
struct Target {
    #[serde(default)]
    dependencies: BTreeMap<String, Dependency>,
}

#[derive(Debug, Deserialize)]
struct Workspace {
    #[serde(default)]
    dependencies: BTreeMap<String, Dependency>,
}

/// `name = "1"` or `name = { ... }`: a string or a table, told apart by TOML itself.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Dependency {
    Version(#[allow(dead_code)] String),
    Detailed {
        #[serde(default)]
        workspace: bool,
        package: Option<String>,
    },
}

impl Dependency {
    fn package(&self) -> Option<&str> {
        match self {
            Dependency::Version(_) => None,
            Dependency::Detailed { package, .. } => package.as_deref(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<LockPackage>,
}

#[derive(Debug, Deserialize)]
struct LockPackage {
    name: String,
    version: String,
    source: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, CheckError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CheckError::new(format!("cannot read {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| CheckError::new(format!("{}: {e}", path.display())))
}

/// The workspace's manifests and lock file, and the SDK crates read so far.
pub struct Cargo {
    workspace_deps: BTreeMap<String, Dependency>,
    lock: Lock,
    registry: Vec<PathBuf>,
    cache: RefCell<HashMap<(String, String), Rc<SdkCrate>>>,
}

impl Cargo {
    pub fn load(root: &Path) -> Result<Self, CheckError> {
        let workspace: Manifest = read_toml(&root.join("Cargo.toml"))?;
        Ok(Self {
            workspace_deps: workspace
                .workspace
                .map(|w| w.dependencies)
                .unwrap_or_default(),
            lock: read_toml(&root.join("Cargo.lock"))?,
            registry: registry_src_dirs(),
            cache: RefCell::default(),
        })
    }

    /// `name -> version` of the dependencies of workspace member `package`.
    fn lock_versions(&self, package: &str) -> Result<HashMap<String, String>, CheckError> {
        let member = self
            .lock
            .package
            .iter()
            .find(|p| p.name == package && p.source.is_none())
            .ok_or_else(|| {
                CheckError::new(format!("{package} is not a workspace member in Cargo.lock"))
            })?;
        let mut out = HashMap::new();
        for dep in &member.dependencies {
            let mut parts = dep.split_whitespace();
            let name = parts.next().unwrap_or_default().to_string();
            let version = match parts.next() {
                Some(v) => v.to_string(),
                None => {
                    let mut versions: Vec<&str> = self
                        .lock
                        .package
                        .iter()
                        .filter(|p| p.name == name)
                        .map(|p| p.version.as_str())
                        .collect();
                    versions.dedup();
                    match versions.as_slice() {
                        [one] => one.to_string(),
                        _ => {
                            return Err(CheckError::new(format!(
                                "Cargo.lock: {name} has versions {versions:?}"
                            )))
                        }
                    }
                }
            };
            out.insert(name, version);
        }
        Ok(out)
    }

    /// The package name of the crate in `crate_dir` and its SDK crates, by the Rust
    /// identifier they are used under (`aws_sdk_sqs`).
    pub fn sdk_crates(
        &self,
        crate_dir: &Path,
    ) -> Result<(String, BTreeMap<String, Rc<SdkCrate>>), CheckError> {
        let manifest: Manifest = read_toml(&crate_dir.join("Cargo.toml"))?;
        let package = manifest
            .package
            .map(|p| p.name)
            .ok_or_else(|| CheckError::new(format!("{}: no [package]", crate_dir.display())))?;
        let mut deps = manifest.dependencies;
        for target in manifest.target.into_values() {
            deps.extend(target.dependencies);
        }
        let versions = self.lock_versions(&package)?;
        let mut out = BTreeMap::new();
        for (key, spec) in &deps {
            let mut real = key.as_str();
            if let Dependency::Detailed {
                workspace: true, ..
            } = spec
            {
                if let Some(renamed) = self.workspace_deps.get(key).and_then(|d| d.package()) {
                    real = renamed;
                }
            }
            if let Some(renamed) = spec.package() {
                real = renamed;
            }
            let Some(svc) = real.strip_prefix("aws-sdk-") else {
                continue;
            };
            if iam_prefix(svc).is_none() {
                return Err(CheckError::new(format!(
                    "{package} depends on {real}: add its IAM prefix to IAM_PREFIX"
                )));
            }
            let version = versions.get(real).ok_or_else(|| {
                CheckError::new(format!("Cargo.lock: {package} has no locked {real}"))
            })?;
            out.insert(key.replace('-', "_"), self.sdk(svc, version)?);
        }
        Ok((package, out))
    }

    fn sdk(&self, svc: &str, version: &str) -> Result<Rc<SdkCrate>, CheckError> {
        let key = (svc.to_string(), version.to_string());
        if let Some(hit) = self.cache.borrow().get(&key) {
            return Ok(hit.clone());
        }
        let dir = self
            .registry
            .iter()
            .map(|base| base.join(format!("aws-sdk-{svc}-{version}")))
            .find(|d| d.is_dir())
            .ok_or_else(|| {
                CheckError::new(format!(
                    "aws-sdk-{svc} {version} is not in the cargo registry \
                     (~/.cargo/registry/src); run `cargo fetch` once"
                ))
            })?;
        let crate_ = Rc::new(SdkCrate {
            svc: svc.to_string(),
            version: version.to_string(),
            ops: operations(&dir.join("src"), svc, version)?,
        });
        self.cache.borrow_mut().insert(key, crate_.clone());
        Ok(crate_)
    }
}

fn registry_src_dirs() -> Vec<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(home.join("registry").join("src"))
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs
}

/// Fluent method -> operation name, from an SDK crate's `src/`.
fn operations(
    src: &Path,
    svc: &str,
    version: &str,
) -> Result<BTreeMap<String, String>, CheckError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(src.join("operation"))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    entries.sort();
    let mut ops = BTreeMap::new();
    for entry in entries {
        let snake = entry
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let text = [
            src.join("operation").join(format!("{snake}.rs")),
            entry.join("mod.rs"),
        ]
        .iter()
        .find_map(|candidate| std::fs::read_to_string(candidate).ok())
        .unwrap_or_default();
        let pascal = text
            .lines()
            .find_map(|line| {
                let name = line.strip_prefix("pub struct ")?.strip_suffix(';')?;
                let ok = name.starts_with(|c: char| c.is_ascii_uppercase())
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                ok.then(|| name.to_string())
            })
            .ok_or_else(|| {
                CheckError::new(format!(
                    "aws-sdk-{svc} {version}: no `pub struct` in operation {snake}"
                ))
            })?;
        let client = std::fs::read_to_string(src.join("client").join(format!("{snake}.rs")))
            .unwrap_or_default();
        let method = fluent_method(&client).unwrap_or(snake);
        ops.insert(method, pascal);
    }
    Ok(ops)
}

/// The name in the first `pub fn <name>(&self` of a client file.
fn fluent_method(client: &str) -> Option<String> {
    let mut rest = client;
    while let Some(at) = rest.find("pub fn ") {
        rest = &rest[at + "pub fn ".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        let after = rest[name.len()..].trim_start();
        if !name.is_empty() {
            if let Some(args) = after.strip_prefix('(') {
                if args.trim_start().starts_with("&self") {
                    return Some(name);
                }
            }
        }
    }
    None
}
