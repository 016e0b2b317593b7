//! Import of an EOLE `config.eol` (JSON `{"var": {"val": …, "owner": …}}`,
//! followers keyed by index, `___version___` ignored) into [`RawValues`].
//! EOLE variables are named by their short name: each is matched with the one
//! variable of that name in the dictionaries. Values the dictionaries refuse
//! are left out and reported. Pure: takes the JSON text.

use std::collections::HashMap;

use serde_json::Value as Json;

use crate::dictionary::schema::{NodeId, NodeKind, Role, Schema};
use crate::dictionary::value::Value;
use crate::values::raw::RawValues;
use crate::values::{IssueKind, resolve};

/// Why a `config.eol` cannot be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum EolError {
    #[error("invalid config.eol JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("a config.eol must be a JSON object of variables")]
    NotAnObject,
}

/// The outcome of an import: the new values and what was left out.
#[derive(Debug, Clone)]
pub struct Imported {
    pub values: RawValues,
    /// How many variables were imported.
    pub count: usize,
    /// Variables left out, with the reason (unknown, ambiguous, refused value).
    pub skipped: Vec<String>,
}

fn to_value(j: &Json) -> Option<Value> {
    Some(match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64()?),
        },
        Json::String(s) => Value::Str(s.clone()),
        Json::Array(items) => Value::List(items.iter().map(to_value).collect::<Option<Vec<_>>>()?),
        Json::Object(_) => return None,
    })
}

/// Followers are `{"0": v, "1": v}`: the values in index order.
fn indexed(map: &serde_json::Map<String, Json>) -> Option<Vec<(usize, Value)>> {
    let mut out = Vec::new();
    for (k, v) in map {
        out.push((k.parse::<usize>().ok()?, to_value(v)?));
    }
    out.sort_by_key(|(i, _)| *i);
    Some(out)
}

/// Import `text` over `base` (values already set are kept unless the file sets them).
pub fn import(schema: &Schema, base: &RawValues, text: &str) -> Result<Imported, EolError> {
    let json: Json = serde_json::from_str(text)?;
    let Json::Object(vars) = json else {
        return Err(EolError::NotAnObject);
    };
    // short name → variables of that name (outside dynamic families)
    let mut by_name: HashMap<&str, Vec<NodeId>> = HashMap::new();
    for (id, node) in schema.nodes() {
        if let NodeKind::Variable(_) = node.kind {
            if !node.path.contains("{{ identifier }}") {
                by_name.entry(node.name.as_str()).or_default().push(id);
            }
        }
    }
    let mut raw = base.clone();
    let mut skipped = Vec::new();
    let mut imported: Vec<String> = Vec::new();
    // leaders first, so followers find their rows
    let mut ordered: Vec<(&String, &Json)> = vars.iter().collect();
    ordered.sort_by_key(|(name, _)| {
        let is_follower = by_name
            .get(name.as_str())
            .and_then(|ids| ids.first())
            .and_then(|id| schema.variable(*id))
            .is_some_and(|v| matches!(v.role, Role::Follower(_)));
        u8::from(is_follower)
    });
    for (name, entry) in ordered {
        if name.starts_with("___") {
            continue;
        }
        let (val, owner) = match entry {
            Json::Object(o) => (o.get("val"), o.get("owner")),
            _ => {
                skipped.push(format!("`{name}`: not an object with `val` and `owner`"));
                continue;
            }
        };
        if owner.and_then(Json::as_str) == Some("default") {
            continue;
        }
        let Some(val) = val else {
            skipped.push(format!("`{name}`: no `val`"));
            continue;
        };
        let ids = by_name.get(name.as_str()).cloned().unwrap_or_default();
        let id = match ids.as_slice() {
            [one] => *one,
            [] => {
                skipped.push(format!("`{name}`: no such variable in the dictionaries"));
                continue;
            }
            _ => {
                skipped.push(format!("`{name}`: several variables have this name"));
                continue;
            }
        };
        let node = schema.node(id);
        let Some(var) = schema.variable(id) else {
            continue;
        };
        match var.role {
            Role::Plain => match to_value(val) {
                Some(v) => {
                    let v = match (&v, var.multi) {
                        (Value::List(_), _) | (_, false) => v,
                        (Value::Null, true) => Value::List(Vec::new()),
                        (_, true) => Value::List(vec![v]),
                    };
                    raw.set(&node.path, v);
                    imported.push(node.path.clone());
                }
                None => skipped.push(format!("`{name}`: unexpected value")),
            },
            Role::Leader => {
                let Some(Value::List(values)) = to_value(val) else {
                    skipped.push(format!("`{name}`: a leader needs a list"));
                    continue;
                };
                let family = node.path.rsplit_once('.').map_or("", |(f, _)| f).to_owned();
                let rows = values
                    .into_iter()
                    .map(|v| vec![(node.name.clone(), v)])
                    .collect();
                raw.set_rows(&family, rows);
                imported.push(node.path.clone());
            }
            Role::Follower(_) => {
                let family = node.path.rsplit_once('.').map_or("", |(f, _)| f).to_owned();
                let values = match val {
                    Json::Object(map) => indexed(map),
                    Json::Array(items) => items
                        .iter()
                        .map(to_value)
                        .collect::<Option<Vec<_>>>()
                        .map(|v| v.into_iter().enumerate().collect()),
                    _ => None,
                };
                let Some(values) = values else {
                    skipped.push(format!("`{name}`: a follower needs values by index"));
                    continue;
                };
                let mut rows = raw.rows(&family).cloned().unwrap_or_default();
                for (i, v) in values {
                    if i >= rows.len() {
                        skipped.push(format!("`{name}`: index {i} has no leader value"));
                        continue;
                    }
                    rows[i].retain(|(k, _)| *k != node.name);
                    rows[i].push((node.name.clone(), v));
                }
                raw.set_rows(&family, rows);
                imported.push(node.path.clone());
            }
        }
    }
    // leave out what the dictionaries refuse
    let config = resolve(schema, &raw);
    let mut refused: Vec<(String, String)> = config
        .issues()
        .iter()
        .filter(|i| i.kind == IssueKind::InvalidValue && imported.contains(&i.path))
        .map(|i| (i.path.clone(), i.message.clone()))
        .collect();
    refused.dedup();
    for (path, message) in &refused {
        raw.reset(path);
        skipped.push(format!("`{path}`: {message}"));
    }
    let count = imported.len().saturating_sub(refused.len());
    Ok(Imported {
        values: raw,
        count,
        skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dictionary::{SourceFile, Sources, load};

    fn schema(text: &str) -> Schema {
        load(&Sources {
            namespace: None,
            files: vec![SourceFile::new("d.yml", text)],
            extras: Vec::new(),
        })
        .unwrap()
    }

    #[test]
    fn imports_values_leaders_and_followers() {
        let s = schema(
            "version: 1.1\ngeneral:\n  nom_machine: x\n  port:\n    type: port\n    default: 80\nnet:\n  type: sequence\n  ip:\n    type: ip\n    multi: true\n  mask:\n    type: netmask\n",
        );
        let text = r#"{"nom_machine": {"val": "scribe", "owner": "gen_config"},
            "port": {"owner": "user", "val": "8080"},
            "ip": {"val": ["10.0.0.1", "10.0.0.2"], "owner": "gen_config"},
            "mask": {"val": {"0": "255.255.255.0", "1": "255.255.0.0"}, "owner": {"0": "gen_config", "1": "user"}},
            "unknown": {"val": 1, "owner": "user"},
            "___version___": "2.8.1"}"#;
        let imported = import(&s, &RawValues::default(), text).unwrap();
        assert_eq!(imported.count, 4);
        assert_eq!(
            imported.skipped,
            vec!["`unknown`: no such variable in the dictionaries".to_owned()]
        );
        let config = resolve(&s, &imported.values);
        assert_eq!(
            config.get("general.nom_machine").unwrap(),
            &Value::Str("scribe".into())
        );
        assert_eq!(
            config.get("net.mask").unwrap(),
            &Value::List(vec![
                Value::Str("255.255.255.0".into()),
                Value::Str("255.255.0.0".into())
            ])
        );
    }

    #[test]
    fn refused_values_are_left_out() {
        let s = schema("version: 1.1\nport:\n  type: port\n  default: 80\n");
        let imported = import(
            &s,
            &RawValues::default(),
            r#"{"port": {"val": "99999", "owner": "user"}}"#,
        )
        .unwrap();
        assert_eq!(imported.count, 0);
        assert_eq!(imported.skipped.len(), 1);
        assert!(imported.values.is_empty());
    }

    #[test]
    fn malformed_json_is_an_error() {
        let s = schema("version: 1.1\nv: 1\n");
        assert!(import(&s, &RawValues::default(), "{not json").is_err());
        assert!(matches!(
            import(&s, &RawValues::default(), "[]"),
            Err(EolError::NotAnObject)
        ));
    }
}
