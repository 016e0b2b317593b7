//! The flat view printed exactly as Python's `json.dumps(obj, indent=4)` does
//! (Rougail's test view): 4-space indentation, `", "`/`": "` separators,
//! non-ASCII escaped as `\uXXXX` (surrogate pairs beyond the BMP), floats as
//! Python's `repr`, a final newline. Pure string building.

use std::fmt::Write as _;

use crate::dictionary::value::{Value, python_float};
use crate::values::config::FlatValue;

/// A JSON string literal with Python's `ensure_ascii` escaping.
pub(crate) fn python_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x80 => out.push(c),
            c => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

fn pad(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("    ");
    }
}

fn write_value(out: &mut String, v: &Value, level: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => {
            if f.is_nan() {
                out.push_str("NaN");
            } else if f.is_infinite() {
                out.push_str(if *f > 0.0 { "Infinity" } else { "-Infinity" });
            } else {
                out.push_str(&python_float(*f));
            }
        }
        Value::Str(s) => python_json_string(out, s),
        Value::List(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                pad(out, level + 1);
                write_value(out, item, level + 1);
                if i + 1 < items.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            pad(out, level);
            out.push(']');
        }
    }
}

fn write_object(out: &mut String, entries: &[(String, Value)], level: usize) {
    if entries.is_empty() {
        out.push_str("{}");
        return;
    }
    out.push_str("{\n");
    for (i, (k, v)) in entries.iter().enumerate() {
        pad(out, level + 1);
        python_json_string(out, k);
        out.push_str(": ");
        write_value(out, v, level + 1);
        if i + 1 < entries.len() {
            out.push(',');
        }
        out.push('\n');
    }
    pad(out, level);
    out.push('}');
}

/// The whole flat view, with the final newline.
pub(crate) fn write_python_json(out: &mut String, flat: &[(String, FlatValue)]) {
    if flat.is_empty() {
        out.push_str("{}\n");
        return;
    }
    out.push_str("{\n");
    for (i, (k, v)) in flat.iter().enumerate() {
        pad(out, 1);
        python_json_string(out, k);
        out.push_str(": ");
        match v {
            FlatValue::Value(v) => write_value(out, v, 1),
            FlatValue::Rows(rows) => {
                if rows.is_empty() {
                    out.push_str("[]");
                } else {
                    out.push_str("[\n");
                    for (j, row) in rows.iter().enumerate() {
                        pad(out, 2);
                        write_object(out, row, 2);
                        if j + 1 < rows.len() {
                            out.push(',');
                        }
                        out.push('\n');
                    }
                    pad(out, 1);
                    out.push(']');
                }
            }
        }
        if i + 1 < flat.len() {
            out.push(',');
        }
        out.push('\n');
    }
    out.push_str("}\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_python_json_dumps_indent_4() {
        let flat = vec![
            (
                "a.s".to_owned(),
                FlatValue::Value(Value::Str("é\"x\u{1F600}".into())),
            ),
            (
                "a.l".to_owned(),
                FlatValue::Value(Value::List(vec![Value::Int(1), Value::Float(2.0)])),
            ),
            ("a.e".to_owned(), FlatValue::Value(Value::List(Vec::new()))),
            (
                "a.lead".to_owned(),
                FlatValue::Rows(vec![vec![
                    ("a.lead".to_owned(), Value::Str("x".into())),
                    ("a.f".to_owned(), Value::Null),
                ]]),
            ),
        ];
        let mut out = String::new();
        write_python_json(&mut out, &flat);
        assert_eq!(
            out,
            "{\n    \"a.s\": \"\\u00e9\\\"x\\ud83d\\ude00\",\n    \"a.l\": [\n        1,\n        2.0\n    ],\n    \"a.e\": [],\n    \"a.lead\": [\n        {\n            \"a.lead\": \"x\",\n            \"a.f\": null\n        }\n    ]\n}\n"
        );
    }

    #[test]
    fn empty_view_is_an_empty_object() {
        let mut out = String::new();
        write_python_json(&mut out, &[]);
        assert_eq!(out, "{}\n");
    }
}
