//! Rendered files → disk: only changed bytes written, atomically (temp, fsync,
//! rename), manifest of checksums, hand edits kept aside, `nginx -t` gate
//! before anything replaces the live configuration. [`plan`] compares the
//! rendered files with the disk and writes nothing; [`apply`] does the work.
//! Everything happens under a root directory (`--root`).

pub mod apply;
pub mod atomic;
pub mod journal;
pub mod manifest;
pub mod nginx;
pub mod plan;

use std::path::PathBuf;

use thiserror::Error;

pub use apply::{ApplyOptions, Done, Report, Undone, apply, apply_uncommitted, check, undo};
pub use manifest::{Manifest, ManifestEntry};
pub use nginx::{NginxError, NginxSettings};
pub use plan::{Action, FileChange, Plan, plan, under_root};

/// Why the generated files could not be planned or installed.
#[derive(Debug, Error)]
pub enum OutputError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{path}` exists and is not a regular file")]
    NotAFile { path: PathBuf },
    #[error("cannot remove `{path}`: {source}")]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("unknown user `{name}` (owner of `{}`)", .path.display())]
    UnknownUser { name: String, path: PathBuf },
    #[error("unknown group `{name}` (group of `{}`)", .path.display())]
    UnknownGroup { name: String, path: PathBuf },
    #[error(transparent)]
    Manifest(#[from] manifest::ManifestError),
    #[error(transparent)]
    Write(#[from] atomic::AtomicError),
    #[error(transparent)]
    Nginx(#[from] NginxError),
    #[error("cannot reload `{service}`: {source}")]
    Reload {
        service: String,
        source: crate::command::CommandError,
    },
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
    #[error(
        "{source}\nthe previous generated files were put back ({files} file{}){}",
        if *.files == 1 { "" } else { "s" },
        reload_problems(.reloaded)
    )]
    RolledBack {
        source: Box<Self>,
        files: usize,
        /// Reloads of the restored services that failed.
        reloaded: Vec<String>,
    },
    #[error("{source}\nputting the previous generated files back failed too: {undo}")]
    RollbackFailed { source: Box<Self>, undo: Box<Self> },
}

fn reload_problems(problems: &[String]) -> String {
    problems
        .iter()
        .map(|p| format!("; {p}"))
        .collect::<String>()
}

impl OutputError {
    /// Is this the generated configuration's fault (nginx refused it, an
    /// unknown owner) rather than the system's?
    #[must_use]
    pub fn is_invalid_configuration(&self) -> bool {
        match self {
            Self::RolledBack { source, .. } => source.is_invalid_configuration(),
            other => matches!(
                other,
                Self::Nginx(NginxError::Refused { .. })
                    | Self::UnknownUser { .. }
                    | Self::UnknownGroup { .. }
            ),
        }
    }
}
