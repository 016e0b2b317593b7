//! Dictionary texts in the interface's language: `<dictionary dir>/i18n/<lang>.yml`
//! maps a family or variable path as declared (dynamic families keep their
//! `{{ identifier }}`) to its `description` and `help`. The loader of
//! dictionaries never reads that sub-directory; the form does, and falls back
//! to the dictionary's own texts for what a file does not translate.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;

use crate::web::i18n::Lang;

/// The translated texts of one path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub description: Option<String>,
    pub help: Option<String>,
}

/// Translated texts by declared path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Translations {
    texts: HashMap<String, Text>,
}

/// Why a translation file was not used (logged, never fatal: the form then
/// shows the dictionary's own texts).
#[derive(Debug, thiserror::Error)]
pub enum TranslationError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{path}`: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Translations {
    /// Parse one file's text (`path` names it in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Self, TranslationError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let map: IndexMap<String, Text> =
            serde_saphyr::from_str(text).map_err(|e| TranslationError::Invalid {
                path: path.to_owned(),
                message: e.to_string(),
            })?;
        Ok(Self {
            texts: map.into_iter().collect(),
        })
    }

    /// Later files override earlier ones, path by path and text by text.
    pub fn merge(&mut self, other: Self) {
        for (path, text) in other.texts {
            let slot = self.texts.entry(path).or_default();
            if text.description.is_some() {
                slot.description = text.description;
            }
            if text.help.is_some() {
                slot.help = text.help;
            }
        }
    }

    #[must_use]
    pub fn get(&self, path: &str) -> Option<&Text> {
        self.texts.get(path)
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }
}

/// The file of `lang` in a dictionary directory.
#[must_use]
pub fn file_of(dir: &Path, lang: Lang) -> PathBuf {
    dir.join("i18n").join(format!("{}.yml", lang.code()))
}

/// Read and merge the translation files of `lang` in the dictionary
/// directories, in order; a missing file is no translation, an unreadable or
/// invalid one is skipped and returned as an error for the log.
pub fn load(dirs: &[PathBuf], lang: Lang) -> (Translations, Vec<TranslationError>) {
    let mut all = Translations::default();
    let mut errors = Vec::new();
    for dir in dirs {
        let path = file_of(dir, lang);
        match std::fs::read_to_string(&path) {
            Ok(text) => match Translations::parse(&text, &path) {
                Ok(file) => all.merge(file),
                Err(error) => errors.push(error),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => errors.push(TranslationError::Read { path, source }),
        }
    }
    (all, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_description_and_help() {
        let text = "containers:\n  description: Conteneurs\n  help: Tous\n\"containers.container_{{ identifier }}.name\":\n  description: Nom du conteneur\n";
        let t = Translations::parse(text, Path::new("fr.yml")).unwrap();
        assert_eq!(
            t.get("containers").unwrap().description.as_deref(),
            Some("Conteneurs")
        );
        let name = t.get("containers.container_{{ identifier }}.name").unwrap();
        assert_eq!(name.description.as_deref(), Some("Nom du conteneur"));
        assert_eq!(name.help, None);
    }

    #[test]
    fn later_files_override_text_by_text() {
        let mut a =
            Translations::parse("x:\n  description: A\n  help: H\n", Path::new("a")).unwrap();
        let b = Translations::parse("x:\n  description: B\n", Path::new("b")).unwrap();
        a.merge(b);
        let x = a.get("x").unwrap();
        assert_eq!(x.description.as_deref(), Some("B"));
        assert_eq!(x.help.as_deref(), Some("H"));
    }

    #[test]
    fn an_invalid_file_is_an_error_naming_it() {
        let error = Translations::parse("x:\n  label: A\n", Path::new("i18n/fr.yml")).unwrap_err();
        assert!(error.to_string().starts_with("`i18n/fr.yml`: "), "{error}");
    }

    #[test]
    fn the_shipped_french_file_is_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("dictionaries");
        let (translations, errors) = load(&[dir], Lang::Fr);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(!translations.is_empty());
    }
}
