//! Dictionaries (Rougail 1.1 YAML) → [`Schema`]: every family and variable with
//! its type, properties, defaults and calculations, paths resolved, modes
//! propagated, jinja expressions compiled (tera) once.
//! [`load`] takes source texts and returns the schema or every diagnostic at
//! once (`path:line:column: error: …`); it does no I/O. [`load_dirs`] is the
//! thin wrapper that reads `*.yml`/`*.yaml` files of directories in name order.
//!
//! ```no_run
//! use brise::dictionary::{load, Sources, SourceFile};
//! let sources = Sources {
//!     namespace: Some("rougail".into()),
//!     files: vec![SourceFile::new("00-base.yml", "version: 1.1\nmy_var: 3\n")],
//!     extras: Vec::new(),
//! };
//! let schema = load(&sources).unwrap();
//! ```

mod build;
mod collect;
mod parse_ahead;
pub mod schema;
pub mod types;
pub mod value;
pub(crate) mod yaml;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::app::Origin;
use crate::diagnostic::{Diagnostic, Diagnostics, Span};
pub(crate) use build::yaml_value as build_value;
pub use schema::{
    Calc, CalcKind, Choices, Default, Dynamic, Family, FamilyKind, Item, Mode, Node, NodeId,
    NodeKind, Prop, Role, Schema, Variable,
};
pub use types::VarType;
pub use value::Value;
use yaml::Mark;

/// Largest dictionary or values file accepted, in bytes.
pub const MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

/// One dictionary file: its name (for messages) and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
        }
    }
}

/// Everything [`load`] needs: files in load order per namespace.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Main namespace (`rougail` → paths `rougail.family.var`); `None` = no prefix.
    pub namespace: Option<String>,
    /// Files of the main namespace, in load order.
    pub files: Vec<SourceFile>,
    /// Extra namespaces, in order: name and files.
    pub extras: Vec<(String, Vec<SourceFile>)>,
}

/// Every source file, with what diagnostics need (path, text).
#[derive(Debug, Default)]
pub(crate) struct Files {
    files: Vec<(Arc<PathBuf>, Arc<str>)>,
    /// Where each line starts, per file, built on the first diagnostic in
    /// it: a dictionary with hundreds of warnings (deprecated forms) would
    /// otherwise scan its text from the top once per warning.
    line_starts: Vec<OnceLock<Vec<usize>>>,
}

impl Files {
    fn push(&mut self, file: &SourceFile) -> usize {
        self.files
            .push((Arc::new(file.path.clone()), Arc::from(file.text.as_str())));
        self.line_starts.push(OnceLock::new());
        self.files.len() - 1
    }

    /// Line `line` (1-based) of a file, without its end of line.
    fn line(&self, file: usize, line: usize) -> Option<&str> {
        let text = self.text(file);
        let starts = self.line_starts.get(file)?.get_or_init(|| {
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .filter(|&start| start < text.len())
                .collect()
        });
        let start = *starts.get(line.checked_sub(1)?)?;
        let rest = text.get(start..)?;
        let raw = rest.split('\n').next().unwrap_or(rest);
        Some(raw.strip_suffix('\r').unwrap_or(raw))
    }

    pub(crate) fn span(&self, file: usize, mark: Mark) -> Option<Span> {
        self.files
            .get(file)
            .map(|(p, _)| Span::new(p.clone(), mark.line.max(1), mark.column.max(1)))
    }

    fn diag(&self, file: usize, mark: Mark, message: impl Into<String>, error: bool) -> Diagnostic {
        let span = self.span(file, mark);
        let d = if error {
            Diagnostic::error(span, message)
        } else {
            Diagnostic::warning(span, message)
        };
        match self.line(file, mark.line.max(1)) {
            Some(line) => d.with_line(line),
            None => d,
        }
    }

    pub(crate) fn error(&self, file: usize, mark: Mark, message: impl Into<String>) -> Diagnostic {
        self.diag(file, mark, message, true)
    }

    pub(crate) fn warning(
        &self,
        file: usize,
        mark: Mark,
        message: impl Into<String>,
    ) -> Diagnostic {
        self.diag(file, mark, message, false)
    }

    /// Every file's path and text (shared, not copied).
    pub(crate) fn all(&self) -> Vec<(Arc<PathBuf>, Arc<str>)> {
        self.files.clone()
    }

    pub(crate) fn text(&self, file: usize) -> &str {
        self.files.get(file).map_or("", |(_, t)| &**t)
    }
}

/// Rougail's `normalize_family`: the instance name of a dynamic family identifier
/// (lowercase; `-`, space and `.` become `_`; accents removed).
#[must_use]
pub fn normalize_identifier(identifier: &str) -> String {
    let lowered = identifier.to_lowercase().replace(['-', ' ', '.'], "_");
    lowered
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .collect::<String>()
        .to_lowercase()
}

/// Load dictionaries from their texts. Returns the schema (with its warnings) or
/// every error and warning found.
pub fn load(sources: &Sources) -> Result<Schema, Diagnostics> {
    let mut files = Files::default();
    let mut namespaces = Vec::new();
    let main: Vec<usize> = sources.files.iter().map(|f| files.push(f)).collect();
    namespaces.push(collect::NamespaceFiles {
        name: sources.namespace.clone(),
        files: main,
    });
    for (name, extra) in &sources.extras {
        let ids: Vec<usize> = extra.iter().map(|f| files.push(f)).collect();
        namespaces.push(collect::NamespaceFiles {
            name: Some(name.clone()),
            files: ids,
        });
    }
    let mut diags = Vec::new();
    // Files are parsed a few ahead on worker threads and collected in load
    // order, each YAML tree dropped once collected (only a few are alive at
    // once). A file that does not parse is reported and the others are still
    // collected, so every syntax error is reported at once.
    let texts: Vec<&str> = namespaces
        .iter()
        .flat_map(|ns| ns.files.iter().map(|&index| files.text(index)))
        .collect();
    let window = parse_ahead::Window::new();
    // A declaration takes a few lines: about one per 64 bytes of YAML.
    let expected = texts.iter().map(|t| t.len()).sum::<usize>() / 64;
    let mut collector = collect::Collector::new(&files, expected);
    std::thread::scope(|scope| {
        let mut parsed = parse_ahead::ParseAhead::start(scope, &texts, &window);
        for (i, ns) in namespaces.iter().enumerate() {
            let parent = collector.namespace(i, ns);
            for &index in &ns.files {
                match parsed.next() {
                    Some(Ok(Some(doc))) => collector.file(index, doc, parent),
                    Some(Ok(None)) | None => {}
                    Some(Err(e)) => diags.push(files.error(index, e.mark, e.message)),
                }
            }
        }
    });
    let (collected, collect_diags) = collector.finish();
    diags.extend(collect_diags);
    let has_errors = diags.iter().any(Diagnostic::is_error);
    let names: Vec<Option<String>> = namespaces.iter().map(|n| n.name.clone()).collect();
    match build::build(&files, collected, &names, has_errors) {
        Ok((schema, warnings)) if !has_errors => {
            let mut all = diags;
            all.extend(warnings);
            Ok(schema.with_warnings(all))
        }
        Ok((_, warnings)) => {
            diags.extend(warnings);
            Err(Diagnostics(sort(diags)))
        }
        Err(more) => {
            diags.extend(more);
            Err(Diagnostics(sort(diags)))
        }
    }
}

fn sort(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diags.sort_by(|a, b| {
        let key = |d: &Diagnostic| d.span.as_ref().map(|s| (s.path.clone(), s.line, s.column));
        key(a).cmp(&key(b))
    });
    diags.dedup();
    diags
}

/// Why dictionary files could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read the dictionary directory `{path}`: {source}")]
    ReadDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the dictionary file `{path}`: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the dictionary directory `{path}` does not exist")]
    MissingDir { path: PathBuf },
    #[error("the file `{path}` is larger than {MAX_FILE_SIZE} bytes")]
    TooLarge { path: PathBuf },
    #[error("the file `{path}` is not valid UTF-8 (byte {offset})")]
    NotUtf8 { path: PathBuf, offset: usize },
    #[error("{0}")]
    Invalid(Diagnostics),
}

/// Read a text file with the limits every user file gets (size, UTF-8).
pub fn read_text(path: &Path) -> Result<String, LoadError> {
    let meta = std::fs::metadata(path).map_err(|source| LoadError::ReadFile {
        path: path.to_owned(),
        source,
    })?;
    if meta.len() > MAX_FILE_SIZE {
        return Err(LoadError::TooLarge {
            path: path.to_owned(),
        });
    }
    let bytes = std::fs::read(path).map_err(|source| LoadError::ReadFile {
        path: path.to_owned(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|e| LoadError::NotUtf8 {
        path: path.to_owned(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// The `*.yml`/`*.yaml` files of a directory (or the file itself), sorted by name.
pub fn dictionary_files(dir: &Path, origin: Origin) -> Result<Vec<SourceFile>, LoadError> {
    if dir.is_file() {
        return Ok(vec![SourceFile::new(dir, read_text(dir)?)]);
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return match origin {
                Origin::Default => Ok(Vec::new()),
                Origin::Explicit => Err(LoadError::MissingDir {
                    path: dir.to_owned(),
                }),
            };
        }
        Err(source) => {
            return Err(LoadError::ReadDir {
                path: dir.to_owned(),
                source,
            });
        }
    };
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| LoadError::ReadDir {
            path: dir.to_owned(),
            source,
        })?;
        let path = entry.path();
        let is_yaml = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "yml" || e == "yaml");
        if is_yaml && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    paths
        .into_iter()
        .map(|p| read_text(&p).map(|text| SourceFile::new(p, text)))
        .collect()
}

/// Read the dictionaries of directories (in order) and extra namespaces, then [`load`].
pub fn load_dirs(
    dirs: &[PathBuf],
    origin: Origin,
    namespace: Option<&str>,
    extras: &[(String, PathBuf)],
) -> Result<Schema, LoadError> {
    let mut files = Vec::new();
    for dir in dirs {
        files.extend(dictionary_files(dir, origin)?);
    }
    let mut extra_files = Vec::new();
    for (name, dir) in extras {
        extra_files.push((name.clone(), dictionary_files(dir, Origin::Explicit)?));
    }
    let sources = Sources {
        namespace: namespace.map(str::to_owned),
        files,
        extras: extra_files,
    };
    load(&sources).map_err(LoadError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_normalised_like_rougail() {
        assert_eq!(normalize_identifier("Val1"), "val1");
        assert_eq!(normalize_identifier("val 2"), "val_2");
        assert_eq!(normalize_identifier("a-b.c"), "a_b_c");
        assert_eq!(normalize_identifier("Éléphant"), "elephant");
    }

    #[test]
    fn source_lines_of_diagnostics_are_the_lines_of_the_text() {
        let texts = [
            "",
            "a",
            "a\n",
            "a\n\nb",
            "first\r\nsecond\r\n",
            "x:\n  y: 1\n\n  z: é\n",
            "\n\n",
        ];
        for text in texts {
            let mut files = Files::default();
            let id = files.push(&SourceFile::new("f.yml", text));
            for line in 1..=6 {
                assert_eq!(
                    files.line(id, line),
                    text.lines().nth(line - 1),
                    "line {line} of {text:?}"
                );
            }
            assert_eq!(files.line(id, 0), None);
        }
    }
}
