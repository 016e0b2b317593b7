//! From a posted form to the changes the core validates. The form shows every
//! field, but only what the administrator touched is a change: a field is
//! touched when its posted texts differ from the texts the page showed. What
//! was touched and not saved yet is the [`Draft`], kept server-side in the
//! session (so secrets typed never go back to the browser, and a value
//! calculated from a changed one keeps following it). The values themselves
//! are validated by `values::apply_changes`, never here.

use std::collections::BTreeMap;

use crate::dictionary::Schema;
use crate::values::{self, Change, Config, EntryKind, Issue, RawValues};

use super::build::{FormIssue, entry_texts};
use super::posted::{Action, Posted};
use crate::web::i18n::{self, Texts};

/// Texts typed and not saved yet, for the values version they were typed on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    pub version: String,
    /// Touched variables: path → texts (one per value, one per row).
    pub texts: BTreeMap<String, Vec<String>>,
}

impl Draft {
    #[must_use]
    pub fn new(version: &str) -> Self {
        Self {
            version: version.to_owned(),
            texts: BTreeMap::new(),
        }
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }
}

/// The posted values as texts by path (a single value is a one-text list).
#[must_use]
pub fn posted_texts(posted: &Posted) -> BTreeMap<String, Vec<String>> {
    posted
        .values
        .iter()
        .map(|(path, value)| {
            (
                path.clone(),
                value.items().into_iter().map(str::to_owned).collect(),
            )
        })
        .collect()
}

/// What the page showed for a path: the draft's texts, else the configuration's.
fn shown(config: &Config, draft: &Draft, path: &str) -> Option<Vec<String>> {
    if let Some(texts) = draft.texts.get(path) {
        return Some(texts.clone());
    }
    config.entry(path).map(|entry| entry_texts(config, entry))
}

/// The followers of a leader entry (same family).
fn followers(config: &Config, leader: &str) -> Vec<String> {
    let Some(entry) = config.entry(leader) else {
        return Vec::new();
    };
    config
        .entries()
        .iter()
        .filter(|e| e.parent == entry.parent && e.kind == EntryKind::Follower)
        .map(|e| e.path.clone())
        .collect()
}

/// Carry out a row or instance action on the posted texts (before they are
/// compared with what was shown). A refused action is an issue on its path.
pub fn apply_action(
    config: &Config,
    draft: &Draft,
    texts: &mut BTreeMap<String, Vec<String>>,
    posted: &Posted,
    t: &Texts,
) -> Option<FormIssue> {
    let current = |texts: &BTreeMap<String, Vec<String>>, path: &str| {
        texts
            .get(path)
            .cloned()
            .or_else(|| shown(config, draft, path))
            .unwrap_or_default()
    };
    match &posted.action {
        Action::Refresh | Action::Save => None,
        Action::Add(path) => {
            let mut list = current(texts, path);
            list.push(String::new());
            texts.insert(path.clone(), list);
            None
        }
        Action::Remove(path, index) => {
            let is_leader = config
                .entry(path)
                .is_some_and(|e| e.kind == EntryKind::Leader);
            let mut paths = vec![path.clone()];
            if is_leader {
                paths.extend(followers(config, path));
            }
            for path in paths {
                let mut list = current(texts, &path);
                if *index < list.len() {
                    list.remove(*index);
                }
                texts.insert(path, list);
            }
            None
        }
        Action::AddInstance(path) => {
            let identifier = posted
                .new_identifiers
                .get(path)
                .map(|s| s.trim().to_owned())
                .unwrap_or_default();
            let issue = |message: String| FormIssue {
                path: path.clone(),
                index: None,
                message,
                error: true,
            };
            if identifier.is_empty() {
                return Some(issue(t.identifier_required.to_owned()));
            }
            let mut list = current(texts, path);
            if list.contains(&identifier) {
                return Some(issue(i18n::fill(t.identifier_exists, &[&identifier])));
            }
            list.push(identifier);
            texts.insert(path.clone(), list);
            None
        }
        Action::RemoveInstance(path, identifier) => {
            let mut list = current(texts, path);
            list.retain(|item| item != identifier);
            texts.insert(path.clone(), list);
            None
        }
    }
}

/// Record in the draft every posted field whose texts differ from what was
/// shown. An empty secret means "unchanged".
pub fn update_draft(config: &Config, draft: &mut Draft, texts: BTreeMap<String, Vec<String>>) {
    for (path, posted) in texts {
        let secret = config
            .entry(&path)
            .and_then(|e| config.schema().variable(e.node))
            .is_some_and(crate::dictionary::Variable::is_secret);
        if secret && posted.iter().all(String::is_empty) {
            continue;
        }
        if shown(config, draft, &path).as_ref() != Some(&posted) {
            draft.texts.insert(path, posted);
        }
    }
}

/// The draft as the core's changes. An empty text is no value; the empty
/// items of a plain list are dropped (rows of a leadership keep their place).
#[must_use]
pub fn changes(config: &Config, draft: &Draft) -> Vec<(String, Change)> {
    draft
        .texts
        .iter()
        .map(|(path, texts)| {
            let entry = config.entry(path);
            let multi = entry
                .and_then(|e| config.schema().variable(e.node))
                .is_some_and(|v| v.multi);
            let kind = entry.map_or(EntryKind::Variable, |e| e.kind);
            let values = match kind {
                EntryKind::Leader | EntryKind::Follower => texts.clone(),
                EntryKind::Variable | EntryKind::Family if multi => texts
                    .iter()
                    .filter(|t| !t.trim().is_empty())
                    .cloned()
                    .collect(),
                EntryKind::Variable | EntryKind::Family => texts
                    .iter()
                    .filter(|t| !t.trim().is_empty())
                    .take(1)
                    .cloned()
                    .collect(),
            };
            (path.clone(), Change::Set(values))
        })
        .collect()
}

/// Apply as many changes as the core accepts: the refused ones are left out
/// (and returned as issues). Accepted changes are applied in rounds, so that
/// a change creating a dynamic family instance (an identifier added) lets the
/// changes of that instance's variables through in the next round.
#[must_use]
pub fn apply_accepted(
    schema: &Schema,
    raw: &RawValues,
    changes: &[(String, Change)],
) -> (RawValues, Vec<Issue>) {
    let mut raw = raw.clone();
    let mut pending: Vec<(String, Change)> = changes.to_vec();
    let mut last_issues: BTreeMap<String, Vec<Issue>> = BTreeMap::new();
    while !pending.is_empty() {
        let mut attempt = pending.clone();
        let accepted = loop {
            match values::apply_changes(schema, &raw, &attempt) {
                Ok(next) => break Some(next),
                Err(issues) => {
                    let before = attempt.len();
                    let mut by_path: BTreeMap<String, Vec<Issue>> = BTreeMap::new();
                    for issue in issues {
                        by_path.entry(issue.path.clone()).or_default().push(issue);
                    }
                    attempt.retain(|(path, _)| !by_path.contains_key(path));
                    last_issues.extend(by_path);
                    if attempt.is_empty() || attempt.len() == before {
                        break None;
                    }
                }
            }
        };
        match accepted {
            Some(next) => {
                raw = next;
                pending.retain(|(path, _)| !attempt.iter().any(|(done, _)| done == path));
            }
            None => break,
        }
    }
    let refused = pending
        .iter()
        .flat_map(|(path, _)| last_issues.remove(path).unwrap_or_default())
        .collect();
    (raw, refused)
}
