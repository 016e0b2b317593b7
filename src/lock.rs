//! One change at a time: every command that changes the server (`set`,
//! `import-eol`, `gen_config`, `reconfigure`, `rollback`, the web form's save
//! and apply) holds an exclusive `flock` on `<state dir>/lock` while it runs.
//! A second run waits (saying so) or, with `--no-wait`, fails at once. The
//! lock belongs to an open file: when its holder dies, even by `SIGKILL`, the
//! kernel releases it. Nothing here ever decides from a pid or a file's age;
//! the holder's pid and command written into the file are only shown in the
//! waiting message.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, Write as _};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use thiserror::Error;

/// Name of the lock file in the state directory.
pub const FILE_NAME: &str = "lock";

#[derive(Debug, Error)]
pub enum LockError {
    #[error("cannot create the state directory `{path}`: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the lock file `{path}`: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot lock `{path}`: {source}")]
    Lock { path: PathBuf, source: Errno },
    #[error(
        "another brise run is changing this server{}: not waiting (--no-wait); lock `{path}`",
        holder_suffix(.holder.as_deref())
    )]
    Busy {
        path: PathBuf,
        /// What the holder wrote into the lock file (`pid 123, reconfigure`).
        holder: Option<String>,
    },
}

fn holder_suffix(holder: Option<&str>) -> String {
    holder.map_or_else(String::new, |h| format!(" ({h})"))
}

/// Whether to wait for the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Wait as long as it takes (the kernel wakes us when the holder ends).
    Block,
    /// Fail with [`LockError::Busy`] when it is held.
    NoWait,
}

/// The held lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct RunLock {
    file: Flock<File>,
    path: PathBuf,
}

impl RunLock {
    /// The lock file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Forget the holder's description; the kernel drops the lock with the file.
        let _ = self.file.set_len(0);
    }
}

/// The lock file of a state directory.
#[must_use]
pub fn path_in(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE_NAME)
}

/// Take the lock of `state_dir` (created mode 0700 when missing) for
/// `command`. `waiting` is called once, with the holder's description, when
/// the lock is held by someone else and `wait` is [`Wait::Block`].
///
/// # Errors
/// The directory or file cannot be created or opened, or the lock is held
/// and `wait` is [`Wait::NoWait`].
pub fn acquire(
    state_dir: &Path,
    command: &str,
    wait: Wait,
    waiting: &mut dyn FnMut(Option<&str>),
) -> Result<RunLock, LockError> {
    ensure_state_dir(state_dir)?;
    let path = path_in(state_dir);
    let open = || {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|source| LockError::Open {
                path: path.clone(),
                source,
            })
    };
    let file = open()?;
    let mut file = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(locked) => locked,
        Err((mut file, Errno::EWOULDBLOCK)) => {
            let holder = read_holder(&mut file);
            match wait {
                Wait::NoWait => {
                    return Err(LockError::Busy {
                        path: path.clone(),
                        holder,
                    });
                }
                Wait::Block => {
                    waiting(holder.as_deref());
                    lock_blocking(file, &path)?
                }
            }
        }
        Err((_, source)) => {
            return Err(LockError::Lock {
                path: path.clone(),
                source,
            });
        }
    };
    // Informational only (the waiting message of the next run).
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = write!(file, "pid {}, {command}", std::process::id());
    let _ = file.flush();
    crate::crash::point("lock.acquired");
    Ok(RunLock { file, path })
}

fn lock_blocking(file: File, path: &Path) -> Result<Flock<File>, LockError> {
    let mut file = file;
    loop {
        match Flock::lock(file, FlockArg::LockExclusive) {
            Ok(locked) => return Ok(locked),
            Err((again, Errno::EINTR)) => file = again,
            Err((_, source)) => {
                return Err(LockError::Lock {
                    path: path.to_owned(),
                    source,
                });
            }
        }
    }
}

fn read_holder(file: &mut File) -> Option<String> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.take(200).read_to_string(&mut text).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Create the state directory mode 0700, or tighten an existing one that
/// others can read (it holds the manifest and the undo journal, whose copies
/// of generated files may hold secrets).
///
/// # Errors
/// The directory cannot be created or its mode cannot be set.
pub fn ensure_state_dir(state_dir: &Path) -> Result<(), LockError> {
    let error = |source| LockError::CreateDir {
        path: state_dir.to_owned(),
        source,
    };
    match std::fs::metadata(state_dir) {
        Ok(metadata) => {
            if metadata.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(state_dir, std::fs::Permissions::from_mode(0o700))
                    .map_err(error)?;
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(state_dir)
            .map_err(error),
        Err(source) => Err(error(source)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_message(_: Option<&str>) {}

    #[test]
    fn a_second_lock_fails_fast_with_no_wait_and_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let held = acquire(dir.path(), "reconfigure", Wait::NoWait, &mut no_message).unwrap();
        let error = acquire(dir.path(), "set", Wait::NoWait, &mut no_message).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains(&format!("pid {}, reconfigure", std::process::id())),
            "{text}"
        );
        assert!(text.contains("--no-wait"), "{text}");
        drop(held);
        acquire(dir.path(), "set", Wait::NoWait, &mut no_message).unwrap();
    }

    #[test]
    fn a_waiting_lock_is_granted_when_the_holder_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let held = acquire(dir.path(), "gen_config", Wait::NoWait, &mut no_message).unwrap();
        let state = dir.path().to_owned();
        let (told, heard) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let mut waiting = |holder: Option<&str>| {
                told.send(holder.map(str::to_owned)).unwrap();
            };
            acquire(&state, "set", Wait::Block, &mut waiting).map(|_| ())
        });
        let holder = heard.recv().unwrap();
        assert!(holder.unwrap().ends_with("gen_config"));
        drop(held);
        waiter.join().unwrap().unwrap();
    }

    #[test]
    fn the_state_directory_is_created_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("var/lib/brise");
        acquire(&state, "set", Wait::NoWait, &mut no_message).unwrap();
        let mode = std::fs::metadata(&state).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
        acquire(&state, "set", Wait::NoWait, &mut no_message).unwrap();
        let mode = std::fs::metadata(&state).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let lock_mode = std::fs::metadata(path_in(&state))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(lock_mode, 0o600);
    }
}
