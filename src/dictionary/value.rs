//! [`Value`]: a variable's value (scalar or list) as dictionaries, values files
//! and calculations produce it, with Python's printing and equality rules
//! where Rougail's behaviour depends on them (`str(True)` is `True`, `1 == 1.0`,
//! floats printed with `repr`). Pure data, no I/O.

use std::fmt;

/// A value: null, a scalar, or a list of values.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Self>),
}

impl Value {
    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }

    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_list(&self) -> Option<&[Self]> {
        match self {
            Self::List(items) => Some(items),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Python `==`: `True == 1`, `1 == 1.0`, lists element-wise.
    #[must_use]
    pub fn py_eq(&self, other: &Self) -> bool {
        match (self.as_number(), other.as_number()) {
            (Some(a), Some(b)) => return a == b,
            (Some(_), None) | (None, Some(_)) => return false,
            (None, None) => {}
        }
        match (self, other) {
            (Self::Null, Self::Null) => true,
            (Self::Str(a), Self::Str(b)) => a == b,
            (Self::List(a), Self::List(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.py_eq(y))
            }
            _ => false,
        }
    }

    fn as_number(&self) -> Option<f64> {
        match self {
            Self::Bool(b) => Some(f64::from(u8::from(*b))),
            #[allow(clippy::cast_precision_loss)]
            Self::Int(i) => Some(*i as f64),
            Self::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// Python `str(value)`: what a Jinja2 template prints for it.
    #[must_use]
    pub fn python_str(&self) -> String {
        match self {
            Self::Str(s) => s.clone(),
            other => other.python_repr(),
        }
    }

    /// Python `repr(value)` (strings quoted, as inside a printed list).
    #[must_use]
    pub fn python_repr(&self) -> String {
        match self {
            Self::Null => "None".to_owned(),
            Self::Bool(true) => "True".to_owned(),
            Self::Bool(false) => "False".to_owned(),
            Self::Int(i) => i.to_string(),
            Self::Float(f) => python_float(*f),
            Self::Str(s) => python_str_repr(s),
            Self::List(items) => {
                let inner: Vec<String> = items.iter().map(Self::python_repr).collect();
                format!("[{}]", inner.join(", "))
            }
        }
    }

    /// A short, human form for messages and `get`: strings bare, lists comma-separated.
    #[must_use]
    pub fn display(&self) -> String {
        match self {
            Self::Null => String::new(),
            Self::Bool(b) => b.to_string(),
            Self::Int(i) => i.to_string(),
            Self::Float(f) => python_float(*f),
            Self::Str(s) => s.clone(),
            Self::List(items) => items
                .iter()
                .map(Self::display)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// The value as `serde_json` sees it (templates, the web form).
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Null => serde_json::Value::Null,
            Self::Bool(b) => serde_json::Value::Bool(*b),
            Self::Int(i) => serde_json::Value::from(*i),
            Self::Float(f) => serde_json::Number::from_f64(*f)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Self::Str(s) => serde_json::Value::String(s.clone()),
            Self::List(items) => {
                serde_json::Value::Array(items.iter().map(Self::to_json).collect())
            }
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

/// Python's `repr` of a string (single quotes unless the text holds one and no double quote).
fn python_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// A float as Python's `repr` prints it: shortest round-trip digits, `1.0`
/// rather than `1`, exponent form below 1e-4 and from 1e16.
#[must_use]
pub fn python_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    // `{:e}` gives the shortest round-trip digits in scientific form: d.ddde±x.
    let sci = format!("{f:e}");
    let Some((mantissa, exponent)) = sci.split_once('e') else {
        return sci;
    };
    let Ok(exponent) = exponent.parse::<i32>() else {
        return sci;
    };
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exponent) {
        let n_digits = i32::try_from(digits.len()).unwrap_or(i32::MAX);
        let point = exponent + 1; // position of the decimal point in `digits`
        let body = if point <= 0 {
            format!(
                "0.{}{}",
                "0".repeat(usize::try_from(-point).unwrap_or(0)),
                digits
            )
        } else if point >= n_digits {
            format!(
                "{}{}.0",
                digits,
                "0".repeat(usize::try_from(point - n_digits).unwrap_or(0))
            )
        } else {
            let split = usize::try_from(point).unwrap_or(0);
            format!("{}.{}", &digits[..split], &digits[split..])
        };
        format!("{sign}{body}")
    } else {
        let mut mant = digits[..1].to_owned();
        if digits.len() > 1 {
            mant.push('.');
            mant.push_str(&digits[1..]);
        }
        let esign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{mant}e{esign}{:02}", exponent.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_python_repr() {
        assert_eq!(python_float(1.0), "1.0");
        assert_eq!(python_float(0.527), "0.527");
        assert_eq!(python_float(1.5e3), "1500.0");
        assert_eq!(python_float(1e16), "1e+16");
        assert_eq!(python_float(1.5e16), "1.5e+16");
        assert_eq!(python_float(0.0001), "0.0001");
        assert_eq!(python_float(0.00001), "1e-05");
        assert_eq!(python_float(-2.5), "-2.5");
        assert_eq!(python_float(123456789012345.6), "123456789012345.6");
        assert_eq!(python_float(0.1 + 0.2), "0.30000000000000004");
    }

    #[test]
    fn python_equality_mixes_bools_and_numbers() {
        assert!(Value::Bool(true).py_eq(&Value::Int(1)));
        assert!(Value::Int(1).py_eq(&Value::Float(1.0)));
        assert!(!Value::Str("1".into()).py_eq(&Value::Int(1)));
        assert!(Value::Null.py_eq(&Value::Null));
    }

    #[test]
    fn python_str_of_values() {
        assert_eq!(Value::Bool(true).python_str(), "True");
        assert_eq!(Value::Null.python_str(), "None");
        assert_eq!(
            Value::List(vec![Value::Str("a".into()), Value::Int(1)]).python_str(),
            "['a', 1]"
        );
        assert_eq!(Value::Str("it's".into()).python_repr(), "\"it's\"");
    }
}
