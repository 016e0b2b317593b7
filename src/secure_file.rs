//! The values file holds the server's secrets: it must be readable and
//! writable by its owner only, and owned by the user brise runs as (root on a
//! server), or whoever owns it can change the configuration the next apply
//! installs. [`secure_values_file`] checks an existing file and fixes what it
//! can (mode 0600; owner root when running as root), returning a warning for
//! each thing it found; it never reads the contents and never creates the file.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use thiserror::Error;

/// The only permission bits a values file may have.
pub const VALUES_MODE: u32 = 0o600;

#[derive(Debug, Error)]
pub enum SecureError {
    #[error("cannot read the attributes of the values file `{path}`: {source}")]
    Metadata {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot make the values file `{path}` private: {source}")]
    Fix {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Check the owner and mode of the values file at `path` (absent: nothing to
/// do) and fix them; each problem found is returned as a warning message.
pub fn secure_values_file(path: &Path) -> Result<Vec<String>, SecureError> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(SecureError::Metadata {
                path: path.to_owned(),
                source,
            });
        }
    };
    if !metadata.is_file() {
        return Ok(Vec::new());
    }
    let fix_error = |source| SecureError::Fix {
        path: path.to_owned(),
        source,
    };
    let mut warnings = Vec::new();
    let me = nix::unistd::geteuid().as_raw();
    if metadata.uid() != me {
        if me == 0 {
            std::os::unix::fs::chown(path, Some(0), Some(0)).map_err(fix_error)?;
            warnings.push(format!(
                "the values file `{}` was owned by uid {} (who could change the configuration): it is now owned by root",
                path.display(),
                metadata.uid()
            ));
        } else {
            warnings.push(format!(
                "the values file `{}` is owned by uid {}, not by you (uid {me}): whoever owns it can change the configuration",
                path.display(),
                metadata.uid()
            ));
        }
    }
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & !VALUES_MODE != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(VALUES_MODE))
            .map_err(fix_error)?;
        warnings.push(format!(
            "the values file `{}` had mode {mode:04o} (readable or writable by others): its mode is now {VALUES_MODE:04o}",
            path.display()
        ));
    }
    Ok(warnings)
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // test fixtures written directly
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn a_world_readable_values_file_is_made_private_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("values.yml");
        std::fs::write(&path, "a: 1\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let warnings = secure_values_file(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("had mode 0644"), "{warnings:?}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a: 1\n");
    }

    #[test]
    fn a_private_values_file_gives_no_warning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("values.yml");
        std::fs::write(&path, "a: 1\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(secure_values_file(&path).unwrap().is_empty());
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn an_absent_values_file_is_left_absent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("values.yml");
        assert!(secure_values_file(&path).unwrap().is_empty());
        assert!(!path.exists());
    }
}
