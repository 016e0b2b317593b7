//! What the form pages read from disk: the dictionaries (parsed once, parsed
//! again only when a dictionary file changes: their names, sizes and times
//! are compared at each request), their translations, and the values file with
//! its version (a hash of its bytes, embedded in every form so that a save
//! over a newer file is refused).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use sha2::{Digest as _, Sha256};

use crate::app::Settings;
use crate::dictionary::{self, LoadError, Schema};
use crate::values::{RawError, RawValues};
use crate::web::i18n::Lang;

use super::form::translations::{self, Translations};

/// Why the form cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum LoadFailure {
    #[error(transparent)]
    Dictionaries(#[from] LoadError),
    #[error(transparent)]
    Values(#[from] RawError),
    #[error("cannot read `{path}`: {source}")]
    ReadValues {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The values file as read: parsed, and its version.
#[derive(Debug, Clone)]
pub struct Values {
    pub raw: RawValues,
    pub version: String,
}

/// The version of a values file's bytes (an absent file is empty).
#[must_use]
pub fn version_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    hex::encode(&digest[..16])
}

/// Read the values file and its version.
pub fn load_values(path: &Path) -> Result<Values, LoadFailure> {
    // The values file holds secrets: private to root, as the commands make it.
    match crate::secure_file::secure_values_file(path) {
        Ok(warnings) => {
            for warning in warnings {
                tracing::warn!("{warning}");
            }
        }
        Err(error) => tracing::warn!("{error}"),
    }
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(source) => {
            return Err(LoadFailure::ReadValues {
                path: path.to_owned(),
                source,
            });
        }
    };
    let version = version_of(&bytes);
    let raw = if bytes.is_empty() {
        RawValues::default()
    } else {
        let text = String::from_utf8(bytes).map_err(|e| RawError::NotUtf8 {
            path: path.to_owned(),
            offset: e.utf8_error().valid_up_to(),
        })?;
        RawValues::parse(&text, path)?
    };
    Ok(Values { raw, version })
}

/// Names, sizes and modification times of the dictionary files (and of the
/// translation files): when they change, the schema is loaded again.
fn fingerprint(dirs: &[PathBuf]) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut out = Vec::new();
    let mut add = |path: PathBuf| {
        if let Ok(meta) = std::fs::metadata(&path) {
            out.push((path, meta.len(), meta.modified().ok()));
        }
    };
    for dir in dirs {
        let listed = |dir: &Path| {
            if let Ok(entries) = std::fs::read_dir(dir) {
                let mut paths: Vec<PathBuf> =
                    entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
                paths.sort();
                paths
            } else {
                Vec::new()
            }
        };
        if dir.is_file() {
            add(dir.clone());
            continue;
        }
        for path in listed(dir) {
            add(path);
        }
        for path in listed(&dir.join("i18n")) {
            add(path);
        }
    }
    out
}

#[derive(Debug)]
struct Cached {
    fingerprint: Vec<(PathBuf, u64, Option<SystemTime>)>,
    schema: Schema,
    translations: Vec<(Lang, Arc<Translations>)>,
}

/// The dictionaries, loaded once and again when they change.
#[derive(Debug, Default)]
pub struct SchemaCache {
    cached: Mutex<Option<Cached>>,
}

impl SchemaCache {
    fn lock(&self) -> MutexGuard<'_, Option<Cached>> {
        self.cached
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The schema and the translations of `lang` (blocking: call off the async threads).
    pub fn load(
        &self,
        settings: &Settings,
        lang: Lang,
    ) -> Result<(Schema, Arc<Translations>), LoadFailure> {
        let print = fingerprint(&settings.dictionaries);
        let mut cached = self.lock();
        if let Some(c) = cached.as_ref().filter(|c| c.fingerprint == print) {
            return Ok(c.get(lang));
        }
        let schema = dictionary::load_dirs(
            &settings.dictionaries,
            settings.dictionaries_origin,
            settings.namespace.as_deref(),
            &settings.extra_namespaces,
        )?;
        let translations = Lang::ALL
            .into_iter()
            .map(|lang| {
                let (loaded, errors) = translations::load(&settings.dictionaries, lang);
                for error in errors {
                    tracing::warn!("translation not used: {error}");
                }
                (lang, Arc::new(loaded))
            })
            .collect();
        let fresh = Cached {
            fingerprint: print,
            schema,
            translations,
        };
        let out = fresh.get(lang);
        *cached = Some(fresh);
        Ok(out)
    }
}

impl Cached {
    fn get(&self, lang: Lang) -> (Schema, Arc<Translations>) {
        let translations = self
            .translations
            .iter()
            .find(|(l, _)| *l == lang)
            .map(|(_, t)| Arc::clone(t))
            .unwrap_or_default();
        (self.schema.clone(), translations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_changes_with_the_bytes() {
        assert_eq!(version_of(b"a: 1\n"), version_of(b"a: 1\n"));
        assert_ne!(version_of(b"a: 1\n"), version_of(b"a: 2\n"));
        assert_eq!(version_of(b"").len(), 32);
    }

    #[test]
    fn an_absent_values_file_is_empty_with_the_empty_version() {
        let dir = tempfile::tempdir().unwrap();
        let values = load_values(&dir.path().join("values.yml")).unwrap();
        assert!(values.raw.is_empty());
        assert_eq!(values.version, version_of(b""));
    }
}
