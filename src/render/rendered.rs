//! The result of rendering: every file with its bytes and how to install it.
//! Plain data; `output` decides what to write.

use std::path::PathBuf;

use super::catalogue::Check;

/// One rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// Absolute target path on the server (`--root` is applied by `output`).
    pub path: PathBuf,
    pub contents: String,
    pub owner: String,
    pub group: String,
    /// Permission bits (`0o644`).
    pub mode: u32,
    pub check: Option<Check>,
    /// Service to reload when this file changes.
    pub reload: Option<String>,
    /// Catalogue entry that produced it.
    pub template: String,
    /// The `for_each` instance it was rendered for (`containers.container_my_apache_app`).
    pub instance: Option<String>,
}

/// Every file the catalogue declares for a configuration, sorted by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    pub files: Vec<RenderedFile>,
}

impl Rendered {
    /// The file rendered at `path`, if any.
    #[must_use]
    pub fn file(&self, path: &str) -> Option<&RenderedFile> {
        self.files.iter().find(|file| file.path.as_os_str() == path)
    }
}
