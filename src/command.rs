//! The one way brise runs another program (`nginx -t`, `systemctl`, `nft`,
//! hooks, …): building the invocation is pure ([`Invocation`]), running it is
//! [`run`], and a failure carries the program, its arguments, its exit status
//! and its standard error.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};

use thiserror::Error;

/// A program and its arguments, built without running anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub program: OsString,
    pub args: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
    pub current_dir: Option<PathBuf>,
}

impl Invocation {
    #[must_use]
    pub fn new(program: impl Into<OsString>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            current_dir: None,
        }
    }

    #[must_use]
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    #[must_use]
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    #[must_use]
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    #[must_use]
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.current_dir = Some(dir.into());
        self
    }
}

impl fmt::Display for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.program.to_string_lossy())?;
        for arg in &self.args {
            write!(f, " {}", arg.to_string_lossy())?;
        }
        Ok(())
    }
}

/// What a finished program printed.
#[derive(Debug, Clone)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

#[derive(Debug, Error)]
pub enum CommandError {
    #[error("cannot run `{invocation}`: {source}")]
    Spawn {
        invocation: Box<Invocation>,
        source: std::io::Error,
    },
    #[error("`{invocation}` failed ({status}){}", stderr_suffix(.stderr))]
    CommandFailed {
        invocation: Box<Invocation>,
        status: ExitStatus,
        stdout: String,
        stderr: String,
    },
}

fn stderr_suffix(stderr: &str) -> String {
    let trimmed = stderr.trim();
    if trimmed.is_empty() {
        String::new()
    } else {
        format!(": {trimmed}")
    }
}

/// Run the program to completion, capturing its output; a non-zero exit is
/// [`CommandError::CommandFailed`].
pub fn run(invocation: &Invocation) -> Result<Output, CommandError> {
    let output = output(invocation)?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(CommandError::CommandFailed {
            invocation: Box::new(invocation.clone()),
            status: output.status,
            stdout: output.stdout,
            stderr: output.stderr,
        })
    }
}

/// Run the program to completion, capturing its output, whatever its exit status.
pub fn output(invocation: &Invocation) -> Result<Output, CommandError> {
    #[allow(clippy::disallowed_methods)] // this module is the one place that spawns
    let mut command = std::process::Command::new(&invocation.program);
    command
        .args(&invocation.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in &invocation.env {
        command.env(key, value);
    }
    if let Some(dir) = &invocation.current_dir {
        command.current_dir(dir);
    }
    let output = command.output().map_err(|source| CommandError::Spawn {
        invocation: Box::new(invocation.clone()),
        source,
    })?;
    Ok(Output {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invocation_displays_as_a_command_line() {
        let invocation = Invocation::new("nginx").args(["-t", "-c", "/tmp/nginx.conf"]);
        assert_eq!(invocation.to_string(), "nginx -t -c /tmp/nginx.conf");
    }

    #[test]
    fn failure_carries_status_and_stderr() {
        let invocation = Invocation::new("sh").args(["-c", "echo broken >&2; exit 3"]);
        let error = run(&invocation).unwrap_err();
        let text = error.to_string();
        assert!(
            text.starts_with("`sh -c echo broken >&2; exit 3` failed ("),
            "{text}"
        );
        assert!(text.ends_with(": broken"), "{text}");
    }

    #[test]
    fn missing_program_is_a_spawn_error_naming_it() {
        let error = run(&Invocation::new("/nonexistent/brise-test-program")).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("cannot run `/nonexistent/brise-test-program`")
        );
    }
}
