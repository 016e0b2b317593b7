//! The one atomic file writer: a temporary file in the target's directory
//! gets the bytes, owner, group and mode, is fsynced, renamed over the target,
//! and the directory is fsynced. A reader sees the old file or the new one,
//! never a mix; a crash leaves at worst a hidden `.brise-<pid>-*.tmp` file,
//! which the next write into that directory removes once no process has that
//! PID any more.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use thiserror::Error;

/// Owner, group and permission bits of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileAttributes {
    pub uid: u32,
    pub gid: u32,
    /// Permission bits (`0o644`).
    pub mode: u32,
}

impl FileAttributes {
    /// The attributes of an existing file.
    #[must_use]
    pub fn of(metadata: &std::fs::Metadata) -> Self {
        Self {
            uid: metadata.uid(),
            gid: metadata.gid(),
            mode: metadata.mode() & 0o7777,
        }
    }
}

#[derive(Debug, Error)]
pub enum AtomicError {
    #[error("cannot create directory `{path}`: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write a temporary file in `{path}`: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot set owner and mode of `{path}`: {source}")]
    Attributes {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot rename a temporary file to `{path}`: {source}")]
    Rename {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot sync directory `{path}`: {source}")]
    SyncDir {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Write `contents` to `path` atomically, with `attributes` when given
/// (otherwise mode 0644 and the current user). Missing parent directories are
/// created (mode 0755).
pub fn write(
    path: &Path,
    contents: &[u8],
    attributes: Option<FileAttributes>,
) -> Result<(), AtomicError> {
    let parent = parent_of(path);
    create_dirs(parent)?;
    let write_error = |source| AtomicError::Write {
        path: parent.to_owned(),
        source,
    };
    let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
    let mut temp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(parent)
        .map_err(write_error)?;
    temp.write_all(contents).map_err(write_error)?;
    crate::crash::point("atomic.temp-written");
    let file = temp.as_file();
    let mode = attributes.map_or(0o644, |a| a.mode);
    let attributes_error = |source| AtomicError::Attributes {
        path: path.to_owned(),
        source,
    };
    if let Some(wanted) = attributes {
        let current = FileAttributes::of(&file.metadata().map_err(attributes_error)?);
        if (current.uid, current.gid) != (wanted.uid, wanted.gid) {
            std::os::unix::fs::fchown(file, Some(wanted.uid), Some(wanted.gid))
                .map_err(attributes_error)?;
        }
    }
    // After chown: changing the owner may clear set-id bits.
    file.set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(attributes_error)?;
    file.sync_all().map_err(write_error)?;
    crate::crash::point("atomic.synced");
    temp.persist(path).map_err(|error| AtomicError::Rename {
        path: path.to_owned(),
        source: error.error,
    })?;
    crate::crash::point("atomic.renamed");
    sync_dir(parent)?;
    sweep_once(parent);
    Ok(())
}

const TEMP_PREFIX: &str = ".brise-";
const TEMP_SUFFIX: &str = ".tmp";

/// The directories this process has already swept.
static SWEPT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Sweep `dir` the first time this process writes into it.
fn sweep_once(dir: &Path) {
    {
        let mut swept = SWEPT.lock().unwrap_or_else(PoisonError::into_inner);
        if swept.iter().any(|done| done == dir) {
            return;
        }
        swept.push(dir.to_owned());
    }
    for removed in sweep_leftovers(dir) {
        tracing::info!(
            "removed `{}`, left by a write that was interrupted",
            removed.display()
        );
    }
}

/// Remove from `dir` the temporary files of writers that died between
/// creating and renaming them (`.brise-<pid>-*.tmp` whose PID no longer
/// names a process). Files of a live process (this one included), names of
/// another shape, directories and symbolic links are left alone. Best
/// effort: a file that cannot be removed stays. Returns what was removed.
pub fn sweep_leftovers(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(writer_pid) else {
            continue;
        };
        if !entry.file_type().is_ok_and(|kind| kind.is_file()) || process_exists(pid) {
            continue;
        }
        let path = entry.path();
        if std::fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

/// The PID in a temporary file name `.brise-<pid>-<random>.tmp`.
fn writer_pid(name: &str) -> Option<i32> {
    let rest = name.strip_prefix(TEMP_PREFIX)?.strip_suffix(TEMP_SUFFIX)?;
    let (pid, random) = rest.split_once('-')?;
    if random.is_empty() || pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok().filter(|&pid| pid > 0)
}

/// Whether a process has this PID (one of another user counts: it exists).
fn process_exists(pid: i32) -> bool {
    if u32::try_from(pid).is_ok_and(|pid| pid == std::process::id()) {
        return true;
    }
    !matches!(
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
        Err(nix::errno::Errno::ESRCH)
    )
}

/// Rename `from` to `to` (same directory) and make it durable.
pub fn rename(from: &Path, to: &Path) -> Result<(), AtomicError> {
    std::fs::rename(from, to).map_err(|source| AtomicError::Rename {
        path: to.to_owned(),
        source,
    })?;
    crate::crash::point("atomic.moved");
    sync_dir(parent_of(to))
}

/// Change owner, group and mode of an existing file in place.
pub fn set_attributes(path: &Path, attributes: FileAttributes) -> Result<(), AtomicError> {
    let error = |source| AtomicError::Attributes {
        path: path.to_owned(),
        source,
    };
    std::os::unix::fs::chown(path, Some(attributes.uid), Some(attributes.gid)).map_err(error)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(attributes.mode)).map_err(error)
}

/// fsync a directory so a rename or removal in it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<(), AtomicError> {
    File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(|source| AtomicError::SyncDir {
            path: dir.to_owned(),
            source,
        })
}

fn create_dirs(dir: &Path) -> Result<(), AtomicError> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
        .map_err(|source| AtomicError::CreateDir {
            path: dir.to_owned(),
            source,
        })
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_bytes_mode_and_creates_parents() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/file.conf");
        let me = FileAttributes::of(&std::fs::metadata(dir.path()).unwrap());
        write(
            &path,
            b"hello\n",
            Some(FileAttributes { mode: 0o640, ..me }),
        )
        .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello\n");
        let attributes = FileAttributes::of(&std::fs::metadata(&path).unwrap());
        assert_eq!(attributes.mode, 0o640);
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1,
            "no temporary file left behind"
        );
    }

    #[test]
    fn temporary_names_carry_the_writer_pid() {
        assert_eq!(writer_pid(".brise-1234-aB3xYz.tmp"), Some(1234));
        assert_eq!(writer_pid(".brise-aB3xYz.tmp"), None, "before PIDs");
        assert_eq!(writer_pid(".brise-123456.tmp"), None, "digits only");
        assert_eq!(writer_pid(".brise-image-aB3xYz"), None);
        assert_eq!(writer_pid(".brise--aB3xYz.tmp"), None);
        assert_eq!(writer_pid(".brise-0-aB3xYz.tmp"), None);
        assert_eq!(writer_pid(".brise-+12-aB3xYz.tmp"), None);
        assert_eq!(writer_pid("brise-12-aB3xYz.tmp"), None);
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // a dead PID from a child, fixtures written directly
    fn a_write_removes_what_dead_writers_left_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let name = |pid: u32| format!(".brise-{pid}-aB3xYz.tmp");
        let dead_file = dir.path().join(name(dead));
        let kept = [
            dir.path().join(name(std::process::id())),
            dir.path().join(name(1)),
            dir.path().join(".brise-aB3xYz.tmp"),
            dir.path().join("other.tmp"),
        ];
        for path in kept.iter().chain([&dead_file]) {
            std::fs::write(path, b"half").unwrap();
        }
        let dead_dir = dir.path().join(name(dead).replace("aB3", "dir"));
        std::fs::create_dir(&dead_dir).unwrap();
        let dead_link = dir.path().join(name(dead).replace("aB3", "lnk"));
        std::os::unix::fs::symlink("other.tmp", &dead_link).unwrap();

        write(&dir.path().join("values.yml"), b"a: 1\n", None).unwrap();

        assert!(!dead_file.exists(), "a dead writer's file is removed");
        for path in &kept {
            assert!(path.exists(), "{} was removed", path.display());
        }
        assert!(dead_dir.is_dir() && dead_link.is_symlink());
        assert_eq!(
            std::fs::read(dir.path().join("values.yml")).unwrap(),
            b"a: 1\n"
        );
    }

    #[test]
    fn replaces_an_existing_file_through_a_new_inode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file");
        write(&path, b"one", None).unwrap();
        let before = std::fs::metadata(&path).unwrap().ino();
        write(&path, b"two", None).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_ne!(std::fs::metadata(&path).unwrap().ino(), before);
    }

    #[test]
    fn failure_names_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("blocker");
        write(&blocker, b"a file, not a directory", None).unwrap();
        let error = write(&blocker.join("child"), b"x", None).unwrap_err();
        assert!(error.to_string().contains("blocker"), "{error}");
    }
}
