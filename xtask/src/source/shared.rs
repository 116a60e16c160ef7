//! The shared crate's calls charged to the functions: which types make them and where
//! a function names one.

use std::collections::{BTreeMap, HashSet};

use syn::visit::Visit;

use super::{impl_item_attrs, is_test_only, item_attrs, pos, SourceFile};

/// Where the shared crate's call owners are defined: {name a function may use: (module,
/// owner)}, with the `pub type` aliases of an owner.
pub fn shared_owner_names(
    files: &[SourceFile],
    owners: &HashSet<String>,
) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for f in files {
        for item in &f.ast.items {
            if is_test_only(item_attrs(item)) {
                continue;
            }
            let defined = match item {
                syn::Item::Struct(s) => Some(s.ident.to_string()),
                syn::Item::Enum(e) => Some(e.ident.to_string()),
                syn::Item::Fn(f) => Some(f.sig.ident.to_string()),
                _ => None,
            };
            if let Some(name) = defined.filter(|n| owners.contains(n)) {
                out.insert(name.clone(), (f.module.clone(), name));
            }
            if let syn::Item::Type(t) = item {
                if matches!(t.vis, syn::Visibility::Public(_)) {
                    let mut names = NameCollector::default();
                    names.visit_type(&t.ty);
                    for o in owners {
                        if names.0.contains(o) {
                            out.insert(t.ident.to_string(), (f.module.clone(), o.clone()));
                        }
                    }
                }
            }
        }
    }
    out
}

#[derive(Default)]
struct NameCollector(HashSet<String>);

impl<'ast> Visit<'ast> for NameCollector {
    fn visit_ident(&mut self, i: &'ast proc_macro2::Ident) {
        self.0.insert(i.to_string());
    }
}

/// Where a function's non-test source names `name` of `groundcrew::<module>`: a path
/// `groundcrew::<module>::<name>`, a `use` of it (or of the module's `*`), or a `use` of
/// the module followed by `<module>::<name>`.
pub fn uses_shared(files: &[SourceFile], module: &str, name: &str) -> Option<String> {
    let mut want: Vec<String> = vec!["groundcrew".into()];
    want.extend(
        module
            .split("::")
            .filter(|s| !s.is_empty())
            .map(String::from),
    );
    for f in files {
        let mut paths = PathCollector::default();
        paths.visit_file(&f.ast);
        let mut module_imported = false;
        for (segs, line, is_use) in &paths.paths {
            let under_module = segs.len() == want.len() + 1 && segs[..want.len()] == want[..];
            if under_module && (segs[want.len()] == name || (*is_use && segs[want.len()] == "*")) {
                return Some(format!("{}:{line}", f.rel));
            }
            if *is_use && *segs == want {
                module_imported = true;
            }
        }
        if module_imported {
            let last = want.last().cloned().unwrap_or_default();
            for (segs, line, _) in &paths.paths {
                if segs.len() >= 2 && segs[0] == last && segs[1] == name {
                    return Some(format!("{}:{line}", f.rel));
                }
            }
        }
    }
    None
}

/// Every path of a file's non-test code as segments, with its line and whether it comes
/// from a `use` (groups expanded: `use a::{b, c}` gives `a::b` and `a::c`).
#[derive(Default)]
struct PathCollector {
    paths: Vec<(Vec<String>, usize, bool)>,
}

impl PathCollector {
    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree, line: usize) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree, line);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut segs = prefix.clone();
                if n.ident != "self" {
                    segs.push(n.ident.to_string());
                }
                self.paths.push((segs, line, true));
            }
            syn::UseTree::Rename(r) => {
                let mut segs = prefix.clone();
                if r.ident != "self" {
                    segs.push(r.ident.to_string());
                }
                self.paths.push((segs, line, true));
            }
            syn::UseTree::Glob(_) => {
                let mut segs = prefix.clone();
                segs.push("*".into());
                self.paths.push((segs, line, true));
            }
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t, line);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for PathCollector {
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
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let line = pos(u.use_token.span).0;
        self.use_tree(&mut Vec::new(), &u.tree, line);
    }
    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segs = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let line = path
            .segments
            .first()
            .map(|s| pos(s.ident.span()).0)
            .unwrap_or(0);
        self.paths.push((segs, line, false));
        syn::visit::visit_path(self, path);
    }
}
