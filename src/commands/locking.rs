//! The run lock and recovery as the commands take them: [`hold`] takes the
//! state directory's lock ([`crate::lock`]) for a command, saying so when it
//! waits, and maps `--no-wait` on a held lock to exit code 3 ([`EXIT_BUSY`]);
//! [`recover`] puts back the generated files of an install a killed run left
//! uncommitted. Neither decides anything from pids or file ages.

use std::path::{Path, PathBuf};

use crate::app::{Failure, Settings};
use crate::lock::{self, LockError, RunLock, Wait};
use crate::output::{self, ApplyOptions};

/// Exit code of a command refused because another run holds the lock
/// (`--no-wait`).
pub const EXIT_BUSY: u8 = 3;

/// The state directory of a run writing under `root` (`--root`): like every
/// file of the server, under it (`/var/lib/brise` on a real server).
#[must_use]
pub fn state_dir(settings: &Settings, root: &Path) -> PathBuf {
    output::under_root(root, &settings.state_dir)
}

/// Take the run lock of `state_dir` for `command`; `say` gets the
/// waiting message (once) when another run holds it.
///
/// # Errors
/// The lock is held and `--no-wait` was given (exit [`EXIT_BUSY`]), or the
/// state directory or lock file cannot be opened (exit 2).
pub fn hold(
    settings: &Settings,
    state_dir: &Path,
    command: &str,
    say: &dyn Fn(&str),
) -> Result<RunLock, Failure> {
    let wait = if settings.no_wait {
        Wait::NoWait
    } else {
        Wait::Block
    };
    let path = lock::path_in(state_dir);
    let mut waiting = |holder: Option<&str>| {
        let holder = holder.map_or_else(String::new, |h| format!(" ({h})"));
        say(&format!(
            "waiting for another brise run{holder} to finish (lock `{}`; --no-wait fails at once instead)",
            path.display()
        ));
    };
    match lock::acquire(state_dir, command, wait, &mut waiting) {
        Ok(held) => Ok(held),
        Err(error @ LockError::Busy { .. }) => {
            say(&format!("brise: {error}"));
            Err(Failure::Reported(EXIT_BUSY))
        }
        Err(error) => Err(Failure::system(error)),
    }
}

/// Print on standard error (the waiting message of the command line).
pub fn to_stderr(line: &str) {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("{line}");
    }
}

/// Undo the install a killed run left pending under `root`'s state
/// directory (call with the lock held), saying what was put back.
///
/// # Errors
/// The undo journal is damaged or a file cannot be put back.
pub fn recover(
    settings: &Settings,
    root: &Path,
    options: &ApplyOptions,
    say: &dyn Fn(&str),
) -> Result<(), Failure> {
    let manifest = state_dir(settings, root).join(output::manifest::FILE_NAME);
    match output::undo(&manifest, root, options).map_err(Failure::system)? {
        None => Ok(()),
        Some(undone) => {
            say(&format!(
                "an interrupted run was undone: {} generated file(s) put back as they were before it",
                undone.files.len()
            ));
            for problem in &undone.reload_problems {
                say(&format!("warning: {problem}"));
            }
            Ok(())
        }
    }
}
