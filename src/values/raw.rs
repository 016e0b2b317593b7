//! [`RawValues`]: the values file as the administrator wrote it (Rougail
//! user-data YAML): only what was set, nested by family path, leaderships as
//! lists of row mappings. Parsing keeps positions for messages; editing keeps
//! the order of what was there; [`RawValues::to_yaml`] writes it back.
//! Pure: the thin `load_file` wrapper is the only I/O.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostic::{Diagnostic, Span};
use crate::dictionary::value::Value;
use crate::dictionary::yaml::{self, Yaml, YamlKind};

/// One node of the values tree.
#[derive(Debug, Clone, PartialEq)]
pub enum RawNode {
    Value(Value),
    Map(Vec<(String, Self)>),
    /// A leadership: one mapping per index, keyed by short names.
    Rows(Vec<Vec<(String, Value)>>),
}

/// What the administrator set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawValues {
    root: Vec<(String, RawNode)>,
    /// Where each path was written (for messages).
    spans: HashMap<String, Span>,
    source: Option<(Arc<PathBuf>, String)>,
}

/// A value as the resolver sees it: a path's value, or a leadership column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Slot {
    Value(Value),
    /// One entry per leadership row (`None` = not set in that row).
    Column(Vec<Option<Value>>),
}

/// Why a values file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RawError {
    #[error("cannot read the values file `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(Diagnostic),
    #[error("the values file `{path}` is larger than {limit} bytes")]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("the values file `{path}` is not valid UTF-8 (byte {offset})")]
    NotUtf8 { path: PathBuf, offset: usize },
}

fn from_yaml(node: &Yaml) -> Option<RawNode> {
    match &node.kind {
        YamlKind::Map(entries) => {
            let mut out = Vec::new();
            for e in entries {
                out.push((e.key.scalar_text(), from_yaml(&e.value)?));
            }
            Some(RawNode::Map(out))
        }
        YamlKind::Seq(items)
            if items
                .first()
                .is_some_and(|i| matches!(i.kind, YamlKind::Map(_))) =>
        {
            let mut rows = Vec::new();
            for item in items {
                let entries = item.as_map()?;
                let mut row = Vec::new();
                for e in entries {
                    row.push((
                        e.key.scalar_text(),
                        crate::dictionary::build_value(&e.value)?,
                    ));
                }
                rows.push(row);
            }
            Some(RawNode::Rows(rows))
        }
        _ => crate::dictionary::build_value(node).map(RawNode::Value),
    }
}

fn collect_spans(node: &Yaml, prefix: &str, path: &Arc<PathBuf>, out: &mut HashMap<String, Span>) {
    if let YamlKind::Map(entries) = &node.kind {
        for e in entries {
            let p = if prefix.is_empty() {
                e.key.scalar_text()
            } else {
                format!("{prefix}.{}", e.key.scalar_text())
            };
            out.insert(
                p.clone(),
                Span::new(path.clone(), e.key.mark.line, e.key.mark.column),
            );
            collect_spans(&e.value, &p, path, out);
            // The rows of a leadership: `family.variable[row]`, and the first
            // row's position for the variable itself.
            if let YamlKind::Seq(rows) = &e.value.kind {
                for (index, row) in rows.iter().enumerate() {
                    let YamlKind::Map(fields) = &row.kind else {
                        continue;
                    };
                    for field in fields {
                        let variable = format!("{p}.{}", field.key.scalar_text());
                        let span =
                            Span::new(path.clone(), field.key.mark.line, field.key.mark.column);
                        out.entry(variable.clone()).or_insert_with(|| span.clone());
                        out.insert(format!("{variable}[{index}]"), span);
                    }
                }
            }
        }
    }
}

impl RawValues {
    /// Parse a values file's text (`path` is for messages only).
    pub fn parse(text: &str, path: &Path) -> Result<Self, RawError> {
        let arc = Arc::new(path.to_owned());
        let doc = yaml::parse(text).map_err(|e| {
            RawError::Invalid(
                Diagnostic::error(
                    Some(Span::new(arc.clone(), e.mark.line, e.mark.column)),
                    e.message,
                )
                .with_source(text),
            )
        })?;
        let mut values = Self {
            source: Some((arc.clone(), text.to_owned())),
            ..Self::default()
        };
        let Some(doc) = doc else {
            return Ok(values);
        };
        let invalid = |mark: yaml::Mark, msg: &str| {
            RawError::Invalid(
                Diagnostic::error(Some(Span::new(arc.clone(), mark.line, mark.column)), msg)
                    .with_source(text),
            )
        };
        match from_yaml(&doc) {
            Some(RawNode::Map(root)) => values.root = root,
            Some(_) => {
                return Err(invalid(
                    doc.mark,
                    "the values file must be a mapping of families and variables",
                ));
            }
            None => {
                return Err(invalid(
                    doc.mark,
                    "the values file holds a mapping where a value is expected",
                ));
            }
        }
        collect_spans(&doc, "", &arc, &mut values.spans);
        Ok(values)
    }

    /// Read a values file; an absent file is empty.
    pub fn load_file(path: &Path) -> Result<Self, RawError> {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(RawError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        if meta.len() > crate::dictionary::MAX_FILE_SIZE {
            return Err(RawError::TooLarge {
                path: path.to_owned(),
                limit: crate::dictionary::MAX_FILE_SIZE,
            });
        }
        let bytes = std::fs::read(path).map_err(|source| RawError::Read {
            path: path.to_owned(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| RawError::NotUtf8 {
            path: path.to_owned(),
            offset: e.utf8_error().valid_up_to(),
        })?;
        Self::parse(&text, path)
    }

    /// Where `path` was written, if it came from a file.
    #[must_use]
    pub fn span(&self, path: &str) -> Option<&Span> {
        self.spans.get(path)
    }

    /// The text the values were parsed from, if they came from a file.
    #[must_use]
    pub fn source_text(&self) -> Option<&str> {
        self.source.as_ref().map(|(_, text)| text.as_str())
    }

    /// Where item or row `index` of `path` was written (a leadership's row),
    /// else where `path` was.
    #[must_use]
    pub fn span_at(&self, path: &str, index: Option<usize>) -> Option<&Span> {
        index
            .and_then(|i| self.spans.get(&format!("{path}[{i}]")))
            .or_else(|| self.spans.get(path))
    }

    /// A diagnostic at the place `path` was written (or without position).
    #[must_use]
    pub fn diagnostic(&self, path: &str, message: impl Into<String>, error: bool) -> Diagnostic {
        let span = self.spans.get(path).cloned();
        let d = if error {
            Diagnostic::error(span, message)
        } else {
            Diagnostic::warning(span, message)
        };
        match &self.source {
            Some((_, text)) => d.with_source(text),
            None => d,
        }
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.root.is_empty()
    }

    /// The tree, top level first.
    #[must_use]
    pub fn entries(&self) -> &[(String, RawNode)] {
        &self.root
    }

    /// Every set path → value or column (leaderships flattened per variable).
    pub(crate) fn flatten(&self) -> HashMap<String, Slot> {
        fn walk(prefix: &str, nodes: &[(String, RawNode)], out: &mut HashMap<String, Slot>) {
            for (k, n) in nodes {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                match n {
                    RawNode::Value(v) => {
                        out.insert(p, Slot::Value(v.clone()));
                    }
                    RawNode::Map(children) => walk(&p, children, out),
                    RawNode::Rows(rows) => {
                        let mut keys: Vec<&String> = Vec::new();
                        for row in rows {
                            for (k, _) in row {
                                if !keys.contains(&k) {
                                    keys.push(k);
                                }
                            }
                        }
                        for key in keys {
                            let column = rows
                                .iter()
                                .map(|row| {
                                    row.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
                                })
                                .collect();
                            out.insert(format!("{p}.{key}"), Slot::Column(column));
                        }
                    }
                }
            }
        }
        let mut out = HashMap::new();
        walk("", &self.root, &mut out);
        out
    }

    /// The value stored at a path (not inside leadership rows).
    #[must_use]
    pub fn get(&self, path: &str) -> Option<&Value> {
        let mut level = &self.root;
        let parts: Vec<&str> = path.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            let (_, node) = level.iter().find(|(k, _)| k == part)?;
            match node {
                RawNode::Value(v) if i + 1 == parts.len() => return Some(v),
                RawNode::Map(children) => level = children,
                _ => return None,
            }
        }
        None
    }

    fn map_at(&mut self, parents: &[&str]) -> &mut Vec<(String, RawNode)> {
        fn descend<'a>(
            level: &'a mut Vec<(String, RawNode)>,
            parents: &[&str],
        ) -> &'a mut Vec<(String, RawNode)> {
            let Some((first, rest)) = parents.split_first() else {
                return level;
            };
            let pos = if let Some(p) = level.iter().position(|(k, _)| k == first) {
                p
            } else {
                level.push(((*first).to_owned(), RawNode::Map(Vec::new())));
                level.len() - 1
            };
            if !matches!(level[pos].1, RawNode::Map(_)) {
                level[pos].1 = RawNode::Map(Vec::new());
            }
            match &mut level[pos].1 {
                RawNode::Map(children) => descend(children, rest),
                // replaced by a map just above
                RawNode::Value(_) | RawNode::Rows(_) => unreachable_map(),
            }
        }
        descend(&mut self.root, parents)
    }

    /// Store a value at a path (a variable outside leaderships).
    pub fn set(&mut self, path: &str, value: Value) {
        let parts: Vec<&str> = path.split('.').collect();
        let Some((last, parents)) = parts.split_last() else {
            return;
        };
        let level = self.map_at(parents);
        match level.iter_mut().find(|(k, _)| k == last) {
            Some(slot) => slot.1 = RawNode::Value(value),
            None => level.push(((*last).to_owned(), RawNode::Value(value))),
        }
    }

    /// The rows of a leadership family.
    #[must_use]
    pub fn rows(&self, family: &str) -> Option<&Vec<Vec<(String, Value)>>> {
        let mut level = &self.root;
        let parts: Vec<&str> = family.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            let (_, node) = level.iter().find(|(k, _)| k == part)?;
            match node {
                RawNode::Rows(rows) if i + 1 == parts.len() => return Some(rows),
                RawNode::Map(children) => level = children,
                _ => return None,
            }
        }
        None
    }

    /// Replace the rows of a leadership family.
    pub fn set_rows(&mut self, family: &str, rows: Vec<Vec<(String, Value)>>) {
        let parts: Vec<&str> = family.split('.').collect();
        let Some((last, parents)) = parts.split_last() else {
            return;
        };
        let level = self.map_at(parents);
        let node = if rows.is_empty() {
            RawNode::Value(Value::List(Vec::new()))
        } else {
            RawNode::Rows(rows)
        };
        match level.iter_mut().find(|(k, _)| k == last) {
            Some(slot) => slot.1 = node,
            None => level.push(((*last).to_owned(), node)),
        }
    }

    /// Remove what was set at a path (and families left empty).
    pub fn reset(&mut self, path: &str) -> bool {
        fn remove(level: &mut Vec<(String, RawNode)>, parts: &[&str]) -> bool {
            let Some((first, rest)) = parts.split_first() else {
                return false;
            };
            let Some(pos) = level.iter().position(|(k, _)| k == first) else {
                return false;
            };
            if rest.is_empty() {
                level.remove(pos);
                return true;
            }
            match &mut level[pos].1 {
                RawNode::Map(children) => {
                    let r = remove(children, rest);
                    if children.is_empty() {
                        level.remove(pos);
                    }
                    r
                }
                RawNode::Rows(rows) if rest.len() == 1 => {
                    let mut any = false;
                    for row in rows.iter_mut() {
                        let before = row.len();
                        row.retain(|(k, _)| k != rest[0]);
                        any |= row.len() != before;
                    }
                    any
                }
                _ => false,
            }
        }
        let parts: Vec<&str> = path.split('.').collect();
        let removed = remove(&mut self.root, &parts);
        self.spans.remove(path);
        removed
    }

    /// The values file text (YAML, stable order, strings quoted).
    #[must_use]
    pub fn to_yaml(&self) -> String {
        let mut out =
            String::from("# brise values: what the administrator set (written by brise)\n");
        if self.root.is_empty() {
            out.push_str("{}\n");
            return out;
        }
        write_map(&mut out, &self.root, 0);
        out
    }
}

/// Never called: `descend` turns the slot into a map before matching on it.
fn unreachable_map() -> &'static mut Vec<(String, RawNode)> {
    Box::leak(Box::default())
}

fn yaml_scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => {
            let s = crate::dictionary::value::python_float(*f);
            match s.as_str() {
                "inf" => ".inf".to_owned(),
                "-inf" => "-.inf".to_owned(),
                "nan" => ".nan".to_owned(),
                _ => s,
            }
        }
        Value::Str(s) => quote(s),
        Value::List(items) if items.is_empty() => "[]".to_owned(),
        Value::List(items) => {
            let inner: Vec<String> = items.iter().map(yaml_scalar).collect();
            format!("[{}]", inner.join(", "))
        }
    }
}

/// A YAML double-quoted string (JSON escapes are valid YAML escapes).
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !matches!(
            k,
            "true" | "false" | "null" | "True" | "False" | "Null" | "TRUE" | "FALSE" | "NULL" | "~"
        )
        && !k.chars().all(|c| c.is_ascii_digit());
    if plain { k.to_owned() } else { quote(k) }
}

fn write_value(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::List(items) if !items.is_empty() => {
            out.push('\n');
            for item in items {
                let _ = writeln!(out, "{}- {}", " ".repeat(indent), yaml_scalar(item));
            }
        }
        other => {
            let _ = writeln!(out, " {}", yaml_scalar(other));
        }
    }
}

fn write_map(out: &mut String, entries: &[(String, RawNode)], indent: usize) {
    let pad = " ".repeat(indent);
    for (k, node) in entries {
        match node {
            RawNode::Value(v) => {
                let _ = write!(out, "{pad}{}:", key(k));
                write_value(out, v, indent + 2);
            }
            RawNode::Map(children) => {
                if children.is_empty() {
                    let _ = writeln!(out, "{pad}{}: {{}}", key(k));
                } else {
                    let _ = writeln!(out, "{pad}{}:", key(k));
                    write_map(out, children, indent + 2);
                }
            }
            RawNode::Rows(rows) => {
                let _ = writeln!(out, "{pad}{}:", key(k));
                for row in rows {
                    let inner = " ".repeat(indent + 4);
                    if row.is_empty() {
                        let _ = writeln!(out, "{pad}  - {{}}");
                        continue;
                    }
                    for (i, (rk, rv)) in row.iter().enumerate() {
                        if i == 0 {
                            let _ = write!(out, "{pad}  - {}:", key(rk));
                        } else {
                            let _ = write!(out, "{inner}{}:", key(rk));
                        }
                        write_value(out, rv, indent + 6);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> RawValues {
        RawValues::parse(text, Path::new("values.yml")).unwrap()
    }

    #[test]
    fn nested_values_flatten_to_paths() {
        let raw = parse(
            "rougail:\n  fam:\n    var: 3\n    list: [a, b]\n  lead:\n    - leader: x\n      follower: 1\n    - leader: y\n",
        );
        let flat = raw.flatten();
        assert_eq!(flat["rougail.fam.var"], Slot::Value(Value::Int(3)));
        assert_eq!(
            flat["rougail.fam.list"],
            Slot::Value(Value::List(vec![
                Value::Str("a".into()),
                Value::Str("b".into())
            ]))
        );
        assert_eq!(
            flat["rougail.lead.follower"],
            Slot::Column(vec![Some(Value::Int(1)), None])
        );
        assert_eq!(raw.span("rougail.fam.var").unwrap().line, 3);
    }

    #[test]
    fn yaml_round_trips() {
        let raw =
            parse("a:\n  b: \"x: y\"\n  c: [1, 2]\n  d: null\nlead:\n  - l: a\n    f: [1, 2]\n");
        let text = raw.to_yaml();
        let again = parse(&text);
        assert_eq!(again.flatten(), raw.flatten(), "{text}");
    }

    #[test]
    fn set_and_reset_edit_the_tree() {
        let mut raw = RawValues::default();
        raw.set("rougail.fam.var", Value::Str("x".into()));
        raw.set("rougail.other", Value::Int(1));
        assert_eq!(raw.get("rougail.fam.var"), Some(&Value::Str("x".into())));
        assert!(raw.reset("rougail.fam.var"));
        assert_eq!(raw.get("rougail.fam.var"), None);
        assert_eq!(raw.entries().len(), 1);
        assert!(!raw.reset("rougail.missing"));
    }

    #[test]
    fn a_scalar_root_is_refused() {
        let err = RawValues::parse("3\n", Path::new("v.yml")).unwrap_err();
        assert!(err.to_string().contains("must be a mapping"), "{err}");
    }
}
