//! The undo journal of an install (`<state dir>/undo/`): before the first
//! generated file changes, the bytes and attributes of every file about to be
//! written or removed, and the manifest, are copied there, then `journal.json`
//! is written (atomically, last: a journal is valid only once complete).
//! [`restore`] puts every file back as it was and removes the journal; it is
//! what a failed apply does (nginx not reloaded, a container or a hook failed)
//! and what the next run does first when a run was killed half-way.
//! [`commit`] removes the journal once the whole run succeeded.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::atomic::{self, AtomicError, FileAttributes};
use super::plan::Plan;
use crate::render::Check;

/// The journal's directory name, beside the manifest.
pub const DIR_NAME: &str = "undo";
const FILE_NAME: &str = "journal.json";
const VERSION: u32 = 1;

#[derive(Debug, Error)]
pub enum JournalError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot clear the undo journal `{path}`: {source}")]
    Clear {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot remove `{path}` while restoring: {source}")]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the undo journal `{path}` is damaged ({source}); the generated files may be half-installed: check them, then remove `{dir}`",
        dir = .path.parent().unwrap_or(Path::new("")).display()
    )]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("an interrupted install is pending in `{path}`: restore it before installing again")]
    Pending { path: PathBuf },
    #[error("cannot save the files about to change: {0}")]
    Save(#[source] AtomicError),
    #[error("cannot restore a file: {0}")]
    Restore(#[source] AtomicError),
}

/// One file as it was before the install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Saved {
    /// Real path (under `--root`).
    path: PathBuf,
    /// Its copy in the journal; `None`: the file did not exist.
    backup: Option<String>,
    uid: u32,
    gid: u32,
    mode: u32,
    /// Where a hand-edited file is renamed aside by this install.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kept: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    check: Option<Check>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reload: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Journal {
    version: u32,
    /// The manifest before the install (`None`: there was none).
    manifest: Saved,
    files: Vec<Saved>,
}

/// What [`restore`] put back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restored {
    /// Real paths restored (or removed, when the install had created them).
    pub files: Vec<PathBuf>,
    /// Services whose files were put back (to reload).
    pub services: BTreeSet<String>,
    /// Some restored file is checked by nginx.
    pub nginx: bool,
}

/// The journal directory of a plan (beside its manifest).
#[must_use]
pub fn dir_of(manifest_path: &Path) -> PathBuf {
    manifest_path
        .parent()
        .unwrap_or(Path::new("/"))
        .join(DIR_NAME)
}

/// Is there a journal (an install not committed) in `dir`?
#[must_use]
pub fn pending(dir: &Path) -> bool {
    dir.join(FILE_NAME).is_file()
}

/// Save what `plan` will change; `kept` gives the aside name of each
/// hand-edited file (by real path). Call with no journal pending.
///
/// # Errors
/// A file cannot be read or its copy cannot be written.
pub fn begin(plan: &Plan, kept: &[(PathBuf, PathBuf)]) -> Result<(), JournalError> {
    let dir = dir_of(&plan.manifest_path);
    if pending(&dir) {
        return Err(JournalError::Pending { path: dir });
    }
    clear(&dir)?;
    let mut files = Vec::new();
    for (index, change) in plan.changed().enumerate() {
        let name = format!("{index}.bak");
        let mut saved = save(&dir, &change.real_path, &name)?;
        saved.kept = kept
            .iter()
            .find(|(path, _)| *path == change.real_path)
            .map(|(_, aside)| aside.clone());
        saved.check = change.check;
        saved.reload.clone_from(&change.reload);
        files.push(saved);
    }
    let manifest = save(&dir, &plan.manifest_path, "manifest.bak")?;
    let journal = Journal {
        version: VERSION,
        manifest,
        files,
    };
    let text = serde_json::to_string_pretty(&journal).unwrap_or_default();
    atomic::write(&dir.join(FILE_NAME), text.as_bytes(), Some(private()))
        .map_err(JournalError::Save)?;
    crate::crash::point("journal.written");
    Ok(())
}

/// Copy `path` (if it exists) to `dir/name`; its attributes.
fn save(dir: &Path, path: &Path, name: &str) -> Result<Saved, JournalError> {
    let read_error = |source| JournalError::Read {
        path: path.to_owned(),
        source,
    };
    match std::fs::symlink_metadata(path) {
        Ok(metadata) => {
            let bytes = std::fs::read(path).map_err(read_error)?;
            atomic::write(&dir.join(name), &bytes, Some(private())).map_err(JournalError::Save)?;
            let attributes = FileAttributes::of(&metadata);
            Ok(Saved {
                path: path.to_owned(),
                backup: Some(name.to_owned()),
                uid: attributes.uid,
                gid: attributes.gid,
                mode: attributes.mode,
                kept: None,
                check: None,
                reload: None,
            })
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Saved {
            path: path.to_owned(),
            backup: None,
            uid: 0,
            gid: 0,
            mode: 0,
            kept: None,
            check: None,
            reload: None,
        }),
        Err(source) => Err(read_error(source)),
    }
}

/// Copies in the journal: this user only (generated files may hold secrets).
fn private() -> FileAttributes {
    FileAttributes {
        uid: nix::unistd::geteuid().as_raw(),
        gid: nix::unistd::getegid().as_raw(),
        mode: 0o600,
    }
}

/// Forget the journal: the install is part of a run that succeeded.
///
/// # Errors
/// The journal cannot be removed.
pub fn commit(manifest_path: &Path) -> Result<(), JournalError> {
    let dir = dir_of(manifest_path);
    let journal = dir.join(FILE_NAME);
    match std::fs::remove_file(&journal) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(JournalError::Clear {
                path: journal,
                source,
            });
        }
    }
    if let Some(parent) = journal.parent() {
        atomic::sync_dir(parent).map_err(JournalError::Save)?;
    }
    crate::crash::point("journal.committed");
    clear(&dir)
}

/// Put back every file the pending journal in `dir` saved; `None` when
/// there is no journal. Safe to run again if interrupted: the journal goes last.
///
/// # Errors
/// The journal is damaged, or a file cannot be written or removed.
pub fn restore(dir: &Path) -> Result<Option<Restored>, JournalError> {
    let path = dir.join(FILE_NAME);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(JournalError::Read { path, source }),
    };
    let journal: Journal = serde_json::from_str(&text).map_err(|source| JournalError::Corrupt {
        path: path.clone(),
        source,
    })?;
    let mut restored = Restored::default();
    for saved in journal
        .files
        .iter()
        .chain(std::iter::once(&journal.manifest))
    {
        put_back(dir, saved)?;
        crate::crash::point("journal.file-restored");
        if saved.path != journal.manifest.path {
            restored.files.push(saved.path.clone());
            if let Some(service) = &saved.reload {
                restored.services.insert(service.clone());
            }
            restored.nginx |= saved.check == Some(Check::Nginx);
        }
    }
    std::fs::remove_file(&path).map_err(|source| JournalError::Remove {
        path: path.clone(),
        source,
    })?;
    atomic::sync_dir(dir).map_err(JournalError::Restore)?;
    clear(dir)?;
    Ok(Some(restored))
}

fn put_back(dir: &Path, saved: &Saved) -> Result<(), JournalError> {
    match &saved.backup {
        Some(name) => {
            let copy = dir.join(name);
            let bytes = std::fs::read(&copy).map_err(|source| JournalError::Read {
                path: copy.clone(),
                source,
            })?;
            let attributes = FileAttributes {
                uid: saved.uid,
                gid: saved.gid,
                mode: saved.mode,
            };
            atomic::write(&saved.path, &bytes, Some(attributes)).map_err(JournalError::Restore)?;
        }
        None => remove_if_present(&saved.path)?,
    }
    // The original is back: its copy set aside by this install goes.
    if let Some(kept) = &saved.kept {
        remove_if_present(kept)?;
    }
    Ok(())
}

fn remove_if_present(path: &Path) -> Result<(), JournalError> {
    match std::fs::remove_file(path) {
        Ok(()) => {
            if let Some(parent) = path.parent() {
                atomic::sync_dir(parent).map_err(JournalError::Restore)?;
            }
            Ok(())
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(JournalError::Remove {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Remove the journal directory's copies (not a pending journal: callers
/// restore or commit first).
fn clear(dir: &Path) -> Result<(), JournalError> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(JournalError::Clear {
            path: dir.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::render::{Rendered, RenderedFile};

    fn file(path: &str, contents: &str) -> RenderedFile {
        RenderedFile {
            path: PathBuf::from(path),
            contents: contents.to_owned(),
            owner: nix::unistd::getuid().as_raw().to_string(),
            group: nix::unistd::getgid().as_raw().to_string(),
            mode: 0o640,
            check: None,
            reload: Some("svc".to_owned()),
            template: "t".to_owned(),
            instance: None,
        }
    }

    fn install(root: &Path, files: Vec<RenderedFile>) -> Plan {
        let plan = super::super::plan(&Rendered { files }, root, Path::new("/state")).unwrap();
        begin(&plan, &[]).unwrap();
        for change in plan.changed() {
            match &change.after {
                Some(after) => atomic::write(&change.real_path, after, change.attributes).unwrap(),
                None => std::fs::remove_file(&change.real_path).unwrap(),
            }
        }
        atomic::write(
            &plan.manifest_path,
            plan.manifest.to_json().as_bytes(),
            None,
        )
        .unwrap();
        plan
    }

    #[test]
    fn restore_puts_back_bytes_modes_and_the_manifest_and_removes_new_files() {
        let root = tempfile::tempdir().unwrap();
        let first = install(root.path(), vec![file("/etc/a.conf", "old a\n")]);
        commit(&first.manifest_path).unwrap();
        let manifest_before = std::fs::read(&first.manifest_path).unwrap();
        let second = install(
            root.path(),
            vec![file("/etc/a.conf", "new a\n"), file("/etc/b.conf", "b\n")],
        );
        let dir = dir_of(&second.manifest_path);
        assert!(pending(&dir));
        let restored = restore(&dir).unwrap().unwrap();
        assert_eq!(restored.files.len(), 2);
        assert_eq!(restored.services, BTreeSet::from(["svc".to_owned()]));
        let a = root.path().join("etc/a.conf");
        assert_eq!(std::fs::read(&a).unwrap(), b"old a\n");
        assert_eq!(
            std::fs::metadata(&a).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert!(!root.path().join("etc/b.conf").exists());
        assert_eq!(
            std::fs::read(&second.manifest_path).unwrap(),
            manifest_before
        );
        assert!(!pending(&dir));
        assert_eq!(restore(&dir).unwrap(), None, "nothing left to restore");
    }

    #[test]
    fn a_committed_install_is_not_undone() {
        let root = tempfile::tempdir().unwrap();
        let plan = install(root.path(), vec![file("/etc/a.conf", "a\n")]);
        commit(&plan.manifest_path).unwrap();
        assert_eq!(restore(&dir_of(&plan.manifest_path)).unwrap(), None);
        assert_eq!(
            std::fs::read(root.path().join("etc/a.conf")).unwrap(),
            b"a\n"
        );
    }

    #[test]
    fn a_damaged_journal_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        atomic::write(&dir.path().join(FILE_NAME), b"{", None).unwrap();
        let error = restore(dir.path()).unwrap_err().to_string();
        assert!(error.contains("journal.json` is damaged"), "{error}");
    }
}
