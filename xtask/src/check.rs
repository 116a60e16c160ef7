//! The check itself: each function's grants against its calls, and the report.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_yaml_ng::{Mapping, Value};

use crate::iam_data::IamData;
use crate::rules::{self, to_actions};
use crate::sdk::Cargo;
use crate::source::{self, Call, SourceFile};
use crate::template::{policy_statements, Template};
use crate::CheckError;

pub struct Options {
    /// The repository root (Cargo.toml, Cargo.lock, functions/, shared/).
    pub root: PathBuf,
    pub template: String,
    pub iam: IamData,
    /// List call sites, ignored matches and Deny statements.
    pub verbose: bool,
}

/// One function's result.
pub struct FunctionResult {
    pub label: String,
    pub problems: Vec<String>,
    pub notes: Vec<String>,
    /// The crate keeps every SDK client and call in its adapters.
    pub adapters_only: bool,
}

pub struct Report {
    pub functions: Vec<FunctionResult>,
    /// A failure before any function could be checked.
    pub error: Option<String>,
}

impl Report {
    pub fn passed(&self) -> usize {
        self.functions
            .iter()
            .filter(|f| f.problems.is_empty())
            .count()
    }

    pub fn failed(&self) -> usize {
        self.functions.len() - self.passed() + usize::from(self.error.is_some())
    }

    /// The lines the script prints, ending with `iam-check: N passed, M failed`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for f in &self.functions {
            if f.problems.is_empty() {
                let _ = writeln!(out, "ok   {}", f.label);
            } else {
                let _ = writeln!(out, "FAIL {}", f.label);
                for p in &f.problems {
                    let _ = writeln!(out, "     - {p}");
                }
            }
            for n in &f.notes {
                let _ = writeln!(out, "       {n}");
            }
        }
        if let Some(e) = &self.error {
            let _ = writeln!(out, "iam-check: error: {e}");
        }
        let _ = writeln!(
            out,
            "iam-check: {} passed, {} failed",
            self.passed(),
            self.failed()
        );
        out
    }
}

/// What every function's check needs: the workspace, the IAM data and the calls the
/// shared crate makes.
struct Context<'a> {
    root: &'a Path,
    cargo: Cargo,
    iam: &'a IamData,
    shared_calls: Vec<Call>,
    shared_names: BTreeMap<String, (String, String)>,
}

pub fn run(options: &Options) -> Report {
    let mut report = Report {
        functions: Vec::new(),
        error: None,
    };
    match prepare(options) {
        Ok((template, ctx)) => {
            for (id, props) in &template.functions {
                let result = check_function(id, props, &ctx, options.verbose).unwrap_or_else(|e| {
                    FunctionResult {
                        label: id.clone(),
                        problems: vec![format!("cannot check: {e}")],
                        notes: Vec::new(),
                        adapters_only: false,
                    }
                });
                report.functions.push(result);
            }
        }
        Err(e) => report.error = Some(e.to_string()),
    }
    report
}

fn prepare(options: &Options) -> Result<(Template, Context<'_>), CheckError> {
    let template = Template::parse(&options.template)?;
    for (action, _why) in rules::STAR_OK {
        let entry = options
            .iam
            .action(action)
            .ok_or_else(|| CheckError::new(format!("STAR_OK: {action} is not an IAM action")))?;
        if !entry.resources.is_empty() && !rules::STAR_OK_DESPITE_RESOURCE_TYPES.contains(action) {
            return Err(CheckError::new(format!(
                "STAR_OK: {action} supports resource types {:?}; it does not belong in the list",
                entry.resources
            )));
        }
    }
    let root = options.root.as_path();
    let cargo = Cargo::load(root)?;
    let (_, shared_sdk) = cargo.sdk_crates(&root.join("shared"))?;
    let shared_files = source::load_crate_sources(root, &root.join("shared"), &shared_sdk)?;
    let shared_calls = source::scan_crate(&shared_files, &shared_sdk, true)?.calls;
    let mut owners = HashSet::new();
    for c in &shared_calls {
        match &c.owner {
            Some(o) => owners.insert(o.clone()),
            None => {
                return Err(CheckError::new(format!(
                    "{}:{}: shared SDK call outside any impl or fn",
                    c.file, c.line
                )))
            }
        };
    }
    let shared_names = source::shared_owner_names(&shared_files, &owners);
    let defined: HashSet<&String> = shared_names.values().map(|(_, o)| o).collect();
    let mut missing: Vec<&String> = owners.iter().filter(|o| !defined.contains(o)).collect();
    if !missing.is_empty() {
        missing.sort();
        return Err(CheckError::new(format!(
            "shared SDK calls made by {missing:?}, which no file defines"
        )));
    }
    Ok((
        template,
        Context {
            root,
            cargo,
            iam: &options.iam,
            shared_calls,
            shared_names,
        },
    ))
}

/// Insertion-ordered map from a lower-cased action to what it gathers.
struct Actions<T> {
    keys: Vec<String>,
    values: BTreeMap<String, Vec<T>>,
}

impl<T> Actions<T> {
    fn new() -> Self {
        Self {
            keys: Vec::new(),
            values: BTreeMap::new(),
        }
    }
    fn push(&mut self, key: String, value: T) {
        if !self.values.contains_key(&key) {
            self.keys.push(key.clone());
        }
        self.values.entry(key).or_default().push(value);
    }
    fn contains(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }
}

fn check_function(
    logical_id: &str,
    props: &Mapping,
    ctx: &Context,
    verbose: bool,
) -> Result<FunctionResult, CheckError> {
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let code_uri = props.get("CodeUri").and_then(Value::as_str).unwrap_or("");
    let name = code_uri
        .strip_prefix("functions/")
        .map(|n| n.trim_end_matches('/'))
        .filter(|n| {
            !n.is_empty()
                && n.chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        });
    let Some(name) = name else {
        return Ok(FunctionResult {
            label: logical_id.to_string(),
            problems: vec![format!("CodeUri '{code_uri}' is not functions/<name>")],
            notes,
            adapters_only: false,
        });
    };
    let crate_dir = ctx.root.join("functions").join(name);
    let (_package, sdk) = ctx.cargo.sdk_crates(&crate_dir)?;
    let files: Vec<SourceFile> = source::load_crate_sources(ctx.root, &crate_dir, &sdk)?;
    let scan = source::scan_crate(&files, &sdk, false)?;
    let mut calls = scan.calls.clone();
    for (o, (module, owner)) in &ctx.shared_names {
        if let Some(at) = source::uses_shared(&files, module, o) {
            for c in ctx
                .shared_calls
                .iter()
                .filter(|c| c.owner.as_ref() == Some(owner))
            {
                calls.push(Call {
                    how: format!("groundcrew::{module}::{o} (used at {at})"),
                    owner: None,
                    ..c.clone()
                });
            }
        }
    }

    // The adapter rule: SDK clients and calls only in src/aws.rs and src/aws/**.
    let mut outside: Vec<String> = scan
        .clients_outside_adapters
        .iter()
        .map(|c| {
            format!(
                "{}:{} names aws_sdk_{}::Client outside the adapters (src/aws.rs, src/aws/)",
                c.file, c.line, c.svc
            )
        })
        .collect();
    outside.extend(scan.calls.iter().filter(|c| !c.in_adapter).map(|c| {
        format!(
            "{}:{} calls {} {} outside the adapters (src/aws.rs, src/aws/)",
            c.file, c.line, c.svc, c.op
        )
    }));
    let adapters_only = outside.is_empty();
    if rules::ADAPTER_RULE_IS_ERROR {
        problems.extend(outside);
    } else {
        notes.extend(outside.into_iter().map(|o| format!("warning: {o}")));
    }

    // IAM action names are case-insensitive: compare lower-cased, show as written.
    let mut called: Actions<&Call> = Actions::new();
    let mut shown: BTreeMap<String, String> = BTreeMap::new();
    for c in &calls {
        for action in to_actions(&c.svc, &c.op) {
            let key = action.to_ascii_lowercase();
            called.push(key.clone(), c);
            shown.entry(key).or_insert(action);
        }
    }
    for key in &called.keys {
        if ctx.iam.action(&shown[key]).is_none() {
            let c = called.values[key][0];
            problems.push(format!(
                "{} {} ({}:{}) maps to {}, which is not an IAM action: add it to ACTION_EXCEPTIONS",
                c.svc, c.op, c.file, c.line, shown[key]
            ));
        }
    }

    let statements = policy_statements(props, &mut problems);
    let mut granted: Actions<String> = Actions::new();
    let star_ok: HashSet<String> = rules::STAR_OK
        .iter()
        .map(|(a, _)| a.to_ascii_lowercase())
        .collect();
    for st in &statements {
        for a in &st.actions {
            if ctx.iam.action(a).is_none() {
                problems.push(format!("statement {}: {a} is not an IAM action", st.sid));
            }
        }
        if st.effect != "Allow" {
            if verbose {
                notes.push(format!(
                    "{} statement {}: {}",
                    st.effect,
                    st.sid,
                    st.actions.join(", ")
                ));
            }
            continue;
        }
        for a in &st.actions {
            let key = a.to_ascii_lowercase();
            granted.push(key.clone(), st.sid.clone());
            shown.entry(key.clone()).or_insert(a.clone());
            if st.star && !star_ok.contains(&key) {
                problems.push(format!(
                    "statement {}: {a} on Resource \"*\" (it supports resource-level \
                     permissions; scope it, or add it to STAR_OK with the reason)",
                    st.sid
                ));
            }
        }
    }

    for (key, sids) in &granted.values {
        if !called.contains(key) {
            problems.push(format!(
                "statement {} grants {}, which the code never calls",
                sids.join("/"),
                shown[key]
            ));
        }
    }
    let allow: BTreeMap<String, (&str, &str)> = rules::NOT_GRANTED_OK
        .iter()
        .filter(|(f, _, _)| *f == name)
        .map(|(_, a, why)| (a.to_ascii_lowercase(), (*a, *why)))
        .collect();
    for (key, cs) in &called.values {
        if granted.contains(key) {
            continue;
        }
        if let Some((_, why)) = allow.get(key) {
            notes.push(format!(
                "{} called, not granted (allowed: {why})",
                shown[key]
            ));
            continue;
        }
        let c = cs[0];
        problems.push(format!(
            "the code calls {} ({}:{}) but no statement grants it",
            shown[key], c.file, c.line
        ));
    }
    for (key, (a, _)) in &allow {
        if !called.contains(key) || granted.contains(key) {
            let now = if granted.contains(key) {
                "granted"
            } else {
                "never called"
            };
            problems.push(format!(
                "NOT_GRANTED_OK lists {a}, which is now {now}: remove the entry"
            ));
        }
    }

    if verbose {
        for (key, cs) in &called.values {
            for c in cs {
                notes.push(format!(
                    "call {}: {}:{} via {}",
                    shown[key], c.file, c.line, c.how
                ));
            }
        }
        for i in &scan.ignored {
            notes.push(format!(
                "ignored .{}() at {}:{}: {}",
                i.method, i.file, i.line, i.why
            ));
        }
    }
    let label = format!(
        "{name} ({logical_id}; {} granted, {} called)",
        granted.values.len(),
        called.values.len()
    );
    Ok(FunctionResult {
        label,
        problems,
        notes,
        adapters_only,
    })
}
