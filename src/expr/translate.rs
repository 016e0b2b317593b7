//! Jinja2 (as Rougail dictionaries write it) → tera 2 source text.
//! Tokenises every `{{ }}` / `{% %}` body and rewrites the Jinja-isms tera
//! lacks: Python method calls (`x.startswith('a')` → a filter), positional
//! filter/test/function arguments (named as tera wants them), Jinja filter and
//! test names, and wraps printed values so they print as Python does (`True`,
//! `None`). Also lists the dotted names the template reads (variable paths).
//! Pure; what cannot be translated is an error with its offset in the source.

use std::collections::HashSet;

/// A translated template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Translated {
    pub(crate) text: String,
    /// Dotted names read by the template (`["_", "var"]`, `["rougail", "f", "v"]`).
    pub(crate) chains: Vec<Vec<String>>,
}

/// Why a template cannot be translated, with the byte offset in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TranslateError {
    pub(crate) offset: usize,
    pub(crate) message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Name(String),
    Num(String),
    Str(String),
    Op(String),
}

impl Tok {
    fn text(&self) -> &str {
        match self {
            Self::Name(s) | Self::Num(s) | Self::Str(s) | Self::Op(s) => s,
        }
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self, Self::Op(o) if o == op)
    }

    fn is_name(&self, name: &str) -> bool {
        matches!(self, Self::Name(n) if n == name)
    }
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    offset: usize,
}

/// Python string methods turned into `__m_<name>` filters.
const METHODS: &[&str] = &[
    "startswith",
    "endswith",
    "lower",
    "upper",
    "strip",
    "lstrip",
    "rstrip",
    "split",
    "rsplit",
    "splitlines",
    "join",
    "replace",
    "items",
    "keys",
    "values",
    "get",
    "count",
    "index",
    "find",
    "title",
    "capitalize",
    "isdigit",
    "isdecimal",
    "isnumeric",
    "isalpha",
    "isalnum",
    "islower",
    "isupper",
    "zfill",
    "format",
];

/// Jinja filter → (tera filter, names of its positional arguments).
fn filter_mapping(name: &str) -> (&str, &'static [&'static str]) {
    match name {
        "join" => ("__join", &["sep", "attribute"]),
        "replace" => ("replace", &["from", "to", "count"]),
        "default" | "d" => ("default", &["value", "boolean"]),
        "truncate" => ("truncate", &["length", "killwords", "end"]),
        "round" => ("round", &["precision", "method"]),
        "indent" => ("indent", &["width", "first", "blank"]),
        "split" => ("split", &["pat"]),
        "trim" => ("__strip", &["a0"]),
        "string" => ("__string", &[]),
        "int" => ("__int", &["default", "base"]),
        "float" => ("__float", &["default"]),
        "list" => ("__list", &[]),
        "count" | "length" => ("length", &[]),
        "e" | "escape" => ("escape", &[]),
        "sum" => ("__sum", &["attribute", "start"]),
        "min" => ("__min", &[]),
        "max" => ("__max", &[]),
        "sort" => ("__sort", &["reverse", "case_sensitive", "attribute"]),
        "unique" => ("unique", &[]),
        "map" => ("__map", &["a0"]),
        "select" => ("__select", &["a0"]),
        "reject" => ("__reject", &["a0"]),
        "tojson" => ("__tojson", &[]),
        "center" => ("__center", &["width"]),
        "wordcount" => ("wordcount", &[]),
        "capitalize" => ("capitalize", &[]),
        "title" => ("title", &[]),
        "lower" => ("lower", &[]),
        "upper" => ("upper", &[]),
        "first" => ("__first", &[]),
        "last" => ("__last", &[]),
        "reverse" => ("reverse", &[]),
        "abs" => ("abs", &[]),
        "batch" => ("__batch", &["a0", "a1"]),
        "dictsort" => ("__dictsort", &[]),
        "items" => ("__m_items", &[]),
        "attr" => ("__attr", &["a0"]),
        "format" => ("__format", &[]),
        other => (other, &[]),
    }
}

/// Jinja test → (tera test, names of its positional arguments).
fn test_mapping(name: &str) -> (&str, &'static [&'static str]) {
    match name {
        "divisibleby" => ("divisible_by", &["divisor"]),
        "mapping" => ("map", &[]),
        "sequence" => ("iterable", &[]),
        "boolean" => ("bool", &[]),
        "true" => ("__true", &[]),
        "false" => ("__false", &[]),
        "in" => ("__in", &["a0"]),
        "sameas" => ("__sameas", &["a0"]),
        "lower" => ("__lower", &[]),
        "upper" => ("__upper", &[]),
        "eq" | "equalto" | "==" => ("__eq", &["a0"]),
        "ne" | "!=" => ("__ne", &["a0"]),
        "lt" | "lessthan" | "<" => ("__lt", &["a0"]),
        "le" | "<=" => ("__le", &["a0"]),
        "gt" | "greaterthan" | ">" => ("__gt", &["a0"]),
        "ge" | "<=>" | ">=" => ("__ge", &["a0"]),
        "callable" => ("__false", &[]),
        other => (other, &[]),
    }
}

const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "is",
    "if",
    "else",
    "elif",
    "for",
    "endfor",
    "endif",
    "set",
    "endset",
    "true",
    "false",
    "none",
    "True",
    "False",
    "None",
    "loop",
    "recursive",
    "filter",
    "endfilter",
    "raw",
    "endraw",
    "break",
    "continue",
    "range",
    "trange",
];

/// A Jinja2 string literal (quotes included) as a tera one with the same
/// value. Jinja2 reads the escapes of Python's `unicode-escape` codec
/// (`\u00e9`, `\x41`, octal, `\a`…; an unknown escape such as `\d` keeps its
/// backslash); tera knows only `\n \t \r \\ \' \" \/`. A literal without a
/// backslash is kept as written.
fn tera_string(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_owned();
    }
    let inner = &raw[1..raw.len() - 1];
    let chars: Vec<char> = inner.chars().collect();
    let mut value = String::with_capacity(inner.len());
    let mut i = 0;
    let hex = |from: usize, len: usize| -> Option<char> {
        let digits: String = chars.get(from..from + len)?.iter().collect();
        if digits.len() != len || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        char::from_u32(u32::from_str_radix(&digits, 16).ok()?)
    };
    while i < chars.len() {
        let c = chars[i];
        if c != '\\' || i + 1 >= chars.len() {
            value.push(c);
            i += 1;
            continue;
        }
        let e = chars[i + 1];
        i += 2;
        match e {
            '\n' => {} // line continuation
            '\\' | '\'' | '"' => value.push(e),
            'n' => value.push('\n'),
            't' => value.push('\t'),
            'r' => value.push('\r'),
            'a' => value.push('\u{7}'),
            'b' => value.push('\u{8}'),
            'f' => value.push('\u{c}'),
            'v' => value.push('\u{b}'),
            '0'..='7' => {
                let mut n = e.to_digit(8).unwrap_or(0);
                let mut len = 1;
                while len < 3 && i < chars.len() && chars[i].is_digit(8) {
                    n = n * 8 + chars[i].to_digit(8).unwrap_or(0);
                    i += 1;
                    len += 1;
                }
                value.push(char::from_u32(n).unwrap_or('\u{fffd}'));
            }
            'x' | 'u' | 'U' => {
                let len = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                if let Some(ch) = hex(i, len) {
                    value.push(ch);
                    i += len;
                } else {
                    value.push('\\');
                    value.push(e);
                }
            }
            _ => {
                value.push('\\');
                value.push(e);
            }
        }
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

fn tokenize(body: &str, base: usize) -> Result<Vec<Token>, TranslateError> {
    let bytes = body.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c == b'_' || c.is_ascii_alphabetic() {
            while i < bytes.len() && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric()) {
                i += 1;
            }
            // Python string prefixes are not supported.
            if i < bytes.len() && (bytes[i] == b'\'' || bytes[i] == b'"') {
                return Err(TranslateError {
                    offset: base + start,
                    message: format!(
                        "Python string prefix `{}` is not supported",
                        &body[start..i]
                    ),
                });
            }
            out.push(Token {
                tok: Tok::Name(body[start..i].to_owned()),
                offset: base + start,
            });
            continue;
        }
        if c.is_ascii_digit() {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.')
            {
                // `1.e` is not a method call; a dot followed by a name ends the number.
                if bytes[i] == b'.' && i + 1 < bytes.len() && !bytes[i + 1].is_ascii_digit() {
                    break;
                }
                if (bytes[i] == b'e' || bytes[i] == b'E')
                    && i + 1 < bytes.len()
                    && (bytes[i + 1] == b'-' || bytes[i + 1] == b'+')
                {
                    i += 2;
                    continue;
                }
                i += 1;
            }
            out.push(Token {
                tok: Tok::Num(body[start..i].replace('_', "")),
                offset: base + start,
            });
            continue;
        }
        if c == b'\'' || c == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != c {
                if bytes[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            if i >= bytes.len() {
                return Err(TranslateError {
                    offset: base + start,
                    message: "unterminated string".to_owned(),
                });
            }
            i += 1;
            out.push(Token {
                tok: Tok::Str(tera_string(&body[start..i])),
                offset: base + start,
            });
            continue;
        }
        let two = if i + 1 < bytes.len() {
            &body[i..i + 2]
        } else {
            ""
        };
        let op = if ["==", "!=", "<=", ">=", "//", "**"].contains(&two) {
            two
        } else {
            &body[i..=i]
        };
        if !"=!<>/*+-%~|.,:()[]{}".contains(op.chars().next().unwrap_or(' ')) {
            return Err(TranslateError {
                offset: base + start,
                message: format!("unexpected character `{op}`"),
            });
        }
        i += op.len();
        out.push(Token {
            tok: Tok::Op(op.to_owned()),
            offset: base + start,
        });
    }
    Ok(out)
}

fn matching_close(tokens: &[Token], open: usize) -> Option<usize> {
    let (o, c) = match tokens[open].tok.text() {
        "(" => ("(", ")"),
        "[" => ("[", "]"),
        "{" => ("{", "}"),
        _ => return None,
    };
    let mut depth = 0usize;
    for (j, t) in tokens.iter().enumerate().skip(open) {
        if t.tok.is_op(o) {
            depth += 1;
        } else if t.tok.is_op(c) {
            depth -= 1;
            if depth == 0 {
                return Some(j);
            }
        }
    }
    None
}

fn matching_open(tokens: &[Token], close: usize) -> Option<usize> {
    let (o, c) = match tokens[close].tok.text() {
        ")" => ("(", ")"),
        "]" => ("[", "]"),
        "}" => ("{", "}"),
        _ => return None,
    };
    let mut depth = 0usize;
    for j in (0..=close).rev() {
        if tokens[j].tok.is_op(c) {
            depth += 1;
        } else if tokens[j].tok.is_op(o) {
            depth -= 1;
            if depth == 0 {
                return Some(j);
            }
        }
    }
    None
}

/// Split the tokens between `(`…`)` (exclusive) on top-level commas.
fn split_args(tokens: &[Token]) -> Vec<Vec<Token>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut depth = 0i32;
    for t in tokens {
        match t.tok.text() {
            "(" | "[" | "{" if matches!(t.tok, Tok::Op(_)) => depth += 1,
            ")" | "]" | "}" if matches!(t.tok, Tok::Op(_)) => depth -= 1,
            "," if depth == 0 && matches!(t.tok, Tok::Op(_)) => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(t.clone());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn is_kwarg(arg: &[Token]) -> bool {
    arg.len() >= 2 && matches!(arg[0].tok, Tok::Name(_)) && arg[1].tok.is_op("=")
}

fn op(text: &str, offset: usize) -> Token {
    Token {
        tok: Tok::Op(text.to_owned()),
        offset,
    }
}

fn name(text: &str, offset: usize) -> Token {
    Token {
        tok: Tok::Name(text.to_owned()),
        offset,
    }
}

/// `(a, b, k=c)` → `(n0=a, n1=b, k=c)` with the given positional names.
fn name_args(
    args: &[Token],
    names: &[&str],
    what: &str,
    at: usize,
) -> Result<Vec<Token>, TranslateError> {
    let mut out = vec![op("(", at)];
    for (i, arg) in split_args(args).into_iter().enumerate() {
        if i > 0 {
            out.push(op(",", at));
        }
        if is_kwarg(&arg) {
            out.extend(arg);
            continue;
        }
        let n = match names.get(i) {
            Some(n) => (*n).to_owned(),
            None if names.is_empty() || names.iter().all(|n| n.starts_with('a')) => format!("a{i}"),
            None => {
                return Err(TranslateError {
                    offset: at,
                    message: format!("too many arguments for `{what}`"),
                });
            }
        };
        out.push(name(&n, at));
        out.push(op("=", at));
        out.extend(arg);
    }
    out.push(op(")", at));
    Ok(out)
}

/// Rewrite `receiver.method(args)` into `((receiver) | __m_method(a0=…))`.
fn rewrite_methods(tokens: &mut Vec<Token>) -> Result<(), TranslateError> {
    let mut i = 0;
    while i + 2 < tokens.len() {
        let is_method = tokens[i].tok.is_op(".")
            && matches!(&tokens[i + 1].tok, Tok::Name(n) if METHODS.contains(&n.as_str()))
            && tokens[i + 2].tok.is_op("(");
        if !is_method || i == 0 {
            i += 1;
            continue;
        }
        // Find where the receiver starts.
        let mut j = i - 1;
        loop {
            match &tokens[j].tok {
                Tok::Op(o) if o == ")" || o == "]" => {
                    let Some(open) = matching_open(tokens, j) else {
                        return Err(TranslateError {
                            offset: tokens[j].offset,
                            message: "unbalanced brackets".to_owned(),
                        });
                    };
                    j = open;
                    if j > 0
                        && (matches!(tokens[j - 1].tok, Tok::Name(_))
                            || tokens[j - 1].tok.is_op(")")
                            || tokens[j - 1].tok.is_op("]"))
                        && !matches!(&tokens[j - 1].tok, Tok::Name(n) if KEYWORDS.contains(&n.as_str()) && n != "range")
                    {
                        j -= 1;
                        continue;
                    }
                    break;
                }
                Tok::Name(_) | Tok::Str(_) | Tok::Num(_) => {
                    if j >= 2 && tokens[j - 1].tok.is_op(".") {
                        j -= 2;
                        continue;
                    }
                    break;
                }
                Tok::Op(_) => {
                    return Err(TranslateError {
                        offset: tokens[i].offset,
                        message: format!(
                            "cannot translate the method call `.{}()`",
                            tokens[i + 1].tok.text()
                        ),
                    });
                }
            }
        }
        let Some(close) = matching_close(tokens, i + 2) else {
            return Err(TranslateError {
                offset: tokens[i + 2].offset,
                message: "unbalanced parentheses".to_owned(),
            });
        };
        let at = tokens[i].offset;
        let method = tokens[i + 1].tok.text().to_owned();
        let receiver: Vec<Token> = tokens[j..i].to_vec();
        let args = name_args(&tokens[i + 3..close], &[], &method, at)?;
        let mut replacement = vec![op("(", at), op("(", at)];
        replacement.extend(receiver);
        replacement.push(op(")", at));
        replacement.push(op("|", at));
        replacement.push(name(&format!("__m_{method}"), at));
        replacement.extend(args);
        replacement.push(op(")", at));
        let new_len = replacement.len();
        tokens.splice(j..=close, replacement);
        i = j + new_len;
    }
    Ok(())
}

/// Map filter/test names and name their positional arguments; name function arguments.
fn rewrite_calls(tokens: &mut Vec<Token>) -> Result<(), TranslateError> {
    let mut i = 0;
    while i < tokens.len() {
        let after_pipe = i > 0 && tokens[i - 1].tok.is_op("|");
        let after_is = i > 0
            && (tokens[i - 1].tok.is_name("is")
                || (i > 1 && tokens[i - 1].tok.is_name("not") && tokens[i - 2].tok.is_name("is")));
        let Tok::Name(n) = tokens[i].tok.clone() else {
            i += 1;
            continue;
        };
        if n == "not" && i > 0 && tokens[i - 1].tok.is_name("is") {
            i += 1;
            continue;
        }
        let has_args = i + 1 < tokens.len() && tokens[i + 1].tok.is_op("(");
        if after_pipe || after_is {
            let (mapped, names) = if after_pipe {
                filter_mapping(&n)
            } else {
                test_mapping(&n)
            };
            let mapped = mapped.to_owned();
            let known = if after_pipe {
                mapped.starts_with("__") || crate::expr::KNOWN_FILTERS.contains(&mapped.as_str())
            } else {
                mapped.starts_with("__") || crate::expr::KNOWN_TESTS.contains(&mapped.as_str())
            };
            if !known {
                // like Jinja2, an unknown filter or test fails only when it runs
                let (fname, key) = if after_pipe {
                    ("__unknown_filter", "__f")
                } else {
                    ("__unknown_test", "__t")
                };
                let at = tokens[i].offset;
                tokens[i].tok = Tok::Name(fname.to_owned());
                let label = Token {
                    tok: Tok::Str(format!("'{n}'")),
                    offset: at,
                };
                if has_args {
                    let close = matching_close(tokens, i + 1).ok_or_else(|| TranslateError {
                        offset: tokens[i + 1].offset,
                        message: "unbalanced parentheses".to_owned(),
                    })?;
                    let replacement =
                        vec![op("(", at), name(key, at), op("=", at), label, op(")", at)];
                    let len = replacement.len();
                    tokens.splice(i + 1..=close, replacement);
                    i += 1 + len;
                } else {
                    let replacement =
                        vec![op("(", at), name(key, at), op("=", at), label, op(")", at)];
                    let len = replacement.len();
                    tokens.splice(i + 1..i + 1, replacement);
                    i += 1 + len;
                }
                continue;
            }
            tokens[i].tok = Tok::Name(mapped.clone());
            if has_args {
                let close = matching_close(tokens, i + 1).ok_or_else(|| TranslateError {
                    offset: tokens[i + 1].offset,
                    message: "unbalanced parentheses".to_owned(),
                })?;
                let at = tokens[i + 1].offset;
                let args = name_args(&tokens[i + 2..close], names, &n, at)?;
                let len = args.len();
                tokens.splice(i + 1..=close, args);
                i += 1 + len;
                continue;
            }
        } else if has_args
            && !(i > 0 && tokens[i - 1].tok.is_op("."))
            && (!KEYWORDS.contains(&n.as_str()) || n == "range" || n == "trange")
        {
            let names: &[&str] = match n.as_str() {
                "range" | "trange" => {
                    let close = matching_close(tokens, i + 1).ok_or_else(|| TranslateError {
                        offset: tokens[i + 1].offset,
                        message: "unbalanced parentheses".to_owned(),
                    })?;
                    let count = split_args(&tokens[i + 2..close]).len();
                    tokens[i].tok = Tok::Name("range".to_owned());
                    if count == 1 {
                        &["end"]
                    } else {
                        &["start", "end", "step_by"]
                    }
                }
                "namespace" | "dict" | "lipsum" | "cycler" | "joiner" => {
                    return Err(TranslateError {
                        offset: tokens[i].offset,
                        message: format!("the Jinja global `{n}()` is not available in tera"),
                    });
                }
                "throw" => &["message"],
                _ => {
                    // unknown function: fails when it runs, like Jinja2
                    let close = matching_close(tokens, i + 1).ok_or_else(|| TranslateError {
                        offset: tokens[i + 1].offset,
                        message: "unbalanced parentheses".to_owned(),
                    })?;
                    let at = tokens[i].offset;
                    tokens[i].tok = Tok::Name("__unknown_function".to_owned());
                    let label = Token {
                        tok: Tok::Str(format!("'{n}'")),
                        offset: at,
                    };
                    let replacement = vec![
                        op("(", at),
                        name("__f", at),
                        op("=", at),
                        label,
                        op(")", at),
                    ];
                    let len = replacement.len();
                    tokens.splice(i + 1..=close, replacement);
                    i += 1 + len;
                    continue;
                }
            };
            let close = matching_close(tokens, i + 1).ok_or_else(|| TranslateError {
                offset: tokens[i + 1].offset,
                message: "unbalanced parentheses".to_owned(),
            })?;
            let at = tokens[i + 1].offset;
            let args = name_args(&tokens[i + 2..close], names, &n, at)?;
            let len = args.len();
            tokens.splice(i + 1..=close, args);
            i += 1 + len;
            continue;
        }
        i += 1;
    }
    // `is true` / `is false` are lexed as booleans by tera.
    let mut i = 0;
    while i + 1 < tokens.len() {
        if tokens[i].tok.is_name("is") {
            let mut k = i + 1;
            if tokens[k].tok.is_name("not") {
                k += 1;
            }
            if k < tokens.len() {
                match tokens[k].tok.text() {
                    "true" | "True" => tokens[k].tok = Tok::Name("__true".to_owned()),
                    "false" | "False" => tokens[k].tok = Tok::Name("__false".to_owned()),
                    "none" | "None" => tokens[k].tok = Tok::Name("none".to_owned()),
                    _ => {}
                }
            }
        }
        i += 1;
    }
    Ok(())
}

/// Where the tokens given to [`collect_chains`] stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// A `{{ }}` expression or a statement other than the ones below.
    Value,
    /// The condition of `{% if %}` / `{% elif %}`: tested for truth.
    Condition,
    /// The right-hand side of `{% set x = … %}`.
    Set,
}

fn is_open(t: &Tok) -> bool {
    t.is_op("(") || t.is_op("[") || t.is_op("{")
}

fn is_close(t: &Tok) -> bool {
    t.is_op(")") || t.is_op("]") || t.is_op("}")
}

/// Whether `tokens[i..j]` (a chain or a parenthesised group) is an operand
/// whose only use is a truth test: operand of `not`, left operand of `and`,
/// operand of `and`/`or` in a condition (`{% if %}`, `{% elif %}`, inline
/// `a if c else b`, a parenthesised group in one of those places).
/// Jinja2 tests a disabled variable (Rougail's `JinjaError`) for truth
/// without reading it: it is true.
fn truth_operand(tokens: &[Token], i: usize, j: usize, place: Place) -> bool {
    let prev = i.checked_sub(1).map(|p| &tokens[p].tok);
    let next = tokens.get(j).map(|t| &t.tok);
    let after_not =
        matches!(prev, Some(t) if t.is_name("not")) && !(i >= 2 && tokens[i - 2].tok.is_name("is"));
    // nothing binding tighter than `and`/`or`/`not` on the left
    let low_left = prev.is_none_or(|t| {
        is_open(t)
            || t.is_op(",")
            || t.is_op(":")
            || t.is_op("=")
            || ["and", "or", "not", "if", "else"]
                .iter()
                .any(|k| t.is_name(k))
    });
    if !low_left {
        return false;
    }
    if next.is_some_and(|t| t.is_name("and")) {
        // `x and y` is `y` when `x` is true
        return true;
    }
    let low_right = next.is_none_or(|t| {
        is_close(t) || t.is_op(",") || ["or", "else", "if"].iter().any(|k| t.is_name(k))
    });
    if !low_right {
        return false;
    }
    if after_not {
        return true;
    }
    // An operand of an `and`/`or` chain (or the whole expression): find where
    // that chain starts and ends.
    let mut depth = 0usize;
    let mut left = None;
    for k in (0..i).rev() {
        let t = &tokens[k].tok;
        if is_close(t) {
            depth += 1;
        } else if is_open(t) {
            if depth == 0 {
                left = Some(k);
                break;
            }
            depth -= 1;
        } else if depth == 0
            && (t.is_op(",")
                || t.is_op(":")
                || t.is_op("=")
                || t.is_name("if")
                || t.is_name("else"))
        {
            left = Some(k);
            break;
        }
    }
    let mut depth = 0usize;
    let mut right = None;
    for (k, t) in tokens.iter().enumerate().skip(j) {
        let t = &t.tok;
        if is_open(t) {
            depth += 1;
        } else if is_close(t) {
            if depth == 0 {
                right = Some(k);
                break;
            }
            depth -= 1;
        } else if depth == 0
            && (t.is_op(",") || t.is_op(":") || t.is_name("if") || t.is_name("else"))
        {
            right = Some(k);
            break;
        }
    }
    match (left, right) {
        (None, None) => place == Place::Condition,
        // the condition of an inline `a if c else b`
        (Some(l), _) if tokens[l].tok.is_name("if") => true,
        (Some(l), Some(r)) if tokens[l].tok.is_op("(") && tokens[r].tok.is_op(")") => {
            // a parenthesised group, not a call's arguments
            let call = l > 0
                && (matches!(&tokens[l - 1].tok, Tok::Name(n) if !KEYWORDS.contains(&n.as_str()))
                    || is_close(&tokens[l - 1].tok));
            !call && truth_operand(tokens, l, r + 1, place)
        }
        _ => false,
    }
}

/// Names read by an expression (not locals, filters, tests, keywords or kwargs).
/// Each use is wrapped in the `__v` filter, which fails on an undefined or
/// inaccessible value like Jinja2's `StrictUndefined` does, except right
/// before a test (`x is defined`, `x is propertyerror`); a use that is only
/// tested for truth (see [`truth_operand`]) goes through `__b` (an
/// inaccessible value is true), and `{% set y = x %}` through `__p` (an
/// inaccessible value is kept, to fail or be true where `y` is used).
fn collect_chains(
    tokens: &mut Vec<Token>,
    locals: &HashSet<String>,
    out: &mut Vec<Vec<String>>,
    place: Place,
) {
    // First find every use on the tokens as written, then wrap them from the
    // last one so that the positions stay valid.
    let mut uses: Vec<(usize, usize, Vec<String>, &'static str)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let Tok::Name(n) = &tokens[i].tok else {
            i += 1;
            continue;
        };
        let prev = i.checked_sub(1).map(|p| &tokens[p].tok);
        let skip = matches!(prev, Some(Tok::Op(o)) if o == "." || o == "|")
            || matches!(prev, Some(Tok::Name(p)) if p == "is")
            || (matches!(prev, Some(Tok::Name(p)) if p == "not")
                && i >= 2
                && tokens[i - 2].tok.is_name("is"))
            || KEYWORDS.contains(&n.as_str())
            || (i + 1 < tokens.len()
                && (tokens[i + 1].tok.is_op("(") || tokens[i + 1].tok.is_op("=")));
        if skip {
            i += 1;
            continue;
        }
        let is_local = locals.contains(n);
        let mut chain = vec![n.clone()];
        let mut j = i + 1;
        while j + 1 < tokens.len() && tokens[j].tok.is_op(".") {
            if let Tok::Name(m) = &tokens[j + 1].tok {
                if j + 2 < tokens.len() && tokens[j + 2].tok.is_op("(") {
                    break;
                }
                chain.push(m.clone());
                j += 2;
            } else {
                break;
            }
        }
        if !is_local && !out.contains(&chain) {
            out.push(chain.clone());
        }
        let before_test = j < tokens.len() && tokens[j].tok.is_name("is");
        if before_test {
            // `a.b.c is defined` must not fail when `a.b` is missing
            for t in &mut tokens[i..j] {
                if t.tok.is_op(".") {
                    t.tok = Tok::Op("?.".to_owned());
                }
            }
            i = j;
            continue;
        }
        let filter = if place == Place::Set && i == 0 && j == tokens.len() {
            "__p"
        } else if truth_operand(tokens, i, j, place) {
            "__b"
        } else {
            "__v"
        };
        uses.push((i, j, chain, filter));
        i = j;
    }
    for (i, j, chain, filter) in uses.into_iter().rev() {
        let at = tokens[i].offset;
        let label = Token {
            tok: Tok::Str(format!("'{}'", chain.join("."))),
            offset: at,
        };
        if chain.len() == 1 && chain[0] == "null" {
            // `null` is not a Jinja2 literal: an undefined name, not tera's none
            tokens[i].tok = Tok::Name("__jinja_null".to_owned());
        }
        let wrap = [
            op("|", at),
            name(filter, at),
            op("(", at),
            name("n", at),
            op("=", at),
            label,
            op(")", at),
            op(")", at),
        ];
        tokens.splice(j..j, wrap);
        tokens.insert(i, op("(", at));
    }
}

fn render_tokens(tokens: &[Token]) -> String {
    let mut out = String::new();
    for (i, t) in tokens.iter().enumerate() {
        if i > 0 {
            let prev = &tokens[i - 1].tok;
            let call = t.tok.is_op("(")
                && (matches!(prev, Tok::Name(n) if !KEYWORDS.contains(&n.as_str()) || n == "range")
                    || prev.is_op(")")
                    || prev.is_op("]"));
            let subscript = t.tok.is_op("[")
                && (matches!(prev, Tok::Name(n) if !KEYWORDS.contains(&n.as_str()))
                    || prev.is_op(")")
                    || prev.is_op("]"));
            let glue = t.tok.is_op(".")
                || prev.is_op(".")
                || t.tok.is_op("?.")
                || prev.is_op("?.")
                || prev.is_op("(")
                || prev.is_op("[")
                || t.tok.is_op(")")
                || t.tok.is_op("]")
                || t.tok.is_op(",")
                || t.tok.is_op("=")
                || prev.is_op("=")
                || call
                || subscript;
            if !glue {
                out.push(' ');
            }
        }
        out.push_str(t.tok.text());
    }
    out
}

enum Segment<'a> {
    Text(&'a str),
    Expr {
        body: &'a str,
        open: &'a str,
        close: &'a str,
        offset: usize,
    },
    Stmt {
        body: &'a str,
        open: &'a str,
        close: &'a str,
        offset: usize,
    },
    Comment,
    Raw(&'a str),
}

fn segments(src: &str) -> Result<Vec<Segment<'_>>, TranslateError> {
    let mut out = Vec::new();
    let mut rest = 0;
    let bytes = src.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] != b'{' || !matches!(bytes[i + 1], b'{' | b'%' | b'#') {
            i += 1;
            continue;
        }
        if i > rest {
            out.push(Segment::Text(&src[rest..i]));
        }
        let kind = bytes[i + 1];
        let close_pat = match kind {
            b'{' => "}}",
            b'%' => "%}",
            _ => "#}",
        };
        let mut body_start = i + 2;
        let open_ws = if body_start < bytes.len()
            && (bytes[body_start] == b'-' || bytes[body_start] == b'+')
        {
            body_start += 1;
            &src[i..body_start]
        } else {
            &src[i..i + 2]
        };
        let Some(rel) = find_close(&src[body_start..], close_pat) else {
            return Err(TranslateError {
                offset: i,
                message: format!("unclosed `{}`", &src[i..i + 2]),
            });
        };
        let mut body_end = body_start + rel;
        let close_start = body_end;
        if body_end > body_start && (bytes[body_end - 1] == b'-' || bytes[body_end - 1] == b'+') {
            body_end -= 1;
        }
        let close = &src[body_end..close_start + 2];
        let body = &src[body_start..body_end];
        match kind {
            b'{' => out.push(Segment::Expr {
                body,
                open: open_ws,
                close,
                offset: body_start,
            }),
            b'%' => {
                if body.trim() == "raw" {
                    // copy everything up to {% endraw %} verbatim
                    let after = close_start + 2;
                    let Some(end) = src[after..]
                        .find("{% endraw %}")
                        .or_else(|| src[after..].find("{%- endraw -%}"))
                    else {
                        return Err(TranslateError {
                            offset: i,
                            message: "unclosed `{% raw %}`".to_owned(),
                        });
                    };
                    out.push(Segment::Raw(&src[after..after + end]));
                    let tail = &src[after + end..];
                    let tail_len = tail.find("%}").map_or(tail.len(), |p| p + 2);
                    rest = after + end + tail_len;
                    i = rest;
                    continue;
                }
                out.push(Segment::Stmt {
                    body,
                    open: open_ws,
                    close,
                    offset: body_start,
                });
            }
            _ => out.push(Segment::Comment),
        }
        rest = close_start + 2;
        i = rest;
    }
    if rest < src.len() {
        out.push(Segment::Text(&src[rest..]));
    }
    Ok(out)
}

/// Find the closing delimiter outside of string literals.
fn find_close(s: &str, pat: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match quote {
            Some(q) => {
                if c == b'\\' {
                    i += 1;
                } else if c == q {
                    quote = None;
                }
            }
            None => {
                if (c == b'\'' || c == b'"') && pat != "#}" {
                    quote = Some(c);
                } else if bytes[i..].starts_with(pat.as_bytes()) {
                    return Some(i);
                }
            }
        }
        i += 1;
    }
    None
}

/// Translate a Jinja2 template to tera.
pub(crate) fn translate(src: &str) -> Result<Translated, TranslateError> {
    let segs = segments(src)?;
    let mut locals: HashSet<String> = HashSet::new();
    // First pass: local names (`set` and `for` targets).
    for seg in &segs {
        if let Segment::Stmt { body, offset, .. } = seg {
            let toks = tokenize(body, *offset)?;
            match toks.first().map(|t| t.tok.text()) {
                Some("for") => {
                    for t in toks.iter().skip(1) {
                        if t.tok.is_name("in") {
                            break;
                        }
                        if let Tok::Name(n) = &t.tok {
                            locals.insert(n.clone());
                        }
                    }
                }
                Some("set") => {
                    for t in toks.iter().skip(1) {
                        if t.tok.is_op("=") {
                            break;
                        }
                        if let Tok::Name(n) = &t.tok {
                            locals.insert(n.clone());
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let mut text = String::with_capacity(src.len() + 32);
    let mut chains = Vec::new();
    for seg in segs {
        match seg {
            Segment::Text(t) => text.push_str(t),
            Segment::Raw(t) => {
                text.push_str("{% raw %}");
                text.push_str(t);
                text.push_str("{% endraw %}");
            }
            Segment::Comment => {}
            Segment::Expr {
                body,
                open,
                close,
                offset,
            } => {
                let mut toks = tokenize(body, offset)?;
                if toks.is_empty() {
                    return Err(TranslateError {
                        offset,
                        message: "empty expression".to_owned(),
                    });
                }
                rewrite_methods(&mut toks)?;
                rewrite_calls(&mut toks)?;
                collect_chains(&mut toks, &locals, &mut chains, Place::Value);
                text.push_str(open);
                text.push_str(" (");
                text.push_str(&render_tokens(&toks));
                text.push_str(") | __py ");
                text.push_str(close);
            }
            Segment::Stmt {
                body,
                open,
                close,
                offset,
            } => {
                let mut toks = tokenize(body, offset)?;
                let Some(first) = toks.first() else {
                    return Err(TranslateError {
                        offset,
                        message: "empty statement".to_owned(),
                    });
                };
                let keyword = first.tok.text().to_owned();
                match keyword.as_str() {
                    "do" | "macro" | "call" | "with" | "include" | "import" | "from"
                    | "extends" | "block" | "autoescape" | "trans" => {
                        return Err(TranslateError {
                            offset: first.offset,
                            message: format!(
                                "the Jinja statement `{keyword}` is not supported by tera"
                            ),
                        });
                    }
                    _ => {}
                }
                rewrite_methods(&mut toks)?;
                rewrite_calls(&mut toks)?;
                // Skip the targets of `for`/`set` when looking for variables.
                let skip = match keyword.as_str() {
                    "for" => toks
                        .iter()
                        .position(|t| t.tok.is_name("in"))
                        .map_or(toks.len(), |p| p + 1),
                    "set" => toks
                        .iter()
                        .position(|t| t.tok.is_op("="))
                        .map_or(toks.len(), |p| p + 1),
                    _ => 1,
                };
                let mut tail = toks.split_off(skip.min(toks.len()));
                let place = match keyword.as_str() {
                    "if" | "elif" => Place::Condition,
                    "set" => Place::Set,
                    _ => Place::Value,
                };
                collect_chains(&mut tail, &locals, &mut chains, place);
                toks.extend(tail);
                text.push_str(open);
                text.push(' ');
                text.push_str(&render_tokens(&toks));
                text.push(' ');
                text.push_str(close);
            }
        }
    }
    Ok(Translated { text, chains })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_escapes_are_python_ones() {
        assert_eq!(tera_string("'plain'"), "'plain'");
        assert_eq!(tera_string(r"'\u00e9t\xe9'"), "\"\u{e9}t\u{e9}\"");
        assert_eq!(tera_string(r"'\101\n\d\/'"), "\"A\n\\\\d\\\\/\"");
        assert_eq!(tera_string(r#"'it\'s \"q\"'"#), r#""it's \"q\"""#);
    }

    fn tr(src: &str) -> String {
        translate(src).unwrap().text
    }

    /// Found by the `dictionary` fuzz target (fuzz/regressions/dictionary):
    /// a multi-byte character where a closing delimiter is looked for made
    /// the search slice the text inside that character.
    #[test]
    fn a_non_ascii_character_near_a_delimiter_is_an_error_not_a_panic() {
        assert!(translate("{% for item item }}{% endfor \u{6c2}").is_err());
        assert!(translate("{{ 'é' }}é{# é #}").is_ok());
    }

    #[test]
    fn printed_values_go_through_the_python_printer() {
        assert_eq!(tr("{{ _.var }}"), "{{ ((_.var | __v(n='_.var'))) | __py }}");
        assert_eq!(tr("a{{- x -}}b"), "a{{- ((x | __v(n='x'))) | __py -}}b");
        assert_eq!(
            tr("{% if x is defined %}{% endif %}"),
            "{% if x is defined %}{% endif %}"
        );
    }

    #[test]
    fn truth_tests_use_the_truth_filter() {
        assert_eq!(
            tr("{% if x %}{% endif %}"),
            "{% if (x | __b(n='x')) %}{% endif %}"
        );
        assert_eq!(
            tr("{% if not a and (b or c) %}{% endif %}"),
            "{% if not (a | __b(n='a')) and ((b | __b(n='b')) or (c | __b(n='c'))) %}{% endif %}"
        );
        // a value, not a truth test
        assert_eq!(
            tr("{{ a or b }}"),
            "{{ ((a | __v(n='a')) or (b | __v(n='b'))) | __py }}"
        );
        assert_eq!(
            tr("{% if (a or b) == 1 %}{% endif %}"),
            "{% if ((a | __v(n='a')) or (b | __v(n='b'))) == 1 %}{% endif %}"
        );
        assert_eq!(
            tr("{{ a if b else c }}"),
            "{{ ((a | __v(n='a')) if (b | __b(n='b')) else (c | __v(n='c'))) | __py }}"
        );
        assert_eq!(
            tr("{% if [a or b] %}{% endif %}"),
            "{% if [(a | __v(n='a')) or (b | __v(n='b'))] %}{% endif %}"
        );
        assert_eq!(
            tr("{% set v = a %}{% set w = a | upper %}"),
            "{% set v=(a | __p(n='a')) %}{% set w=(a | __v(n='a')) | upper %}"
        );
    }

    #[test]
    fn method_calls_become_filters() {
        assert_eq!(
            tr("{% if _.url.startswith('https') %}x{% endif %}"),
            "{% if (((_.url | __v(n='_.url'))) | __m_startswith(a0='https')) %}x{% endif %}"
        );
        assert_eq!(
            tr("{{ ','.join(_.l) }}"),
            "{{ (((',') | __m_join(a0=(_.l | __v(n='_.l'))))) | __py }}"
        );
        assert_eq!(
            tr("{{ x.split(',')[0].upper() }}"),
            "{{ ((((((x | __v(n='x'))) | __m_split(a0=','))[0]) | __m_upper())) | __py }}"
        );
    }

    #[test]
    fn positional_filter_arguments_are_named() {
        assert_eq!(
            tr("{{ l | join(', ') }}"),
            "{{ ((l | __v(n='l')) | __join(sep=', ')) | __py }}"
        );
        assert_eq!(
            tr("{{ s | replace('a', 'b') }}"),
            "{{ ((s | __v(n='s')) | replace(from='a', to='b')) | __py }}"
        );
        assert_eq!(
            tr("{{ x | int }}"),
            "{{ ((x | __v(n='x')) | __int) | __py }}"
        );
    }

    #[test]
    fn tests_and_functions_are_mapped() {
        assert_eq!(
            tr("{% if x is true %}{% endif %}"),
            "{% if x is __true %}{% endif %}"
        );
        assert_eq!(
            tr("{% if x is divisibleby(3) %}{% endif %}"),
            "{% if x is divisible_by(divisor=3) %}{% endif %}"
        );
        assert_eq!(
            tr("{% for i in range(3) %}{% endfor %}"),
            "{% for i in range(end=3) %}{% endfor %}"
        );
        assert_eq!(
            tr("{% for i in trange(0, 10) %}{% endfor %}"),
            "{% for i in range(start=0, end=10) %}{% endfor %}"
        );
    }

    #[test]
    fn chains_exclude_locals_filters_and_keywords() {
        let t = translate(
            "{% set y = 1 %}{% for v in _.list %}{{ v }}{{ loop.index }}{% endfor %}{% if rougail.fam.var is propertyerror and not other %}{{ y | default(z) }}{% endif %}",
        )
        .unwrap();
        assert_eq!(
            t.chains,
            vec![
                vec!["_".to_owned(), "list".to_owned()],
                vec!["rougail".to_owned(), "fam".to_owned(), "var".to_owned()],
                vec!["other".to_owned()],
                vec!["z".to_owned()],
            ]
        );
    }

    #[test]
    fn unsupported_statements_are_errors_with_offsets() {
        let e = translate("abc{% do x.append(1) %}").unwrap_err();
        assert_eq!(e.offset, 6);
        assert_eq!(
            e.message,
            "the Jinja statement `do` is not supported by tera"
        );
        let e = translate("{{ x ").unwrap_err();
        assert_eq!(e.message, "unclosed `{{`");
    }

    #[test]
    fn comments_and_raw_blocks() {
        assert_eq!(tr("a{# c #}b"), "ab");
        assert_eq!(
            tr("{% raw %}{{x}}{% endraw %}"),
            "{% raw %}{{x}}{% endraw %}"
        );
    }
}
