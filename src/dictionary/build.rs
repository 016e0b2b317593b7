//! Second pass of the loader: declarations → [`Schema`]. Removes empty
//! families, numbers nodes in definition order, infers types and multi (copying
//! them from `variable` calculations), interprets every attribute, binds the
//! paths of calculations to nodes, propagates modes, detects cycles between
//! calculations, and compiles every jinja expression once. Pure; collects every
//! problem as a diagnostic.

use std::rc::Rc;
use std::sync::Arc;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use crate::diagnostic::{Diagnostic, Span};
use crate::dictionary::Files;
use crate::dictionary::collect::{Attr, Collected, Decl, DeclKind, calculation_type};
use crate::dictionary::schema::{
    Calc, CalcKind, Choices, Condition, Default, Dynamic, ExprId, Family, FamilyKind, Item, Jinja,
    Mode, Node, NodeId, NodeKind, Param, Prop, PropertyError, Regexp, ReturnType, Role, Schema,
    SchemaData, Selector, Target, VarRef, Variable,
};
use crate::dictionary::types::{self, Check, Params, VarType};
use crate::dictionary::value::Value;
use crate::dictionary::yaml::{Mark, Yaml, YamlKind};
use crate::expr::{self, Engine, Expr, TranslateError, Translated};

impl Schema {
    pub(crate) fn with_warnings(self, warnings: Vec<Diagnostic>) -> Self {
        match Arc::try_unwrap(self.0) {
            Ok(mut data) => {
                data.warnings = warnings;
                Self(Arc::new(data))
            }
            Err(shared) => Self(shared),
        }
    }

    /// The engine that renders this schema's expressions.
    pub(crate) fn engine(&self) -> &Engine {
        &self.0.engine
    }
}

/// Multi-ness of a variable: scalar, list, or list per leader index of lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Multi {
    No,
    Yes,
    Sub,
}

#[derive(Debug, Clone)]
struct Info {
    decl: usize,
    parent: Option<NodeId>,
    children: Vec<NodeId>,
    is_family: bool,
    dynamic: bool,
    leadership: bool,
    role: Role,
}

#[derive(Debug, Clone, Default)]
struct Draft {
    /// Explicit type name.
    type_name: Option<String>,
    multi: Option<bool>,
    /// Resolved during inference.
    ty: Option<String>,
    resolved_multi: Option<Multi>,
    /// `params` copied from a `variable` calculation source.
    copied_from: Option<NodeId>,
    in_progress: bool,
}

/// The parts of a declaration [`Builder::assemble`] keeps.
struct AssembledDecl {
    name: String,
    path: String,
    file: usize,
    mark: Mark,
    namespace_root: bool,
    leadership_type: bool,
}

struct Builder<'a> {
    files: &'a Files,
    decls: Vec<Decl>,
    alive: Vec<bool>,
    node_of: Vec<Option<NodeId>>,
    infos: Vec<Info>,
    by_path: HashMap<String, NodeId>,
    /// Parent pattern path ("" = root) → dynamic children (prefix, suffix, node).
    dyn_children: HashMap<String, Vec<(String, String, NodeId)>>,
    drafts: Vec<Draft>,
    diags: Vec<Diagnostic>,
    namespaces: Vec<Option<String>>,
    templates: Vec<(String, String)>,
    exprs: Vec<Expr>,
    /// Where each expression is written, and its template.
    expr_sites: Vec<(usize, Mark, usize)>,
    /// Template text → index in `templates`.
    template_index: HashMap<String, usize>,
    /// Jinja text → its translation (or why it has none).
    translations: HashMap<String, Result<Rc<Translated>, TranslateError>>,
    roots: Vec<NodeId>,
}

/// Modes while Rougail's propagation runs: `None` = no mode yet; `auto` = set
/// automatically (Rougail's `mode_auto`), so not "set in the structural file".
struct ModeState {
    mode: Vec<Option<Mode>>,
    auto: Vec<bool>,
}

impl ModeState {
    fn has_mode(&self, id: NodeId) -> bool {
        self.mode[id.index()].is_some() && !self.auto[id.index()]
    }

    fn set_auto(&mut self, id: NodeId, mode: Mode) {
        self.mode[id.index()] = Some(mode);
        self.auto[id.index()] = true;
    }
}

pub(crate) fn build(
    files: &Files,
    collected: Collected,
    namespaces: &[Option<String>],
    prior_errors: bool,
) -> Result<(Schema, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut b = Builder {
        files,
        alive: vec![true; collected.decls.len()],
        node_of: vec![None; collected.decls.len()],
        decls: collected.decls,
        infos: Vec::new(),
        by_path: HashMap::new(),
        dyn_children: HashMap::new(),
        drafts: Vec::new(),
        diags: Vec::new(),
        namespaces: namespaces.to_vec(),
        templates: Vec::new(),
        exprs: Vec::new(),
        expr_sites: Vec::new(),
        template_index: HashMap::new(),
        translations: HashMap::new(),
        roots: Vec::new(),
    };
    for root in &collected.roots {
        b.prune(*root);
    }
    for root in &collected.roots {
        if let Some(id) = b.number(*root, None) {
            b.roots.push(id);
        }
    }
    // The paths of the numbered nodes: the collector's index, kept (not rebuilt).
    let mut by_path = HashMap::with_capacity(b.infos.len());
    by_path.extend(
        collected
            .by_path
            .into_iter()
            .filter_map(|(path, decl)| b.node_of[decl].map(|id| (path, id))),
    );
    b.by_path = by_path;
    b.check_sequences();
    b.make_drafts();
    for i in 0..b.infos.len() {
        b.infer(node_id(i));
    }
    let mut nodes = Vec::with_capacity(b.infos.len());
    for i in 0..b.infos.len() {
        nodes.push(b.assemble(node_id(i)));
    }
    b.modes(&mut nodes);
    let order = b.evaluation_order(&nodes);
    let engine = if b.templates.is_empty() {
        Engine::empty()
    } else {
        match Engine::build(&b.templates) {
            Ok(engine) => engine,
            Err(errors) => {
                // Every expression of a faulty template, where it is written.
                for (index, message) in errors {
                    for &(file, mark, template) in &b.expr_sites {
                        if template == index {
                            b.diags.push(files.error(
                                file,
                                mark,
                                format!(
                                    "invalid jinja expression (after translation to tera): {message}"
                                ),
                            ));
                        }
                    }
                }
                Engine::empty()
            }
        }
    };
    let has_errors = b.diags.iter().any(Diagnostic::is_error);
    if has_errors {
        return Err(b.diags);
    }
    let _ = prior_errors;
    let schema = Schema(Arc::new(SchemaData {
        nodes,
        roots: std::mem::take(&mut b.roots),
        by_path: std::mem::take(&mut b.by_path),
        exprs: b.exprs,
        order,
        warnings: Vec::new(),
        has_namespace: b.namespaces.first().is_some_and(Option::is_some),
        engine,
        sources: files.all(),
    }));
    if b.decls.len() >= FREE_IN_BACKGROUND {
        free_in_background((b.decls, b.infos, b.drafts, b.dyn_children));
    }
    Ok((schema, b.diags))
}

/// Declarations from which freeing is left to another thread.
const FREE_IN_BACKGROUND: usize = 500;

/// The declarations and work lists of a large dictionary are hundreds of
/// thousands of small values: freeing them is left to a short-lived thread
/// so the caller goes on at once (done here if no thread can start).
fn free_in_background<T: Send + 'static>(leftovers: T) {
    let _ = std::thread::Builder::new()
        .name("brise-free".to_owned())
        .spawn(move || drop(leftovers));
}

fn node_id(i: usize) -> NodeId {
    NodeId(u32::try_from(i).unwrap_or(u32::MAX))
}

/// A static YAML scalar/list as a value (calculations are not values).
pub(crate) fn yaml_value(v: &Yaml) -> Option<Value> {
    Some(match &v.kind {
        YamlKind::Null => Value::Null,
        YamlKind::Bool(b) => Value::Bool(*b),
        YamlKind::Int(i) => Value::Int(*i),
        YamlKind::Float(f) => Value::Float(*f),
        YamlKind::Str(s) => Value::Str(s.clone()),
        YamlKind::Seq(items) => {
            Value::List(items.iter().map(yaml_value).collect::<Option<Vec<_>>>()?)
        }
        YamlKind::Map(_) => return None,
    })
}

fn is_calc(v: &Yaml) -> bool {
    crate::dictionary::collect::is_calculation_mapping(v)
}

fn calc_type(v: &Yaml) -> Option<String> {
    if let Some(t) = v.get("type").and_then(Yaml::as_str) {
        return Some(t.to_owned());
    }
    v.as_map().and_then(calculation_type).map(str::to_owned)
}

/// Rougail's `get_full_path` for relative paths (`_.x`, `__.x`).
fn full_path(written: &str, current: &str) -> String {
    let Some((relative, subpath)) = written.split_once('.') else {
        return written.to_owned();
    };
    let relative_len = relative.len();
    let path_len = current.matches('.').count();
    if path_len + 1 == relative_len {
        return subpath.to_owned();
    }
    let parts: Vec<&str> = current.rsplitn(relative_len + 1, '.').collect();
    let parent = if parts.len() > relative_len {
        parts[parts.len() - 1]
    } else {
        parts.last().copied().unwrap_or("")
    };
    format!("{parent}.{subpath}")
}

fn is_relative(path: &str) -> bool {
    let rest = path.trim_start_matches('_');
    rest.starts_with('.') && rest.len() < path.len()
}

fn common_prefix_segments(a: &str, b: &str) -> usize {
    a.split('.')
        .zip(b.split('.'))
        .take_while(|(x, y)| x == y)
        .count()
}

impl Builder<'_> {
    fn decl(&self, id: NodeId) -> &Decl {
        &self.decls[self.infos[id.index()].decl]
    }

    fn path(&self, id: NodeId) -> &str {
        &self.decl(id).path
    }

    fn error_at(&mut self, file: usize, mark: Mark, msg: impl Into<String>) {
        self.diags.push(self.files.error(file, mark, msg));
    }

    fn warn_at(&mut self, file: usize, mark: Mark, msg: impl Into<String>) {
        self.diags.push(self.files.warning(file, mark, msg));
    }

    fn error_node(&mut self, id: NodeId, msg: impl Into<String>) {
        let (file, mark) = (self.decl(id).file, self.decl(id).mark);
        self.error_at(file, mark, msg);
    }

    fn error_attr(&mut self, attr: &Attr, msg: impl Into<String>) {
        let mark = if attr.value.mark.line == 0 {
            attr.key_mark
        } else {
            attr.value.mark
        };
        self.error_at(attr.file, mark, msg);
    }

    fn span_of(&self, file: usize, mark: Mark) -> Span {
        self.files
            .span(file, mark)
            .unwrap_or_else(|| Span::new(Arc::new(std::path::PathBuf::new()), 1, 1))
    }

    /// Families without any child (after their own empty children are removed) disappear.
    fn prune(&mut self, decl: usize) -> bool {
        if self.decls[decl].kind == DeclKind::Variable {
            return true;
        }
        let children = self.decls[decl].children.clone();
        let mut any = false;
        for c in children {
            if self.prune(c) {
                any = true;
            }
        }
        if !any {
            self.alive[decl] = false;
        }
        any
    }

    fn number(&mut self, decl: usize, parent: Option<NodeId>) -> Option<NodeId> {
        if !self.alive[decl] {
            return None;
        }
        let id = node_id(self.infos.len());
        let d = &self.decls[decl];
        let is_family = d.kind == DeclKind::Family;
        let dynamic = is_family && d.user_type.as_deref() == Some("dynamic");
        let leadership =
            is_family && matches!(d.user_type.as_deref(), Some("leadership" | "sequence"));
        self.infos.push(Info {
            decl,
            parent,
            children: Vec::new(),
            is_family,
            dynamic,
            leadership,
            role: Role::Plain,
        });
        self.node_of[decl] = Some(id);
        if dynamic {
            let parent_path = parent.map_or(String::new(), |p| self.path(p).to_owned());
            let name = self.decls[decl].name.clone();
            if let Some((prefix, suffix)) = name.split_once("{{ identifier }}") {
                self.dyn_children.entry(parent_path).or_default().push((
                    prefix.to_owned(),
                    suffix.to_owned(),
                    id,
                ));
            }
        }
        let children = self.decls[decl].children.clone();
        let mut ids = Vec::new();
        for c in children {
            if let Some(cid) = self.number(c, Some(id)) {
                ids.push(cid);
            }
        }
        if leadership {
            if let Some(first) = ids.first().copied() {
                for (i, c) in ids.iter().enumerate() {
                    self.infos[c.index()].role = if i == 0 {
                        Role::Leader
                    } else {
                        Role::Follower(first)
                    };
                }
            }
        }
        self.infos[id.index()].children = ids;
        Some(id)
    }

    fn check_sequences(&mut self) {
        for i in 0..self.infos.len() {
            let id = node_id(i);
            if !self.infos[i].leadership {
                continue;
            }
            let children = self.infos[i].children.clone();
            for c in &children {
                if self.infos[c.index()].is_family {
                    let msg = format!(
                        "the sequence `{}` cannot contain the family `{}`",
                        self.path(id),
                        self.path(*c)
                    );
                    self.error_node(*c, msg);
                }
            }
            if children.len() < 2 {
                let msg = format!(
                    "the sequence `{}` needs a leader and at least one follower",
                    self.path(id)
                );
                self.error_node(id, msg);
            }
        }
    }

    fn attr(&self, id: NodeId, name: &str) -> Option<Attr> {
        self.decl(id).attr(name).cloned()
    }

    fn make_drafts(&mut self) {
        self.drafts = vec![Draft::default(); self.infos.len()];
        for i in 0..self.infos.len() {
            let id = node_id(i);
            if self.infos[i].is_family {
                continue;
            }
            let mut type_name = self
                .attr(id, "type")
                .and_then(|a| a.value.as_str().map(str::to_owned));
            if type_name.is_none() {
                if self.attr(id, "choices").is_some() {
                    type_name = Some("choice".to_owned());
                } else if self.attr(id, "regexp").is_some() {
                    type_name = Some("regexp".to_owned());
                }
            }
            if let Some(t) = &type_name {
                if VarType::from_name(t).is_none() {
                    let attr = self.attr(id, "type");
                    let msg = format!("the type `{t}` for `{}` is unknown", self.path(id));
                    match attr {
                        Some(a) => self.error_attr(&a, msg),
                        None => self.error_node(id, msg),
                    }
                    type_name = None;
                }
            }
            let multi = self.attr(id, "multi").and_then(|a| match a.value.kind {
                YamlKind::Bool(b) => Some(b),
                _ => None,
            });
            self.drafts[i] = Draft {
                type_name,
                multi,
                ..Draft::default()
            };
        }
    }

    /// Resolve a written path from the node at `current` (relative paths, dynamic
    /// instance names). Returns the node, its selectors and the full written path.
    fn resolve(&self, written: &str, current: NodeId) -> Option<(NodeId, Vec<Selector>, String)> {
        let (node, mut selectors, full) = self.resolve_raw(written, current)?;
        // A dynamic family written with `{{ identifier }}` beyond what the path
        // shares with the caller's own path is read for every instance.
        let common = common_prefix_segments(self.path(current), &full);
        for (selector, d) in selectors.iter_mut().zip(self.dynamic_ancestors(node)) {
            let depth = self.path(d).split('.').count();
            if *selector == Selector::Current && depth > common {
                *selector = Selector::All;
            }
        }
        Some((node, selectors, full))
    }

    fn resolve_raw(
        &self,
        written: &str,
        current: NodeId,
    ) -> Option<(NodeId, Vec<Selector>, String)> {
        let current_path = self.path(current);
        let written = written.replace("{{ suffix }}", "{{ identifier }}");
        let full = if is_relative(&written) {
            full_path(&written, current_path)
        } else {
            written
        };
        if let Some(id) = self.by_path.get(&full) {
            let selectors = self
                .dynamic_ancestors(*id)
                .into_iter()
                .map(|_| Selector::Current)
                .collect();
            return Some((*id, selectors, full));
        }
        let mut cur = String::new();
        let mut selectors = Vec::new();
        let mut node = None;
        for seg in full.split('.') {
            let cand = if cur.is_empty() {
                seg.to_owned()
            } else {
                format!("{cur}.{seg}")
            };
            if let Some(id) = self.by_path.get(&cand) {
                if self.infos[id.index()].dynamic {
                    selectors.push(Selector::Current);
                }
                cur = cand;
                node = Some(*id);
                continue;
            }
            let found = self.dyn_children.get(&cur).and_then(|children| {
                children.iter().find_map(|(prefix, suffix, id)| {
                    let rest = seg.strip_prefix(prefix.as_str())?;
                    let ident = if suffix.is_empty() {
                        rest
                    } else {
                        let pos = rest.rfind(suffix.as_str())?;
                        &rest[..pos]
                    };
                    (!ident.is_empty()).then(|| (ident.to_owned(), *id))
                })
            });
            let (ident, id) = found?;
            selectors.push(Selector::Fixed(ident));
            cur = self.path(id).to_owned();
            node = Some(id);
        }
        node.map(|n| (n, selectors, full))
    }

    fn dynamic_ancestors(&self, id: NodeId) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut cur = Some(id);
        while let Some(n) = cur {
            if self.infos[n.index()].dynamic {
                out.push(n);
            }
            cur = self.infos[n.index()].parent;
        }
        out.reverse();
        out
    }

    fn namespace_of(&self, id: NodeId) -> usize {
        self.decl(id).namespace
    }

    /// Namespace isolation (Rougail error 38): extra namespaces may only use
    /// themselves and the main namespace.
    fn check_namespace(&mut self, from: NodeId, to: NodeId, attr: &Attr) -> bool {
        let (a, b) = (self.namespace_of(from), self.namespace_of(to));
        if a == b || b == 0 || a == 0 {
            return true;
        }
        let msg = format!(
            "the variable or the family `{}` located in the `{}` namespace shall not be used in the `{}` namespace",
            self.path(to),
            self.namespaces
                .get(b)
                .cloned()
                .flatten()
                .unwrap_or_default(),
            self.namespaces
                .get(a)
                .cloned()
                .flatten()
                .unwrap_or_default(),
        );
        self.error_attr(attr, msg);
        false
    }

    /// How many dynamic families a reference aggregates over (`{{ identifier }}`
    /// written in the path beyond what caller and target share).
    fn aggregated_levels(
        &self,
        caller: NodeId,
        target: NodeId,
        selectors: &[Selector],
        written_full: &str,
    ) -> usize {
        let _ = target;
        let common = common_prefix_segments(self.path(caller), written_full);
        let beyond: Vec<&str> = written_full.split('.').skip(common).collect();
        let count = beyond
            .iter()
            .filter(|s| s.contains("{{ identifier }}"))
            .count();
        let _ = selectors;
        count
    }

    // ---------------------------------------------------------------- inference

    fn default_attr(&self, id: NodeId) -> Option<Attr> {
        self.attr(id, "default")
    }

    fn infer(&mut self, id: NodeId) {
        let i = id.index();
        if self.infos[i].is_family || self.drafts[i].resolved_multi.is_some() {
            return;
        }
        if self.drafts[i].in_progress {
            return;
        }
        self.drafts[i].in_progress = true;
        let default = self.default_attr(id);
        let version = self.decl(id).version;
        // type: explicit, else from the static default, else from a variable calculation
        let mut ty = self.drafts[i].type_name.clone();
        if ty.is_none() && version != "1.0" {
            if let Some(d) = &default {
                let first = match &d.value.kind {
                    YamlKind::Seq(items) => items.first(),
                    YamlKind::Map(_) => None,
                    _ => Some(&*d.value),
                };
                // A default from a redefinition reaches Rougail's inference as the
                // raw ruamel value (`model_copy`, no pydantic conversion): a float is
                // a `ScalarFloat`, not a `float`, so the type falls back to string
                // (and the float is then refused as "not a string").
                let redefined = d.file != self.decl(id).file;
                ty = first.and_then(|v| match v.kind {
                    YamlKind::Str(_) => Some("string".to_owned()),
                    YamlKind::Bool(_) => Some("boolean".to_owned()),
                    YamlKind::Int(_) => Some("integer".to_owned()),
                    YamlKind::Float(_) if redefined => Some("string".to_owned()),
                    YamlKind::Float(_) => Some("float".to_owned()),
                    _ => None,
                });
            }
        }
        // multi
        let role = self.infos[i].role;
        let mut multi = match self.drafts[i].multi {
            Some(true) => Some(Multi::Yes),
            Some(false) => Some(Multi::No),
            None => None,
        };
        let variable_calc = default
            .as_ref()
            .filter(|d| is_calc(&d.value) && calc_type(&d.value).as_deref() == Some("variable"))
            .cloned();
        if multi.is_none() {
            if role == Role::Leader {
                multi = Some(Multi::Yes);
            } else if let (Some(calc), true) = (&variable_calc, version != "1.0") {
                multi = Some(
                    self.multi_of_reference(id, &calc.value)
                        .unwrap_or(Multi::No),
                );
            } else {
                multi = Some(match default.as_ref().map(|d| &d.value.kind) {
                    Some(YamlKind::Seq(_)) => Multi::Yes,
                    _ => Multi::No,
                });
            }
        }
        if ty.is_none() && version != "1.0" {
            if let Some(d) = &default {
                if is_calc(&d.value) {
                    match calc_type(&d.value).as_deref() {
                        Some("index") => ty = Some("integer".to_owned()),
                        Some("variable") => {
                            if let Some(written) = d.value.get("variable").and_then(Yaml::as_str) {
                                if let Some((target, _, _)) = self.resolve(written, id) {
                                    if !self.infos[target.index()].is_family {
                                        self.infer(target);
                                        ty = self.drafts[target.index()].ty.clone();
                                        self.drafts[i].copied_from = Some(target);
                                    }
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        let mut multi = multi.unwrap_or(Multi::No);
        if let Role::Follower(_) = role {
            multi = if multi == Multi::No {
                Multi::Yes
            } else {
                Multi::Sub
            };
        }
        self.drafts[i].ty = Some(ty.unwrap_or_else(|| "string".to_owned()));
        self.drafts[i].resolved_multi = Some(multi);
        self.drafts[i].in_progress = false;
    }

    /// Multi-ness of `default: {variable: …}` seen from `caller` (Rougail's
    /// `calc_multi_for_type_variable`), before the follower adjustment.
    fn multi_of_reference(&mut self, caller: NodeId, calc: &Yaml) -> Option<Multi> {
        let written = calc.get("variable").and_then(Yaml::as_str)?;
        let (target, selectors, full) = self.resolve(written, caller)?;
        if self.infos[target.index()].is_family {
            return None;
        }
        if target == caller {
            return Some(Multi::No);
        }
        self.infer(target);
        let target_draft_multi = self.drafts[target.index()]
            .resolved_multi
            .unwrap_or(Multi::No);
        // the target's own multi, before the follower adjustment
        let mut m = match self.infos[target.index()].role {
            Role::Follower(_) => {
                if target_draft_multi == Multi::Sub {
                    Multi::Yes
                } else {
                    Multi::No
                }
            }
            _ => target_draft_multi,
        };
        let same_parent = self.infos[target.index()].parent == self.infos[caller.index()].parent;
        match self.infos[target.index()].role {
            Role::Leader if same_parent => m = Multi::No,
            Role::Follower(_) if !same_parent => {
                m = if m == Multi::Yes {
                    Multi::Sub
                } else {
                    Multi::Yes
                };
            }
            _ => {}
        }
        let identifier_calc = calc.get("identifier").is_some_and(is_calc);
        if !self.dynamic_ancestors(target).is_empty() {
            let count = if identifier_calc {
                0
            } else {
                self.aggregated_levels(caller, target, &selectors, &full)
            };
            if count == 1 {
                m = if m == Multi::No {
                    Multi::Yes
                } else {
                    Multi::Sub
                };
            } else if count > 1 {
                m = Multi::Sub;
            }
        }
        Some(m)
    }

    // ---------------------------------------------------------------- assembly

    fn str_attr(&mut self, id: NodeId, name: &str) -> Option<String> {
        let a = self.attr(id, name)?;
        match &a.value.kind {
            YamlKind::Str(s) => Some(s.clone()),
            YamlKind::Null => None,
            _ => {
                let msg = format!(
                    "`{name}` of `{}` must be a string, not {}",
                    self.path(id),
                    a.value.kind_name()
                );
                self.error_attr(&a, msg);
                None
            }
        }
    }

    fn bool_attr(&mut self, id: NodeId, name: &str) -> Option<bool> {
        let a = self.attr(id, name)?;
        match &a.value.kind {
            YamlKind::Bool(b) => Some(*b),
            YamlKind::Null => None,
            _ => {
                let msg = format!(
                    "`{name}` of `{}` must be a boolean, not {}",
                    self.path(id),
                    a.value.kind_name()
                );
                self.error_attr(&a, msg);
                None
            }
        }
    }

    fn string_list(&mut self, id: NodeId, name: &str) -> Vec<String> {
        let Some(a) = self.attr(id, name) else {
            return Vec::new();
        };
        match &a.value.kind {
            YamlKind::Seq(items) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            YamlKind::Null => Vec::new(),
            _ => {
                let msg = format!("`{name}` of `{}` must be a list", self.path(id));
                self.error_attr(&a, msg);
                Vec::new()
            }
        }
    }

    fn value_list(&mut self, id: NodeId, name: &str) -> Vec<Value> {
        let Some(a) = self.attr(id, name) else {
            return Vec::new();
        };
        match &a.value.kind {
            YamlKind::Seq(items) => items.iter().filter_map(yaml_value).collect(),
            YamlKind::Null => Vec::new(),
            _ => {
                let msg = format!("`{name}` of `{}` must be a list", self.path(id));
                self.error_attr(&a, msg);
                Vec::new()
            }
        }
    }

    fn assemble(&mut self, id: NodeId) -> Node {
        let info = self.infos[id.index()].clone();
        let d = self.decl(id);
        // What is needed of the declaration (not its attributes: no deep copy).
        let decl = AssembledDecl {
            name: d.name.clone(),
            path: d.path.clone(),
            file: d.file,
            mark: d.mark,
            namespace_root: d.namespace_root,
            leadership_type: d.user_type.as_deref() == Some("leadership"),
        };
        let span = self.span_of(decl.file, decl.mark);
        let description = self.str_attr(id, "description");
        let help = self.str_attr(id, "help");
        let mode = self.str_attr(id, "mode").and_then(|m| {
            let parsed = Mode::parse(&m);
            if parsed.is_none() {
                let a = self.attr(id, "mode");
                if let Some(a) = a {
                    self.error_attr(&a, format!(
                        "mode `{m}` for `{}` is not a valid mode, valid modes are `basic`, `standard` and `advanced`",
                        decl.path
                    ));
                }
            }
            parsed
        });
        let tags = self.string_list(id, "tags");
        self.check_tags(id, &tags);
        let hidden = self.prop(id, "hidden");
        let disabled = self.prop(id, "disabled");
        let kind =
            if info.is_family {
                let kind =
                    if decl.namespace_root {
                        FamilyKind::Namespace
                    } else if info.leadership {
                        if decl.leadership_type {
                            self.warn_at(decl.file, decl.mark, format!(
                        "`type: leadership` of `{}` is deprecated, use `type: sequence`",
                        decl.path
                    ));
                        }
                        FamilyKind::Leadership
                    } else if info.dynamic {
                        FamilyKind::Dynamic(Box::new(self.dynamic(id)))
                    } else {
                        FamilyKind::Plain
                    };
                NodeKind::Family(Family {
                    kind,
                    children: info.children.clone(),
                })
            } else {
                NodeKind::Variable(Box::new(self.variable(id)))
            };
        let mut hidden = hidden;
        if info.role == Role::Leader && !hidden.is_fixed(false) {
            // hidden on the leader is moved to the sequence (done in resolution by
            // looking at the leader); keep it on the leader.
            hidden = hidden.clone();
        }
        Node {
            name: decl.name.clone(),
            path: decl.path.clone(),
            parent: info.parent,
            description: description.unwrap_or_else(|| decl.name.clone()),
            help,
            mode: mode.unwrap_or(Mode::Standard),
            tags,
            hidden,
            disabled,
            span,
            kind,
            explicit_mode: mode.is_some(),
        }
    }

    fn check_tags(&mut self, id: NodeId, tags: &[String]) {
        for tag in tags {
            let valid = !tag.is_empty()
                && tag
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            let reserved = matches!(
                tag.as_str(),
                "basic"
                    | "standard"
                    | "advanced"
                    | "hidden"
                    | "disabled"
                    | "frozen"
                    | "mandatory"
                    | "empty"
                    | "unique"
                    | "notunique"
                    | "notempty"
                    | "force_store_value"
                    | "force_default_on_freeze"
                    | "cache"
                    | "validator"
                    | "warnings"
                    | "permissive"
                    | "everything_frozen"
                    | "demoting_error_warning"
                    | "force_metaconfig_on_freeze"
                    | "novalidator"
                    | "nowarnings"
            );
            if !valid || reserved {
                let a = self.attr(id, "tags");
                let msg = if valid {
                    format!("invalid tag name `{tag}`: it is the name of a mode or a property")
                } else {
                    format!(
                        "invalid tag name `{tag}`: only lowercase ASCII letters, digits and `_` are allowed"
                    )
                };
                match a {
                    Some(a) => self.error_attr(&a, msg),
                    None => self.error_node(id, msg),
                }
            }
        }
    }

    fn dynamic(&mut self, id: NodeId) -> Dynamic {
        let Some(a) = self.attr(id, "dynamic") else {
            self.error_node(
                id,
                format!(
                    "the dynamic family `{}` has no `dynamic` attribute",
                    self.path(id)
                ),
            );
            return Dynamic::List(Vec::new());
        };
        match &a.value.kind {
            YamlKind::Seq(items) => {
                let mut out = Vec::new();
                for item in items {
                    if is_calc(item) {
                        if let Some(c) = self.calc(id, "dynamic", item, a.file, true) {
                            out.push(Item::Calc(Box::new(c)));
                        }
                    } else if let YamlKind::Str(s) = &item.kind {
                        out.push(Item::Value(Value::Str(s.clone())));
                    } else {
                        self.error_at(a.file, item.mark, format!(
                            "the identifiers of the dynamic family `{}` must be strings, not {}",
                            self.path(id),
                            item.kind_name()
                        ));
                    }
                }
                Dynamic::List(out)
            }
            YamlKind::Map(_) if is_calc(&a.value) => {
                match self.calc(id, "dynamic", &a.value, a.file, false) {
                    Some(c) => Dynamic::Calc(c),
                    None => Dynamic::List(Vec::new()),
                }
            }
            _ => {
                self.error_attr(&a, format!("invalid `dynamic` for `{}`", self.path(id)));
                Dynamic::List(Vec::new())
            }
        }
    }

    /// A property attribute: bool or calculation.
    fn prop(&mut self, id: NodeId, name: &str) -> Prop {
        let Some(a) = self.attr(id, name) else {
            return Prop::Fixed(false);
        };
        match &a.value.kind {
            YamlKind::Bool(b) => Prop::Fixed(*b),
            YamlKind::Null => Prop::Fixed(false),
            YamlKind::Map(_) if is_calc(&a.value) => {
                match self.calc(id, name, &a.value, a.file, false) {
                    Some(c) => Prop::Calc(Box::new(c)),
                    None => Prop::Fixed(false),
                }
            }
            _ => {
                self.error_attr(
                    &a,
                    format!(
                        "`{name}` of `{}` must be a boolean or a calculation",
                        self.path(id)
                    ),
                );
                Prop::Fixed(false)
            }
        }
    }

    #[allow(clippy::too_many_lines)]
    fn variable(&mut self, id: NodeId) -> Variable {
        let i = id.index();
        let path = self.path(id).to_owned();
        let info = self.infos[i].clone();
        let draft = self.drafts[i].clone();
        let type_name = draft.ty.clone().unwrap_or_else(|| "string".to_owned());
        let (ty, implied) = VarType::from_name(&type_name).unwrap_or((VarType::String, Vec::new()));
        let multi_kind = draft.resolved_multi.unwrap_or(Multi::No);
        let is_follower = matches!(info.role, Role::Follower(_));
        let (multi, submulti) = match multi_kind {
            Multi::No => (false, false),
            Multi::Yes => (true, false),
            Multi::Sub => (true, true),
        };
        // a follower's own "multi" is per index: scalar unless submulti
        let own_multi = if is_follower { submulti } else { multi };

        // params
        let mut user_params = Vec::new();
        let params_attr = self.attr(id, "params");
        if let Some(a) = &params_attr {
            match &a.value.kind {
                YamlKind::Map(entries) => {
                    let allowed = ty.param_names(&type_name);
                    for e in entries {
                        let Some(k) = e.key.as_str() else { continue };
                        // Rougail turns these into validators of a multi only; other
                        // keys of a type without params reach Tiramisu's Option as
                        // keyword arguments, which refuses them (TypeError).
                        let multi_key =
                            matches!(k, "multi_length" | "multi_min_length" | "multi_max_length");
                        if multi_key && !own_multi {
                            self.error_at(
                                a.file,
                                e.key.mark,
                                format!("params `{k}` of `{path}`: only a multi variable takes it"),
                            );
                            continue;
                        }
                        if allowed.is_none() && !multi_key && k != "warnings_only" {
                            self.error_at(a.file, e.key.mark, format!(
                                "params `{k}` of `{path}`: the type `{type_name}` takes no parameters"
                            ));
                            continue;
                        }
                        if let Some(allowed) = allowed {
                            if !allowed.contains(&k) {
                                self.error_at(a.file, e.key.mark, format!(
                                    "params `{k}` is not a known parameter with type `{type_name}` for `{path}` (the possible parameters are {})",
                                    allowed.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
                                ));
                                continue;
                            }
                        }
                        match yaml_value(&e.value) {
                            Some(v) => user_params.push((k.to_owned(), v)),
                            None => self.error_at(
                                a.file,
                                e.value.mark,
                                format!("params `{k}` of `{path}` must be a value"),
                            ),
                        }
                    }
                }
                YamlKind::Null => {}
                _ => self.error_attr(a, format!("params must be a mapping for `{path}`")),
            }
        } else if let Some(src) = draft.copied_from {
            // copy params of the source of a `variable` calculation
            if let Some(sa) = self.attr(src, "params") {
                if let YamlKind::Map(entries) = &sa.value.kind {
                    for e in entries {
                        if let (Some(k), Some(v)) = (e.key.as_str(), yaml_value(&e.value)) {
                            user_params.push((k.to_owned(), v));
                        }
                    }
                }
            }
        }
        let mut multi_length_validators = Vec::new();
        user_params.retain(|(k, v)| {
            if matches!(
                k.as_str(),
                "multi_length" | "multi_min_length" | "multi_max_length"
            ) {
                multi_length_validators.push((k.clone(), v.clone()));
                false
            } else {
                true
            }
        });
        let params = Params::for_type(ty, implied, user_params);
        if let Err(e) = types::check_params(ty, &params) {
            match &params_attr {
                Some(a) => self.error_attr(a, format!("params of `{path}`: {e}")),
                None => self.error_node(id, format!("params of `{path}`: {e}")),
            }
        }

        // choices / regexp (copied from the source of a variable calculation when absent)
        let choices_attr = self.attr(id, "choices").or_else(|| {
            (ty == VarType::Choice)
                .then(|| draft.copied_from.and_then(|s| self.attr(s, "choices")))
                .flatten()
        });
        let choices_owner = if self.attr(id, "choices").is_some() {
            id
        } else {
            draft.copied_from.unwrap_or(id)
        };
        let mut choices = None;
        if let Some(a) = &choices_attr {
            choices = self.choices(choices_owner, a);
        }
        if ty == VarType::Choice && choices.is_none() {
            self.error_node(
                id,
                format!("the variable `{path}` is a `choice` variable but has no choices"),
            );
        }
        let regexp_src = self.str_attr(id, "regexp").or_else(|| {
            (ty == VarType::Regexp)
                .then(|| {
                    draft
                        .copied_from
                        .and_then(|s| self.attr(s, "regexp"))
                        .and_then(|a| a.value.as_str().map(str::to_owned))
                })
                .flatten()
        });
        let regexp = match regexp_src {
            Some(src) => match fancy_regex::Regex::new(&src) {
                Ok(r) => Some(Regexp {
                    source: src,
                    regex: Arc::new(r),
                }),
                Err(e) => {
                    let a = self.attr(id, "regexp");
                    let msg = format!("invalid regexp `{src}` for `{path}`: {e}");
                    match a {
                        Some(a) => self.error_attr(&a, msg),
                        None => self.error_node(id, msg),
                    }
                    None
                }
            },
            None => {
                if ty == VarType::Regexp {
                    self.error_node(
                        id,
                        format!("the variable `{path}` is a `regexp` variable but has no regexp"),
                    );
                }
                None
            }
        };

        // default
        let default_attr = self.default_attr(id);
        let default_span = default_attr.as_ref().map(|a| {
            self.span_of(
                a.file,
                if a.value.mark.line == 0 {
                    a.key_mark
                } else {
                    a.value.mark
                },
            )
        });
        let mut default = Default::None;
        let mut default_multi = None;
        if let Some(a) = &default_attr {
            match &a.value.kind {
                YamlKind::Null => {}
                YamlKind::Map(_) if is_calc(&a.value) => {
                    if let Some(c) = self.calc(id, "default", &a.value, a.file, false) {
                        default = Default::Calc(Box::new(c));
                    }
                }
                YamlKind::Map(_) => {
                    self.error_attr(
                        a,
                        format!("the default value of `{path}` is a mapping but not a calculation"),
                    );
                }
                YamlKind::Seq(items) => {
                    if !own_multi {
                        if is_follower {
                            self.error_attr(a, format!("the follower `{path}` is not multi, so cannot have a list as default value"));
                        } else {
                            self.error_attr(a, format!("the variable `{path}` with a list as default value must have the `multi` attribute"));
                        }
                    } else if items.iter().any(is_calc) {
                        let mut list = Vec::new();
                        for item in items {
                            if is_calc(item) {
                                if let Some(c) = self.calc(id, "default", item, a.file, true) {
                                    list.push(Item::Calc(Box::new(c)));
                                }
                            } else if let Some(v) = yaml_value(item) {
                                list.push(Item::Value(Self::port_value(ty, v)));
                            }
                        }
                        default = Default::Items(list);
                    } else if let Some(Value::List(values)) = yaml_value(&a.value) {
                        let values: Vec<Value> = values
                            .into_iter()
                            .map(|v| Self::port_value(ty, v))
                            .collect();
                        if !values.is_empty() {
                            if is_follower {
                                // submulti follower: the list is the value of every index
                                default_multi = Some(Value::List(values));
                            } else {
                                default_multi = values.first().cloned();
                                default = Default::Value(Value::List(values));
                            }
                        }
                    }
                }
                _ => {
                    if own_multi {
                        self.error_attr(
                            a,
                            format!(
                                "the variable `{path}` is multi but has a non list default value"
                            ),
                        );
                    } else if let Some(v) = yaml_value(&a.value) {
                        let v = Self::port_value(ty, v);
                        if is_follower {
                            default_multi = Some(v);
                        } else {
                            default = Default::Value(v);
                        }
                    }
                }
            }
        }
        if ty == VarType::Boolean
            && !multi
            && matches!(default, Default::None)
            && default_multi.is_none()
        {
            default = Default::Value(Value::Bool(true));
        }

        // mandatory (choices with null make it optional)
        let mut mandatory = match self.attr(id, "mandatory") {
            Some(_) => self.prop(id, "mandatory"),
            None => {
                let null_choice = matches!(&choices, Some(Choices::List(items)) if items.iter().any(|it| matches!(it, Item::Value(Value::Null))));
                let has_default = default_attr.as_ref().is_some_and(|a| !a.value.is_null());
                if null_choice && has_default {
                    Prop::Fixed(false)
                } else {
                    Prop::Fixed(true)
                }
            }
        };
        if let Prop::Fixed(false) = mandatory {
            mandatory = Prop::Fixed(false);
        }
        let empty = match self.attr(id, "empty") {
            Some(_) => self.prop(id, "empty"),
            None => Prop::Fixed(true),
        };
        let unique = self.bool_attr(id, "unique").unwrap_or(true);
        let frozen = self.prop(id, "frozen");
        let auto_save = self.bool_attr(id, "auto_save").unwrap_or(false);
        if auto_save && is_follower {
            self.error_node(id, format!("the follower `{path}` cannot have `auto_save`"));
        }
        if self.attr(id, "secret_manager").is_some() {
            let a = self.attr(id, "secret_manager");
            if let Some(a) = a {
                self.error_attr(
                    &a,
                    format!("`secret_manager` of `{path}` is not supported by brise"),
                );
            }
        }

        // validators
        let mut validators = Vec::new();
        if let Some(a) = self.attr(id, "validators") {
            match &a.value.kind {
                YamlKind::Seq(items) => {
                    for item in items {
                        if is_calc(item) {
                            if let Some(c) = self.calc(id, "validators", item, a.file, true) {
                                validators.push(c);
                            }
                        } else {
                            self.error_at(
                                a.file,
                                item.mark,
                                format!("a validator of `{path}` must be a calculation"),
                            );
                        }
                    }
                }
                YamlKind::Null => {}
                _ => self.error_attr(
                    &a,
                    format!("`validators` of `{path}` must be a list of calculations"),
                ),
            }
        }
        for (key, value) in multi_length_validators {
            if !multi {
                continue;
            }
            let n = value.display();
            let (cond, message, description) = match key.as_str() {
                "multi_length" => (
                    format!("var | length != {n}"),
                    format!("{n} values needed, but there are {{{{ var | length }}}}"),
                    format!("needs exactly {n} values"),
                ),
                "multi_max_length" => (
                    format!("var | length > {n}"),
                    format!(
                        "a maximum of {n} values are needed, but there are {{{{ var | length }}}}"
                    ),
                    format!("needs a maximum of {n} values"),
                ),
                _ => (
                    format!("var | length < {n}"),
                    format!(
                        "a minimum of {n} values are needed, but there are {{{{ var | length }}}}"
                    ),
                    format!("needs a minimum of {n} values"),
                ),
            };
            let source = format!("{{% if {cond} %}}{message}{{% endif %}}");
            let (file, mark) = params_attr
                .as_ref()
                .map_or((self.decl(id).file, self.decl(id).mark), |a| {
                    (a.file, a.key_mark)
                });
            if let Some(expr) = self.compile(&source, file, mark) {
                let me = Target {
                    node: id,
                    selectors: self
                        .dynamic_ancestors(id)
                        .into_iter()
                        .map(|_| Selector::Current)
                        .collect(),
                };
                validators.push(Calc {
                    span: self.span_of(file, mark),
                    kind: CalcKind::Jinja(Jinja {
                        expr,
                        return_type: ReturnType::String,
                        convert: VarType::String,
                        vars: Vec::new(),
                        families: Vec::new(),
                        params: vec![(
                            "var".to_owned(),
                            Param::Variable(VarRef {
                                target: Some(me),
                                propertyerror: PropertyError::Raise,
                                default: None,
                                optional: false,
                                written: path.clone(),
                                whole: true,
                                identifier: None,
                            }),
                        )],
                    }),
                    description: Some(description),
                    warnings: false,
                    when: None,
                });
            }
        }

        let examples = self.value_list(id, "examples");
        let test = self.value_list(id, "test");

        let warnings = self.bool_attr(id, "warnings").unwrap_or(false);
        let var = Variable {
            warnings,
            ty,
            type_name: type_name.clone(),
            params,
            multi,
            submulti,
            mandatory,
            empty,
            unique,
            default,
            default_multi,
            frozen,
            auto_save,
            validators,
            choices,
            regexp,
            examples,
            test,
            role: info.role,
            default_span,
        };
        self.check_static_default(id, &var, default_attr.as_ref());
        var
    }

    fn port_value(ty: VarType, v: Value) -> Value {
        match (ty, v) {
            (VarType::Port, Value::Int(i)) => Value::Str(i.to_string()),
            (_, v) => v,
        }
    }

    fn choices(&mut self, id: NodeId, a: &Attr) -> Option<Choices> {
        match &a.value.kind {
            YamlKind::Seq(items) => {
                let mut out = Vec::new();
                for item in items {
                    if is_calc(item) {
                        if let Some(c) = self.calc(id, "choices", item, a.file, true) {
                            out.push(Item::Calc(Box::new(c)));
                        }
                    } else if let Some(v) = yaml_value(item) {
                        out.push(Item::Value(v));
                    }
                }
                Some(Choices::List(out))
            }
            YamlKind::Map(_) if is_calc(&a.value) => self
                .calc(id, "choices", &a.value, a.file, false)
                .map(|c| Choices::Calc(Box::new(c))),
            YamlKind::Null => None,
            _ => {
                self.error_attr(
                    a,
                    format!(
                        "`choices` of `{}` must be a list or a calculation",
                        self.path(id)
                    ),
                );
                None
            }
        }
    }

    /// Static default values must fit the type, the choices and the regexp.
    fn check_static_default(&mut self, id: NodeId, var: &Variable, attr: Option<&Attr>) {
        let Some(attr) = attr else { return };
        let values: Vec<Value> = match (&var.default, &var.default_multi) {
            (Default::Value(Value::List(items)), _) => items.clone(),
            (Default::Value(v), _) => vec![v.clone()],
            (Default::None, Some(Value::List(items))) => items.clone(),
            (Default::None, Some(v)) => vec![v.clone()],
            _ => return,
        };
        let path = self.path(id).to_owned();
        for v in values {
            if v.is_null() {
                continue;
            }
            if let (Check::Invalid(reason), true) =
                (types::check(var.ty, &var.params, &v), var.warnings)
            {
                self.warn_at(
                    attr.file,
                    attr.value.mark,
                    format!(
                        "the default value `{}` of `{path}` is not a valid `{}`: {reason}",
                        v.display(),
                        var.type_name
                    ),
                );
                continue;
            }
            if let Check::Invalid(reason) = types::check(var.ty, &var.params, &v) {
                self.error_attr(
                    attr,
                    format!(
                        "the default value `{}` of `{path}` is not a valid `{}`: {reason}",
                        v.display(),
                        var.type_name
                    ),
                );
                continue;
            }
            if let Some(Choices::List(items)) = &var.choices {
                let has_calc = items.iter().any(|i| matches!(i, Item::Calc(_)));
                if !has_calc && !items.iter().any(|i| matches!(i, Item::Value(c) if c.py_eq(&v) && std::mem::discriminant(c) == std::mem::discriminant(&v) || matches!(i, Item::Value(c) if *c == v))) {
                    let list: Vec<String> = items
                        .iter()
                        .filter_map(|i| match i {
                            Item::Value(c) => Some(format!("`{}`", c.python_str())),
                            Item::Calc(_) => None,
                        })
                        .collect();
                    self.error_attr(attr, format!(
                        "the default value `{}` of `{path}` is not one of the choices {}",
                        v.display(),
                        list.join(", ")
                    ));
                }
            }
            if let (Some(re), Value::Str(s)) = (&var.regexp, &v) {
                if !re.regex.is_match(s).unwrap_or(false) {
                    self.error_attr(
                        attr,
                        format!(
                            "the default value `{s}` of `{path}` does not match the regexp `{}`",
                            re.source
                        ),
                    );
                }
            }
        }
    }

    // ------------------------------------------------------------ calculations

    /// Parse a calculation written for attribute `attr` of node `id`.
    #[allow(clippy::too_many_lines)]
    fn calc(
        &mut self,
        id: NodeId,
        attr_name: &str,
        v: &Yaml,
        file: usize,
        inside_list: bool,
    ) -> Option<Calc> {
        let path = self.path(id).to_owned();
        let span = self.span_of(file, v.mark);
        let Some(typ) = calc_type(v) else {
            self.error_at(
                file,
                v.mark,
                format!("the calculation of `{attr_name}` in `{path}` has no type"),
            );
            return None;
        };
        let is_property = matches!(
            attr_name,
            "hidden" | "disabled" | "frozen" | "mandatory" | "empty"
        );
        let mut description = v
            .get("description")
            .and_then(Yaml::as_str)
            .map(str::to_owned);
        let warnings = matches!(
            v.get("warnings").map(|w| &w.kind),
            Some(YamlKind::Bool(true))
        );
        let when = match (v.get("when"), v.get("when_not")) {
            (Some(_), Some(_)) => {
                self.error_at(
                    file,
                    v.mark,
                    format!(
                        "`when` and `when_not` cannot be set together in `{attr_name}` of `{path}`"
                    ),
                );
                return None;
            }
            (Some(w), None) => yaml_value(w).map(|value| Condition {
                value,
                inverse: false,
            }),
            (None, Some(w)) => yaml_value(w).map(|value| Condition {
                value,
                inverse: true,
            }),
            (None, None) => None,
        };
        let kind = match typ.as_str() {
            "jinja" => {
                let Some(source) = v.get("jinja").and_then(Yaml::as_str) else {
                    self.error_at(file, v.mark, format!("the jinja calculation of `{attr_name}` in `{path}` needs a `jinja` text"));
                    return None;
                };
                let mut convert = VarType::String;
                let return_type = match (attr_name, v.get("return_type").map(|r| &r.kind)) {
                    (_, None | Some(YamlKind::Null)) => ReturnType::String,
                    ("default", Some(_)) => {
                        self.error_at(file, v.mark, format!("`return_type` is not allowed in the `default` calculation of `{path}`"));
                        return None;
                    }
                    ("choices" | "dynamic", Some(YamlKind::Str(t))) => {
                        let name = if t == "number" { "integer" } else { t.as_str() };
                        match VarType::from_name(name) {
                            Some((ty, _)) => convert = ty,
                            None => {
                                self.error_at(
                                    file,
                                    v.mark,
                                    format!(
                                        "unknown `return_type` `{t}` in `{attr_name}` of `{path}`"
                                    ),
                                );
                                return None;
                            }
                        }
                        ReturnType::String
                    }
                    (_, Some(YamlKind::Str(t))) if t == "boolean" => ReturnType::Boolean,
                    (_, Some(YamlKind::Str(t))) if t == "string" => ReturnType::String,
                    (_, Some(_)) => {
                        self.error_at(file, v.mark, format!(
                            "variable `{path}` has a calculating `{attr_name}` with an invalid return_type, should be boolean or string"
                        ));
                        return None;
                    }
                };
                if attr_name == "default" {
                    convert = self
                        .drafts
                        .get(id.index())
                        .and_then(|d| d.ty.as_deref())
                        .and_then(VarType::from_name)
                        .map_or(VarType::String, |(t, _)| t);
                }
                if attr_name == "validators"
                    && return_type == ReturnType::Boolean
                    && description.is_none()
                {
                    self.warn_at(file, v.mark, format!(
                        "the variable `{path}` has a return_type `boolean` for attribute `validators` but no description"
                    ));
                    description = Some("value is invalid".to_owned());
                }
                let jinja_mark = v.get("jinja").map_or(v.mark, |j| j.mark);
                let translated = match self.translate(source) {
                    Ok(t) => t,
                    Err(e) => {
                        let mark = offset_mark(self.files.text(file), jinja_mark, source, e.offset);
                        self.error_at(
                            file,
                            mark,
                            format!("cannot use this jinja expression with tera: {}", e.message),
                        );
                        return None;
                    }
                };
                let expr_id = ExprId(u32::try_from(self.exprs.len()).unwrap_or(u32::MAX));
                let name = self.template_for(&translated.text, (file, jinja_mark));
                self.exprs.push(Expr {
                    name,
                    source: source.to_owned(),
                    chains: translated.chains.clone(),
                });
                let params = self.params(id, attr_name, v, file);
                let mut vars = Vec::new();
                let mut families = Vec::new();
                let param_names: HashSet<String> = params.iter().map(|(k, _)| k.clone()).collect();
                // Like Rougail: dotted names that are variables become values;
                // a name that is not a variable exposes its closest family as
                // an empty mapping, unless a variable name starts with it.
                let mut unknown = Vec::new();
                for chain in &translated.chains {
                    if chain.len() == 1 && param_names.contains(&chain[0]) {
                        continue;
                    }
                    let written = chain.join(".");
                    match self.resolve(&written, id) {
                        Some((target, selectors, _)) if !self.infos[target.index()].is_family => {
                            if let Some(a) = Self::attr_for_namespace_check(file, v) {
                                if !self.check_namespace(id, target, &a) {
                                    continue;
                                }
                            }
                            vars.push((
                                chain.clone(),
                                VarRef {
                                    target: Some(Target {
                                        node: target,
                                        selectors,
                                    }),
                                    propertyerror: PropertyError::Ignore,
                                    default: None,
                                    optional: true,
                                    written,
                                    whole: false,
                                    identifier: None,
                                },
                            ));
                        }
                        _ => unknown.push(chain.clone()),
                    }
                }
                for chain in unknown {
                    let is_prefix = vars
                        .iter()
                        .any(|(v, _)| v.len() > chain.len() && v[..chain.len()] == chain[..]);
                    if is_prefix {
                        continue;
                    }
                    for cut in (1..chain.len()).rev() {
                        if let Some((t, _, _)) = self.resolve(&chain[..cut].join("."), id) {
                            if self.infos[t.index()].is_family
                                && !families.contains(&chain[..cut].to_vec())
                            {
                                families.push(chain[..cut].to_vec());
                            }
                            break;
                        }
                    }
                }
                CalcKind::Jinja(Jinja {
                    expr: expr_id,
                    return_type,
                    convert,
                    vars,
                    families,
                    params,
                })
            }
            "variable" => {
                let Some(written) = v.get("variable").and_then(Yaml::as_str) else {
                    self.error_at(file, v.mark, format!("the variable calculation of `{attr_name}` in `{path}` needs a `variable` path"));
                    return None;
                };
                let optional = matches!(
                    v.get("optional").map(|o| &o.kind),
                    Some(YamlKind::Bool(true))
                );
                let propertyerror = match v.get("propertyerror").map(|p| &p.kind) {
                    None | Some(YamlKind::Bool(true)) => PropertyError::Raise,
                    Some(YamlKind::Bool(false)) => PropertyError::Ignore,
                    Some(YamlKind::Str(s)) if s == "transitive" && is_property => {
                        PropertyError::Transitive
                    }
                    Some(_) => {
                        self.error_at(
                            file,
                            v.mark,
                            format!("invalid `propertyerror` in `{attr_name}` of `{path}`"),
                        );
                        PropertyError::Raise
                    }
                };
                let default = v.get("default").and_then(yaml_value);
                if let (true, Some(d)) = (optional, &default) {
                    let expects_list = match attr_name {
                        "default" => {
                            !inside_list
                                && self.drafts.get(id.index()).is_some_and(|dr| {
                                    match self.infos[id.index()].role {
                                        Role::Follower(_) => dr.resolved_multi == Some(Multi::Sub),
                                        _ => dr.resolved_multi.is_some_and(|m| m != Multi::No),
                                    }
                                })
                        }
                        "choices" | "dynamic" => true,
                        _ => false,
                    };
                    if expects_list != matches!(d, Value::List(_)) {
                        let msg = if expects_list {
                            format!(
                                "the variable `{path}` is waiting for a list as `{attr_name}` but the attribute `default` is not a list (`{}`)",
                                d.display()
                            )
                        } else {
                            format!(
                                "the variable `{path}` is not waiting for a list as `{attr_name}` but the attribute `default` is a list (`{}`)",
                                d.display()
                            )
                        };
                        self.error_at(file, v.mark, msg);
                        return None;
                    }
                }
                if optional && default.is_none() && attr_name != "default" && !is_property {
                    self.error_at(file, v.mark, format!(
                        "`{attr_name}` shall not have an `optional` attribute without the `default` attribute for variable `{written}`"
                    ));
                    return None;
                }
                let identifier = match v.get("identifier") {
                    Some(i) if is_calc(i) => {
                        self.calc(id, "identifier", i, file, false).map(Box::new)
                    }
                    _ => None,
                };
                let target = self.variable_target(
                    id,
                    attr_name,
                    written,
                    optional,
                    file,
                    v,
                    inside_list,
                    is_property,
                    when.is_some() || propertyerror == PropertyError::Transitive,
                    identifier.is_some(),
                );
                let Ok(target) = target else {
                    return None;
                };
                CalcKind::Variable(VarRef {
                    target,
                    propertyerror,
                    default,
                    optional,
                    written: written.to_owned(),
                    whole: false,
                    identifier,
                })
            }
            "identifier" | "suffix" => {
                if self.dynamic_ancestors(id).is_empty()
                    && !(self.infos[id.index()].dynamic && attr_name != "dynamic")
                {
                    self.error_at(file, v.mark, format!(
                        "identifier calculation for `{attr_name}` in `{path}` cannot be set, the variable is not in a dynamic family"
                    ));
                    return None;
                }
                let n = v.get("identifier").and_then(|i| match i.kind {
                    YamlKind::Int(n) => usize::try_from(n).ok(),
                    _ => None,
                });
                CalcKind::Identifier(n)
            }
            "index" => {
                if !matches!(self.infos[id.index()].role, Role::Follower(_)) {
                    self.error_at(file, v.mark, format!(
                        "the variable `{path}` has an index calculation for `{attr_name}` but is not a follower"
                    ));
                    return None;
                }
                CalcKind::Index
            }
            "information" => {
                let Some(name) = v.get("information").and_then(Yaml::as_str) else {
                    self.error_at(file, v.mark, format!("the information calculation of `{attr_name}` in `{path}` needs an `information` name"));
                    return None;
                };
                if v.get("variable").is_none() {
                    self.error_at(file, v.mark, format!(
                        "the information calculation of `{attr_name}` in `{path}` needs a `variable` key (`variable: null` for an information of the configuration)"
                    ));
                    return None;
                }
                let variable = match v.get("variable").and_then(Yaml::as_str) {
                    Some(w) => match self.resolve(w, id) {
                        Some((node, selectors, _)) => Some(Target { node, selectors }),
                        None => {
                            self.error_at(file, v.mark, format!(
                                "variable `{path}` has an attribute `{attr_name}` calculated with the unknown variable `{w}`"
                            ));
                            return None;
                        }
                    },
                    None => None,
                };
                CalcKind::Information {
                    name: name.to_owned(),
                    variable,
                }
            }
            "namespace" => CalcKind::Namespace(self.namespace_description(id)),
            other => {
                self.error_at(
                    file,
                    v.mark,
                    format!("unknown calculation type `{other}` in `{attr_name}` of `{path}`"),
                );
                return None;
            }
        };
        Some(Calc {
            span,
            kind,
            description,
            warnings,
            when,
        })
    }

    fn attr_for_namespace_check(file: usize, v: &Yaml) -> Option<Attr> {
        Some(Attr {
            value: Arc::new(v.clone()),
            file,
            key_mark: v.mark,
        })
    }

    fn namespace_description(&self, id: NodeId) -> String {
        let ns = self.namespace_of(id);
        self.namespaces
            .get(ns)
            .cloned()
            .flatten()
            .unwrap_or_default()
    }

    #[allow(clippy::too_many_arguments)]
    fn variable_target(
        &mut self,
        id: NodeId,
        attr_name: &str,
        written: &str,
        optional: bool,
        file: usize,
        v: &Yaml,
        inside_list: bool,
        is_property: bool,
        has_when: bool,
        identifier_calc: bool,
    ) -> Result<Option<Target>, ()> {
        let path = self.path(id).to_owned();
        let Some((target, selectors, full)) = self.resolve(written, id) else {
            if optional {
                return Ok(None);
            }
            self.error_at(file, v.mark, format!(
                "variable `{path}` has an attribute `{attr_name}` calculated with the unknown variable `{written}`"
            ));
            return Err(());
        };
        let attr = Attr {
            value: Arc::new(v.clone()),
            file,
            key_mark: v.mark,
        };
        if !self.check_namespace(id, target, &attr) {
            return Err(());
        }
        if self.infos[target.index()].is_family {
            self.error_at(file, v.mark, format!(
                "a variable `{written}` is needed in attribute `{attr_name}` for `{path}` but it's a family"
            ));
            return Err(());
        }
        // multi compatibility of the source
        self.infer(target);
        if attr_name == "default" && !self.infos[id.index()].is_family {
            let own = self.drafts[id.index()].ty.clone().unwrap_or_default();
            let source = self.drafts[target.index()].ty.clone().unwrap_or_default();
            if converter(&own) != converter(&source) {
                self.error_at(file, v.mark, format!(
                    "variable `{path}` has a default value calculated with `{written}` which has an incompatible type (`{own}` and `{source}`)"
                ));
                return Err(());
            }
        }
        let source_multi = self.reference_multi(id, target, &selectors, &full, identifier_calc);
        let caller_multi = if self.infos[id.index()].is_family {
            None
        } else {
            self.drafts[id.index()]
                .resolved_multi
                .map(|m| match self.infos[id.index()].role {
                    Role::Follower(_) => m == Multi::Sub,
                    _ => m != Multi::No,
                })
        };
        match attr_name {
            "default" => {
                if source_multi == Multi::Sub && !inside_list {
                    self.error_at(file, v.mark, format!(
                        "the variable `{path}` has an invalid `default`: the variable `{written}` is a list of lists"
                    ));
                    return Err(());
                }
                if inside_list && source_multi != Multi::No {
                    self.error_at(file, v.mark, format!(
                        "the variable `{path}` has an invalid attribute `default`, the variable `{written}` is multi but is inside a list"
                    ));
                    return Err(());
                }
                if !inside_list {
                    if let Some(cm) = caller_multi {
                        let sm = source_multi != Multi::No;
                        if cm && !sm {
                            self.error_at(file, v.mark, format!(
                                "the variable `{path}` has an invalid attribute `default`, the variable must not be a multi or the variable `{written}` must be multi"
                            ));
                            return Err(());
                        }
                        if !cm && sm {
                            self.error_at(file, v.mark, format!(
                                "the variable `{path}` has an invalid attribute `default`, the variable must be a multi or the variable `{written}` must not be multi"
                            ));
                            return Err(());
                        }
                    }
                }
            }
            "choices" | "dynamic" => {
                if !inside_list && source_multi == Multi::No {
                    self.error_at(file, v.mark, format!(
                        "the variable `{path}` has an invalid attribute `{attr_name}`, the variable `{written}` must be multi"
                    ));
                    return Err(());
                }
                if inside_list && source_multi != Multi::No {
                    self.error_at(file, v.mark, format!(
                        "the variable `{path}` has an invalid attribute `{attr_name}`, the variable `{written}` is multi but is inside a list"
                    ));
                    return Err(());
                }
            }
            _ => {
                if source_multi != Multi::No && is_property {
                    self.error_at(file, v.mark, format!(
                        "the variable `{path}` has an invalid attribute `{attr_name}`, the variable `{written}` must not be multi"
                    ));
                    return Err(());
                }
                if is_property && !has_when {
                    let ty = self.drafts[target.index()].ty.clone().unwrap_or_default();
                    if ty != "boolean" {
                        self.error_at(file, v.mark, format!(
                            "the variable `{written}` used in `{attr_name}` of `{path}` is not a boolean, `when` or `when_not` is needed"
                        ));
                        return Err(());
                    }
                }
            }
        }
        Ok(Some(Target {
            node: target,
            selectors,
        }))
    }

    /// Multi-ness of a referenced variable as seen from `caller`.
    fn reference_multi(
        &self,
        caller: NodeId,
        target: NodeId,
        selectors: &[Selector],
        full: &str,
        identifier_calc: bool,
    ) -> Multi {
        let d = self.drafts[target.index()]
            .resolved_multi
            .unwrap_or(Multi::No);
        let mut m = match self.infos[target.index()].role {
            Role::Follower(_) => {
                if d == Multi::Sub {
                    Multi::Yes
                } else {
                    Multi::No
                }
            }
            _ => d,
        };
        let same_parent = self.infos[target.index()].parent == self.infos[caller.index()].parent
            || self.infos[target.index()].parent == Some(caller);
        match self.infos[target.index()].role {
            Role::Leader if same_parent => m = Multi::No,
            Role::Follower(_) if !same_parent => {
                m = if m == Multi::Yes {
                    Multi::Sub
                } else {
                    Multi::Yes
                };
            }
            _ => {}
        }
        if !self.dynamic_ancestors(target).is_empty() {
            let count = if identifier_calc {
                0
            } else {
                self.aggregated_levels(caller, target, selectors, full)
            };
            if count == 1 {
                m = if m == Multi::No {
                    Multi::Yes
                } else {
                    Multi::Sub
                };
            } else if count > 1 {
                m = Multi::Sub;
            }
        }
        m
    }

    fn params(
        &mut self,
        id: NodeId,
        attr_name: &str,
        v: &Yaml,
        file: usize,
    ) -> Vec<(String, Param)> {
        let path = self.path(id).to_owned();
        let Some(entries) = v.get("params").and_then(Yaml::as_map) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for e in entries {
            let Some(key) = e.key.as_str() else { continue };
            let value = &e.value;
            let typ = if value.as_map().is_some() {
                value
                    .get("type")
                    .and_then(Yaml::as_str)
                    .map(str::to_owned)
                    .or_else(|| value.as_map().and_then(calculation_type).map(str::to_owned))
            } else {
                None
            };
            let param = match typ.as_deref() {
                None => match yaml_value(value) {
                    Some(v) => Param::Value(v),
                    None => {
                        self.error_at(
                            file,
                            value.mark,
                            format!("invalid param `{key}` in `{attr_name}` of `{path}`"),
                        );
                        continue;
                    }
                },
                Some("any") => Param::Value(
                    value
                        .get("value")
                        .and_then(yaml_value)
                        .unwrap_or(Value::Null),
                ),
                Some("variable") => {
                    let Some(written) = value.get("variable").and_then(Yaml::as_str) else {
                        self.error_at(
                            file,
                            value.mark,
                            format!("param `{key}` of `{path}` needs a `variable` path"),
                        );
                        continue;
                    };
                    let optional = matches!(
                        value.get("optional").map(|o| &o.kind),
                        Some(YamlKind::Bool(true))
                    );
                    let propertyerror = match value.get("propertyerror").map(|p| &p.kind) {
                        Some(YamlKind::Bool(false)) => PropertyError::Ignore,
                        _ => PropertyError::Raise,
                    };
                    let whole = matches!(
                        value.get("whole").map(|o| &o.kind),
                        Some(YamlKind::Bool(true))
                    );
                    let target = match self.resolve(written, id) {
                        Some((node, selectors, _)) => {
                            let a = Attr {
                                value: Arc::new(value.clone()),
                                file,
                                key_mark: e.key.mark,
                            };
                            if !self.check_namespace(id, node, &a) {
                                continue;
                            }
                            Some(Target { node, selectors })
                        }
                        None if optional => None,
                        None => {
                            self.error_at(file, value.mark, format!(
                                "variable `{path}` has an attribute `{attr_name}` calculated with the unknown variable `{written}`"
                            ));
                            continue;
                        }
                    };
                    Param::Variable(VarRef {
                        target,
                        propertyerror,
                        default: None,
                        optional,
                        written: written.to_owned(),
                        whole,
                        identifier: None,
                    })
                }
                Some("suffix") if self.decl(id).version != "1.0" => {
                    self.error_at(
                        file,
                        value.mark,
                        format!(
                            "unknown type `suffix` for param `{key}` of `{path}`, use `identifier`"
                        ),
                    );
                    continue;
                }
                Some("identifier" | "suffix") => {
                    if self.dynamic_ancestors(id).is_empty() {
                        self.error_at(file, value.mark, format!(
                            "identifier param `{key}` in `{path}` cannot be used, the variable is not in a dynamic family"
                        ));
                        continue;
                    }
                    Param::Identifier(value.get("identifier").and_then(|i| match i.kind {
                        YamlKind::Int(n) => usize::try_from(n).ok(),
                        _ => None,
                    }))
                }
                Some("index") => {
                    if !matches!(self.infos[id.index()].role, Role::Follower(_))
                        && attr_name != "validators"
                    {
                        self.error_at(
                            file,
                            value.mark,
                            format!(
                                "the variable `{path}` uses an index param but is not a follower"
                            ),
                        );
                        continue;
                    }
                    Param::Index
                }
                Some("information") => {
                    let Some(name) = value.get("information").and_then(Yaml::as_str) else {
                        self.error_at(
                            file,
                            value.mark,
                            format!("param `{key}` of `{path}` needs an `information` name"),
                        );
                        continue;
                    };
                    let variable = match value.get("variable").and_then(Yaml::as_str) {
                        Some(w) => self
                            .resolve(w, id)
                            .map(|(node, selectors, _)| Target { node, selectors }),
                        None => None,
                    };
                    Param::Information {
                        name: name.to_owned(),
                        variable,
                    }
                }
                Some("namespace") => Param::Namespace(self.namespace_description(id)),
                Some(other) => {
                    self.error_at(
                        file,
                        value.mark,
                        format!("unknown type `{other}` for param `{key}` of `{path}`"),
                    );
                    continue;
                }
            };
            out.push((key.to_owned(), param));
        }
        out
    }

    /// The template name of a translated expression written at `site` (the
    /// next expression). Expressions with the same text share one template,
    /// compiled once: a dictionary repeats the same relative expression in
    /// many families.
    fn template_for(&mut self, text: &str, site: (usize, Mark)) -> String {
        let next = self.templates.len();
        let index = *self.template_index.entry(text.to_owned()).or_insert(next);
        if index == next {
            self.templates.push((format!("e{index}"), text.to_owned()));
        }
        self.expr_sites.push((site.0, site.1, index));
        format!("e{index}")
    }

    /// A jinja text translated to tera, once per distinct text.
    fn translate(&mut self, source: &str) -> Result<Rc<Translated>, TranslateError> {
        if let Some(done) = self.translations.get(source) {
            return done.clone();
        }
        let done = expr::translate(source).map(Rc::new);
        self.translations.insert(source.to_owned(), done.clone());
        done
    }

    fn compile(&mut self, source: &str, file: usize, mark: Mark) -> Option<ExprId> {
        match self.translate(source) {
            Ok(t) => {
                let expr_id = ExprId(u32::try_from(self.exprs.len()).unwrap_or(u32::MAX));
                let name = self.template_for(&t.text, (file, mark));
                self.exprs.push(Expr {
                    name,
                    source: source.to_owned(),
                    chains: t.chains.clone(),
                });
                Some(expr_id)
            }
            Err(e) => {
                self.error_at(
                    file,
                    mark,
                    format!("cannot use this jinja expression with tera: {}", e.message),
                );
                None
            }
        }
    }

    // ------------------------------------------------------------------- modes

    /// Rougail's mode propagation (annotator/family.py `change_modes`), step by
    /// step: modes only change which dictionaries are refused (errors 36, 61,
    /// 62, 63), so this follows Rougail's order and its notion of a mode "set in
    /// the structural file" (`has_mode`), which also covers the `basic` mode given
    /// to `auto_save` and mandatory-without-default variables, but not modes set
    /// automatically (`set_auto_mode`).
    fn modes(&mut self, nodes: &mut [Node]) {
        let mut st = ModeState {
            mode: nodes
                .iter()
                .map(|n| n.explicit_mode.then_some(n.mode))
                .collect(),
            auto: vec![false; nodes.len()],
        };
        // families in creation order (parents first), then the other way round
        let mut families = Vec::new();
        let mut root_variables = Vec::new();
        fn preorder(nodes: &[Node], id: NodeId, out: &mut Vec<NodeId>) {
            if let NodeKind::Family(f) = &nodes[id.index()].kind {
                out.push(id);
                for c in &f.children {
                    preorder(nodes, *c, out);
                }
            }
        }
        for root in self.roots.clone() {
            if matches!(nodes[root.index()].kind, NodeKind::Variable(_)) {
                root_variables.push(root);
            }
            preorder(nodes, root, &mut families);
        }
        for &family in &families {
            self.set_default_mode(nodes, &mut st, family);
        }
        for &family in families.iter().rev() {
            self.change_family_mode(nodes, &mut st, family);
        }
        // without namespace, the variables at the root (no family to check them)
        for id in root_variables {
            self.set_default_mode_variable(nodes, &mut st, id, Some(Mode::Standard), false);
        }
        for (i, n) in nodes.iter_mut().enumerate() {
            n.mode = st.mode[i].unwrap_or(Mode::Standard);
        }
    }

    fn set_default_mode(&mut self, nodes: &[Node], st: &mut ModeState, family: NodeId) {
        let NodeKind::Family(f) = &nodes[family.index()].kind else {
            return;
        };
        let family_mode = if st.has_mode(family) {
            st.mode[family.index()]
        } else {
            None
        };
        let is_sequence = matches!(f.kind, FamilyKind::Leadership);
        let leader = f.children.first().copied();
        // the leader's mode as written, before its default is set
        let leader_mode = leader.and_then(|l| st.mode[l.index()]);
        for &child in &f.children {
            if matches!(nodes[child.index()].kind, NodeKind::Family(_)) {
                if let Some(m) = family_mode {
                    if !st.has_mode(child) {
                        st.set_auto(child, m);
                    }
                }
            } else {
                if is_sequence {
                    if let Some(leader) = leader {
                        self.set_default_mode_leader(nodes, st, leader, child);
                    }
                }
                self.set_default_mode_variable(nodes, st, child, family_mode, true);
            }
        }
        if is_sequence {
            if let Some(m) = leader_mode {
                st.set_auto(family, m);
            }
        }
    }

    fn set_default_mode_leader(
        &mut self,
        nodes: &[Node],
        st: &mut ModeState,
        leader: NodeId,
        follower: NodeId,
    ) {
        if leader == follower {
            if st.mode[leader.index()].is_none() {
                st.set_auto(leader, Mode::Standard);
            }
            return;
        }
        let follower_mode = if st.has_mode(follower) {
            st.mode[follower.index()].unwrap_or(Mode::Standard)
        } else {
            Mode::Standard
        };
        let leader_mode = st.mode[leader.index()].unwrap_or(Mode::Standard);
        if leader_mode > follower_mode {
            if st.has_mode(follower) && !st.has_mode(leader) {
                st.set_auto(leader, follower_mode);
            } else {
                if st.has_mode(follower) {
                    let msg = format!(
                        "the follower `{}` is in `{}` mode but the leader has the higher mode `{}`",
                        nodes[follower.index()].path,
                        follower_mode.as_str(),
                        leader_mode.as_str()
                    );
                    self.error_node(follower, msg);
                }
                st.set_auto(follower, leader_mode);
            }
        }
    }

    fn set_default_mode_variable(
        &mut self,
        nodes: &[Node],
        st: &mut ModeState,
        id: NodeId,
        family_mode: Option<Mode>,
        check_level: bool,
    ) {
        let NodeKind::Variable(v) = &nodes[id.index()].kind else {
            return;
        };
        let no_default = match &v.default {
            Default::None => true,
            // an empty static list is no default for Rougail
            Default::Value(Value::List(l)) => l.is_empty(),
            _ => false,
        } && v.default_multi.is_none();
        if !st.has_mode(id) && v.auto_save {
            st.mode[id.index()] = Some(Mode::Basic);
        } else if !st.has_mode(id) && v.mandatory.is_fixed(true) && no_default {
            if let Some(fm) = family_mode {
                if check_level && Mode::Basic < fm {
                    let msg = format!(
                        "the variable `{}` is mandatory so in `basic` mode but its family has the higher mode `{}`",
                        nodes[id.index()].path,
                        fm.as_str()
                    );
                    self.error_node(id, msg);
                }
            }
            st.mode[id.index()] = Some(Mode::Basic);
        } else if let Some(fm) = family_mode {
            if !st.has_mode(id) {
                st.set_auto(id, fm);
            }
        }
    }

    fn change_family_mode(&mut self, nodes: &[Node], st: &mut ModeState, family: NodeId) {
        let NodeKind::Family(f) = &nodes[family.index()].kind else {
            return;
        };
        let family_mode = st.mode[family.index()].unwrap_or(Mode::Basic);
        let is_sequence = matches!(f.kind, FamilyKind::Leadership);
        let mut min = Mode::Advanced;
        for &child in &f.children {
            if matches!(nodes[child.index()].kind, NodeKind::Family(_)) {
                if st.mode[child.index()].is_none() {
                    st.mode[child.index()] = Some(Mode::Basic);
                }
            } else {
                let variable_mode = st.mode[child.index()].unwrap_or(Mode::Standard);
                if !is_sequence && variable_mode < family_mode {
                    if st.has_mode(child) {
                        let msg = format!(
                            "the variable `{}` is in `{}` mode but its family has the higher mode `{}`",
                            nodes[child.index()].path,
                            variable_mode.as_str(),
                            family_mode.as_str()
                        );
                        self.error_node(child, msg);
                    }
                    st.set_auto(child, family_mode);
                }
                if st.mode[child.index()].is_none() {
                    st.mode[child.index()] = Some(variable_mode);
                }
            }
            let m = st.mode[child.index()].unwrap_or(Mode::Standard);
            if m < min {
                min = m;
            }
        }
        if st.mode[family.index()].is_none() {
            st.set_auto(family, min);
        }
        let fm = st.mode[family.index()].unwrap_or(Mode::Basic);
        if fm < min {
            let msg = format!(
                "the family `{}` is in `{}` mode but variables and families inside have the higher mode `{}`",
                nodes[family.index()].path,
                fm.as_str(),
                min.as_str()
            );
            self.error_node(family, msg);
        }
    }

    // ------------------------------------------------------------------ cycles

    /// Variables ordered so that static dependencies come first; a cycle between
    /// calculations is an error.
    fn evaluation_order(&mut self, nodes: &[Node]) -> Vec<NodeId> {
        let n = nodes.len();
        let mut deps: Vec<Vec<NodeId>> = vec![Vec::new(); n];
        for (i, node) in nodes.iter().enumerate() {
            let mut out = Vec::new();
            collect_prop_deps(&node.hidden, &mut out);
            collect_prop_deps(&node.disabled, &mut out);
            match &node.kind {
                NodeKind::Variable(v) => {
                    match &v.default {
                        Default::Calc(c) => collect_calc_deps(c, &mut out),
                        Default::Items(items) => {
                            for it in items {
                                if let Item::Calc(c) = it {
                                    collect_calc_deps(c, &mut out);
                                }
                            }
                        }
                        _ => {}
                    }
                    if let Role::Follower(l) = v.role {
                        out.push(l);
                    }
                }
                NodeKind::Family(f) => {
                    if let FamilyKind::Dynamic(d) = &f.kind {
                        if let Dynamic::Calc(c) = &**d {
                            collect_calc_deps(c, &mut out);
                        }
                    }
                }
            }
            out.retain(|d| d.index() != i);
            deps[i] = out;
        }
        // value dependencies only (defaults) form cycles that cannot resolve
        let mut value_deps: Vec<Vec<NodeId>> = vec![Vec::new(); n];
        for (i, node) in nodes.iter().enumerate() {
            if let NodeKind::Variable(v) = &node.kind {
                let mut out = Vec::new();
                match &v.default {
                    Default::Calc(c) => collect_calc_deps(c, &mut out),
                    Default::Items(items) => {
                        for it in items {
                            if let Item::Calc(c) = it {
                                collect_calc_deps(c, &mut out);
                            }
                        }
                    }
                    _ => {}
                }
                value_deps[i] = out;
            }
        }
        // iterative DFS for cycles on value_deps
        let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
        let mut reported = HashSet::new();
        for start in 0..n {
            if state[start] != 0 {
                continue;
            }
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            state[start] = 1;
            while let Some((node, next)) = stack.last().copied() {
                if next < value_deps[node].len() {
                    if let Some(top) = stack.last_mut() {
                        top.1 += 1;
                    }
                    let d = value_deps[node][next].index();
                    if state[d] == 0 {
                        state[d] = 1;
                        stack.push((d, 0));
                    } else if state[d] == 1 && d != node {
                        let pos = stack.iter().position(|(x, _)| *x == d).unwrap_or(0);
                        let cycle: Vec<usize> = stack[pos..].iter().map(|(x, _)| *x).collect();
                        let mut key = cycle.clone();
                        key.sort_unstable();
                        if reported.insert(key) {
                            let mut names: Vec<String> = cycle
                                .iter()
                                .map(|x| format!("`{}`", nodes[*x].path))
                                .collect();
                            names.push(format!("`{}`", nodes[d].path));
                            let first = node_id(cycle[0]);
                            let span_node = first;
                            let msg = format!("cycle between calculations: {}", names.join(" → "));
                            let v = &nodes[span_node.index()];
                            let span = match &v.kind {
                                NodeKind::Variable(var) => {
                                    var.default_span.clone().unwrap_or_else(|| v.span.clone())
                                }
                                NodeKind::Family(_) => v.span.clone(),
                            };
                            let decl = self.decl(span_node);
                            let text = self.files.text(decl.file).to_owned();
                            self.diags
                                .push(Diagnostic::error(Some(span), msg).with_source(&text));
                        }
                    }
                } else {
                    state[node] = 2;
                    stack.pop();
                }
            }
        }
        // topological order over all deps (cycles through properties are broken arbitrarily)
        let mut order = Vec::with_capacity(n);
        let mut mark = vec![0u8; n];
        for start in 0..n {
            if mark[start] != 0 {
                continue;
            }
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            mark[start] = 1;
            while let Some((node, next)) = stack.last().copied() {
                if next < deps[node].len() {
                    if let Some(top) = stack.last_mut() {
                        top.1 += 1;
                    }
                    let d = deps[node][next].index();
                    if mark[d] == 0 {
                        mark[d] = 1;
                        stack.push((d, 0));
                    }
                } else {
                    mark[node] = 2;
                    stack.pop();
                    if matches!(nodes[node].kind, NodeKind::Variable(_)) {
                        order.push(node_id(node));
                    }
                }
            }
        }
        order
    }
}

/// Rougail's converter of a type (`CONVERT_OPTION[type]["func"]`): types with
/// different converters cannot be copied into one another.
fn converter(type_name: &str) -> u8 {
    match type_name {
        "integer" | "number" | "unix_permissions" => 1,
        "float" => 2,
        "boolean" => 3,
        _ => 0,
    }
}

fn collect_prop_deps(p: &Prop, out: &mut Vec<NodeId>) {
    if let Prop::Calc(c) = p {
        collect_calc_deps(c, out);
    }
}

fn collect_calc_deps(c: &Calc, out: &mut Vec<NodeId>) {
    match &c.kind {
        CalcKind::Variable(r) => {
            if let Some(t) = &r.target {
                out.push(t.node);
            }
        }
        CalcKind::Jinja(j) => {
            for (_, r) in &j.vars {
                if let Some(t) = &r.target {
                    out.push(t.node);
                }
            }
            for (_, p) in &j.params {
                if let Param::Variable(r) = p {
                    if let Some(t) = &r.target {
                        out.push(t.node);
                    }
                }
            }
        }
        CalcKind::Information {
            variable: Some(t), ..
        } => out.push(t.node),
        _ => {}
    }
}

/// The position in the file of byte `offset` of a jinja text whose value starts at `mark`.
fn offset_mark(text: &str, mark: Mark, source: &str, offset: usize) -> Mark {
    // Single-line plain or quoted scalars: the offset is on the same line.
    let prefix = &source[..offset.min(source.len())];
    if !prefix.contains('\n') {
        let line = text.lines().nth(mark.line.saturating_sub(1)).unwrap_or("");
        let rest: String = line.chars().skip(mark.column.saturating_sub(1)).collect();
        let quoted = rest.starts_with('\'') || rest.starts_with('"');
        if rest.starts_with('|') || rest.starts_with('>') {
            // block scalar: content starts on the next line, indented
            let next = text.lines().nth(mark.line).unwrap_or("");
            let indent = next.chars().take_while(|c| *c == ' ').count();
            return Mark {
                line: mark.line + 1,
                column: indent + 1 + prefix.chars().count(),
            };
        }
        return Mark {
            line: mark.line,
            column: mark.column + usize::from(quoted) + prefix.chars().count(),
        };
    }
    let line_offset = prefix.matches('\n').count();
    let after = prefix.rsplit('\n').next().unwrap_or("");
    let next = text.lines().nth(mark.line + line_offset).unwrap_or("");
    let indent = next.chars().take_while(|c| *c == ' ').count();
    Mark {
        line: mark.line + 1 + line_offset,
        column: indent + 1 + after.chars().count(),
    }
}
