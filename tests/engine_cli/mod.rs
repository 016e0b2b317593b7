//! The real `brise` binary for the end-to-end tests on a real engine
//! (`docker_cli`, `lxc_cli`, `swarm_cli`): the shipped dictionaries and
//! templates, and the values file, state and hook directories of one test
//! directory.

#![allow(dead_code, clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use brise::command::{self, Invocation, Output};

/// Write `dir/values.yml` as brise does: atomically and mode 0600 (a values
/// file readable by others is warned about).
pub(crate) fn write_values(dir: &Path, text: &str) {
    let values = dir.join("values.yml");
    brise::output::atomic::write(&values, text.as_bytes(), None).unwrap();
    std::fs::set_permissions(&values, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// Run `brise ARGS` on the shipped dictionaries and templates with the values
/// file, state directory and hook directories of `dir`.
pub(crate) fn run(dir: &Path, args: &[&str]) -> Output {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let invocation = Invocation::new(env!("CARGO_BIN_EXE_brise"))
        .arg("--dictionaries")
        .arg(repo.join("dictionaries"))
        .arg("--templates")
        .arg(repo.join("templates"))
        .arg("--values")
        .arg(dir.join("values.yml"))
        .arg("--state-dir")
        .arg(dir.join("state"))
        .arg("--hooks-dir")
        .arg(dir.join("hooks"))
        .args(args);
    command::output(&invocation).unwrap()
}
