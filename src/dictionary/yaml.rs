//! The one module that knows the YAML crate (saphyr-parser): source text → a
//! [`Yaml`] tree where every node keeps its 1-based line/column, whether a
//! scalar was quoted, and (for mapping entries) the end-of-line comment of the
//! key line. Scalars follow the YAML 1.2 core schema as ruamel.yaml reads them
//! (`yes`/`no` stay strings, `0644` is decimal 644, `1_000` is 1000).
//! Guards against hostile input: alias expansion, nesting depth and node count
//! are bounded, so an alias bomb or a pathological file is a clean error.
//! Pure: takes text, returns a tree or one error with its position.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span as YSpan};

/// Deepest nesting of collections accepted.
pub(crate) const MAX_DEPTH: usize = 128;
/// Most nodes (after alias expansion) one document may produce.
pub(crate) const MAX_NODES: usize = 2_000_000;

/// A 1-based position in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Mark {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Plain,
    Quoted,
    Block,
    Collection,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum YamlKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Yaml>),
    Map(Vec<Entry>),
}

/// One mapping entry, with the end-of-line comment of its key line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) key: Yaml,
    pub(crate) value: Yaml,
    pub(crate) comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Yaml {
    pub(crate) kind: YamlKind,
    pub(crate) mark: Mark,
    pub(crate) style: Style,
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlError {
    pub(crate) mark: Mark,
    pub(crate) message: String,
}

impl Yaml {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.kind {
            YamlKind::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_map(&self) -> Option<&[Entry]> {
        match &self.kind {
            YamlKind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self.kind, YamlKind::Null)
    }

    /// The value of key `name` in a mapping.
    pub(crate) fn get(&self, name: &str) -> Option<&Self> {
        self.as_map()?
            .iter()
            .find(|e| e.key.as_str() == Some(name))
            .map(|e| &e.value)
    }

    /// Short name of the node's kind for messages (`a string`, `a mapping`…).
    pub(crate) fn kind_name(&self) -> &'static str {
        match self.kind {
            YamlKind::Null => "null",
            YamlKind::Bool(_) => "a boolean",
            YamlKind::Int(_) => "an integer",
            YamlKind::Float(_) => "a float",
            YamlKind::Str(_) => "a string",
            YamlKind::Seq(_) => "a list",
            YamlKind::Map(_) => "a mapping",
        }
    }

    /// The scalar as Python's `str()` would print it (for keys and messages).
    pub(crate) fn scalar_text(&self) -> String {
        match &self.kind {
            YamlKind::Null => "None".to_owned(),
            YamlKind::Bool(true) => "True".to_owned(),
            YamlKind::Bool(false) => "False".to_owned(),
            YamlKind::Int(i) => i.to_string(),
            YamlKind::Float(f) => crate::dictionary::value::python_float(*f),
            YamlKind::Str(s) => s.clone(),
            YamlKind::Seq(_) => "[…]".to_owned(),
            YamlKind::Map(_) => "{…}".to_owned(),
        }
    }

    fn size(&self) -> usize {
        match &self.kind {
            YamlKind::Seq(items) => 1 + items.iter().map(Self::size).sum::<usize>(),
            YamlKind::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|e| e.key.size() + e.value.size())
                    .sum::<usize>()
            }
            _ => 1,
        }
    }
}

/// An open collection. Its items are on the shared `items`/`entries` stacks
/// from `start` on, moved into a list of their exact size when it closes
/// (no list grown item by item, for every mapping of the document).
enum Frame {
    Seq {
        mark: Mark,
        anchor: usize,
        start: usize,
    },
    Map {
        mark: Mark,
        anchor: usize,
        start: usize,
        pending_key: Option<(Yaml, YSpan)>,
    },
}

fn mark_of(marker: &saphyr_parser::Marker) -> Mark {
    Mark {
        line: marker.line(),
        column: marker.col() + 1,
    }
}

fn scan_error(error: &ScanError) -> YamlError {
    let message = if error.info().contains("recursion limit") {
        format!("nesting deeper than {MAX_DEPTH} levels")
    } else {
        format!("invalid YAML: {}", error.info())
    };
    YamlError {
        mark: mark_of(error.marker()),
        message,
    }
}

/// Parse one YAML document; `Ok(None)` for an empty document.
pub(crate) fn parse(text: &str) -> Result<Option<Yaml>, YamlError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut open_items: Vec<Yaml> = Vec::new();
    let mut open_entries: Vec<Entry> = Vec::new();
    let mut anchors: HashMap<usize, Yaml> = HashMap::new();
    let mut nodes: usize = 0;
    let mut documents = 0usize;
    let mut root: Option<Yaml> = None;
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| scan_error(&e))?;
        let mark = mark_of(&span.start);
        let finished: Option<(Yaml, usize)> = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => None,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(YamlError {
                        mark,
                        message: "several YAML documents in one file".to_owned(),
                    });
                }
                None
            }
            Event::Alias(id) => {
                let Some(node) = anchors.get(&id) else {
                    return Err(YamlError {
                        mark,
                        message: "unknown YAML alias".to_owned(),
                    });
                };
                nodes += node.size();
                if nodes > MAX_NODES {
                    return Err(too_many_nodes(mark));
                }
                let mut node = node.clone();
                node.mark = mark;
                Some((node, 0))
            }
            Event::Scalar(value, style, anchor, tag) => {
                nodes += 1;
                if nodes > MAX_NODES {
                    return Err(too_many_nodes(mark));
                }
                let forced_str = tag
                    .as_ref()
                    .is_some_and(|t| t.is_yaml_core_schema() && t.suffix == "str");
                let (kind, style) = match style {
                    ScalarStyle::Plain if !forced_str => (resolve_plain(value), Style::Plain),
                    ScalarStyle::Plain | ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                        (YamlKind::Str(value.into_owned()), Style::Quoted)
                    }
                    ScalarStyle::Literal | ScalarStyle::Folded => {
                        (YamlKind::Str(value.into_owned()), Style::Block)
                    }
                };
                let node = Yaml { kind, mark, style };
                Some((node, anchor))
            }
            Event::SequenceStart(anchor, _) => {
                nodes += 1;
                if stack.len() >= MAX_DEPTH {
                    return Err(too_deep(mark));
                }
                stack.push(Frame::Seq {
                    mark,
                    anchor,
                    start: open_items.len(),
                });
                None
            }
            Event::MappingStart(anchor, _) => {
                nodes += 1;
                if stack.len() >= MAX_DEPTH {
                    return Err(too_deep(mark));
                }
                stack.push(Frame::Map {
                    mark,
                    anchor,
                    start: open_entries.len(),
                    pending_key: None,
                });
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq {
                    mark,
                    anchor,
                    start,
                }) => Some((
                    Yaml {
                        kind: YamlKind::Seq(open_items.drain(start..).collect()),
                        mark,
                        style: Style::Collection,
                    },
                    anchor,
                )),
                _ => return Err(unbalanced(mark)),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map {
                    mark,
                    anchor,
                    start,
                    ..
                }) => Some((
                    Yaml {
                        kind: YamlKind::Map(open_entries.drain(start..).collect()),
                        mark,
                        style: Style::Collection,
                    },
                    anchor,
                )),
                _ => return Err(unbalanced(mark)),
            },
        };
        let Some((node, anchor)) = finished else {
            continue;
        };
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { .. }) => open_items.push(node),
            Some(Frame::Map {
                start, pending_key, ..
            }) => match pending_key.take() {
                None => {
                    if matches!(node.kind, YamlKind::Seq(_) | YamlKind::Map(_)) {
                        return Err(YamlError {
                            mark: node.mark,
                            message: "a mapping key must be a scalar".to_owned(),
                        });
                    }
                    *pending_key = Some((node, span));
                }
                Some((key, key_span)) => {
                    let entries = open_entries.get(*start..).unwrap_or_default();
                    if entries.iter().any(|e| e.key.kind == key.kind) {
                        return Err(YamlError {
                            mark: key.mark,
                            message: format!("duplicate key `{}`", key.scalar_text()),
                        });
                    }
                    let comment = end_of_line_comment(&lines, &key, &key_span, &node, &span);
                    open_entries.push(Entry {
                        key,
                        value: node,
                        comment,
                    });
                }
            },
        }
    }
    Ok(root.filter(|r| !r.is_null()))
}

fn too_many_nodes(mark: Mark) -> YamlError {
    YamlError {
        mark,
        message: format!("the document expands to more than {MAX_NODES} nodes (alias bomb?)"),
    }
}

fn too_deep(mark: Mark) -> YamlError {
    YamlError {
        mark,
        message: format!("nesting deeper than {MAX_DEPTH} levels"),
    }
}

fn unbalanced(mark: Mark) -> YamlError {
    YamlError {
        mark,
        message: "invalid YAML: unbalanced collection".to_owned(),
    }
}

/// The `# comment` at the end of the key's line, if any (descriptions from comments).
fn end_of_line_comment(
    lines: &[&str],
    key: &Yaml,
    key_span: &YSpan,
    value: &Yaml,
    value_span: &YSpan,
) -> Option<String> {
    let line_no = key.mark.line;
    let line = lines.get(line_no.checked_sub(1)?)?;
    // A line with no `#` has no comment (most lines): no need to look further.
    if !line.contains('#') {
        return None;
    }
    // Start looking after the value when it ends on the key's line (a scalar or a
    // flow collection), else after the key. Quoted scalars are skipped by hand:
    // the parser's end marker for them is not reliable.
    let start_col = if value.mark.line == line_no && value.style == Style::Quoted {
        let chars: Vec<char> = line.chars().collect();
        let open = value.mark.column.saturating_sub(1);
        let quote = *chars.get(open)?;
        let mut i = open + 1;
        while i < chars.len() {
            if quote == '"' && chars[i] == '\\' {
                i += 2;
                continue;
            }
            if chars[i] == quote {
                if quote == '\'' && chars.get(i + 1) == Some(&'\'') {
                    i += 2;
                    continue;
                }
                break;
            }
            i += 1;
        }
        if i >= chars.len() {
            return None;
        }
        i + 1
    } else if value.mark.line == line_no
        && value_span.end.line() == line_no
        && value.style == Style::Plain
    {
        value_span.end.col()
    } else if key_span.end.line() == line_no {
        key_span.end.col()
    } else {
        return None;
    };
    let rest: String = line.chars().skip(start_col).collect();
    let hash = rest.find('#')?;
    let before = &rest[..hash];
    if !before.chars().all(|c| c.is_whitespace() || c == ':') {
        return None;
    }
    let text = rest[hash + 1..].trim();
    Some(text.to_owned())
}

/// YAML 1.2 core schema resolution of a plain scalar, as ruamel.yaml does it.
fn resolve_plain(text: std::borrow::Cow<'_, str>) -> YamlKind {
    match &*text {
        "" | "~" | "null" | "Null" | "NULL" => return YamlKind::Null,
        "true" | "True" | "TRUE" => return YamlKind::Bool(true),
        "false" | "False" | "FALSE" => return YamlKind::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return YamlKind::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return YamlKind::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return YamlKind::Float(f64::NAN),
        _ => {}
    }
    if let Some(i) = parse_int(&text) {
        return YamlKind::Int(i);
    }
    if let Some(f) = parse_float(&text) {
        return YamlKind::Float(f);
    }
    // A copy of the exact length: the parser's string has spare capacity,
    // and dictionary strings live as long as the loaded schema.
    YamlKind::Str((*text).to_owned())
}

fn split_sign(text: &str) -> (bool, &str) {
    if let Some(rest) = text.strip_prefix('-') {
        (true, rest)
    } else if let Some(rest) = text.strip_prefix('+') {
        (false, rest)
    } else {
        (false, text)
    }
}

fn parse_int(text: &str) -> Option<i64> {
    let (negative, body) = split_sign(text);
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = body.strip_prefix("0b") {
        (2, d)
    } else {
        (10, body)
    };
    if radix == 10 && !digits.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if digits.is_empty()
        || !digits.chars().all(|c| c == '_' || c.is_digit(radix))
        || !digits.chars().any(|c| c.is_digit(radix))
    {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    let magnitude = i128::from_str_radix(&clean, radix).ok()?;
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).ok()
}

fn parse_float(text: &str) -> Option<f64> {
    let (negative, body) = split_sign(text);
    // [0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?  or  \.[0-9_]+([eE][-+]?[0-9]+)?
    let bytes = body.as_bytes();
    let mut i = 0;
    let int_start = i;
    while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
        i += 1;
    }
    let has_int = i > int_start;
    if has_int && !bytes[int_start].is_ascii_digit() {
        return None;
    }
    let mut has_dot = false;
    let mut frac_digits = 0;
    if i < bytes.len() && bytes[i] == b'.' {
        has_dot = true;
        i += 1;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
            if bytes[i].is_ascii_digit() {
                frac_digits += 1;
            }
            i += 1;
        }
    }
    let mut has_exp = false;
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        has_exp = true;
        i += 1;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != bytes.len() {
        return None;
    }
    let valid = if has_int {
        has_dot || has_exp
    } else {
        has_dot && frac_digits > 0
    };
    if !valid {
        return None;
    }
    let clean: String = body.chars().filter(|c| *c != '_').collect();
    let value: f64 = clean.parse().ok()?;
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Yaml {
        parse(text).unwrap().unwrap()
    }

    #[test]
    fn scalars_follow_the_yaml_1_2_core_schema() {
        let doc = root(
            "a: yes\nb: 0644\nc: 1_000\nd: 0x1F\ne: 1.5e3\nf: ~\ng: True\nh: '3'\ni: 1.\nj: .5\nk: 1e3\nl: 08\n",
        );
        let get = |k: &str| doc.get(k).unwrap().kind.clone();
        assert_eq!(get("a"), YamlKind::Str("yes".into()));
        assert_eq!(get("b"), YamlKind::Int(644));
        assert_eq!(get("c"), YamlKind::Int(1000));
        assert_eq!(get("d"), YamlKind::Int(31));
        assert_eq!(get("e"), YamlKind::Float(1500.0));
        assert_eq!(get("f"), YamlKind::Null);
        assert_eq!(get("g"), YamlKind::Bool(true));
        assert_eq!(get("h"), YamlKind::Str("3".into()));
        assert_eq!(get("i"), YamlKind::Float(1.0));
        assert_eq!(get("j"), YamlKind::Float(0.5));
        assert_eq!(get("k"), YamlKind::Float(1000.0));
        assert_eq!(get("l"), YamlKind::Int(8));
    }

    #[test]
    fn end_of_line_comments_are_kept_per_key() {
        let doc = root("a: 1   # comment a\nb:    # comment b\n  c: 2\nd: 'x#y'\ne: \"q\" # eq\n");
        let entries = doc.as_map().unwrap();
        assert_eq!(entries[0].comment.as_deref(), Some("comment a"));
        assert_eq!(entries[1].comment.as_deref(), Some("comment b"));
        assert_eq!(entries[2].comment, None);
        assert_eq!(entries[3].comment.as_deref(), Some("eq"));
    }

    #[test]
    fn positions_are_one_based() {
        let doc = root("version: 1.1\nfamily:\n  port: 3\n");
        let family = doc.get("family").unwrap();
        let entry = &family.as_map().unwrap()[0];
        assert_eq!(entry.key.mark, Mark { line: 3, column: 3 });
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let error = parse(&text).unwrap_err();
        assert!(error.message.contains("alias bomb"), "{}", error.message);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("{}{}", "[".repeat(500), "]".repeat(500));
        let error = parse(&text).unwrap_err();
        assert_eq!(error.message, "nesting deeper than 128 levels");
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let error = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(error.message, "duplicate key `a`");
        assert_eq!(error.mark, Mark { line: 3, column: 1 });
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let error = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(error.message.starts_with("invalid YAML"));
        assert!(error.mark.line >= 1);
    }

    #[test]
    fn empty_document_is_none() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("---\n...\n").unwrap(), None);
        assert_eq!(parse("# only a comment\n").unwrap(), None);
    }
}
