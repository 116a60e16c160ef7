//! The walk over one file's syntax tree: candidate calls with what their receiver is,
//! the chains that are sent, and the SDK client types named.

use std::collections::{BTreeMap, HashMap, HashSet};

use syn::visit::Visit;

use super::{
    impl_item_attrs, is_test_only, item_attrs, last_segment, pos, trait_item_attrs, type_text, Pos,
    SourceFile,
};

/// A struct's fields (by name, or by index for tuple structs) and the file it is in.
pub(super) struct StructDef<'ast> {
    pub(super) file: usize,
    pub(super) fields: HashMap<String, &'ast syn::Type>,
}

#[derive(Default)]
pub(super) struct StructCollector<'ast> {
    pub(super) file: usize,
    pub(super) structs: HashMap<String, Vec<StructDef<'ast>>>,
}

impl<'ast> Visit<'ast> for StructCollector<'ast> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if !is_test_only(item_attrs(item)) {
            syn::visit::visit_item(self, item);
        }
    }
    fn visit_item_struct(&mut self, s: &'ast syn::ItemStruct) {
        let fields = s
            .fields
            .iter()
            .enumerate()
            .map(|(n, f)| {
                let name = f
                    .ident
                    .as_ref()
                    .map(|i| i.to_string())
                    .unwrap_or(n.to_string());
                (name, &f.ty)
            })
            .collect();
        self.structs
            .entry(s.ident.to_string())
            .or_default()
            .push(StructDef {
                file: self.file,
                fields,
            });
    }
}

/// The methods that only SDK fluent builders have, ending a call chain.
pub(super) const SENDS: &[&str] = &["send", "into_paginator", "customize"];

/// How a candidate call's receiver was classified while walking.
pub(super) enum Receiver {
    /// Typed: the service (or not a client at all).
    Known { svc: Option<String>, how: String },
    /// Not typed: counted only if the chain is sent.
    Unknown,
}

pub(super) struct Candidate {
    pub(super) method: String,
    pub(super) at: Pos,
    pub(super) receiver: Receiver,
    pub(super) owner: Option<String>,
    pub(super) scope: usize,
    /// `let <name> = ..<call>..;`: the binding and where the statement ends.
    pub(super) let_bound: Option<(String, Pos)>,
}

pub(super) struct Ufcs {
    pub(super) svc: String,
    pub(super) method: String,
    pub(super) at: Pos,
    pub(super) how: String,
    pub(super) owner: Option<String>,
}

pub(super) struct Walker<'a> {
    pub(super) file: &'a SourceFile,
    pub(super) files: &'a [SourceFile],
    pub(super) structs: &'a HashMap<String, Vec<StructDef<'a>>>,
    pub(super) methods: &'a HashMap<String, BTreeMap<String, String>>,
    /// The enclosing impls' self types: (last segment, client service, text).
    pub(super) impls: Vec<ImplInfo>,
    pub(super) fns: Vec<String>,
    /// Typed local names of the current outermost fn: (name, service or None).
    pub(super) bindings: Vec<(String, Option<String>)>,
    pub(super) scope: usize,
    pub(super) candidates: Vec<Candidate>,
    pub(super) ufcs: Vec<Ufcs>,
    /// Method calls in the receiver chain of a `.send()`.
    pub(super) sent: HashSet<Pos>,
    /// (scope, name, where) of `name.send()`.
    pub(super) name_sends: Vec<(usize, String, Pos)>,
    pub(super) current_let: Option<(String, Pos)>,
    pub(super) clients_named: Vec<(usize, String)>,
}

pub(super) struct ImplInfo {
    pub(super) last: Option<String>,
    pub(super) svc: Option<String>,
    pub(super) text: String,
}

impl<'a> Walker<'a> {
    fn owner(&self) -> Option<String> {
        match self.impls.last() {
            Some(i) => i.last.clone(),
            None => self.fns.last().cloned(),
        }
    }

    fn field_service(&self, field: &str) -> Option<Option<String>> {
        let mut candidates: Vec<&StructDef> = Vec::new();
        if let Some(ty) = self.impls.last().and_then(|i| i.last.clone()) {
            candidates = self
                .structs
                .get(&ty)
                .map(|defs| {
                    defs.iter()
                        .filter(|d| d.fields.contains_key(field))
                        .collect()
                })
                .unwrap_or_default();
        }
        if candidates.is_empty() {
            candidates = self
                .structs
                .values()
                .flatten()
                .filter(|d| d.fields.contains_key(field))
                .collect();
        }
        let svcs: HashSet<Option<String>> = candidates
            .iter()
            .map(|d| self.files[d.file].client_service(d.fields[field]))
            .collect();
        (svcs.len() == 1).then(|| svcs.into_iter().next().flatten())
    }

    fn classify(&self, receiver: &syn::Expr) -> Receiver {
        match receiver {
            syn::Expr::Field(f) if is_self(&f.base) => {
                let name = match &f.member {
                    syn::Member::Named(i) => i.to_string(),
                    syn::Member::Unnamed(i) => i.index.to_string(),
                };
                match self.field_service(&name) {
                    Some(svc) => Receiver::Known {
                        svc,
                        how: format!("self.{name}"),
                    },
                    None => Receiver::Unknown,
                }
            }
            e if is_self(e) => match self.impls.last() {
                Some(i) => Receiver::Known {
                    svc: i.svc.clone(),
                    how: format!("self ({})", i.text),
                },
                None => Receiver::Unknown,
            },
            syn::Expr::Path(p) if p.path.segments.len() == 1 && p.qself.is_none() => {
                let name = p.path.segments[0].ident.to_string();
                match self.bindings.iter().rev().find(|(n, _)| *n == name) {
                    Some((_, svc)) => Receiver::Known {
                        svc: svc.clone(),
                        how: name,
                    },
                    None => Receiver::Unknown,
                }
            }
            _ => Receiver::Unknown,
        }
    }

    fn bind_pat(&mut self, pat: &syn::Pat, ty: Option<&syn::Type>) {
        let (pat, ty) = match pat {
            syn::Pat::Type(t) => (&*t.pat, Some(&*t.ty)),
            other => (other, ty),
        };
        if let (syn::Pat::Ident(i), Some(ty)) = (pat, ty) {
            let svc = self.file.client_service(ty);
            self.bindings.push((i.ident.to_string(), svc));
        }
    }

    fn enter_fn(
        &mut self,
        name: String,
        inputs: &syn::punctuated::Punctuated<syn::FnArg, syn::Token![,]>,
    ) {
        self.fns.push(name);
        if self.fns.len() == 1 {
            self.scope += 1;
            self.bindings.clear();
        }
        for input in inputs {
            if let syn::FnArg::Typed(t) = input {
                self.bind_pat(&t.pat, Some(&t.ty));
            }
        }
    }
}

pub(super) fn is_self(e: &syn::Expr) -> bool {
    matches!(e, syn::Expr::Path(p) if p.path.is_ident("self"))
}

/// Marks the method calls of a chain (`a.b().c().await?.d()`), down from its top.
pub(super) fn chain_calls(mut e: &syn::Expr, out: &mut Vec<Pos>) {
    loop {
        e = match e {
            syn::Expr::MethodCall(m) => {
                out.push(pos(m.method.span()));
                &m.receiver
            }
            syn::Expr::Await(a) => &a.base,
            syn::Expr::Try(t) => &t.expr,
            syn::Expr::Paren(p) => &p.expr,
            syn::Expr::Field(f) => &f.base,
            syn::Expr::Reference(r) => &r.expr,
            _ => return,
        };
    }
}

impl<'ast> Visit<'ast> for Walker<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if !is_test_only(item_attrs(item)) {
            syn::visit::visit_item(self, item);
        }
    }
    fn visit_impl_item(&mut self, item: &'ast syn::ImplItem) {
        if !is_test_only(impl_item_attrs(item)) {
            syn::visit::visit_impl_item(self, item);
        }
    }
    fn visit_trait_item(&mut self, item: &'ast syn::TraitItem) {
        if !is_test_only(trait_item_attrs(item)) {
            syn::visit::visit_trait_item(self, item);
        }
    }
    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        self.impls.push(ImplInfo {
            last: last_segment(&i.self_ty),
            svc: self.file.client_service(&i.self_ty),
            text: type_text(&i.self_ty),
        });
        syn::visit::visit_item_impl(self, i);
        self.impls.pop();
    }
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.enter_fn(f.sig.ident.to_string(), &f.sig.inputs);
        syn::visit::visit_item_fn(self, f);
        self.fns.pop();
    }
    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.enter_fn(f.sig.ident.to_string(), &f.sig.inputs);
        syn::visit::visit_impl_item_fn(self, f);
        self.fns.pop();
    }
    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        self.enter_fn(f.sig.ident.to_string(), &f.sig.inputs);
        syn::visit::visit_trait_item_fn(self, f);
        self.fns.pop();
    }
    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        for input in &c.inputs {
            self.bind_pat(input, None);
        }
        syn::visit::visit_expr_closure(self, c);
    }
    fn visit_local(&mut self, local: &'ast syn::Local) {
        let (pat, ty) = match &local.pat {
            syn::Pat::Type(t) => (&*t.pat, Some(&*t.ty)),
            other => (other, None),
        };
        let name = match pat {
            syn::Pat::Ident(i) => Some(i.ident.to_string()),
            _ => None,
        };
        let end = pos(local.semi_token.span);
        let outer = self.current_let.take();
        if let (Some(name), Some(init)) = (&name, &local.init) {
            self.current_let = Some((name.clone(), end));
            let mut chain = Vec::new();
            chain_calls(&init.expr, &mut chain);
            self.visit_expr(&init.expr);
            // Only the calls of the init's own chain are bound to the name.
            for c in self.candidates.iter_mut().rev() {
                if c.let_bound
                    .as_ref()
                    .is_some_and(|(n, e)| n == name && *e == end)
                    && !chain.contains(&c.at)
                {
                    c.let_bound = None;
                }
            }
            if let Some((_, diverge)) = &init.diverge {
                self.visit_expr(diverge);
            }
        } else if let Some(init) = &local.init {
            self.visit_local_init(init);
        }
        self.current_let = outer;
        // A binding counts once typed: `let x: aws_sdk_s3::Client = ..` or
        // `let x = aws_sdk_s3::Client::new(..)` / `::from_conf(..)`.
        if let (Some(name), Some(ty)) = (&name, ty) {
            self.bindings
                .push((name.clone(), self.file.client_service(ty)));
        } else if let (Some(name), Some(init)) = (&name, &local.init) {
            if let syn::Expr::Call(call) = &*init.expr {
                if let syn::Expr::Path(p) = &*call.func {
                    let segs = &p.path.segments;
                    let ctor = segs
                        .last()
                        .is_some_and(|s| s.ident == "new" || s.ident == "from_conf");
                    let client = segs.len() >= 2 && segs[segs.len() - 2].ident == "Client";
                    if ctor && client {
                        let names: Vec<String> = segs.iter().map(|s| s.ident.to_string()).collect();
                        let svc = self.file.segments_client(
                            &names[..names.len() - 1],
                            p.path.leading_colon.is_some(),
                        );
                        self.bindings.push((name.clone(), svc));
                    }
                }
            }
        }
    }
    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        let method = m.method.to_string();
        if SENDS.contains(&method.as_str()) && m.args.is_empty() {
            let mut chain = Vec::new();
            chain_calls(&m.receiver, &mut chain);
            self.sent.extend(chain);
            if let syn::Expr::Path(p) = &*m.receiver {
                if let Some(ident) = p.path.get_ident() {
                    self.name_sends
                        .push((self.scope, ident.to_string(), pos(m.method.span())));
                }
            }
        }
        if m.args.is_empty() && m.turbofish.is_none() && self.methods.contains_key(&method) {
            let receiver = self.classify(&m.receiver);
            self.candidates.push(Candidate {
                method,
                at: pos(m.method.span()),
                receiver,
                owner: self.owner(),
                scope: self.scope,
                let_bound: self.current_let.clone(),
            });
        }
        syn::visit::visit_expr_method_call(self, m);
    }
    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let syn::Expr::Path(p) = &*c.func {
            let segs: Vec<String> = p
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            if segs.len() >= 2 {
                let method = &segs[segs.len() - 1];
                let ty = &segs[segs.len() - 2];
                if (ty == "Client" || self.file.client_alias.contains_key(ty))
                    && self.methods.contains_key(method)
                {
                    if let Some(svc) = self
                        .file
                        .segments_client(&segs[..segs.len() - 1], p.path.leading_colon.is_some())
                    {
                        if self.methods[method].contains_key(&svc) {
                            let prefix = if ty == "Client" && segs.len() >= 3 {
                                segs[segs.len() - 3].clone()
                            } else {
                                ty.clone()
                            };
                            self.ufcs.push(Ufcs {
                                svc,
                                method: method.clone(),
                                at: pos(p.path.segments[segs.len() - 1].ident.span()),
                                how: format!("{prefix}::Client::{method}"),
                                owner: self.owner(),
                            });
                        }
                    }
                }
            }
        }
        syn::visit::visit_expr_call(self, c);
    }
    fn visit_path(&mut self, path: &'ast syn::Path) {
        if let Some(svc) = self.file.path_client(path) {
            let line = path
                .segments
                .first()
                .map(|s| pos(s.ident.span()).0)
                .unwrap_or(0);
            self.clients_named.push((line, svc));
        }
        syn::visit::visit_path(self, path);
    }
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        // `join!(a, b)`, `vec![..]`, `format!(..)`: a list of expressions is walked too.
        use syn::parse::Parser;
        let parser = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
        if let Ok(exprs) = parser.parse2(mac.tokens.clone()) {
            for e in &exprs {
                self.visit_expr(e);
            }
        }
    }
}
