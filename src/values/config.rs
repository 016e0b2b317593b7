//! [`Config`]: the resolved configuration — every family and variable
//! instance in definition order with its value and properties, and every
//! problem found. Gives the views others use: [`Config::flat`] (spec part B,
//! what `show --json` prints), [`Config::tree`] (the template context),
//! [`Config::dynamic_instances`], [`Config::get`] and per-entry metadata.
//! Pure data; built only by `values::resolve`.

use foldhash::{HashMap, HashMapExt};
use serde_json::{Map, Value as Json};

use crate::dictionary::schema::{Default, FamilyKind, Item, Mode, NodeId, NodeKind, Role, Schema};
use crate::dictionary::value::Value;
use crate::render::configuration::DynamicInstance;
use crate::values::json::write_python_json;
use crate::values::raw::RawValues;

/// What kind of problem an [`Issue`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IssueKind {
    /// A value refused (wrong type, not in choices, refused by a validator…).
    InvalidValue,
    /// A mandatory variable without value.
    Mandatory,
    /// A calculation that could not be evaluated.
    Calculation,
    /// A path of the values file that is not a variable.
    UnknownVariable,
    /// Accepted, with a warning.
    Warning,
}

/// One problem, located by variable path (and index for followers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub kind: IssueKind,
    pub path: String,
    pub index: Option<usize>,
    pub message: String,
    /// Where in the dictionaries the failing calculation (or the refused
    /// default) is written, when the problem comes from there.
    pub span: Option<crate::diagnostic::Span>,
}

impl Issue {
    #[must_use]
    pub fn is_error(&self) -> bool {
        !matches!(self.kind, IssueKind::Warning | IssueKind::UnknownVariable)
    }
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.index {
            Some(i) => write!(f, "`{}` (index {i}): {}", self.path, self.message),
            None => write!(f, "`{}`: {}", self.path, self.message),
        }
    }
}

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Family,
    Variable,
    Leader,
    Follower,
}

/// One family or variable instance.
#[derive(Debug, Clone)]
pub struct Entry {
    pub node: NodeId,
    /// Concrete path (dynamic instances named).
    pub path: String,
    /// Index of the enclosing family entry.
    pub parent: Option<usize>,
    /// For a dynamic family instance: its identifier (as given, not normalised).
    pub identifier: Option<String>,
    /// Identifiers of every enclosing dynamic family, outermost first.
    pub identifiers: Vec<String>,
    pub disabled: bool,
    pub hidden: bool,
    pub frozen: bool,
    pub mandatory: bool,
    /// The value comes from the values file.
    pub user_set: bool,
    pub kind: EntryKind,
    /// The value; for a follower, the list of its values per leader index.
    pub value: Value,
    /// For a follower: which indexes are disabled.
    pub rows_disabled: Vec<bool>,
    /// Resolved choices of a `choice` variable.
    pub choices: Option<Vec<Value>>,
}

/// Why `get` cannot give a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("unknown variable `{0}`")]
    Unknown(String),
    #[error("`{0}` is disabled")]
    Disabled(String),
    #[error("`{0}` is a family, not a variable")]
    Family(String),
}

/// Entries by concrete path, without a second copy of every path: the
/// table holds entry indexes, hashed and compared through the entries.
#[derive(Clone, Default)]
pub(crate) struct PathIndex {
    table: hashbrown::HashTable<usize>,
    hasher: foldhash::fast::RandomState,
}

impl std::fmt::Debug for PathIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PathIndex")
            .field("len", &self.table.len())
            .finish()
    }
}

impl PathIndex {
    /// Index every entry; a path given twice points to its last entry. Also
    /// returns the entries whose path an earlier entry already had.
    pub(crate) fn build(entries: &[Entry]) -> (Self, Vec<usize>) {
        use std::hash::BuildHasher as _;
        let hasher = foldhash::fast::RandomState::default();
        let mut table = hashbrown::HashTable::with_capacity(entries.len());
        let mut repeated = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let hash = hasher.hash_one(entry.path.as_str());
            match table.entry(
                hash,
                |&j: &usize| entries[j].path == entry.path,
                |&j: &usize| hasher.hash_one(entries[j].path.as_str()),
            ) {
                hashbrown::hash_table::Entry::Occupied(mut slot) => {
                    *slot.get_mut() = i;
                    repeated.push(i);
                }
                hashbrown::hash_table::Entry::Vacant(slot) => {
                    slot.insert(i);
                }
            }
        }
        (Self { table, hasher }, repeated)
    }

    fn get(&self, entries: &[Entry], path: &str) -> Option<usize> {
        use std::hash::BuildHasher as _;
        let hash = self.hasher.hash_one(path);
        self.table.find(hash, |&j| entries[j].path == path).copied()
    }
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    schema: Schema,
    entries: Vec<Entry>,
    by_path: PathIndex,
    issues: Vec<Issue>,
    raw: RawValues,
}

impl Config {
    pub(crate) fn new(
        schema: Schema,
        (entries, by_path): (Vec<Entry>, PathIndex),
        issues: Vec<Issue>,
        raw: RawValues,
    ) -> Self {
        Self {
            schema,
            entries,
            by_path,
            issues,
            raw,
        }
    }

    #[must_use]
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The values this configuration was resolved from.
    #[must_use]
    pub fn raw(&self) -> &RawValues {
        &self.raw
    }

    /// Every family and variable instance, depth first in definition order
    /// (disabled ones included, without their subtree).
    #[must_use]
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    #[must_use]
    pub fn entry(&self, path: &str) -> Option<&Entry> {
        self.by_path
            .get(&self.entries, path)
            .map(|i| &self.entries[i])
    }

    /// Errors: refused values, mandatory variables without value, failed calculations.
    pub fn errors(&self) -> impl Iterator<Item = &Issue> {
        self.issues.iter().filter(|i| i.is_error())
    }

    /// Warnings: accepted values with a warning, unknown paths in the values file.
    pub fn warnings(&self) -> impl Iterator<Item = &Issue> {
        self.issues.iter().filter(|i| !i.is_error())
    }

    /// Every issue, in the order found.
    #[must_use]
    pub fn issues(&self) -> &[Issue] {
        &self.issues
    }

    /// Whether an entry is visible (not disabled, no disabled family above).
    fn enabled(&self, index: usize) -> bool {
        let mut cur = Some(index);
        while let Some(i) = cur {
            if self.entries[i].disabled {
                return false;
            }
            cur = self.entries[i].parent;
        }
        true
    }

    /// The effective mode of an entry (for `show --mode`).
    #[must_use]
    pub fn mode(&self, entry: &Entry) -> Mode {
        self.schema.node(entry.node).mode
    }

    /// The value of a variable, or why it cannot be read.
    pub fn get(&self, path: &str) -> Result<&Value, Unreadable> {
        let Some(i) = self.by_path.get(&self.entries, path) else {
            return Err(Unreadable::Unknown(path.to_owned()));
        };
        let e = &self.entries[i];
        if e.kind == EntryKind::Family {
            return Err(Unreadable::Family(path.to_owned()));
        }
        if !self.enabled(i) {
            return Err(Unreadable::Disabled(path.to_owned()));
        }
        Ok(&e.value)
    }

    fn is_secret(&self, e: &Entry) -> bool {
        self.schema
            .variable(e.node)
            .is_some_and(crate::dictionary::Variable::is_secret)
    }

    /// Whether the value of this entry must be masked: a `secret` variable
    /// whose value was set by the administrator or calculated. A secret's
    /// static dictionary default (or null) is printed as written, as Rougail
    /// does: it is in the dictionaries anyway.
    #[must_use]
    pub fn masks(&self, e: &Entry) -> bool {
        let Some(var) = self.schema.variable(e.node) else {
            return false;
        };
        if !var.is_secret() || e.value.is_null() {
            return false;
        }
        if e.user_set {
            return true;
        }
        match &var.default {
            Default::Calc(_) => true,
            Default::Items(items) => items.iter().any(|i| matches!(i, Item::Calc(_))),
            Default::None | Default::Value(_) => false,
        }
    }

    /// The flat view of spec part B: path → value, leaderships as row lists.
    #[must_use]
    pub fn flat(&self) -> Vec<(String, FlatValue)> {
        self.flat_filtered(None, true)
    }

    /// The flat view restricted to a mode (and lower), secrets masked unless asked.
    #[must_use]
    pub fn flat_filtered(
        &self,
        mode: Option<Mode>,
        show_secrets: bool,
    ) -> Vec<(String, FlatValue)> {
        let mut out = Vec::new();
        let mask = |v: &Value| -> Value {
            match v {
                Value::Null => Value::Null,
                Value::List(items) => Value::List(
                    items
                        .iter()
                        .map(|i| {
                            if i.is_null() {
                                Value::Null
                            } else {
                                Value::Str("*".repeat(10))
                            }
                        })
                        .collect(),
                ),
                _ => Value::Str("*".repeat(10)),
            }
        };
        for (i, e) in self.entries.iter().enumerate() {
            if e.kind == EntryKind::Family || e.kind == EntryKind::Follower || !self.enabled(i) {
                continue;
            }
            if let Some(m) = mode {
                if self.mode(e) > m {
                    continue;
                }
            }
            let value = if !show_secrets && self.masks(e) {
                mask(&e.value)
            } else {
                e.value.clone()
            };
            if e.kind == EntryKind::Leader {
                let leaders = value.as_list().map(<[Value]>::to_vec).unwrap_or_default();
                let mut rows: Vec<Vec<(String, Value)>> = leaders
                    .into_iter()
                    .map(|v| vec![(e.path.clone(), v)])
                    .collect();
                // followers are the next entries with the same parent
                for (j, f) in self.entries.iter().enumerate().skip(i + 1) {
                    if f.parent != e.parent {
                        break;
                    }
                    if f.kind != EntryKind::Follower || !self.enabled(j) {
                        continue;
                    }
                    if let Some(m) = mode {
                        if self.mode(f) > m {
                            continue;
                        }
                    }
                    let fv = if !show_secrets && self.masks(f) {
                        mask(&f.value)
                    } else {
                        f.value.clone()
                    };
                    let column = fv.as_list().map(<[Value]>::to_vec).unwrap_or_default();
                    for (idx, row) in rows.iter_mut().enumerate() {
                        if f.rows_disabled.get(idx).copied().unwrap_or(false) {
                            continue;
                        }
                        row.push((
                            f.path.clone(),
                            column.get(idx).cloned().unwrap_or(Value::Null),
                        ));
                    }
                }
                out.push((e.path.clone(), FlatValue::Rows(rows)));
            } else {
                out.push((e.path.clone(), FlatValue::Value(value)));
            }
        }
        out
    }

    /// `show --json`: the flat view printed as Python's `json.dumps(indent=4)`.
    #[must_use]
    pub fn flat_json(&self, mode: Option<Mode>, show_secrets: bool) -> String {
        let mut out = String::new();
        write_python_json(&mut out, &self.flat_filtered(mode, show_secrets));
        out
    }

    /// The template context: nested objects by family, dynamic instances under
    /// their normalised names, leaderships as arrays of rows keyed by short
    /// names, disabled nodes absent, secrets in clear.
    #[must_use]
    pub fn tree(&self) -> Json {
        let mut root = Map::new();
        let mut children: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            children.entry(e.parent).or_default().push(i);
        }
        self.fill(&mut root, None, &children);
        Json::Object(root)
    }

    fn name_of(e: &Entry) -> String {
        e.path.rsplit('.').next().unwrap_or(&e.path).to_owned()
    }

    fn fill(
        &self,
        map: &mut Map<String, Json>,
        parent: Option<usize>,
        children: &HashMap<Option<usize>, Vec<usize>>,
    ) {
        let Some(list) = children.get(&parent) else {
            return;
        };
        for &i in list {
            let e = &self.entries[i];
            if e.disabled {
                continue;
            }
            let name = Self::name_of(e);
            match e.kind {
                EntryKind::Family => {
                    let is_leadership = matches!(
                        &self.schema.node(e.node).kind,
                        NodeKind::Family(f) if matches!(f.kind, FamilyKind::Leadership)
                    );
                    if is_leadership {
                        map.insert(name, self.rows(i, children));
                    } else {
                        let mut sub = Map::new();
                        self.fill(&mut sub, Some(i), children);
                        map.insert(name, Json::Object(sub));
                    }
                }
                _ => {
                    map.insert(name, e.value.to_json());
                }
            }
        }
    }

    fn rows(&self, family: usize, children: &HashMap<Option<usize>, Vec<usize>>) -> Json {
        let Some(list) = children.get(&Some(family)) else {
            return Json::Array(Vec::new());
        };
        let Some(&leader) = list.first() else {
            return Json::Array(Vec::new());
        };
        let le = &self.entries[leader];
        if le.disabled {
            return Json::Array(Vec::new());
        }
        let leaders = le
            .value
            .as_list()
            .map(<[Value]>::to_vec)
            .unwrap_or_default();
        let mut rows: Vec<Map<String, Json>> = leaders
            .iter()
            .map(|v| {
                let mut m = Map::new();
                m.insert(Self::name_of(le), v.to_json());
                m
            })
            .collect();
        for &f in list.iter().skip(1) {
            let fe = &self.entries[f];
            if fe.disabled {
                continue;
            }
            let column = fe
                .value
                .as_list()
                .map(<[Value]>::to_vec)
                .unwrap_or_default();
            for (idx, row) in rows.iter_mut().enumerate() {
                if fe.rows_disabled.get(idx).copied().unwrap_or(false) {
                    continue;
                }
                row.insert(
                    Self::name_of(fe),
                    column.get(idx).map_or(Json::Null, Value::to_json),
                );
            }
        }
        Json::Array(rows.into_iter().map(Json::Object).collect())
    }

    /// The instances of a dynamic family, written with `{{ identifier }}`
    /// (`containers.container_{{ identifier }}`), in identifier order;
    /// `None` when no such dynamic family exists.
    #[must_use]
    pub fn dynamic_instances(&self, pattern: &str) -> Option<Vec<DynamicInstance>> {
        let node = self.schema.lookup(pattern)?;
        let is_dynamic = matches!(
            &self.schema.node(node).kind,
            NodeKind::Family(f) if matches!(f.kind, FamilyKind::Dynamic(_))
        );
        if !is_dynamic {
            return None;
        }
        Some(
            self.entries
                .iter()
                .filter(|e| e.node == node)
                .map(|e| DynamicInstance {
                    identifier: e.identifier.clone().unwrap_or_default(),
                    path: e.path.clone(),
                })
                .collect(),
        )
    }

    /// Every non-empty value of a secret variable (each item of a multi), to
    /// mask them in what brise prints about rendered files (`--diff`).
    #[must_use]
    pub fn secret_values(&self) -> Vec<String> {
        let mut out = Vec::new();
        for entry in &self.entries {
            if entry.kind == EntryKind::Family || !self.is_secret(entry) {
                continue;
            }
            let items = match &entry.value {
                Value::List(items) => items.iter().collect(),
                other => vec![other],
            };
            for item in items {
                let text = item.display();
                if !text.is_empty() && !out.contains(&text) {
                    out.push(text);
                }
            }
        }
        // Longest first, so a secret containing another is masked whole.
        out.sort_by_key(|s| std::cmp::Reverse(s.len()));
        out
    }

    /// `path=value` lines (EOLE's `CreoleGet --list`), secrets masked.
    #[must_use]
    pub fn list_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            if e.kind == EntryKind::Family || !self.enabled(i) {
                continue;
            }
            let value = if self.masks(e) {
                "*".repeat(10)
            } else {
                e.value.display()
            };
            out.push(format!("{}={value}", e.path));
        }
        out
    }

    /// The role of a variable entry in its leadership, and its leader's path.
    #[must_use]
    pub fn role(&self, entry: &Entry) -> Role {
        self.schema
            .variable(entry.node)
            .map_or(Role::Plain, |v| v.role)
    }
}

/// A value of the flat view.
#[derive(Debug, Clone, PartialEq)]
pub enum FlatValue {
    Value(Value),
    /// A leadership: one object per index, full paths as keys.
    Rows(Vec<Vec<(String, Value)>>),
}

impl crate::render::Configuration for Config {
    fn tree(&self) -> Json {
        Self::tree(self)
    }

    fn dynamic_instances(&self, pattern: &str) -> Option<Vec<DynamicInstance>> {
        Self::dynamic_instances(self, pattern)
    }

    fn namespace(&self) -> Option<&str> {
        if !self.schema.has_namespace() {
            return None;
        }
        self.schema
            .roots()
            .first()
            .map(|r| self.schema.node(*r).name.as_str())
    }
}
