//! Schema + the administrator's values → the resolved configuration: every
//! value and property, calculations evaluated (tera), every validation error
//! collected ([`resolve`] never fails). Also the values file itself
//! ([`RawValues`], written atomically with mode 0600 by [`write_file`]), the
//! one validation path for changes made by `set` and the web form
//! ([`apply_changes`]), and the import of an EOLE `config.eol` ([`eol`]).
//! Pure apart from `RawValues::load_file` and `write_file`.

pub mod config;
pub mod eol;
pub(crate) mod json;
pub mod raw;
mod resolve;

use std::path::{Path, PathBuf};

pub use config::{Config, Entry, EntryKind, FlatValue, Issue, IssueKind, Unreadable};
pub use raw::{RawError, RawNode, RawValues};

use crate::dictionary::schema::{Role, Schema};
use crate::dictionary::types;
pub use crate::dictionary::value::Value;

/// What is shown in place of a secret (`show`, `get --list`, messages).
pub const SECRET_MASK: &str = "**********";

/// Resolve every value and property. Never fails: problems are in `config.errors()`.
#[must_use]
pub fn resolve(schema: &Schema, raw: &RawValues) -> Config {
    resolve::Resolver::new(schema, raw).run()
}

/// Why the values file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write the values file `{path}`: {source}")]
    Write {
        path: PathBuf,
        source: crate::output::atomic::AtomicError,
    },
}

/// Write the values file atomically (temporary file in the same directory,
/// fsync, rename), mode 0600, keeping the owner of an existing file.
pub fn write_file(path: &Path, raw: &RawValues) -> Result<(), WriteError> {
    use std::os::unix::fs::MetadataExt;
    let (uid, gid) = match std::fs::metadata(path) {
        Ok(m) => (m.uid(), m.gid()),
        Err(_) => (
            nix::unistd::getuid().as_raw(),
            nix::unistd::getgid().as_raw(),
        ),
    };
    let attributes = crate::output::atomic::FileAttributes {
        uid,
        gid,
        mode: 0o600,
    };
    crate::output::atomic::write(path, raw.to_yaml().as_bytes(), Some(attributes)).map_err(
        |source| WriteError::Write {
            path: path.to_owned(),
            source,
        },
    )
}

/// One requested change of a variable (command line or web form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// New value(s) as text: one for a variable, several for a multi (or a
    /// leader / follower column).
    Set(Vec<String>),
    /// Back to the default (forget what was set).
    Default,
}

/// Apply changes to a copy of the values, resolve, and return the new values
/// or every problem of the changed variables (each with its path).
pub fn apply_changes(
    schema: &Schema,
    raw: &RawValues,
    changes: &[(String, Change)],
) -> Result<RawValues, Vec<Issue>> {
    let before = resolve(schema, raw);
    let mut next = raw.clone();
    let mut problems = Vec::new();
    for (path, change) in changes {
        if let Err(issue) = apply_one(schema, &before, &mut next, path, change) {
            problems.push(issue);
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let after = resolve(schema, &next);
    let changed: Vec<&str> = changes.iter().map(|(p, _)| p.as_str()).collect();
    let problems: Vec<Issue> = after
        .errors()
        .filter(|i| i.kind == IssueKind::InvalidValue && changed.contains(&i.path.as_str()))
        .cloned()
        .collect();
    if problems.is_empty() {
        Ok(next)
    } else {
        Err(problems)
    }
}

fn refuse(path: &str, message: String) -> Issue {
    Issue {
        kind: IssueKind::InvalidValue,
        path: path.to_owned(),
        index: None,
        message,
        span: None,
    }
}

fn apply_one(
    schema: &Schema,
    config: &Config,
    raw: &mut RawValues,
    path: &str,
    change: &Change,
) -> Result<(), Issue> {
    let Some(entry) = config.entry(path) else {
        return Err(refuse(path, format!("unknown variable `{path}`")));
    };
    if entry.kind == EntryKind::Family {
        return Err(refuse(
            path,
            format!("`{path}` is a family, not a variable"),
        ));
    }
    if config.get(path).is_err() {
        return Err(refuse(
            path,
            format!("`{path}` is disabled, it cannot be set"),
        ));
    }
    let Some(var) = schema.variable(entry.node) else {
        return Err(refuse(path, format!("`{path}` is not a variable")));
    };
    if entry.hidden && !var.auto_save {
        return Err(refuse(
            path,
            format!("`{path}` is hidden, its value is calculated and cannot be set"),
        ));
    }
    if entry.frozen {
        return Err(refuse(
            path,
            format!("`{path}` is frozen, it cannot be changed"),
        ));
    }
    let family_path = path.rsplit_once('.').map_or("", |(f, _)| f).to_owned();
    let short = path.rsplit('.').next().unwrap_or(path).to_owned();
    match change {
        Change::Default => {
            match var.role {
                Role::Leader => {
                    raw.reset(&family_path);
                    raw.reset(path);
                }
                _ => {
                    raw.reset(path);
                }
            }
            Ok(())
        }
        Change::Set(texts) => {
            let convert = |t: &String| types::from_text(var.ty, t).map_err(|m| refuse(path, m));
            match var.role {
                Role::Plain => {
                    let value = if var.multi {
                        Value::List(texts.iter().map(convert).collect::<Result<_, _>>()?)
                    } else {
                        match texts.as_slice() {
                            [one] => convert(one)?,
                            [] => Value::Null,
                            _ => {
                                return Err(refuse(
                                    path,
                                    format!("`{path}` is not multi, give one value"),
                                ));
                            }
                        }
                    };
                    raw.set(path, value);
                    Ok(())
                }
                Role::Leader | Role::Follower(_) => {
                    let values: Vec<Value> = texts.iter().map(convert).collect::<Result<_, _>>()?;
                    let mut rows = raw.rows(&family_path).cloned().unwrap_or_default();
                    if var.role == Role::Leader {
                        rows.truncate(values.len());
                        while rows.len() < values.len() {
                            rows.push(Vec::new());
                        }
                    } else if values.len() > rows.len().max(leader_len(config, entry)) {
                        return Err(refuse(
                            path,
                            format!(
                                "`{path}` has {} values but the leader has {}",
                                values.len(),
                                leader_len(config, entry)
                            ),
                        ));
                    }
                    if var.role != Role::Leader {
                        // followers need rows for every leader value
                        let leaders = leader_values(config, entry);
                        while rows.len() < leaders.len() {
                            rows.push(Vec::new());
                        }
                        for (i, row) in rows.iter_mut().enumerate() {
                            if !row.iter().any(|(_, _)| true) {
                                if let Some(l) = leaders.get(i) {
                                    let leader_short = leader_short(config, entry);
                                    row.push((leader_short, l.clone()));
                                }
                            }
                        }
                    }
                    for (i, v) in values.into_iter().enumerate() {
                        let value = if var.submulti {
                            Value::List(vec![v])
                        } else {
                            v
                        };
                        let row = &mut rows[i];
                        match row.iter_mut().find(|(k, _)| *k == short) {
                            Some(slot) => slot.1 = value,
                            None => row.push((short.clone(), value)),
                        }
                    }
                    raw.set_rows(&family_path, rows);
                    Ok(())
                }
            }
        }
    }
}

fn leader_entry<'c>(config: &'c Config, entry: &Entry) -> Option<&'c Entry> {
    let parent = entry.parent?;
    config
        .entries()
        .iter()
        .find(|e| e.parent == Some(parent) && e.kind == EntryKind::Leader)
}

fn leader_values(config: &Config, entry: &Entry) -> Vec<Value> {
    leader_entry(config, entry)
        .and_then(|l| l.value.as_list().map(<[Value]>::to_vec))
        .unwrap_or_default()
}

fn leader_len(config: &Config, entry: &Entry) -> usize {
    leader_values(config, entry).len()
}

fn leader_short(config: &Config, entry: &Entry) -> String {
    leader_entry(config, entry)
        .map(|l| l.path.rsplit('.').next().unwrap_or(&l.path).to_owned())
        .unwrap_or_default()
}
