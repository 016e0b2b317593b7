//! The filters and tests brise adds to tera for dictionary expressions:
//! Python printing (`__py`), Python string methods (`__m_*`), Jinja filters
//! tera lacks or names differently, the `propertyerror` test, and the EOLE
//! helpers dictionaries commonly call. Each is documented in
//! docs/jinja-vs-tera.md. Pure functions over tera values.

use tera::{Error, Kwargs, State, Tera, TeraResult, Value};

/// Every filter a translated template may call (tera's and brise's).
pub(crate) const KNOWN_FILTERS: &[&str] = &[
    "abs",
    "capitalize",
    "default",
    "escape",
    "escape_html",
    "escape_xml",
    "first",
    "float",
    "get",
    "group_by",
    "indent",
    "int",
    "join",
    "keys",
    "last",
    "length",
    "lower",
    "newlines_to_br",
    "nth",
    "pairs",
    "pluralize",
    "replace",
    "reverse",
    "round",
    "safe",
    "sort",
    "split",
    "str",
    "title",
    "trim",
    "trim_end",
    "trim_start",
    "truncate",
    "unique",
    "upper",
    "values",
    "wordcount",
    "calc_val",
    "calc_value",
    "calc_multi_val",
    "concat",
    "normalize_family",
    "network_of",
    "broadcast_of",
];

/// Every test a translated template may call (tera's and brise's).
pub(crate) const KNOWN_TESTS: &[&str] = &[
    "array",
    "bool",
    "containing",
    "defined",
    "divisible_by",
    "ending_with",
    "even",
    "float",
    "integer",
    "iterable",
    "map",
    "none",
    "number",
    "odd",
    "starting_with",
    "string",
    "undefined",
    "propertyerror",
];

/// Key of the map that stands for a variable a calculation cannot read (disabled).
pub(crate) const INACCESSIBLE: &str = "__brise_propertyerror__";

/// The reason carried by an inaccessible-variable sentinel.
pub(crate) fn inaccessible_reason(v: &Value) -> Option<String> {
    let map = v.as_map()?;
    if map.len() != 1 {
        return None;
    }
    map.get(&tera::value::Key::from(INACCESSIBLE))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn err(msg: impl Into<String>) -> Error {
    Error::message(msg.into())
}

fn check_accessible(v: &Value) -> TeraResult<()> {
    match inaccessible_reason(v) {
        Some(reason) => Err(err(reason)),
        None => Ok(()),
    }
}

/// Python `repr` of a tera value (strings quoted).
pub(crate) fn py_repr(v: &Value) -> String {
    if let Some(s) = v.as_str() {
        let quote = if s.contains('\'') && !s.contains('"') {
            '"'
        } else {
            '\''
        };
        let mut out = String::new();
        out.push(quote);
        for c in s.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                c if c == quote => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
        out.push(quote);
        return out;
    }
    py_str(v)
}

/// Python `str()` of a tera value: `True`, `None`, `['a', 1]`, `1.0`.
pub(crate) fn py_str(v: &Value) -> String {
    if v.is_none() || v.is_undefined() {
        return "None".to_owned();
    }
    if let Some(b) = v.as_bool() {
        return if b { "True" } else { "False" }.to_owned();
    }
    if let Some(s) = v.as_str() {
        return s.to_owned();
    }
    if v.is_f64() {
        if let Some(f) = v.as_f64() {
            return crate::dictionary::value::python_float(f);
        }
    }
    if let Some(items) = v.as_array() {
        let inner: Vec<String> = items.iter().map(py_repr).collect();
        return format!("[{}]", inner.join(", "));
    }
    if let Some(map) = v.as_map() {
        let inner: Vec<String> = map
            .iter()
            .map(|(k, v)| format!("{}: {}", py_repr(&Value::from(k.to_string())), py_repr(v)))
            .collect();
        return format!("{{{}}}", inner.join(", "));
    }
    v.to_string()
}

fn arg(kwargs: &Kwargs, name: &str) -> TeraResult<Option<Value>> {
    kwargs.get::<Value>(name)
}

fn must_str(v: &Value, what: &str) -> TeraResult<String> {
    check_accessible(v)?;
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| err(format!("`{what}` expects a string, got `{}`", py_str(v))))
}

fn opt_str(kwargs: &Kwargs, name: &str) -> TeraResult<Option<String>> {
    match arg(kwargs, name)? {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => Ok(Some(must_str(&v, name)?)),
    }
}

fn python_split(s: &str, sep: Option<&str>, maxsplit: i64) -> Vec<Value> {
    let max = usize::try_from(maxsplit).ok();
    match sep {
        None => {
            let mut out = Vec::new();
            let mut rest = s.trim_start();
            while !rest.is_empty() {
                if max.is_some_and(|m| out.len() >= m) {
                    out.push(Value::from(rest.trim_end()));
                    break;
                }
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                out.push(Value::from(&rest[..end]));
                rest = rest[end..].trim_start();
            }
            out
        }
        Some(sep) => match max {
            Some(m) => s.splitn(m + 1, sep).map(Value::from).collect(),
            None => s.split(sep).map(Value::from).collect(),
        },
    }
}

fn strip_chars<'a>(s: &'a str, chars: Option<&str>, left: bool, right: bool) -> &'a str {
    let pred = |c: char| chars.map_or(c.is_whitespace(), |set| set.contains(c));
    let s = if left { s.trim_start_matches(pred) } else { s };
    if right { s.trim_end_matches(pred) } else { s }
}

fn method(
    name: &'static str,
) -> impl Fn(&Value, Kwargs, &State) -> TeraResult<Value> + Sync + Send + 'static {
    move |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<Value> {
        check_accessible(v)?;
        let a0 = arg(&kwargs, "a0")?;
        let a1 = arg(&kwargs, "a1")?;
        match name {
            "items" => {
                let map = v
                    .as_map()
                    .ok_or_else(|| err("`items()` expects a mapping"))?;
                Ok(Value::from(
                    map.iter()
                        .map(|(k, v)| Value::from(vec![Value::from(k.to_string()), v.clone()]))
                        .collect::<Vec<_>>(),
                ))
            }
            "keys" => {
                let map = v
                    .as_map()
                    .ok_or_else(|| err("`keys()` expects a mapping"))?;
                Ok(Value::from(
                    map.keys()
                        .map(|k| Value::from(k.to_string()))
                        .collect::<Vec<_>>(),
                ))
            }
            "values" => {
                let map = v
                    .as_map()
                    .ok_or_else(|| err("`values()` expects a mapping"))?;
                Ok(Value::from(map.values().cloned().collect::<Vec<_>>()))
            }
            "get" => {
                let map = v.as_map().ok_or_else(|| err("`get()` expects a mapping"))?;
                let key = a0.ok_or_else(|| err("`get()` needs a key"))?;
                let key = py_str(&key);
                Ok(map
                    .iter()
                    .find(|(k, _)| k.to_string() == key)
                    .map_or_else(|| a1.unwrap_or_else(Value::none), |(_, v)| v.clone()))
            }
            "join" => {
                let sep = must_str(v, "join")?;
                let items = a0.ok_or_else(|| err("`join()` needs a list"))?;
                let items = items
                    .as_array()
                    .ok_or_else(|| err("`join()` expects a list"))?;
                let parts: Vec<String> = items.iter().map(py_str).collect();
                Ok(Value::from(parts.join(&sep)))
            }
            "count" if v.is_array() => {
                let needle = a0.ok_or_else(|| err("`count()` needs a value"))?;
                let n = v
                    .as_array()
                    .map_or(0, |a| a.iter().filter(|x| **x == needle).count());
                Ok(Value::from(n))
            }
            "index" if v.is_array() => {
                let needle = a0.ok_or_else(|| err("`index()` needs a value"))?;
                v.as_array()
                    .and_then(|a| a.iter().position(|x| *x == needle))
                    .map(Value::from)
                    .ok_or_else(|| err(format!("{} is not in list", py_repr(&needle))))
            }
            _ => {
                let s = must_str(v, name)?;
                let a0s = match &a0 {
                    Some(x) if !x.is_none() => Some(py_str(x)),
                    _ => None,
                };
                Ok(match name {
                    "startswith" | "endswith" => {
                        let pats: Vec<String> = match &a0 {
                            Some(x) if x.is_array() => x
                                .as_array()
                                .map(|a| a.iter().map(py_str).collect())
                                .unwrap_or_default(),
                            Some(x) => vec![py_str(x)],
                            None => return Err(err(format!("`{name}()` needs an argument"))),
                        };
                        let hit = pats.iter().any(|p| {
                            if name == "startswith" {
                                s.starts_with(p.as_str())
                            } else {
                                s.ends_with(p.as_str())
                            }
                        });
                        Value::from(hit)
                    }
                    "lower" => Value::from(s.to_lowercase()),
                    "upper" => Value::from(s.to_uppercase()),
                    "title" => Value::from(title(&s)),
                    "capitalize" => Value::from(capitalize(&s)),
                    "strip" => Value::from(strip_chars(&s, a0s.as_deref(), true, true)),
                    "lstrip" => Value::from(strip_chars(&s, a0s.as_deref(), true, false)),
                    "rstrip" => Value::from(strip_chars(&s, a0s.as_deref(), false, true)),
                    "split" | "rsplit" => {
                        let max = a1.as_ref().and_then(Value::as_i64).unwrap_or(-1);
                        Value::from(python_split(&s, a0s.as_deref(), max))
                    }
                    "splitlines" => Value::from(s.lines().map(Value::from).collect::<Vec<_>>()),
                    "replace" => {
                        let from = a0s.ok_or_else(|| err("`replace()` needs two arguments"))?;
                        let to = a1
                            .as_ref()
                            .map(py_str)
                            .ok_or_else(|| err("`replace()` needs two arguments"))?;
                        Value::from(s.replace(&from, &to))
                    }
                    "count" => {
                        let needle = a0s.ok_or_else(|| err("`count()` needs an argument"))?;
                        Value::from(if needle.is_empty() {
                            s.chars().count() + 1
                        } else {
                            s.matches(&needle).count()
                        })
                    }
                    "find" | "index" => {
                        let needle = a0s.ok_or_else(|| err("`find()` needs an argument"))?;
                        match s.find(&needle) {
                            Some(pos) => Value::from(s[..pos].chars().count()),
                            None if name == "find" => Value::from(-1i64),
                            None => return Err(err("substring not found")),
                        }
                    }
                    "isdigit" | "isdecimal" | "isnumeric" => {
                        Value::from(!s.is_empty() && s.chars().all(|c| c.is_ascii_digit()))
                    }
                    "isalpha" => Value::from(!s.is_empty() && s.chars().all(char::is_alphabetic)),
                    "isalnum" => Value::from(!s.is_empty() && s.chars().all(char::is_alphanumeric)),
                    "islower" => Value::from(
                        s.chars().any(char::is_lowercase) && !s.chars().any(char::is_uppercase),
                    ),
                    "isupper" => Value::from(
                        s.chars().any(char::is_uppercase) && !s.chars().any(char::is_lowercase),
                    ),
                    "zfill" => {
                        let width = a0.as_ref().and_then(Value::as_i64).unwrap_or(0);
                        let width = usize::try_from(width).unwrap_or(0);
                        let len = s.chars().count();
                        if len >= width {
                            Value::from(s)
                        } else {
                            let (sign, digits) = match s.strip_prefix(['-', '+']) {
                                Some(d) => (&s[..1], d),
                                None => ("", s.as_str()),
                            };
                            Value::from(format!("{sign}{}{digits}", "0".repeat(width - len)))
                        }
                    }
                    "format" => {
                        let mut out = String::new();
                        let mut args = kwargs
                            .iter()
                            .filter(|(k, _)| k.to_string().starts_with('a'));
                        let mut rest = s.as_str();
                        while let Some(pos) = rest.find("{}") {
                            out.push_str(&rest[..pos]);
                            if let Some((_, v)) = args.next() {
                                out.push_str(&py_str(v));
                            }
                            rest = &rest[pos + 2..];
                        }
                        out.push_str(rest);
                        Value::from(out)
                    }
                    _ => return Err(err(format!("unknown method `{name}`"))),
                })
            }
        }
    }
}

fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_alpha = false;
    for c in s.chars() {
        if c.is_alphabetic() {
            if prev_alpha {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            prev_alpha = true;
        } else {
            out.push(c);
            prev_alpha = false;
        }
    }
    out
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

fn number_of(v: &Value) -> Option<f64> {
    if let Some(b) = v.as_bool() {
        return Some(f64::from(u8::from(b)));
    }
    v.as_f64()
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (number_of(a), number_of(b)) {
        (Some(x), Some(y)) => x.partial_cmp(&y),
        _ => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => Some(x.cmp(y)),
            _ => None,
        },
    }
}

fn py_eq(a: &Value, b: &Value) -> bool {
    match (number_of(a), number_of(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn list_of(v: &Value, what: &str) -> TeraResult<Vec<Value>> {
    check_accessible(v)?;
    if let Some(a) = v.as_array() {
        return Ok(a.to_vec());
    }
    if let Some(s) = v.as_str() {
        return Ok(s.chars().map(|c| Value::from(c.to_string())).collect());
    }
    if let Some(m) = v.as_map() {
        return Ok(m.keys().map(|k| Value::from(k.to_string())).collect());
    }
    Err(err(format!("`{what}` expects a list, got `{}`", py_str(v))))
}

/// `item.name` for Jinja's `attribute=` (dotted: `a.b`, a number indexes a
/// list); a missing one is an error, as with Jinja's StrictUndefined.
fn item_attribute(item: &Value, name: &Value) -> TeraResult<Value> {
    let path = py_str(name);
    item.get_from_path(&path)
        .filter(|found| !found.is_undefined())
        .cloned()
        .ok_or_else(|| err(format!("`{}` has no attribute `{path}`", py_str(item))))
}

/// `v` itself, or an error naming the variable (kwarg `n`) when undefined,
/// as Jinja2's `StrictUndefined`; for the `__v`/`__b`/`__p` wrappers.
fn defined(v: &Value, kwargs: &Kwargs) -> TeraResult<Value> {
    if v.is_undefined() {
        let name = kwargs.get::<&str>("n")?.unwrap_or("a variable");
        return Err(err(format!("`{name}` is undefined")));
    }
    Ok(v.clone())
}

/// Register every brise filter and test on a tera instance.
pub(crate) fn register(tera: &mut Tera) {
    tera.register_filter(
        "__py",
        |v: &Value, _: Kwargs, _: &State| -> TeraResult<String> {
            check_accessible(v)?;
            if v.is_undefined() {
                return Err(err(
                    "an undefined value is printed (unknown variable or field)",
                ));
            }
            Ok(py_str(v))
        },
    );
    tera.register_filter(
        "__v",
        |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<Value> {
            check_accessible(v)?;
            defined(v, &kwargs)
        },
    );
    tera.register_filter(
        "__b",
        |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<Value> {
            // only tested for truth: Rougail's JinjaError has no `__bool__`
            if inaccessible_reason(v).is_some() {
                return Ok(Value::from(true));
            }
            defined(v, &kwargs)
        },
    );
    tera.register_filter(
        "__p",
        |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<Value> {
            // `{% set y = x %}`: an inaccessible value is kept as it is
            defined(v, &kwargs)
        },
    );
    tera.register_filter(
        "__string",
        |v: &Value, _: Kwargs, _: &State| -> TeraResult<String> {
            check_accessible(v)?;
            Ok(py_str(v))
        },
    );
    for m in [
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
    ] {
        tera.register_filter(format!("__m_{m}"), method(m));
    }
    tera.register_filter("__strip", method("strip"));
    tera.register_filter(
        "__int",
        |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<Value> {
            check_accessible(v)?;
            let default = arg(&kwargs, "default")?.unwrap_or_else(|| Value::from(0i64));
            let base = arg(&kwargs, "base")?.and_then(|b| b.as_i64()).unwrap_or(10);
            if let Some(b) = v.as_bool() {
                return Ok(Value::from(i64::from(b)));
            }
            if let Some(i) = v.as_i64() {
                return Ok(Value::from(i));
            }
            if let Some(f) = v.as_f64() {
                #[allow(clippy::cast_possible_truncation)]
                return Ok(Value::from(f.trunc() as i64));
            }
            if let Some(s) = v.as_str() {
                let t = s.trim().replace('_', "");
                let radix = u32::try_from(base).unwrap_or(10);
                if let Ok(i) = i64::from_str_radix(&t, radix) {
                    return Ok(Value::from(i));
                }
                if let Ok(f) = t.parse::<f64>() {
                    #[allow(clippy::cast_possible_truncation)]
                    return Ok(Value::from(f.trunc() as i64));
                }
            }
            Ok(default)
        },
    );
    tera.register_filter(
        "__float",
        |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<Value> {
            check_accessible(v)?;
            let default = arg(&kwargs, "default")?.unwrap_or_else(|| Value::from(0.0f64));
            if let Some(f) = number_of(v) {
                return Ok(Value::from(f));
            }
            if let Some(s) = v.as_str() {
                if let Ok(f) = s.trim().parse::<f64>() {
                    return Ok(Value::from(f));
                }
            }
            Ok(default)
        },
    );
    tera.register_filter(
        "__list",
        |v: &Value, _: Kwargs, _: &State| -> TeraResult<Value> {
            Ok(Value::from(list_of(v, "list")?))
        },
    );
    // Jinja's first/last take any iterable (a string gives a character); an
    // empty one gives an undefined value (an error once printed or compared).
    for (name, last) in [("__first", false), ("__last", true)] {
        tera.register_filter(
            name,
            move |v: &Value, _: Kwargs, _: &State| -> TeraResult<Value> {
                let items = list_of(v, if last { "last" } else { "first" })?;
                let item = if last { items.last() } else { items.first() };
                Ok(item.cloned().unwrap_or_else(Value::undefined))
            },
        );
    }
    // Jinja's join: any iterable (a string joins its characters), items
    // printed as Python's str(), the separator positional or `d=`.
    tera.register_filter(
        "__join",
        |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<String> {
            let items = list_of(v, "join")?;
            let sep = match arg(&kwargs, "sep")?.or(arg(&kwargs, "d")?) {
                None => String::new(),
                Some(sep) => py_str(&sep),
            };
            let attribute = arg(&kwargs, "attribute")?;
            let mut out = Vec::with_capacity(items.len());
            for item in &items {
                let item = match &attribute {
                    None => item.clone(),
                    Some(name) => item_attribute(item, name)?,
                };
                check_accessible(&item)?;
                out.push(py_str(&item));
            }
            Ok(out.join(&sep))
        },
    );
    tera.register_filter(
        "__sum",
        |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<Value> {
            let items = list_of(v, "sum")?;
            let start = arg(&kwargs, "start")?.unwrap_or_else(|| Value::from(0i64));
            let mut int_total: i64 = start.as_i64().unwrap_or(0);
            let mut float_total: f64 = number_of(&start).unwrap_or(0.0);
            let mut is_float = start.is_f64();
            for item in &items {
                if item.is_f64() {
                    is_float = true;
                }
                let n =
                    number_of(item).ok_or_else(|| err(format!("cannot sum `{}`", py_str(item))))?;
                float_total += n;
                if let Some(i) = item.as_i64().or_else(|| item.as_bool().map(i64::from)) {
                    int_total = int_total.saturating_add(i);
                }
            }
            Ok(if is_float {
                Value::from(float_total)
            } else {
                Value::from(int_total)
            })
        },
    );
    for (name, want) in [
        ("__min", std::cmp::Ordering::Less),
        ("__max", std::cmp::Ordering::Greater),
    ] {
        tera.register_filter(
            name,
            move |v: &Value, _: Kwargs, _: &State| -> TeraResult<Value> {
                let items = list_of(v, "min/max")?;
                let mut best: Option<Value> = None;
                for item in items {
                    best = match best {
                        None => Some(item),
                        Some(b) => {
                            if compare(&item, &b) == Some(want) {
                                Some(item)
                            } else {
                                Some(b)
                            }
                        }
                    };
                }
                Ok(best.unwrap_or_else(Value::none))
            },
        );
    }
    tera.register_filter(
        "__sort",
        |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<Value> {
            let mut items = list_of(v, "sort")?;
            let reverse = arg(&kwargs, "reverse")?.is_some_and(|r| r.is_truthy());
            let attribute = opt_str(&kwargs, "attribute")?;
            let key = |x: &Value| -> Value {
                match &attribute {
                    Some(a) => x.get_from_path(a).cloned().unwrap_or_else(Value::none),
                    None => x.clone(),
                }
            };
            items.sort_by(|a, b| compare(&key(a), &key(b)).unwrap_or(std::cmp::Ordering::Equal));
            if reverse {
                items.reverse();
            }
            Ok(Value::from(items))
        },
    );
    tera.register_filter(
        "__map",
        |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<Value> {
            let items = list_of(v, "map")?;
            if let Some(attribute) = opt_str(&kwargs, "attribute")? {
                return Ok(Value::from(
                    items
                        .iter()
                        .map(|x| {
                            x.get_from_path(&attribute)
                                .cloned()
                                .unwrap_or_else(Value::none)
                        })
                        .collect::<Vec<_>>(),
                ));
            }
            let f = opt_str(&kwargs, "a0")?.unwrap_or_default();
            let out: TeraResult<Vec<Value>> = items
                .iter()
                .map(|x| match f.as_str() {
                    "string" | "str" => Ok(Value::from(py_str(x))),
                    "int" => Ok(x
                        .as_i64()
                        .map(Value::from)
                        .or_else(|| {
                            x.as_str()
                                .and_then(|s| s.trim().parse::<i64>().ok())
                                .map(Value::from)
                        })
                        .unwrap_or_else(|| Value::from(0i64))),
                    "lower" => Ok(Value::from(py_str(x).to_lowercase())),
                    "upper" => Ok(Value::from(py_str(x).to_uppercase())),
                    "trim" => Ok(Value::from(py_str(x).trim())),
                    other => Err(err(format!("`map` does not support the filter `{other}`"))),
                })
                .collect();
            Ok(Value::from(out?))
        },
    );
    for (name, keep) in [("__select", true), ("__reject", false)] {
        tera.register_filter(
            name,
            move |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<Value> {
                let items = list_of(v, "select")?;
                let test = opt_str(&kwargs, "a0")?;
                let out: Vec<Value> = items
                    .into_iter()
                    .filter(|x| {
                        let ok = match test.as_deref() {
                            None => x.is_truthy(),
                            Some("none") => x.is_none(),
                            Some("defined") => !x.is_undefined(),
                            Some("string") => x.is_string(),
                            Some("number") => x.is_number(),
                            Some(_) => x.is_truthy(),
                        };
                        ok == keep
                    })
                    .collect();
                Ok(Value::from(out))
            },
        );
    }
    tera.register_filter(
        "__tojson",
        |v: &Value, _: Kwargs, _: &State| -> TeraResult<String> {
            check_accessible(v)?;
            Ok(v.to_string())
        },
    );
    tera.register_filter(
        "__center",
        |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<String> {
            let s = py_str(v);
            let width = arg(&kwargs, "width")?
                .and_then(|w| w.as_i64())
                .unwrap_or(80);
            let width = usize::try_from(width).unwrap_or(0);
            let len = s.chars().count();
            if len >= width {
                return Ok(s);
            }
            let total = width - len;
            let left = total / 2 + (total & width & 1);
            Ok(format!(
                "{}{s}{}",
                " ".repeat(left),
                " ".repeat(total - left)
            ))
        },
    );
    tera.register_filter(
        "__batch",
        |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<Value> {
            let items = list_of(v, "batch")?;
            let size = arg(&kwargs, "a0")?
                .and_then(|w| w.as_i64())
                .unwrap_or(1)
                .max(1);
            let size = usize::try_from(size).unwrap_or(1);
            let fill = arg(&kwargs, "a1")?;
            let mut out = Vec::new();
            for chunk in items.chunks(size) {
                let mut c = chunk.to_vec();
                if let Some(f) = &fill {
                    while c.len() < size {
                        c.push(f.clone());
                    }
                }
                out.push(Value::from(c));
            }
            Ok(Value::from(out))
        },
    );
    tera.register_filter(
        "__dictsort",
        |v: &Value, _: Kwargs, _: &State| -> TeraResult<Value> {
            check_accessible(v)?;
            let map = v
                .as_map()
                .ok_or_else(|| err("`dictsort` expects a mapping"))?;
            let mut pairs: Vec<(String, Value)> = map
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            pairs.sort_by_key(|(k, _)| k.to_lowercase());
            Ok(Value::from(
                pairs
                    .into_iter()
                    .map(|(k, v)| Value::from(vec![Value::from(k), v]))
                    .collect::<Vec<_>>(),
            ))
        },
    );
    tera.register_filter(
        "__attr",
        |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<Value> {
            check_accessible(v)?;
            let name = opt_str(&kwargs, "a0")?.unwrap_or_default();
            Ok(v.get_from_path(&name)
                .cloned()
                .unwrap_or_else(Value::undefined))
        },
    );
    tera.register_filter(
        "__format",
        |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<String> {
            let fmt = must_str(v, "format")?;
            let mut out = String::new();
            let mut args = kwargs.iter().map(|(_, v)| v.clone());
            let mut chars = fmt.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '%' {
                    match chars.next() {
                        Some('%') => out.push('%'),
                        Some('s' | 'd' | 'i') => {
                            out.push_str(&args.next().map(|a| py_str(&a)).unwrap_or_default())
                        }
                        Some(o) => {
                            out.push('%');
                            out.push(o);
                        }
                        None => out.push('%'),
                    }
                } else {
                    out.push(c);
                }
            }
            Ok(out)
        },
    );
    // EOLE helpers.
    tera.register_filter(
        "calc_val",
        |v: &Value, _: Kwargs, _: &State| -> TeraResult<Value> {
            check_accessible(v)?;
            Ok(v.clone())
        },
    );
    tera.register_filter(
        "calc_multi_val",
        |v: &Value, _: Kwargs, _: &State| -> TeraResult<Value> {
            check_accessible(v)?;
            Ok(if v.is_array() {
                v.clone()
            } else if v.is_none() {
                Value::from(Vec::<Value>::new())
            } else {
                Value::from(vec![v.clone()])
            })
        },
    );
    tera.register_filter(
        "concat",
        |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<String> {
            check_accessible(v)?;
            let mut out = py_str(v);
            for (_, a) in kwargs.iter() {
                out.push_str(&py_str(a));
            }
            Ok(out)
        },
    );
    tera.register_filter(
        "normalize_family",
        |v: &Value, _: Kwargs, _: &State| -> TeraResult<String> {
            Ok(crate::dictionary::normalize_identifier(&py_str(v)))
        },
    );
    tera.register_filter(
        "network_of",
        |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<String> {
            let ip = must_str(v, "network_of")?;
            let mask = opt_str(&kwargs, "a0")?
                .or(opt_str(&kwargs, "netmask")?)
                .ok_or_else(|| err("`network_of` needs a netmask"))?;
            let ip: std::net::Ipv4Addr = ip
                .parse()
                .map_err(|_| err(format!("`{ip}` is not an IPv4 address")))?;
            let mask: std::net::Ipv4Addr = mask
                .parse()
                .map_err(|_| err(format!("`{mask}` is not a netmask")))?;
            Ok(std::net::Ipv4Addr::from(u32::from(ip) & u32::from(mask)).to_string())
        },
    );
    tera.register_filter(
        "broadcast_of",
        |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<String> {
            let ip = must_str(v, "broadcast_of")?;
            let mask = opt_str(&kwargs, "a0")?
                .or(opt_str(&kwargs, "netmask")?)
                .ok_or_else(|| err("`broadcast_of` needs a netmask"))?;
            let ip: std::net::Ipv4Addr = ip
                .parse()
                .map_err(|_| err(format!("`{ip}` is not an IPv4 address")))?;
            let mask: std::net::Ipv4Addr = mask
                .parse()
                .map_err(|_| err(format!("`{mask}` is not a netmask")))?;
            Ok(std::net::Ipv4Addr::from(u32::from(ip) | !u32::from(mask)).to_string())
        },
    );

    tera.register_filter(
        "calc_value",
        |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<Value> {
            check_accessible(v)?;
            let multi = arg(&kwargs, "multi")?.is_some_and(|m| m.is_truthy());
            if multi && !v.is_array() {
                return Ok(if v.is_none() {
                    Value::from(Vec::<Value>::new())
                } else {
                    Value::from(vec![v.clone()])
                });
            }
            Ok(v.clone())
        },
    );
    tera.register_filter(
        "__unknown_filter",
        |_: &Value, kwargs: Kwargs, _: &State| -> TeraResult<Value> {
            let name = kwargs.get::<&str>("__f")?.unwrap_or("?");
            Err(err(format!("no filter named `{name}`")))
        },
    );
    tera.register_test(
        "__unknown_test",
        |_: &Value, kwargs: Kwargs, _: &State| -> TeraResult<bool> {
            let name = kwargs.get::<&str>("__t")?.unwrap_or("?");
            Err(err(format!("no test named `{name}`")))
        },
    );
    tera.register_function(
        "__unknown_function",
        |kwargs: Kwargs, _: &State| -> TeraResult<Value> {
            let name = kwargs.get::<&str>("__f")?.unwrap_or("?");
            Err(err(format!("no function named `{name}`")))
        },
    );

    // Tests.
    tera.register_test("propertyerror", |v: &Value, _: Kwargs, _: &State| {
        inaccessible_reason(v).is_some()
    });
    tera.register_test("__true", |v: &Value, _: Kwargs, _: &State| {
        v.as_bool() == Some(true)
    });
    tera.register_test("__false", |v: &Value, _: Kwargs, _: &State| {
        v.as_bool() == Some(false)
    });
    tera.register_test("__lower", |v: &Value, _: Kwargs, _: &State| {
        v.as_str()
            .is_some_and(|s| !s.chars().any(char::is_uppercase))
    });
    tera.register_test("__upper", |v: &Value, _: Kwargs, _: &State| {
        v.as_str()
            .is_some_and(|s| !s.chars().any(char::is_lowercase))
    });
    tera.register_test(
        "__in",
        |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<bool> {
            let container = arg(&kwargs, "a0")?.ok_or_else(|| err("`in` needs a container"))?;
            Ok(
                match (container.as_array(), container.as_str(), v.as_str()) {
                    (Some(items), _, _) => items.iter().any(|x| py_eq(x, v)),
                    (None, Some(hay), Some(needle)) => hay.contains(needle),
                    _ => false,
                },
            )
        },
    );
    tera.register_test(
        "__sameas",
        |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<bool> {
            Ok(arg(&kwargs, "a0")?.is_some_and(|o| o == *v))
        },
    );
    tera.register_test(
        "__eq",
        |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<bool> {
            Ok(arg(&kwargs, "a0")?.is_some_and(|o| py_eq(v, &o)))
        },
    );
    tera.register_test(
        "__ne",
        |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<bool> {
            Ok(!arg(&kwargs, "a0")?.is_some_and(|o| py_eq(v, &o)))
        },
    );
    for (name, accept) in [
        ("__lt", &[std::cmp::Ordering::Less][..]),
        (
            "__le",
            &[std::cmp::Ordering::Less, std::cmp::Ordering::Equal][..],
        ),
        ("__gt", &[std::cmp::Ordering::Greater][..]),
        (
            "__ge",
            &[std::cmp::Ordering::Greater, std::cmp::Ordering::Equal][..],
        ),
    ] {
        let accept = accept.to_vec();
        tera.register_test(
            name,
            move |v: &Value, kwargs: Kwargs, _: &State| -> TeraResult<bool> {
                let other = arg(&kwargs, "a0")?.ok_or_else(|| err("comparison needs a value"))?;
                Ok(compare(v, &other).is_some_and(|o| accept.contains(&o)))
            },
        );
    }
}
