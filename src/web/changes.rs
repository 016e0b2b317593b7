//! `GET /changes`: what the saved configuration changes compared with the last
//! one that applied successfully (`values.applied.yml`, recorded by
//! `reconfigure`), variable by variable, both resolved by the core (so a value
//! calculated from a changed one shows too). Secrets show as "changed", never
//! in clear.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::applied;
use crate::dictionary::Value;
use crate::values::{self, Config, EntryKind, FlatValue};

use super::AppState;
use super::context::SignedIn;
use super::error::Error;
use super::form::build::context_label;
use super::form::translations::Translations;
use super::i18n::Texts;
use super::loader;
use super::page::{self, Chrome};

/// One changed variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRow {
    pub path: String,
    pub label: String,
    pub applied: String,
    pub current: String,
}

#[derive(Template)]
#[template(path = "changes.html")]
struct ChangesTemplate {
    c: Chrome,
    never_applied: bool,
    rows: Vec<ChangeRow>,
}

fn text(value: &FlatValue) -> String {
    match value {
        FlatValue::Value(Value::Null) => String::new(),
        FlatValue::Value(value) => value.display(),
        FlatValue::Rows(rows) => rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|(path, v)| {
                        let short = path.rsplit('.').next().unwrap_or(path);
                        format!("{short}={}", v.display())
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn is_secret(config: &Config, path: &str) -> bool {
    config
        .entry(path)
        .and_then(|e| config.schema().variable(e.node))
        .is_some_and(crate::dictionary::Variable::is_secret)
}

/// The variables whose value differs between two resolved configurations, in
/// the current one's order (then those only in the applied one).
#[must_use]
pub fn differences(
    applied: &Config,
    current: &Config,
    t: &Texts,
    translations: &Translations,
) -> Vec<ChangeRow> {
    let before: BTreeMap<String, FlatValue> = applied.flat().into_iter().collect();
    let after = current.flat();
    let mut rows = Vec::new();
    // A leadership shows as its leader's path: name it after its family.
    let label = |config: &Config, path: &str| {
        config.entry(path).map_or_else(
            || path.to_owned(),
            |entry| {
                let shown = match (entry.kind, entry.parent) {
                    (EntryKind::Leader, Some(family)) => {
                        config.entries().get(family).unwrap_or(entry)
                    }
                    _ => entry,
                };
                context_label(config, translations, shown)
            },
        )
    };
    for (path, value) in &after {
        let old = before.get(path);
        if old == Some(value) {
            continue;
        }
        let secret = is_secret(current, path);
        let (old_text, new_text) = if secret {
            (String::new(), t.secret_changed.to_owned())
        } else {
            match old {
                Some(old) => (text(old), text(value)),
                None => (t.changes_added.to_owned(), text(value)),
            }
        };
        rows.push(ChangeRow {
            path: path.clone(),
            label: label(current, path),
            applied: old_text,
            current: new_text,
        });
    }
    for (path, value) in &before {
        if after.iter().any(|(p, _)| p == path) {
            continue;
        }
        let secret = is_secret(applied, path);
        rows.push(ChangeRow {
            path: path.clone(),
            label: label(applied, path),
            applied: if secret { String::new() } else { text(value) },
            current: t.changes_removed.to_owned(),
        });
    }
    rows
}

/// `GET /changes`.
pub(super) async fn show(State(state): State<AppState>, who: SignedIn) -> Result<Response, Error> {
    let work = {
        let state = state.clone();
        let lang = who.lang;
        move || -> Result<(bool, Vec<ChangeRow>), Error> {
            let settings = &state.config().settings;
            let load_error =
                |e| Error::Internal(anyhow::Error::new(e).context("cannot load the configuration"));
            let (schema, translations) =
                state.schemas().load(settings, lang).map_err(load_error)?;
            let current = loader::load_values(&settings.values).map_err(load_error)?;
            let record = applied::record_path(&settings.values);
            let never_applied = !record.exists();
            let applied_values = loader::load_values(&record).map_err(load_error)?;
            let before = values::resolve(&schema, &applied_values.raw);
            let after = values::resolve(&schema, &current.raw);
            Ok((
                never_applied,
                differences(&before, &after, lang.texts(), &translations),
            ))
        }
    };
    let (never_applied, rows) = tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Internal(anyhow::Error::new(e)))??;
    let chrome = Chrome::new(who.lang)
        .user(&who.user, &who.session.csrf)
        .nav("changes")
        .path("/changes");
    page::render(
        StatusCode::OK,
        &ChangesTemplate {
            c: chrome,
            never_applied,
            rows,
        },
    )
}
