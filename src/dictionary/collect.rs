//! First pass of the loader: parsed YAML files → declarations ([`Decl`]), one
//! per path, with their raw attributes merged across files (`redefine`,
//! `exists`) and their children in definition order. Decides what is a family
//! and what is a variable with Rougail's rule (attribute shapes), splits family
//! attributes from children, and turns shorthand forms into attributes.
//! Pure; every problem becomes a diagnostic and loading goes on.

use std::sync::Arc;

use foldhash::HashMap;

use crate::diagnostic::Diagnostic;
use crate::dictionary::Files;
use crate::dictionary::types::TYPE_NAMES;
use crate::dictionary::yaml::{Entry, Mark, Yaml, YamlKind};

/// Calculation types (`type:` of a calculation mapping).
pub(crate) const CALCULATION_TYPES: &[&str] = &[
    "jinja",
    "information",
    "variable",
    "identifier",
    "suffix",
    "index",
    "namespace",
];

/// One attribute as written: its YAML and the file it comes from.
#[derive(Debug, Clone)]
pub(crate) struct Attr {
    /// Shared: the builder reads attributes many times and clones them freely.
    pub(crate) value: Arc<Yaml>,
    pub(crate) file: usize,
    /// Position of the key (the value's own mark is in `value`).
    pub(crate) key_mark: Mark,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeclKind {
    Family,
    Variable,
}

/// A family or variable as declared (attributes not interpreted yet).
#[derive(Debug, Clone)]
pub(crate) struct Decl {
    pub(crate) kind: DeclKind,
    pub(crate) name: String,
    pub(crate) path: String,
    /// Attributes (leading `_` removed), later definitions override earlier ones.
    pub(crate) attrs: Vec<(AttrName, Attr)>,
    pub(crate) children: Vec<usize>,
    pub(crate) file: usize,
    pub(crate) mark: Mark,
    /// `family`, `leadership`, `sequence`, `dynamic`, a variable type, or none.
    pub(crate) user_type: Option<String>,
    pub(crate) in_dynamic: bool,
    /// Index of the namespace (0 = main).
    pub(crate) namespace: usize,
    pub(crate) namespace_root: bool,
    pub(crate) version: &'static str,
}

impl Decl {
    pub(crate) fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, a)| a)
    }

    fn set_attr(&mut self, name: AttrName, attr: Attr) {
        if let Some(slot) = self.attrs.iter_mut().find(|(k, _)| *k == name) {
            slot.1 = attr;
        } else {
            self.attrs.push((name, attr));
        }
    }
}

/// The declarations of every file.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    pub(crate) decls: Vec<Decl>,
    pub(crate) roots: Vec<usize>,
    pub(crate) by_path: HashMap<String, usize>,
}

/// A namespace to load: its name (`None` = no namespace) and its files (indexes in `Files`).
pub(crate) struct NamespaceFiles {
    pub(crate) name: Option<String>,
    pub(crate) files: Vec<usize>,
}

pub(crate) struct Collector<'a> {
    files: &'a Files,
    out: Collected,
    pub(crate) diags: Vec<Diagnostic>,
    version: &'static str,
    namespace: usize,
}

/// Which attribute set ("object" in Rougail) a mapping is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Object {
    Variable,
    SymLink,
    Choices,
    Regexp,
    Dynamic,
    Family,
}

const VARIABLE_ATTRS: &[&str] = &[
    "auto_save",
    "default",
    "description",
    "disabled",
    "empty",
    "examples",
    "exists",
    "frozen",
    "help",
    "hidden",
    "mandatory",
    "mode",
    "multi",
    "namespace",
    "params",
    "redefine",
    "secret_manager",
    "tags",
    "test",
    "type",
    "unique",
    "validators",
    "version",
    "warnings",
];
/// An attribute name: one of the known ones (not copied) or as written.
pub(crate) type AttrName = std::borrow::Cow<'static, str>;

/// The name of an attribute, shared when it is a known one.
fn attr_name_of(key: &str) -> AttrName {
    VARIABLE_ATTRS
        .iter()
        .chain(OTHER_ATTRS)
        .find(|known| **known == key)
        .map_or_else(
            || AttrName::Owned(key.to_owned()),
            |known| AttrName::Borrowed(known),
        )
}

/// Attributes of other objects than variables (families, choices, dynamic
/// families, symbolic links).
const OTHER_ATTRS: &[&str] = &["choices", "regexp", "dynamic", "opt", "variable"];

const FAMILY_ATTRS: &[&str] = &[
    "description",
    "disabled",
    "exists",
    "help",
    "hidden",
    "mode",
    "namespace",
    "redefine",
    "tags",
    "type",
    "version",
];

impl Object {
    fn has_attr(self, key: &str) -> bool {
        match self {
            Self::Variable => VARIABLE_ATTRS.contains(&key),
            Self::Choices => key == "choices" || VARIABLE_ATTRS.contains(&key),
            Self::Regexp => key == "regexp" || VARIABLE_ATTRS.contains(&key),
            Self::SymLink => matches!(
                key,
                "exists" | "namespace" | "opt" | "redefine" | "type" | "version"
            ),
            Self::Family => FAMILY_ATTRS.contains(&key),
            Self::Dynamic => key == "dynamic" || FAMILY_ATTRS.contains(&key),
        }
    }

    fn is_variable(self) -> bool {
        matches!(
            self,
            Self::Variable | Self::SymLink | Self::Choices | Self::Regexp
        )
    }

    fn literal(self, key: &str) -> Option<&'static [&'static str]> {
        if key != "type" {
            return None;
        }
        match self {
            Self::Choices => Some(&["choice"]),
            Self::Regexp => Some(&["regexp"]),
            Self::SymLink => Some(&["symlink"]),
            Self::Dynamic => Some(&["dynamic"]),
            Self::Family => Some(&["family", "leadership", "sequence"]),
            Self::Variable => None,
        }
    }

    fn strings(self, key: &str) -> bool {
        match self {
            Self::Variable => matches!(
                key,
                "description" | "help" | "mode" | "type" | "default" | "namespace" | "version"
            ),
            Self::Choices => matches!(
                key,
                "description" | "help" | "mode" | "default" | "namespace" | "version"
            ),
            Self::Regexp => matches!(
                key,
                "description" | "help" | "mode" | "default" | "namespace" | "version" | "regexp"
            ),
            Self::SymLink => matches!(key, "namespace" | "version"),
            Self::Family | Self::Dynamic => {
                matches!(
                    key,
                    "description" | "help" | "mode" | "namespace" | "version"
                )
            }
        }
    }

    fn booleans(self, key: &str) -> bool {
        match self {
            Self::Variable | Self::Choices | Self::Regexp => matches!(
                key,
                "redefine"
                    | "exists"
                    | "multi"
                    | "warnings"
                    | "default"
                    | "auto_save"
                    | "mandatory"
                    | "empty"
                    | "unique"
                    | "hidden"
                    | "disabled"
                    | "frozen"
            ),
            Self::SymLink => matches!(key, "redefine" | "exists"),
            Self::Family | Self::Dynamic => {
                matches!(key, "redefine" | "exists" | "hidden" | "disabled")
            }
        }
    }

    fn scalar_default(self, key: &str) -> bool {
        self.is_variable() && self != Self::SymLink && key == "default"
    }

    fn calculation(self, key: &str) -> bool {
        match self {
            Self::Variable | Self::Regexp => matches!(
                key,
                "identifier" | "default" | "mandatory" | "empty" | "hidden" | "disabled" | "frozen"
            ),
            Self::Choices => matches!(
                key,
                "identifier"
                    | "default"
                    | "mandatory"
                    | "empty"
                    | "hidden"
                    | "disabled"
                    | "frozen"
                    | "choices"
            ),
            Self::SymLink => key == "identifier",
            Self::Family => matches!(key, "hidden" | "disabled"),
            Self::Dynamic => matches!(key, "hidden" | "disabled" | "dynamic"),
        }
    }

    /// (list of strings, list of other scalars, list of calculations)
    fn lists(self, key: &str) -> (bool, bool, bool) {
        match self {
            Self::Variable | Self::Regexp => (
                matches!(key, "tags" | "examples" | "test" | "default"),
                matches!(key, "examples" | "test" | "default"),
                matches!(key, "identifier" | "validators" | "default"),
            ),
            Self::Choices => (
                matches!(key, "tags" | "examples" | "test" | "default" | "choices"),
                matches!(key, "examples" | "test" | "default" | "choices"),
                matches!(key, "identifier" | "validators" | "default" | "choices"),
            ),
            Self::SymLink => (false, false, key == "identifier"),
            Self::Family => (key == "tags", false, false),
            Self::Dynamic => (matches!(key, "tags" | "dynamic"), false, key == "dynamic"),
        }
    }

    fn params(self, key: &str) -> bool {
        matches!(self, Self::Variable | Self::Choices | Self::Regexp) && key == "params"
    }

    fn for_variable_type(user_type: &str) -> Option<Self> {
        match user_type {
            "choice" => Some(Self::Choices),
            "regexp" => Some(Self::Regexp),
            "symlink" => Some(Self::SymLink),
            t if TYPE_NAMES.contains(&t) && t != "choice" && t != "regexp" => Some(Self::Variable),
            _ => None,
        }
    }
}

/// Whether a mapping is a calculation (Rougail's `manage_calculation_type`).
pub(crate) fn is_calculation_mapping(value: &Yaml) -> bool {
    let Some(entries) = value.as_map() else {
        return false;
    };
    if let Some(t) = value.get("type") {
        return t.as_str().is_some_and(|t| CALCULATION_TYPES.contains(&t));
    }
    calculation_type(entries).is_some()
}

/// The calculation type implied by the keys of a mapping without `type`.
pub(crate) fn calculation_type(entries: &[Entry]) -> Option<&'static str> {
    let present: Vec<&'static str> = CALCULATION_TYPES
        .iter()
        .copied()
        .filter(|t| entries.iter().any(|e| e.key.as_str() == Some(t)))
        .collect();
    match present.as_slice() {
        [one] => Some(one),
        ["information", "variable"] | ["variable", "information"] => Some("information"),
        ["variable", "identifier"] | ["identifier", "variable"] => Some("variable"),
        _ => None,
    }
}

fn is_python_int(value: &Yaml) -> bool {
    matches!(value.kind, YamlKind::Int(_) | YamlKind::Bool(_))
}

/// Rougail's `parameter_is_an_attributes`: does this value fit attribute `key`?
fn fits(object: Object, key: &str, value: &Yaml) -> bool {
    if value.is_null() {
        return true;
    }
    if let (Some(lits), Some(s)) = (object.literal(key), value.as_str()) {
        if lits.contains(&s) {
            return true;
        }
    }
    match &value.kind {
        YamlKind::Str(_) if object.strings(key) => return true,
        YamlKind::Bool(_) if object.booleans(key) => return true,
        _ => {}
    }
    if object.scalar_default(key)
        && (is_python_int(value) || matches!(value.kind, YamlKind::Float(_)))
    {
        return true;
    }
    match &value.kind {
        YamlKind::Map(_) => {
            if object.calculation(key) {
                return is_calculation_mapping(value);
            }
            if object.params(key) {
                return true;
            }
            false
        }
        YamlKind::Seq(items) => {
            let (strings, scalars, calcs) = object.lists(key);
            let remaining: Vec<&Yaml> = items
                .iter()
                .filter(|item| {
                    let removed = match &item.kind {
                        YamlKind::Null => strings || scalars,
                        YamlKind::Str(_) => strings,
                        YamlKind::Bool(_) | YamlKind::Int(_) | YamlKind::Float(_) => scalars,
                        _ => false,
                    };
                    !removed
                })
                .collect();
            if remaining.is_empty() {
                return true;
            }
            if calcs {
                return remaining
                    .iter()
                    .all(|v| !matches!(v.kind, YamlKind::Map(_)) || is_calculation_mapping(v));
            }
            false
        }
        _ => false,
    }
}

fn attr_name(key: &str) -> &str {
    key.strip_prefix('_').unwrap_or(key)
}

impl<'a> Collector<'a> {
    /// A collector for about `expected` declarations (a capacity hint).
    pub(crate) fn new(files: &'a Files, expected: usize) -> Self {
        let mut out = Collected::default();
        out.decls.reserve(expected);
        out.by_path.reserve(expected);
        Self {
            files,
            out,
            diags: Vec::new(),
            version: "",
            namespace: 0,
        }
    }

    pub(crate) fn finish(self) -> (Collected, Vec<Diagnostic>) {
        (self.out, self.diags)
    }

    fn error(&mut self, file: usize, mark: Mark, message: impl Into<String>) {
        self.diags.push(self.files.error(file, mark, message));
    }

    pub(crate) fn warning(&mut self, file: usize, mark: Mark, message: impl Into<String>) {
        self.diags.push(self.files.warning(file, mark, message));
    }

    /// Start one namespace: its family (when named), the parent of the nodes
    /// of its files (then given one by one to [`Self::file`]).
    pub(crate) fn namespace(&mut self, index: usize, ns: &NamespaceFiles) -> Option<usize> {
        self.namespace = index;
        ns.name.as_ref().map(|name| {
            let path = crate::dictionary::normalize_identifier(name);
            let id = self.out.decls.len();
            let file = ns.files.first().copied().unwrap_or(usize::MAX);
            self.out.decls.push(Decl {
                kind: DeclKind::Family,
                name: path.clone(),
                path: path.clone(),
                attrs: vec![(
                    AttrName::Borrowed("description"),
                    Attr {
                        value: Arc::new(Yaml {
                            kind: YamlKind::Str(name.clone()),
                            mark: Mark::default(),
                            style: crate::dictionary::yaml::Style::Quoted,
                        }),
                        file,
                        key_mark: Mark::default(),
                    },
                )],
                children: Vec::new(),
                file,
                mark: Mark { line: 1, column: 1 },
                user_type: Some("family".to_owned()),
                in_dynamic: false,
                namespace: index,
                namespace_root: true,
                version: "1.1",
            });
            self.out.by_path.insert(path, id);
            self.out.roots.push(id);
            id
        })
    }

    /// Collect the nodes of one file of the current namespace.
    pub(crate) fn file(&mut self, file: usize, doc: Yaml, parent: Option<usize>) {
        let Some(entries) = doc.as_map() else {
            self.error(
                file,
                doc.mark,
                format!("a dictionary must be a mapping, not {}", doc.kind_name()),
            );
            return;
        };
        // `_version` is the version when present; `version` is then a variable.
        let version_key = if entries.iter().any(|e| e.key.as_str() == Some("_version")) {
            "_version"
        } else {
            "version"
        };
        let mut version = None;
        for entry in entries {
            if entry.key.as_str() == Some(version_key) {
                let v = match &entry.value.kind {
                    YamlKind::Str(s) => Some(s.clone()),
                    YamlKind::Float(f) => Some(crate::dictionary::value::python_float(*f)),
                    YamlKind::Int(i) => Some(i.to_string()),
                    _ => None,
                };
                match v.as_deref() {
                    Some("1.0") => version = Some("1.0"),
                    Some("1.1") => version = Some("1.1"),
                    _ => {
                        self.error(
                            file,
                            entry.value.mark,
                            format!(
                                "unsupported format version `{}`, expected `1.0` or `1.1`",
                                entry.value.scalar_text()
                            ),
                        );
                        return;
                    }
                }
            }
        }
        let Some(version) = version else {
            self.error(
                file,
                doc.mark,
                "missing `version: 1.1` at the top of the dictionary",
            );
            return;
        };
        self.version = version;
        let YamlKind::Map(entries) = doc.kind else {
            return;
        };
        for entry in entries {
            if entry.key.as_str() == Some(version_key) {
                continue;
            }
            self.node(file, entry, parent);
        }
    }

    fn is_sequence(&self, parent: Option<usize>) -> bool {
        parent.is_some_and(|p| {
            matches!(
                self.out.decls[p].user_type.as_deref(),
                Some("leadership" | "sequence")
            ) && self.out.decls[p].kind == DeclKind::Family
        })
    }

    fn is_dynamic(&self, parent: Option<usize>) -> bool {
        parent.is_some_and(|p| {
            self.out.decls[p].in_dynamic
                || self.out.decls[p].user_type.as_deref() == Some("dynamic")
        })
    }

    /// One `name: value` entry: a family or a variable.
    #[allow(clippy::too_many_lines)]
    fn node(&mut self, file: usize, entry: Entry, parent: Option<usize>) {
        let key_mark = entry.key.mark;
        let Some(raw_name) = entry.key.as_str() else {
            self.error(
                file,
                key_mark,
                format!("the key `{}` is not a string", entry.key.scalar_text()),
            );
            return;
        };
        let mut name = raw_name.to_owned();
        let parent_path = parent.map(|p| self.out.decls[p].path.clone());
        let make_path = |name: &str| match &parent_path {
            Some(p) => format!("{p}.{name}"),
            None => name.to_owned(),
        };
        if name.starts_with('_') {
            self.error(
                file,
                key_mark,
                format!(
                    "the variable or family `{}` is incorrect, it must not start with `_`",
                    make_path(&name)
                ),
            );
            return;
        }
        if name.contains('.') {
            self.error(
                file,
                key_mark,
                format!("the name `{name}` must not contain `.`"),
            );
            return;
        }
        let value = &entry.value;
        let mut path = make_path(&name);
        let in_sequence = self.is_sequence(parent);
        let in_dynamic = self.is_dynamic(parent);

        // 1. Which kind, and which attribute set.
        let mut user_type: Option<String> = None;
        let mut kind: Option<DeclKind> = None;
        let mut object: Option<Object> = None;
        let mut check_extra_keys = true;
        let mapping = value.as_map();
        if mapping.is_some() {
            for type_key in ["_type", "type"] {
                let Some(t) = value.get(type_key).and_then(Yaml::as_str) else {
                    continue;
                };
                user_type = Some(t.to_owned());
                match t {
                    "family" | "leadership" | "sequence" => {
                        kind = Some(DeclKind::Family);
                        object = Some(Object::Family);
                    }
                    "dynamic" => {
                        kind = Some(DeclKind::Family);
                        object = Some(Object::Dynamic);
                    }
                    t => {
                        if let Some(o) = Object::for_variable_type(t) {
                            kind = Some(DeclKind::Variable);
                            object = Some(o);
                        } else {
                            let mark = value.get(type_key).map_or(key_mark, |v| v.mark);
                            self.error(
                                file,
                                mark,
                                format!("the type `{t}` for `{path}` is unknown"),
                            );
                            return;
                        }
                    }
                }
                break;
            }
            if user_type.is_none() {
                for dyn_key in ["_dynamic", "dynamic"] {
                    if value
                        .get(dyn_key)
                        .is_some_and(|v| matches!(v.kind, YamlKind::Seq(_) | YamlKind::Map(_)))
                    {
                        user_type = Some("dynamic".to_owned());
                        kind = Some(DeclKind::Family);
                        object = Some(Object::Dynamic);
                        break;
                    }
                }
            }
        } else {
            kind = Some(DeclKind::Variable);
            object = Some(Object::Variable);
        }
        // Dynamic family names (deprecated forms).
        if user_type.as_deref() == Some("dynamic") && !name.contains("{{ identifier }}") {
            if name.contains("{{ suffix }}") {
                name = name.replace("{{ suffix }}", "{{ identifier }}");
                path = make_path(&name);
            } else if value.get("variable").is_some() {
                name.push_str("{{ identifier }}");
                path = make_path(&name);
            } else {
                self.error(
                    file,
                    key_mark,
                    format!("dynamic family name must have `{{{{ identifier }}}}` in its name for `{path}`"),
                );
                return;
            }
        }
        let existing = self.out.by_path.get(&path).copied();
        if let Some(existing) = existing {
            let old_kind = self.out.decls[existing].kind;
            if let Some(k) = kind {
                if k != old_kind && user_type.is_some() {
                    let (a, b) = match k {
                        DeclKind::Family => ("family", "variable"),
                        DeclKind::Variable => ("variable", "family"),
                    };
                    self.error(
                        file,
                        key_mark,
                        format!("the {b} `{path}` is redefined as a {a}, which is not allowed"),
                    );
                    return;
                }
            }
            kind = Some(old_kind);
            check_extra_keys = user_type.is_some();
            if user_type.is_none() {
                let old = &self.out.decls[existing];
                user_type.clone_from(&old.user_type);
                object = Some(match old_kind {
                    DeclKind::Family => {
                        if old.user_type.as_deref() == Some("dynamic") {
                            Object::Dynamic
                        } else {
                            Object::Family
                        }
                    }
                    DeclKind::Variable => old
                        .user_type
                        .as_deref()
                        .and_then(Object::for_variable_type)
                        .unwrap_or(Object::Variable),
                });
                if old_kind == DeclKind::Variable && mapping.is_none() {
                    object = Some(Object::Variable);
                }
            }
        }
        if kind.is_none() {
            if let Some(o) = find_variable_object(value) {
                kind = Some(DeclKind::Variable);
                object = Some(o);
                check_extra_keys = false;
            } else if in_sequence {
                self.error(
                    file,
                    key_mark,
                    format!("`{path}` seems to be a family, which is not allowed in a sequence"),
                );
                return;
            } else {
                kind = Some(DeclKind::Family);
                object = Some(Object::Family);
            }
        } else if kind == Some(DeclKind::Variable) && user_type.is_some() && existing.is_none() {
            // explicit type: every key must be an attribute (error 65)
            check_extra_keys = true;
        }
        let (Some(kind), Some(object)) = (kind, object) else {
            return;
        };
        if kind == DeclKind::Family && in_sequence && existing.is_none() {
            self.error(
                file,
                key_mark,
                format!("`{path}` is a family, a sequence may contain only variables"),
            );
            return;
        }

        // 2. Attributes (and children for families).
        let mut attrs: Vec<(AttrName, Attr)> = Vec::new();
        let mut children: Vec<Entry> = Vec::new();
        let Entry { value, comment, .. } = entry;
        // The entries are moved into attributes and children (no copy).
        let (value, entries) = match value.kind {
            YamlKind::Map(entries) => (
                Yaml {
                    kind: YamlKind::Map(Vec::new()),
                    ..value
                },
                Some(entries),
            ),
            _ => (value, None),
        };
        match kind {
            DeclKind::Variable => match entries {
                Some(entries) => {
                    for e in entries {
                        let Some(k) = e.key.as_str() else {
                            self.error(
                                file,
                                e.key.mark,
                                format!("the key `{}` is not a string", e.key.scalar_text()),
                            );
                            continue;
                        };
                        let k = attr_name(k);
                        if check_extra_keys && !object.has_attr(k) {
                            self.error(
                                file,
                                e.key.mark,
                                format!("`{path}` is not a valid variable, there is an unknown attribute `{k}`"),
                            );
                            continue;
                        }
                        attrs.push((
                            attr_name_of(k),
                            Attr {
                                value: Arc::new(e.value),
                                file,
                                key_mark: e.key.mark,
                            },
                        ));
                    }
                }
                None => {
                    attrs.push((
                        AttrName::Borrowed("default"),
                        Attr {
                            value: Arc::new(value),
                            file,
                            key_mark,
                        },
                    ));
                    if self.version != "1.0" {
                        if let Some(c) = comment {
                            attrs.push((
                                AttrName::Borrowed("description"),
                                Attr {
                                    value: Arc::new(Yaml {
                                        kind: YamlKind::Str(c),
                                        mark: key_mark,
                                        style: crate::dictionary::yaml::Style::Quoted,
                                    }),
                                    file,
                                    key_mark,
                                },
                            ));
                        }
                    }
                }
            },
            DeclKind::Family => {
                let entries = entries.unwrap_or_default();
                let has_dynamic_key = entries
                    .iter()
                    .any(|e| matches!(e.key.as_str(), Some("dynamic" | "_dynamic")));
                let mut consumed_variable = false;
                if user_type.as_deref() == Some("dynamic") && !has_dynamic_key {
                    if let Some(v) = entries.iter().find(|e| e.key.as_str() == Some("variable")) {
                        consumed_variable = true;
                        self.warning(
                            file,
                            v.key.mark,
                            format!("`variable` attribute in dynamic family `{path}` is deprecated, use `dynamic: {{variable: …}}`"),
                        );
                        attrs.push((
                            AttrName::Borrowed("dynamic"),
                            Attr {
                                value: Arc::new(legacy_dynamic_variable(&v.value)),
                                file,
                                key_mark: v.key.mark,
                            },
                        ));
                    }
                }
                let mut sub_variables: Vec<String> = entries
                    .iter()
                    .filter_map(|e| e.key.as_str())
                    .filter_map(|k| k.strip_prefix('_'))
                    .filter(|k| entries.iter().any(|e| e.key.as_str() == Some(k)))
                    .map(str::to_owned)
                    .collect();
                if let Some(existing) = existing {
                    for c in &self.out.decls[existing].children {
                        sub_variables.push(self.out.decls[*c].name.clone());
                    }
                }
                for e in entries {
                    let Some(k) = e.key.as_str() else {
                        self.error(
                            file,
                            e.key.mark,
                            format!(
                                "the key `{}` is not in string format for family `{path}`",
                                e.key.scalar_text()
                            ),
                        );
                        continue;
                    };
                    if consumed_variable && k == "variable" {
                        continue;
                    }
                    if let Some(a) = k.strip_prefix('_') {
                        let a = attr_name_of(a);
                        attrs.push((
                            a,
                            Attr {
                                value: Arc::new(e.value),
                                file,
                                key_mark: e.key.mark,
                            },
                        ));
                    } else if !object.has_attr(k)
                        || sub_variables.iter().any(|s| s == k)
                        || !fits(object, k, &e.value)
                    {
                        children.push(e);
                    } else {
                        let k = attr_name_of(k);
                        attrs.push((
                            k,
                            Attr {
                                value: Arc::new(e.value),
                                file,
                                key_mark: e.key.mark,
                            },
                        ));
                    }
                }
                if self.version != "1.0" && attrs.is_empty() {
                    if let Some(c) = comment {
                        attrs.push((
                            AttrName::Borrowed("description"),
                            Attr {
                                value: Arc::new(Yaml {
                                    kind: YamlKind::Str(c),
                                    mark: key_mark,
                                    style: crate::dictionary::yaml::Style::Quoted,
                                }),
                                file,
                                key_mark,
                            },
                        ));
                    }
                }
            }
        }
        // `redefine` and `exists` are instructions, not attributes.
        let take_flag = |attrs: &mut Vec<(AttrName, Attr)>, name: &str| -> Option<Option<bool>> {
            let pos = attrs.iter().position(|(k, _)| k == name)?;
            let (_, a) = attrs.remove(pos);
            Some(match a.value.kind {
                YamlKind::Bool(b) => Some(b),
                _ => None,
            })
        };
        let redefine_attr = take_flag(&mut attrs, "redefine");
        let exists = if self.version == "1.0" && kind == DeclKind::Family {
            take_flag(&mut attrs, "exists");
            None
        } else {
            take_flag(&mut attrs, "exists").flatten()
        };
        let redefine = redefine_attr.flatten().unwrap_or(false)
            || (existing.is_some() && kind == DeclKind::Family && attrs.is_empty());

        // 3. Create or merge.
        let id = match existing {
            None => {
                if exists == Some(true) {
                    return;
                }
                if redefine && (kind == DeclKind::Variable || exists.is_none()) {
                    let what = match kind {
                        DeclKind::Variable => "variable",
                        DeclKind::Family => "family",
                    };
                    self.error(
                        file,
                        key_mark,
                        format!("cannot redefine the inexisting {what} `{path}`"),
                    );
                    return;
                }
                let id = self.out.decls.len();
                self.out.decls.push(Decl {
                    kind,
                    name,
                    path: path.clone(),
                    attrs,
                    children: Vec::new(),
                    file,
                    mark: key_mark,
                    user_type,
                    in_dynamic,
                    namespace: self.namespace,
                    namespace_root: false,
                    version: self.version,
                });
                self.out.by_path.insert(path, id);
                match parent {
                    Some(p) => self.out.decls[p].children.push(id),
                    None => self.out.roots.push(id),
                }
                id
            }
            Some(existing) => {
                match kind {
                    DeclKind::Variable => {
                        if exists == Some(false) {
                            return;
                        }
                        if !redefine {
                            self.error(
                                file,
                                key_mark,
                                format!("variable `{path}` is defined several times (add `redefine: true` to change it)"),
                            );
                            return;
                        }
                    }
                    DeclKind::Family => {
                        if exists != Some(false) && !redefine {
                            self.error(
                                file,
                                key_mark,
                                format!("family `{path}` is defined several times (add `redefine: true` to change it)"),
                            );
                            return;
                        }
                        if exists == Some(false) {
                            attrs.clear();
                        }
                    }
                }
                let decl = &mut self.out.decls[existing];
                if kind == DeclKind::Variable && user_type.is_some() {
                    decl.user_type.clone_from(&user_type);
                }
                if kind == DeclKind::Family && user_type.is_some() && !attrs.is_empty() {
                    decl.user_type.clone_from(&user_type);
                }
                for (k, a) in attrs {
                    decl.set_attr(k, a);
                }
                existing
            }
        };
        // 4. Children of a family.
        if kind == DeclKind::Family {
            for child in children {
                self.node(file, child, Some(id));
            }
        }
    }
}

/// The deprecated `type: dynamic` + `variable: path` form, as a calculation.
fn legacy_dynamic_variable(value: &Yaml) -> Yaml {
    let key = |k: &str| Yaml {
        kind: YamlKind::Str(k.to_owned()),
        mark: value.mark,
        style: crate::dictionary::yaml::Style::Plain,
    };
    Yaml {
        kind: YamlKind::Map(vec![
            Entry {
                key: key("type"),
                value: key("variable"),
                comment: None,
            },
            Entry {
                key: key("variable"),
                value: value.clone(),
                comment: None,
            },
            Entry {
                key: key("propertyerror"),
                value: Yaml {
                    kind: YamlKind::Bool(false),
                    mark: value.mark,
                    style: crate::dictionary::yaml::Style::Plain,
                },
                comment: None,
            },
        ]),
        mark: value.mark,
        style: crate::dictionary::yaml::Style::Collection,
    }
}

/// Rougail's `find_variable_object`: the first variable attribute set every key fits.
fn find_variable_object(value: &Yaml) -> Option<Object> {
    let entries = value.as_map()?;
    [
        Object::Variable,
        Object::SymLink,
        Object::Choices,
        Object::Regexp,
    ]
    .into_iter()
    .find(|object| {
        entries.iter().all(|e| {
            e.key
                .as_str()
                .is_some_and(|k| object.has_attr(k) && fits(*object, k, &e.value))
        })
    })
}
