//! The record of the last configuration that applied successfully (EOLE's
//! `config.eol.bak`): `reconfigure` copies the values file to
//! `<name>.applied.yml` beside it (`/etc/brise/values.applied.yml`), atomically
//! and mode 0600, once everything converged; `status` compares the two.

use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;

use crate::output::atomic::{self, AtomicError, FileAttributes};

#[derive(Debug, Error)]
pub enum RecordError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot record the applied values: {0}")]
    Write(#[from] AtomicError),
}

/// How the current values compare with the last applied ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Drift {
    /// No successful reconfigure was recorded yet.
    NeverApplied,
    /// The values are those of the last successful reconfigure.
    Applied,
    /// The values changed since (run `reconfigure`).
    Changed,
}

/// `values.yml` → `values.applied.yml`, in the same directory.
#[must_use]
pub fn record_path(values: &Path) -> PathBuf {
    let stem = values
        .file_stem()
        .map_or_else(|| "values".into(), |s| s.to_string_lossy().into_owned());
    values.with_file_name(format!("{stem}.applied.yml"))
}

/// The values file's bytes; a missing file is an empty configuration.
fn read_values(path: &Path) -> Result<Vec<u8>, RecordError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(bytes),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(RecordError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Record the values file as applied; the record's path.
///
/// # Errors
/// The values cannot be read or the record cannot be written.
pub fn record(values: &Path) -> Result<PathBuf, RecordError> {
    let bytes = read_values(values)?;
    let path = record_path(values);
    let attributes = std::fs::metadata(values)
        .ok()
        .map(|m| FileAttributes::of(&m))
        .map(|a| FileAttributes { mode: 0o600, ..a });
    let attributes = attributes.or_else(|| {
        std::fs::metadata(path.parent().unwrap_or(Path::new("/")))
            .ok()
            .map(|m| FileAttributes {
                mode: 0o600,
                ..FileAttributes::of(&m)
            })
    });
    atomic::write(&path, &bytes, attributes)?;
    Ok(path)
}

/// Compare the values file with the last record.
///
/// # Errors
/// One of the files exists but cannot be read.
pub fn drift(values: &Path) -> Result<Drift, RecordError> {
    let path = record_path(values);
    let applied = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Drift::NeverApplied);
        }
        Err(source) => return Err(RecordError::Read { path, source }),
    };
    Ok(if read_values(values)? == applied {
        Drift::Applied
    } else {
        Drift::Changed
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn the_record_sits_beside_the_values_file() {
        assert_eq!(
            record_path(Path::new("/etc/brise/values.yml")),
            Path::new("/etc/brise/values.applied.yml")
        );
        assert_eq!(
            record_path(Path::new("/tmp/site.yml")),
            Path::new("/tmp/site.applied.yml")
        );
    }

    #[test]
    fn drift_follows_records_and_edits() {
        let dir = tempfile::tempdir().unwrap();
        let values = dir.path().join("values.yml");
        std::fs::File::create(&values).unwrap();
        atomic::write(&values, b"a: 1\n", None).unwrap();
        assert_eq!(drift(&values).unwrap(), Drift::NeverApplied);
        let path = record(&values).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"a: 1\n");
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(drift(&values).unwrap(), Drift::Applied);
        atomic::write(&values, b"a: 2\n", None).unwrap();
        assert_eq!(drift(&values).unwrap(), Drift::Changed);
    }
}
