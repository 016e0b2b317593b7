//! Template directories → one [`TemplateSet`]: template sources by relative
//! name and catalogue entries by name, a later directory overriding an
//! earlier one (shipped `/usr/share/brise/templates`, then local
//! `/etc/brise/templates`). [`TemplateSet::from_files`] is pure; only
//! [`load`] reads the directories.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use thiserror::Error;

use super::catalogue::{self, Entry};
use crate::diagnostic::{Diagnostic, Diagnostics};

/// A template source: where it was read from and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub path: Arc<PathBuf>,
    pub text: String,
}

/// One file read from a template directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateFile {
    /// Index of the directory it came from (later overrides earlier).
    pub directory: usize,
    /// Path relative to its directory, `/`-separated.
    pub name: String,
    /// Full path, for messages.
    pub path: PathBuf,
    pub text: String,
}

/// Every template and catalogue entry, overrides applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateSet {
    /// Template sources by relative name.
    pub sources: BTreeMap<String, Source>,
    /// Catalogue entries in order (first declaration order, overridden in place).
    pub entries: Vec<Entry>,
}

#[derive(Debug, Error)]
pub enum LoadError {
    #[error("cannot read template directory `{path}`: {source}")]
    ReadDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read template file `{path}`: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("template file `{path}` is not UTF-8")]
    NotUtf8 { path: PathBuf },
    #[error("template file `{path}` is larger than {limit} bytes")]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{0}")]
    Invalid(Diagnostics),
}

/// Is this a catalogue file (a YAML file at the top of a template directory)?
#[must_use]
pub fn is_catalogue(name: &str) -> bool {
    !name.contains('/') && (name.ends_with(".yml") || name.ends_with(".yaml"))
}

impl TemplateSet {
    /// Merge the files of every directory: a source replaces the source of the
    /// same name from an earlier directory; a catalogue entry replaces the
    /// entry of the same name from an earlier directory (two entries of the
    /// same name in one directory are an error).
    pub fn from_files(files: Vec<TemplateFile>) -> Result<Self, Diagnostics> {
        let mut sources = BTreeMap::new();
        let mut entries: IndexMap<String, (usize, Entry)> = IndexMap::new();
        let mut errors = Vec::new();
        let mut files = files;
        files.sort_by(|a, b| (a.directory, &a.name).cmp(&(b.directory, &b.name)));
        for file in files {
            if is_catalogue(&file.name) {
                let path = Arc::new(file.path);
                match catalogue::parse(&path, &file.text) {
                    Ok(parsed) => {
                        for entry in parsed {
                            match entries.get(&entry.name) {
                                Some((directory, previous)) if *directory == file.directory => {
                                    errors.push(
                                        Diagnostic::error(
                                            Some(entry.span.clone()),
                                            format!(
                                                "template `{}` is already declared at {}",
                                                entry.name, previous.span
                                            ),
                                        )
                                        .with_source(&file.text),
                                    );
                                }
                                _ => {
                                    entries.insert(entry.name.clone(), (file.directory, entry));
                                }
                            }
                        }
                    }
                    Err(mut found) => errors.append(&mut found),
                }
            } else {
                sources.insert(
                    file.name,
                    Source {
                        path: Arc::new(file.path),
                        text: file.text,
                    },
                );
            }
        }
        if errors.is_empty() {
            Ok(Self {
                sources,
                entries: entries.into_values().map(|(_, entry)| entry).collect(),
            })
        } else {
            Err(Diagnostics(errors))
        }
    }
}

/// Read every template directory, in order. With `missing_ok` (the default
/// shipped/local pair) an absent directory is skipped; otherwise it is an error.
pub fn load(dirs: &[PathBuf], missing_ok: bool) -> Result<TemplateSet, LoadError> {
    let mut files = Vec::new();
    for (directory, dir) in dirs.iter().enumerate() {
        if missing_ok && !dir.exists() {
            continue;
        }
        collect(dir, dir, directory, &mut files)?;
    }
    TemplateSet::from_files(files).map_err(LoadError::Invalid)
}

fn collect(
    root: &Path,
    dir: &Path,
    directory: usize,
    files: &mut Vec<TemplateFile>,
) -> Result<(), LoadError> {
    let read = std::fs::read_dir(dir).map_err(|source| LoadError::ReadDir {
        path: dir.to_owned(),
        source,
    })?;
    let mut children = Vec::new();
    for child in read {
        let child = child.map_err(|source| LoadError::ReadDir {
            path: dir.to_owned(),
            source,
        })?;
        children.push(child.path());
    }
    children.sort();
    for path in children {
        let Some(file_name) = path.file_name().and_then(|name| name.to_str()) else {
            continue;
        };
        // Hidden files and editor backups are not templates.
        if file_name.starts_with('.') || file_name.ends_with('~') {
            continue;
        }
        let metadata = std::fs::metadata(&path).map_err(|source| LoadError::ReadFile {
            path: path.clone(),
            source,
        })?;
        if metadata.is_dir() {
            collect(root, &path, directory, files)?;
        } else if metadata.is_file() {
            if metadata.len() > crate::dictionary::MAX_FILE_SIZE {
                return Err(LoadError::TooLarge {
                    path,
                    limit: crate::dictionary::MAX_FILE_SIZE,
                });
            }
            let bytes = std::fs::read(&path).map_err(|source| LoadError::ReadFile {
                path: path.clone(),
                source,
            })?;
            let text =
                String::from_utf8(bytes).map_err(|_| LoadError::NotUtf8 { path: path.clone() })?;
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let name = relative
                .components()
                .map(|part| part.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            files.push(TemplateFile {
                directory,
                name,
                path,
                text,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(directory: usize, name: &str, text: &str) -> TemplateFile {
        TemplateFile {
            directory,
            name: name.to_owned(),
            path: PathBuf::from(format!("/dir{directory}/{name}")),
            text: text.to_owned(),
        }
    }

    #[test]
    fn later_directory_overrides_sources_and_entries_by_name() {
        let set = TemplateSet::from_files(vec![
            file(0, "a.tera", "shipped a"),
            file(0, "b.tera", "shipped b"),
            file(
                0,
                "cat.yml",
                "a:\n  source: a.tera\n  target: /a\nb:\n  source: b.tera\n  target: /b\n",
            ),
            file(1, "a.tera", "local a"),
            file(1, "local.yml", "b:\n  source: b.tera\n  target: /local-b\n"),
        ])
        .unwrap();
        assert_eq!(set.sources["a.tera"].text, "local a");
        assert_eq!(set.sources["b.tera"].text, "shipped b");
        let targets: Vec<_> = set
            .entries
            .iter()
            .map(|e| (e.name.as_str(), e.target.value.as_str()))
            .collect();
        assert_eq!(targets, vec![("a", "/a"), ("b", "/local-b")]);
    }

    #[test]
    fn duplicate_entry_in_one_directory_is_an_error() {
        let error = TemplateSet::from_files(vec![
            file(0, "one.yml", "a:\n  source: a.tera\n  target: /a\n"),
            file(0, "two.yml", "a:\n  source: a.tera\n  target: /b\n"),
        ])
        .unwrap_err();
        assert_eq!(
            error.0[0].to_string().lines().next().unwrap(),
            "/dir0/two.yml:2:3: error: template `a` is already declared at /dir0/one.yml:2:3"
        );
    }

    #[test]
    fn only_top_level_yaml_files_are_catalogues() {
        assert!(is_catalogue("containers.yml"));
        assert!(is_catalogue("x.yaml"));
        assert!(!is_catalogue("app/config.yml"));
        assert!(!is_catalogue("nginx.conf.tera"));
    }
}
