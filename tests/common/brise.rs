//! Running the real `brise` binary against a test server root: the shipped
//! dictionaries and templates (plus optional local template directories), a
//! values file, and `--root` pointing at a temporary directory.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use brise::command::{self, Invocation};

pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A server root under a temporary directory, with its values file.
#[derive(Debug)]
pub(crate) struct Server {
    pub(crate) dir: tempfile::TempDir,
    /// Local template directories (after the shipped one).
    pub(crate) local_templates: Vec<PathBuf>,
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Outcome {
    #[track_caller]
    pub(crate) fn success(&self) -> &Self {
        assert_eq!(
            self.code,
            Some(0),
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub(crate) fn failure(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub(crate) fn stdout(&self, expected: &str) -> &Self {
        pretty_assertions::assert_eq!(self.stdout, expected, "stderr:\n{}", self.stderr);
        self
    }
}

impl Server {
    pub(crate) fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("brise-genconfig-test-")
            .tempdir()
            .unwrap();
        std::fs::create_dir_all(dir.path().join("root")).unwrap();
        Self {
            dir,
            local_templates: Vec::new(),
        }
    }

    /// `--root` of the runs.
    pub(crate) fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// A path on the server (under the root).
    pub(crate) fn path(&self, path: &str) -> PathBuf {
        self.root().join(path.trim_start_matches('/'))
    }

    pub(crate) fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.path(path)).unwrap()
    }

    pub(crate) fn values_path(&self) -> PathBuf {
        self.dir.path().join("values.yml")
    }

    /// Write the values file.
    #[must_use]
    pub(crate) fn values(self, text: &str) -> Self {
        write(&self.values_path(), text);
        // As on a server (a values file readable by others is warned about).
        std::fs::set_permissions(
            self.values_path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        self
    }

    /// The demonstration's values (examples/demo/values.yml).
    #[must_use]
    pub(crate) fn demo(self) -> Self {
        let text = std::fs::read_to_string(repo().join("examples/demo/values.yml")).unwrap();
        self.values(&text)
    }

    /// Add a local template directory with these files (relative name, text).
    #[must_use]
    pub(crate) fn local_templates(mut self, files: &[(&str, &str)]) -> Self {
        let dir = self
            .dir
            .path()
            .join(format!("local-templates-{}", self.local_templates.len()));
        for (name, text) in files {
            write(&dir.join(name), text);
        }
        self.local_templates.push(dir);
        self
    }

    /// Run `brise <global options> gen_config --root <root> <args>`.
    pub(crate) fn gen_config(&self, args: &[&str]) -> Outcome {
        let mut invocation = Invocation::new(env!("CARGO_BIN_EXE_brise"))
            .arg("--dictionaries")
            .arg(repo().join("dictionaries"))
            .arg("--templates")
            .arg(repo().join("templates"));
        for dir in &self.local_templates {
            invocation = invocation.arg("--templates").arg(dir);
        }
        invocation = invocation
            .arg("--values")
            .arg(self.values_path())
            .arg("gen_config")
            .arg("--root")
            .arg(self.root())
            .arg("--nginx")
            .arg(super::nginx::binary_or_default());
        invocation = invocation.args(args.iter().map(OsString::from));
        let output = command::output(&invocation).unwrap();
        Outcome {
            code: output.status.code(),
            stdout: output.stdout,
            stderr: output.stderr,
        }
    }

    /// Every file under the root, relative, sorted (to prove nothing changed),
    /// but the run lock (`var/lib/brise/lock`, which every run that may
    /// change the server opens).
    pub(crate) fn snapshot(&self) -> Vec<(String, Vec<u8>)> {
        let mut files = Vec::new();
        collect(&self.root(), &self.root(), &mut files);
        files.retain(|(name, _)| name != "var/lib/brise/lock");
        files.sort();
        files
    }
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, Vec<u8>)>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in read {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let name = path.strip_prefix(root).unwrap().display().to_string();
            files.push((name, std::fs::read(&path).unwrap_or_default()));
        }
    }
}

pub(crate) fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut file = std::fs::File::create(path).unwrap();
    file.write_all(text.as_bytes()).unwrap();
}
