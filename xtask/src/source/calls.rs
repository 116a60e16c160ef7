//! The SDK calls of a crate: the walk's candidates resolved into calls, ignored
//! matches and clients named outside the adapters.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

use syn::visit::Visit;

use super::walk::{Receiver, StructCollector, Ufcs, Walker};
use super::{Pos, SourceFile};
use crate::sdk::SdkCrate;
use crate::CheckError;

/// An SDK call found in the source.
#[derive(Debug, Clone)]
pub struct Call {
    pub svc: String,
    /// The operation, PascalCase.
    pub op: String,
    pub file: String,
    pub line: usize,
    /// How the receiver was recognised, for `-v`.
    pub how: String,
    /// In the shared crate: the type (or free function) making the call.
    pub owner: Option<String>,
    /// Whether the call is in the crate's adapters.
    pub in_adapter: bool,
}

/// A same-named method that was not taken for an SDK call, for `-v`.
#[derive(Debug, Clone)]
pub struct Ignored {
    pub method: String,
    pub file: String,
    pub line: usize,
    pub why: String,
}

/// An SDK client named outside the adapters.
#[derive(Debug, Clone)]
pub struct ClientNamed {
    pub file: String,
    pub line: usize,
    pub svc: String,
}

#[derive(Default)]
pub struct Scan {
    pub calls: Vec<Call>,
    pub ignored: Vec<Ignored>,
    pub clients_outside_adapters: Vec<ClientNamed>,
}

/// The SDK calls of a crate's non-test source. `methods`: fluent method -> {service:
/// operation} over the crate's SDKs. An untyped call that several SDKs could make fails.
pub fn scan_crate(
    files: &[SourceFile],
    sdk: &BTreeMap<String, Rc<SdkCrate>>,
    is_shared: bool,
) -> Result<Scan, CheckError> {
    let mut methods: HashMap<String, BTreeMap<String, String>> = HashMap::new();
    for crate_ in sdk.values() {
        for (method, pascal) in &crate_.ops {
            methods
                .entry(method.clone())
                .or_default()
                .insert(crate_.svc.clone(), pascal.clone());
        }
    }
    let mut structs = StructCollector::default();
    for (n, f) in files.iter().enumerate() {
        structs.file = n;
        structs.visit_file(&f.ast);
    }
    let structs = structs.structs;
    let mut scan = Scan::default();
    if methods.is_empty() {
        return Ok(scan);
    }
    for file in files {
        let mut w = Walker {
            file,
            files,
            structs: &structs,
            methods: &methods,
            impls: Vec::new(),
            fns: Vec::new(),
            bindings: Vec::new(),
            scope: 0,
            candidates: Vec::new(),
            ufcs: Vec::new(),
            sent: HashSet::new(),
            name_sends: Vec::new(),
            current_let: None,
            clients_named: Vec::new(),
        };
        w.visit_file(&file.ast);
        let owner = |o: &Option<String>| if is_shared { o.clone() } else { None };
        let mut found: Vec<(Pos, Call)> = Vec::new();
        for c in &w.candidates {
            let line = c.at.0;
            let ignore = |why: String| Ignored {
                method: c.method.clone(),
                file: file.rel.clone(),
                line,
                why,
            };
            let ops = &methods[&c.method];
            match &c.receiver {
                Receiver::Known {
                    svc: Some(svc),
                    how,
                } => {
                    let op = ops.get(svc).ok_or_else(|| {
                        CheckError::new(format!(
                            "{}:{line}: {how} is an aws-sdk-{svc} client, which has no operation {}",
                            file.rel, c.method
                        ))
                    })?;
                    found.push((
                        c.at,
                        Call {
                            svc: svc.clone(),
                            op: op.clone(),
                            file: file.rel.clone(),
                            line,
                            how: format!("{how}: aws_sdk_{svc}::Client"),
                            owner: owner(&c.owner),
                            in_adapter: file.adapter,
                        },
                    ));
                }
                Receiver::Known { svc: None, how } => {
                    scan.ignored
                        .push(ignore(format!("{how} is not an SDK client")));
                }
                Receiver::Unknown => {
                    let sent = w.sent.contains(&c.at)
                        || c.let_bound.as_ref().is_some_and(|(name, end)| {
                            w.name_sends
                                .iter()
                                .any(|(s, n, at)| *s == c.scope && n == name && at > end)
                        });
                    if !sent {
                        scan.ignored.push(ignore(
                            "receiver not typed and never sent: not an SDK call".into(),
                        ));
                        continue;
                    }
                    if ops.len() != 1 {
                        let svcs: Vec<&str> = ops.keys().map(String::as_str).collect();
                        return Err(CheckError::new(format!(
                            "{}:{line}: .{}() is sent but its client is not typed, and {} all \
                             have it: hold the client in a field or variable of type \
                             aws_sdk_<svc>::Client",
                            file.rel,
                            c.method,
                            svcs.join(", ")
                        )));
                    }
                    let (svc, op) = ops
                        .iter()
                        .next()
                        .map(|(s, o)| (s.clone(), o.clone()))
                        .unwrap_or_default();
                    found.push((
                        c.at,
                        Call {
                            svc,
                            op,
                            file: file.rel.clone(),
                            line,
                            how: "sent; untyped receiver, only SDK with this operation".into(),
                            owner: owner(&c.owner),
                            in_adapter: file.adapter,
                        },
                    ));
                }
            }
        }
        found.sort_by_key(|(at, _)| *at);
        scan.calls.extend(found.into_iter().map(|(_, c)| c));
        let mut ufcs: Vec<&Ufcs> = w.ufcs.iter().collect();
        ufcs.sort_by_key(|u| u.at);
        for u in ufcs {
            scan.calls.push(Call {
                svc: u.svc.clone(),
                op: methods[&u.method][&u.svc].clone(),
                file: file.rel.clone(),
                line: u.at.0,
                how: u.how.clone(),
                owner: owner(&u.owner),
                in_adapter: file.adapter,
            });
        }
        if !file.adapter {
            let mut seen = HashSet::new();
            for (line, svc) in w.clients_named {
                if seen.insert((line, svc.clone())) {
                    scan.clients_outside_adapters.push(ClientNamed {
                        file: file.rel.clone(),
                        line,
                        svc,
                    });
                }
            }
        }
    }
    Ok(scan)
}
