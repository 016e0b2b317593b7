//! EOLE's hook directories, run with run-parts semantics: in
//! `<hooks>/<phase>.d/`, every executable regular file whose name matches
//! `[A-Za-z0-9_-]+` runs in name order with the argument `reconfigure`
//! (the EOLE convention). The first failing hook stops the run; its error
//! names the hook and carries its output. Listing is separate from running so
//! that a dry run can show what would run.

use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::command::{self, Invocation};

/// When a hook directory runs, in `reconfigure` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Before anything (after validation).
    Preservice,
    /// Before the templates are rendered.
    Pretemplate,
    /// After the files are installed, before the containers converge.
    Posttemplate,
    /// After the containers converged.
    Postservice,
}

impl Phase {
    /// The directory name under the hooks root (`preservice.d`).
    #[must_use]
    pub fn dir_name(self) -> &'static str {
        match self {
            Self::Preservice => "preservice.d",
            Self::Pretemplate => "pretemplate.d",
            Self::Posttemplate => "posttemplate.d",
            Self::Postservice => "postservice.d",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Preservice => "preservice",
            Self::Pretemplate => "pretemplate",
            Self::Posttemplate => "posttemplate",
            Self::Postservice => "postservice",
        })
    }
}

#[derive(Debug, Error)]
pub enum HookError {
    #[error("cannot read hook directory `{path}`: {source}")]
    ReadDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{phase} hook `{path}` could not run: {source}")]
    Spawn {
        phase: Phase,
        path: PathBuf,
        source: command::CommandError,
    },
    #[error("{phase} hook `{path}` failed ({status}){}", output_suffix(.output))]
    Failed {
        phase: Phase,
        path: PathBuf,
        status: String,
        /// What it printed (standard output then standard error).
        output: String,
    },
}

fn output_suffix(output: &str) -> String {
    let trimmed = output.trim();
    if trimmed.is_empty() {
        String::new()
    } else {
        format!(":\n{trimmed}")
    }
}

/// A name run-parts accepts (no dots: `foo.dpkg-old`, `foo.sh~` are skipped).
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The hooks of `phase` under `root`, in the order they run. A missing
/// directory has none.
///
/// # Errors
/// The directory exists but cannot be read.
pub fn list(root: &Path, phase: Phase) -> Result<Vec<PathBuf>, HookError> {
    let dir = root.join(phase.dir_name());
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(HookError::ReadDir { path: dir, source }),
    };
    let mut hooks = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| HookError::ReadDir {
            path: dir.clone(),
            source,
        })?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !valid_name(name) {
            continue;
        }
        let path = entry.path();
        // Follows symlinks, as run-parts does.
        let Ok(metadata) = std::fs::metadata(&path) else {
            continue;
        };
        if metadata.is_file() && metadata.permissions().mode() & 0o111 != 0 {
            hooks.push(path);
        }
    }
    hooks.sort();
    Ok(hooks)
}

/// Run the hooks of `phase` with the argument `reconfigure`; the hooks run.
///
/// # Errors
/// The first hook that cannot run or exits non-zero (later ones do not run).
pub fn run(root: &Path, phase: Phase) -> Result<Vec<PathBuf>, HookError> {
    let hooks = list(root, phase)?;
    for hook in &hooks {
        let invocation = Invocation::new(hook.as_os_str()).arg("reconfigure");
        let output = command::output(&invocation).map_err(|source| HookError::Spawn {
            phase,
            path: hook.clone(),
            source,
        })?;
        if !output.status.success() {
            let mut text = output.stdout;
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&output.stderr);
            return Err(HookError::Failed {
                phase,
                path: hook.clone(),
                status: output.status.to_string(),
                output: text,
            });
        }
    }
    Ok(hooks)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn hook(dir: &Path, name: &str, body: &str, mode: u32) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join(name);
        let mut file = std::fs::File::create(&path).unwrap();
        writeln!(file, "#!/bin/sh\n{body}").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    #[test]
    fn hooks_run_in_name_order_with_the_reconfigure_argument() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("pretemplate.d");
        let log = root.path().join("log");
        let log_text = log.display().to_string();
        hook(
            &dir,
            "20-second",
            &format!("echo \"second $1\" >> {log_text}"),
            0o755,
        );
        hook(
            &dir,
            "10-first",
            &format!("echo \"first $1\" >> {log_text}"),
            0o755,
        );
        hook(&dir, "15-not-executable", "exit 1", 0o644);
        hook(&dir, "17-skipped.sh", "exit 1", 0o755);
        hook(&dir, "18-backup~", "exit 1", 0o755);
        let ran = run(root.path(), Phase::Pretemplate).unwrap();
        assert_eq!(ran, vec![dir.join("10-first"), dir.join("20-second")]);
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            "first reconfigure\nsecond reconfigure\n"
        );
    }

    #[test]
    fn a_missing_hook_directory_runs_nothing() {
        let root = tempfile::tempdir().unwrap();
        assert!(run(root.path(), Phase::Postservice).unwrap().is_empty());
    }

    #[test]
    fn a_failing_hook_stops_with_its_name_and_output() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("preservice.d");
        let log = root.path().join("log");
        let failing = hook(
            &dir,
            "10-check",
            "echo checking; echo 'disk full' >&2; exit 3",
            0o755,
        );
        hook(&dir, "20-after", &format!("touch {}", log.display()), 0o755);
        let error = run(root.path(), Phase::Preservice).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "preservice hook `{}` failed (exit status: 3):\nchecking\ndisk full",
                failing.display()
            )
        );
        assert!(!log.exists(), "later hooks do not run");
    }
}
