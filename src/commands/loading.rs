//! Shared glue of the configuration commands (`check`, `show`, `get`, `set`,
//! `doc`, `import-eol`): load the dictionaries and the values file named by
//! the settings, print dictionary diagnostics, and map failures to exit codes.

use std::io::Write as _;

use crate::app::{Failure, Settings};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::dictionary::{self, LoadError, Schema};
use crate::values::{Config, Issue, RawError, RawValues};

/// Print diagnostics on standard error (errors and warnings).
pub(crate) fn print_diagnostics(diagnostics: &Diagnostics) {
    let mut err = std::io::stderr().lock();
    for d in &diagnostics.0 {
        let _ = writeln!(err, "{d}");
    }
}

/// Load the dictionaries; their problems are printed and exit with 1.
pub(crate) fn schema(settings: &Settings) -> Result<Schema, Failure> {
    match dictionary::load_dirs(
        &settings.dictionaries,
        settings.dictionaries_origin,
        settings.namespace.as_deref(),
        &settings.extra_namespaces,
    ) {
        Ok(schema) => Ok(schema),
        Err(LoadError::Invalid(diagnostics)) => {
            print_diagnostics(&diagnostics);
            let errors = diagnostics.0.iter().filter(|d| d.is_error()).count();
            let mut err = std::io::stderr().lock();
            let _ = writeln!(
                err,
                "brise: {errors} error(s) in the dictionaries, nothing was changed"
            );
            Err(Failure::Reported(1))
        }
        Err(
            e @ (LoadError::MissingDir { .. }
            | LoadError::TooLarge { .. }
            | LoadError::NotUtf8 { .. }),
        ) => Err(Failure::invalid(e)),
        Err(e) => Err(Failure::system(e)),
    }
}

/// Read the values file (an absent file is empty), first making it private
/// (mode 0600, owned by root when running as root) with a warning if it was not.
pub(crate) fn raw_values(settings: &Settings) -> Result<RawValues, Failure> {
    let warnings =
        crate::secure_file::secure_values_file(&settings.values).map_err(Failure::system)?;
    for warning in warnings {
        print_diagnostics(&Diagnostics(vec![Diagnostic::warning(None, warning)]));
    }
    match RawValues::load_file(&settings.values) {
        Ok(raw) => Ok(raw),
        Err(RawError::Invalid(diagnostic)) => {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{diagnostic}");
            Err(Failure::Reported(1))
        }
        Err(e @ RawError::Read { .. }) => Err(Failure::system(e)),
        Err(e) => Err(Failure::invalid(e)),
    }
}

/// Give up freeing what a one-shot command loaded: the process exits right
/// after, and the system reclaims its memory at once, while freeing the
/// hundreds of thousands of values of a large dictionary one by one is a
/// visible part of the run. Only for commands that end the process.
pub(crate) fn release_at_exit<T>(loaded: T) {
    std::mem::forget(loaded);
}

/// Dictionaries, values and the resolved configuration.
pub(crate) fn configuration(settings: &Settings) -> Result<(Schema, RawValues, Config), Failure> {
    let schema = schema(settings)?;
    let raw = raw_values(settings)?;
    let config = crate::values::resolve(&schema, &raw);
    Ok((schema, raw, config))
}

/// An issue as `file:line:column: error: …`: at the calculation in the
/// dictionaries when it comes from there, else where the values file sets it.
pub(crate) fn issue_diagnostic(schema: &Schema, raw: &RawValues, issue: &Issue) -> Diagnostic {
    let message = match issue.index {
        Some(i) => format!("`{}` (index {i}): {}", issue.path, issue.message),
        None => format!("`{}`: {}", issue.path, issue.message),
    };
    match &issue.span {
        Some(span) => {
            let d = if issue.is_error() {
                Diagnostic::error(Some(span.clone()), message)
            } else {
                Diagnostic::warning(Some(span.clone()), message)
            };
            match schema.source_text(&span.path) {
                Some(text) => d.with_source(text),
                None => d,
            }
        }
        // The values file's line would show the secret: its position only.
        None => {
            let span = raw.span_at(&issue.path, issue.index).cloned();
            let d = if issue.is_error() {
                Diagnostic::error(span, message)
            } else {
                Diagnostic::warning(span, message)
            };
            // The values file's line would show a secret: its position only.
            match raw.source_text() {
                Some(text) if !is_secret_path(schema, &issue.path) => d.with_source(text),
                _ => d,
            }
        }
    }
}

/// Whether the variable at a concrete path (dynamic families named by their
/// instance) is a secret.
fn is_secret_path(schema: &Schema, path: &str) -> bool {
    schema.nodes().any(|(id, node)| {
        schema
            .variable(id)
            .is_some_and(crate::dictionary::Variable::is_secret)
            && path_matches(&node.path, path)
    })
}

/// `containers.container_{{ identifier }}.x` matches `containers.container_web.x`.
fn path_matches(pattern: &str, path: &str) -> bool {
    let mut patterns = pattern.split('.');
    let mut parts = path.split('.');
    loop {
        match (patterns.next(), parts.next()) {
            (None, None) => return true,
            (Some(p), Some(part)) => {
                let matched = match (p.find("{{"), p.rfind("}}")) {
                    (Some(open), Some(close)) if open < close => {
                        let (prefix, suffix) = (&p[..open], &p[close + 2..]);
                        part.len() > prefix.len() + suffix.len()
                            && part.starts_with(prefix)
                            && part.ends_with(suffix)
                    }
                    _ => p == part,
                };
                if !matched {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// Whether the process runs as root (secrets are shown to root only).
pub(crate) fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}
