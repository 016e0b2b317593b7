//! The manifest of generated files (`<state dir>/generated-files.json`): for
//! each file brise wrote, the SHA-256 of what it wrote, the template, its check
//! and the service to reload. It tells a file edited by hand since the last
//! run from one brise wrote, and which files are no longer declared.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::render::Check;

/// Name of the manifest file in the state directory.
pub const FILE_NAME: &str = "generated-files.json";

const VERSION: u32 = 1;

/// What brise last wrote at one path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub sha256: String,
    pub template: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<Check>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reload: Option<String>,
}

/// Every generated file, by absolute path on the server (without `--root`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub files: BTreeMap<PathBuf, ManifestEntry>,
}

impl Default for Manifest {
    fn default() -> Self {
        Self {
            version: VERSION,
            files: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Error)]
pub enum ManifestError {
    #[error("cannot read the manifest of generated files `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the manifest of generated files `{path}` is damaged ({source}); move it away to start again (every existing generated file will then be kept aside)"
    )]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(
        "the manifest of generated files `{path}` has version {found}, this brise reads version {VERSION}"
    )]
    Version { path: PathBuf, found: u32 },
}

impl Manifest {
    /// Parse a manifest's text (`path` for messages).
    pub fn from_json(path: &Path, text: &str) -> Result<Self, ManifestError> {
        let manifest: Self =
            serde_json::from_str(text).map_err(|source| ManifestError::Corrupt {
                path: path.to_owned(),
                source,
            })?;
        if manifest.version != VERSION {
            return Err(ManifestError::Version {
                path: path.to_owned(),
                found: manifest.version,
            });
        }
        Ok(manifest)
    }

    /// Read the manifest; an absent file is an empty manifest (first run).
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_json(path, &text),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(ManifestError::Read {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// The manifest as written on disk (pretty JSON, final newline).
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// Hex SHA-256 of some bytes.
#[must_use]
pub fn checksum(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json() {
        let mut manifest = Manifest::default();
        manifest.files.insert(
            PathBuf::from("/etc/nginx/web.d/conteneurs2.conf"),
            ManifestEntry {
                sha256: checksum(b"x"),
                template: "nginx_container_location".to_owned(),
                check: Some(Check::Nginx),
                reload: Some("nginx".to_owned()),
            },
        );
        let text = manifest.to_json();
        assert!(text.contains("\"check\": \"nginx\""), "{text}");
        assert_eq!(
            Manifest::from_json(Path::new("m"), &text).unwrap(),
            manifest
        );
    }

    #[test]
    fn absent_manifest_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = Manifest::load(&dir.path().join(FILE_NAME)).unwrap();
        assert!(manifest.files.is_empty());
    }

    #[test]
    fn damaged_manifest_is_an_error_naming_the_file() {
        let error =
            Manifest::from_json(Path::new("/var/lib/brise/generated-files.json"), "{").unwrap_err();
        assert!(
            error.to_string().starts_with(
                "the manifest of generated files `/var/lib/brise/generated-files.json` is damaged"
            ),
            "{error}"
        );
    }

    #[test]
    fn checksum_is_hex_sha256() {
        assert_eq!(
            checksum(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
