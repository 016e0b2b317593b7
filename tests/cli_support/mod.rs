//! Runs the real `brise` binary for the configuration command tests: a
//! `#[must_use]` builder (dictionaries, values, arguments) and `#[track_caller]`
//! assertions on exit code, stdout and stderr. Each test gets its own tempdir.

#![allow(dead_code, clippy::unwrap_used, clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A `brise` invocation in the crate root, with a private values file.
#[must_use]
pub(crate) struct Brise {
    args: Vec<String>,
    dictionaries: Vec<String>,
    namespace: Option<String>,
    temp: tempfile::TempDir,
    values: PathBuf,
}

impl Brise {
    pub(crate) fn new() -> Self {
        let temp = tempfile::Builder::new()
            .prefix("brise-core-test-")
            .tempdir()
            .unwrap();
        let values = temp.path().join("values.yml");
        Self {
            args: Vec::new(),
            dictionaries: Vec::new(),
            namespace: None,
            temp,
            values,
        }
    }

    /// A fixture directory of `tests/fixtures/dictionaries/` (given relative, so
    /// messages show `tests/fixtures/...` paths).
    pub(crate) fn fixture(mut self, name: &str) -> Self {
        self.dictionaries
            .push(format!("tests/fixtures/dictionaries/{name}"));
        self
    }

    /// A dictionary written for this test (`NAME.yml` in the tempdir).
    pub(crate) fn dictionary(mut self, name: &str, text: &str) -> Self {
        let dir = self.temp.path().join("dictionaries");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), text).unwrap();
        let dir = dir.display().to_string();
        if !self.dictionaries.contains(&dir) {
            self.dictionaries.push(dir);
        }
        self
    }

    pub(crate) fn namespace(mut self, name: &str) -> Self {
        self.namespace = Some(name.to_owned());
        self
    }

    /// The values file content.
    pub(crate) fn values(self, text: &str) -> Self {
        std::fs::write(&self.values, text).unwrap();
        // As on a server (a values file readable by others is warned about).
        std::fs::set_permissions(
            &self.values,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        self
    }

    pub(crate) fn args<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, args: I) -> Self {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub(crate) fn values_path(&self) -> &Path {
        &self.values
    }

    pub(crate) fn temp(&self) -> &Path {
        self.temp.path()
    }

    /// Run and keep the builder (to look at the values file afterwards).
    pub(crate) fn run(&self) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_brise"));
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
        cmd.env_remove("BRISE_VALUES");
        // The run lock and state stay in the test's directory.
        cmd.env("BRISE_STATE_DIR", self.temp.path().join("state"));
        for d in &self.dictionaries {
            cmd.arg("--dictionaries").arg(d);
        }
        if let Some(ns) = &self.namespace {
            cmd.arg("--namespace").arg(ns);
        }
        cmd.arg("--values").arg(&self.values);
        cmd.args(&self.args);
        Run(cmd.output().unwrap())
    }
}

/// The outcome of one run.
pub(crate) struct Run(pub(crate) Output);

impl Run {
    pub(crate) fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }

    pub(crate) fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }

    #[track_caller]
    pub(crate) fn success(self) -> Self {
        assert_eq!(
            self.0.status.code(),
            Some(0),
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }

    #[track_caller]
    pub(crate) fn code(self, code: i32) -> Self {
        assert_eq!(
            self.0.status.code(),
            Some(code),
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }

    #[track_caller]
    pub(crate) fn stdout_is(self, expected: &str) -> Self {
        pretty_assertions::assert_eq!(self.stdout(), expected);
        self
    }

    #[track_caller]
    pub(crate) fn stderr_is(self, expected: &str) -> Self {
        pretty_assertions::assert_eq!(self.stderr(), expected);
        self
    }

    #[track_caller]
    pub(crate) fn stderr_contains(self, part: &str) -> Self {
        let err = self.stderr();
        assert!(
            err.contains(part),
            "stderr does not contain {part:?}:\n{err}"
        );
        self
    }
}
