//! The code side: a crate's non-test source, parsed with `syn`, and the AWS SDK calls in
//! it (see the crate documentation for what counts as a call).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use syn::visit::Visit;

use crate::sdk::SdkCrate;
use crate::CheckError;

mod calls;
mod shared;
mod walk;

pub use calls::{scan_crate, Call, ClientNamed, Ignored, Scan};
pub use shared::{shared_owner_names, uses_shared};

type Pos = (usize, usize);

fn pos(span: proc_macro2::Span) -> Pos {
    let at = span.start();
    (at.line, at.column)
}

/// One non-test source file of a crate.
pub struct SourceFile {
    /// Relative to the repository root, for messages.
    pub rel: String,
    /// The module path in its crate (`secrets`, `aws::sqs`; "" for lib.rs / main.rs).
    pub module: String,
    /// `src/aws.rs` or under `src/aws/`: where a crate's SDK clients belong.
    pub adapter: bool,
    ast: syn::File,
    /// Identifier -> SDK service: `aws_sdk_x` itself and `use aws_sdk_x as y`.
    crate_alias: HashMap<String, String>,
    /// `Client` (or its `as` name) imported from `aws_sdk_x` -> service.
    client_alias: HashMap<String, String>,
}

/// Whether an item's attributes put it under `cfg(test)` or `cfg(any(.., test, ..))`.
fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        if !a.path().is_ident("cfg") {
            return false;
        }
        let Ok(list) = a.meta.require_list() else {
            return false;
        };
        let tokens: Vec<String> = list
            .tokens
            .clone()
            .into_iter()
            .map(|t| t.to_string())
            .collect();
        match tokens.as_slice() {
            [one] => one == "test",
            [any, group] if any == "any" => group
                .trim_matches(|c| c == '(' || c == ')')
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|w| w == "test"),
            _ => false,
        }
    })
}

fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| {
        let nv = a.meta.require_name_value().ok()?;
        if !nv.path.is_ident("path") {
            return None;
        }
        match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        }
    })
}

/// The non-test source files of the crate in `crate_dir`, from `src/lib.rs`,
/// `src/main.rs` and `src/bin/*.rs` through their `mod` declarations; a module declared
/// under `cfg(test)` is not read.
pub fn load_crate_sources(
    root: &Path,
    crate_dir: &Path,
    sdk: &BTreeMap<String, Rc<SdkCrate>>,
) -> Result<Vec<SourceFile>, CheckError> {
    let src = crate_dir.join("src");
    let mut roots = vec![src.join("lib.rs"), src.join("main.rs")];
    if let Ok(entries) = std::fs::read_dir(src.join("bin")) {
        let mut bins: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        bins.sort();
        roots.extend(
            bins.into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "rs")),
        );
    }
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut queue: Vec<PathBuf> = roots.into_iter().filter(|p| p.is_file()).collect();
    let mut seen = HashSet::new();
    let mut files = Vec::new();
    while let Some(path) = queue.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| {
            // A `mod x;` whose file is missing: the crate does not compile either.
            let shown = path.strip_prefix(root).unwrap_or(&path).display();
            CheckError::new(format!(
                "cannot read {shown} ({e}): a module is declared whose file does not exist"
            ))
        })?;
        let ast = syn::parse_file(&text)
            .map_err(|e| CheckError::new(format!("{}: does not parse: {e}", path.display())))?;
        if is_test_only(&ast.attrs) {
            continue;
        }
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let parent = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let children_dir =
            if matches!(stem, "lib" | "main" | "mod") || path.starts_with(src.join("bin")) {
                parent.clone()
            } else {
                parent.join(stem)
            };
        declared_modules(&ast.items, &children_dir, &parent, &mut queue);
        paths.push(path.clone());
        files.push((path, ast));
    }
    let mut out = Vec::new();
    for (path, ast) in files {
        let rel_path = path.strip_prefix(&src).unwrap_or(&path);
        let module_path = if path.file_stem().is_some_and(|s| s == "mod") {
            rel_path.parent().unwrap_or(Path::new("")).to_path_buf()
        } else {
            rel_path.with_extension("")
        };
        let module = module_path
            .components()
            .filter_map(|c| c.as_os_str().to_str())
            .filter(|c| !matches!(*c, "lib" | "main"))
            .collect::<Vec<_>>()
            .join("::");
        let adapter = module == "aws" || module.starts_with("aws::");
        let mut file = SourceFile {
            rel: path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned(),
            module,
            adapter,
            ast,
            crate_alias: HashMap::new(),
            client_alias: HashMap::new(),
        };
        for (ident, crate_) in sdk {
            file.crate_alias.insert(ident.clone(), crate_.svc.clone());
        }
        let mut uses = UseCollector::default();
        uses.visit_file(&file.ast);
        for (root_ident, tree) in uses.uses {
            let Some(svc) = sdk.get(&root_ident).map(|c| c.svc.clone()) else {
                continue;
            };
            match tree {
                UseEnd::CrateRename(alias) => {
                    file.crate_alias.insert(alias, svc);
                }
                UseEnd::Client(alias) => {
                    file.client_alias.insert(alias, svc);
                }
            }
        }
        out.push(file);
    }
    // Sorted by path components, as the Python check listed them (`aws/x.rs` before `aws.rs`).
    out.sort_by_cached_key(|f| {
        Path::new(&f.rel)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
    });
    Ok(out)
}

fn declared_modules(items: &[syn::Item], dir: &Path, file_dir: &Path, queue: &mut Vec<PathBuf>) {
    for item in items {
        let syn::Item::Mod(m) = item else { continue };
        if is_test_only(&m.attrs) {
            continue;
        }
        let name = m.ident.to_string();
        match &m.content {
            Some((_, inner)) => declared_modules(inner, &dir.join(&name), file_dir, queue),
            None => {
                if let Some(p) = path_attr(&m.attrs) {
                    queue.push(file_dir.join(p));
                    continue;
                }
                let flat = dir.join(format!("{name}.rs"));
                let nested = dir.join(&name).join("mod.rs");
                queue.push(if flat.is_file() { flat } else { nested });
            }
        }
    }
}

enum UseEnd {
    /// `use aws_sdk_x as y;`
    CrateRename(String),
    /// `use aws_sdk_x::...::Client [as Y];`
    Client(String),
}

/// Every non-test `use` whose first segment may be an SDK crate.
#[derive(Default)]
struct UseCollector {
    uses: Vec<(String, UseEnd)>,
}

impl UseCollector {
    fn walk(&mut self, root: &str, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => self.walk(root, &p.tree),
            syn::UseTree::Group(g) => g.items.iter().for_each(|t| self.walk(root, t)),
            syn::UseTree::Name(n) if n.ident == "Client" => self
                .uses
                .push((root.to_string(), UseEnd::Client("Client".into()))),
            syn::UseTree::Rename(r) if r.ident == "Client" => self
                .uses
                .push((root.to_string(), UseEnd::Client(r.rename.to_string()))),
            _ => {}
        }
    }
}

impl<'ast> Visit<'ast> for UseCollector {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if !is_test_only(item_attrs(item)) {
            syn::visit::visit_item(self, item);
        }
    }
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        match &u.tree {
            syn::UseTree::Rename(r) => self.uses.push((
                r.ident.to_string(),
                UseEnd::CrateRename(r.rename.to_string()),
            )),
            syn::UseTree::Path(p) => {
                let root = p.ident.to_string();
                self.walk(&root, &p.tree);
            }
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    if let syn::UseTree::Path(p) = t {
                        let root = p.ident.to_string();
                        self.walk(&root, &p.tree);
                    }
                }
            }
            _ => {}
        }
    }
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::ExternCrate(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::ForeignMod(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Macro(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::TraitAlias(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        syn::Item::Union(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

fn impl_item_attrs(item: &syn::ImplItem) -> &[syn::Attribute] {
    match item {
        syn::ImplItem::Const(i) => &i.attrs,
        syn::ImplItem::Fn(i) => &i.attrs,
        syn::ImplItem::Type(i) => &i.attrs,
        syn::ImplItem::Macro(i) => &i.attrs,
        _ => &[],
    }
}

fn trait_item_attrs(item: &syn::TraitItem) -> &[syn::Attribute] {
    match item {
        syn::TraitItem::Const(i) => &i.attrs,
        syn::TraitItem::Fn(i) => &i.attrs,
        syn::TraitItem::Type(i) => &i.attrs,
        syn::TraitItem::Macro(i) => &i.attrs,
        _ => &[],
    }
}

impl SourceFile {
    /// The SDK service of a type naming `aws_sdk_x::Client`, `alias::Client` or an
    /// imported `Client` (also inside `&`, `Arc<..>`, `Option<..>`); `None` otherwise.
    pub fn client_service(&self, ty: &syn::Type) -> Option<String> {
        let mut finder = ClientFinder {
            file: self,
            found: None,
        };
        finder.visit_type(ty);
        finder.found
    }

    /// The service when `path` names an SDK client type.
    fn path_client(&self, path: &syn::Path) -> Option<String> {
        let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.segments_client(&segs, path.leading_colon.is_some())
    }

    fn segments_client(&self, segs: &[String], leading_colon: bool) -> Option<String> {
        for (i, seg) in segs.iter().enumerate() {
            if seg == "Client" && i > 0 {
                if let Some(svc) = self.crate_alias.get(&segs[i - 1]) {
                    return Some(svc.clone());
                }
            }
        }
        if !leading_colon {
            if let Some(svc) = segs.first().and_then(|s| self.client_alias.get(s)) {
                return Some(svc.clone());
            }
        }
        None
    }
}

struct ClientFinder<'f> {
    file: &'f SourceFile,
    found: Option<String>,
}

impl<'ast> Visit<'ast> for ClientFinder<'_> {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        if self.found.is_none() {
            self.found = self.file.path_client(path);
        }
        if self.found.is_none() {
            syn::visit::visit_path(self, path);
        }
    }
}

/// A type's path as text (`aws_sdk_s3::Client`, `SdkPipeline`), for messages.
fn type_text(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(p) => p
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect::<Vec<_>>()
            .join("::"),
        syn::Type::Reference(r) => type_text(&r.elem),
        syn::Type::Paren(p) => type_text(&p.elem),
        _ => "?".into(),
    }
}

fn last_segment(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        syn::Type::Reference(r) => last_segment(&r.elem),
        syn::Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}
