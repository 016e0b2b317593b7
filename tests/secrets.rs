//! Secrets (issue 9, item 6): a value of type `secret` set by the
//! administrator never appears in what brise prints (`set`, `show`,
//! `show --json`, `get --list`, error messages with their source line, the
//! trace log) unless root asks with `--show-secrets`; the values file that
//! holds it is mode 0600. Every test runs the real binary and uses a secret
//! that appears nowhere else, so finding it anywhere is a leak; each test also
//! shows that the secret is really there (in the values file, or printed to
//! root on request), so it cannot pass by looking for the wrong text.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The administrator's secret: nowhere in the dictionaries or the code.
const SECRET: &str = "Tr0ub4dor-horse-battery-91";
/// A secret refused by validation (shorter than `min_len`).
const SHORT: &str = "Zq7Wx2";

const DICTIONARY: &str = "\
version: 1.1
general:
  description: General
  server_name:
    type: domainname
    default: scribe.example.net
  db_password:
    description: Database password
    type: secret
    mandatory: false
    params:
      min_len: 12
  db_user:
    default: brise
";

struct Server {
    temp: tempfile::TempDir,
}

impl Server {
    fn new() -> Self {
        let temp = tempfile::Builder::new()
            .prefix("brise-relsec-secrets-")
            .tempdir()
            .unwrap();
        // Reachable by an unprivileged user (the `--show-secrets` refusal test).
        std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::create_dir_all(temp.path().join("dict")).unwrap();
        std::fs::write(temp.path().join("dict/00-general.yml"), DICTIONARY).unwrap();
        Self { temp }
    }

    fn dir(&self) -> &Path {
        self.temp.path()
    }

    fn values(&self) -> PathBuf {
        self.dir().join("values.yml")
    }

    fn write_values(&self, text: &str) {
        std::fs::write(self.values(), text).unwrap();
        std::fs::set_permissions(self.values(), std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_brise"));
        command
            .current_dir(self.dir())
            .env_remove("BRISE_VALUES")
            .env("RUST_LOG", "trace")
            .env("BRISE_STATE_DIR", self.dir().join("state"))
            .arg("--dictionaries")
            .arg("dict")
            .arg("--values")
            .arg("values.yml")
            .args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[track_caller]
fn assert_no_secret(output: &Output, secret: &str) {
    let all = text(output);
    assert!(!all.contains(secret), "the secret leaked:\n{all}");
}

#[track_caller]
fn assert_code(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "{}", text(output));
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn set_stores_a_secret_in_a_private_values_file_without_printing_it() {
    let server = Server::new();
    let output = server.run(&["set", "general.db_password", SECRET]);
    assert_code(&output, 0);
    assert_no_secret(&output, SECRET);
    let stored = std::fs::read_to_string(server.values()).unwrap();
    assert!(
        stored.contains(SECRET),
        "the secret was not stored:\n{stored}"
    );
    assert_eq!(mode(&server.values()), 0o600);
}

#[test]
fn show_and_get_list_mask_a_secret_set_by_the_administrator() {
    let server = Server::new();
    server.write_values(&format!("general:\n  db_password: {SECRET}\n"));
    for args in [
        &["show"][..],
        &["show", "--json"],
        &["show", "--mode", "advanced"],
        &["get", "--list"],
        &["check"],
    ] {
        let output = server.run(args);
        assert_code(&output, 0);
        assert_no_secret(&output, SECRET);
    }
    // The masked view still shows that the variable is set.
    let output = server.run(&["show", "--json"]);
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("\"general.db_password\": \"**********\""),
        "{}",
        text(&output)
    );
}

#[test]
fn show_secrets_shows_the_secret_to_root_only() {
    let server = Server::new();
    server.write_values(&format!("general:\n  db_password: {SECRET}\n"));
    let root = nix::unistd::geteuid().is_root();
    if root {
        let output = server.run(&["show", "--json", "--show-secrets"]);
        assert_code(&output, 0);
        assert!(
            String::from_utf8_lossy(&output.stdout).contains(SECRET),
            "root asked for the secrets and did not get them:\n{}",
            text(&output)
        );
    }
    // An unprivileged user is refused before anything is read.
    let mut command = if root {
        let mut command = Command::new("setpriv");
        command.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            env!("CARGO_BIN_EXE_brise"),
        ]);
        command
    } else {
        Command::new(env!("CARGO_BIN_EXE_brise"))
    };
    let output = command
        .current_dir(server.dir())
        .env_remove("BRISE_VALUES")
        .args([
            "--dictionaries",
            "dict",
            "--values",
            "values.yml",
            "show",
            "--show-secrets",
        ])
        .output()
        .unwrap();
    assert_code(&output, 1);
    assert_no_secret(&output, SECRET);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("only allowed to root"),
        "{}",
        text(&output)
    );
}

#[test]
fn a_secret_refused_by_set_is_not_echoed_and_nothing_changes() {
    let server = Server::new();
    server.write_values("general:\n  db_user: admin\n");
    let before = std::fs::read(server.values()).unwrap();
    let output = server.run(&["set", "general.db_password", SHORT]);
    assert_code(&output, 1);
    assert_no_secret(&output, SHORT);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("at least 12 characters"),
        "the refusal does not say why:\n{}",
        text(&output)
    );
    assert_eq!(std::fs::read(server.values()).unwrap(), before);
}

#[test]
fn an_invalid_secret_in_the_values_file_is_reported_without_its_value() {
    let server = Server::new();
    server.write_values(&format!("general:\n  db_password: {SHORT}\n"));
    for args in [&["check"][..], &["show"], &["get", "--list"]] {
        let output = server.run(args);
        assert_no_secret(&output, SHORT);
    }
    let output = server.run(&["check"]);
    assert_code(&output, 1);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("values.yml:2:") && stderr.contains("at least 12 characters"),
        "the error lost its location or reason:\n{stderr}"
    );
}

#[test]
fn a_secret_of_the_wrong_type_is_reported_without_its_value() {
    let server = Server::new();
    // A list where one secret is expected: the message must not print the list.
    server.write_values(&format!("general:\n  db_password: [{SECRET}, {SHORT}]\n"));
    let output = server.run(&["check"]);
    assert_code(&output, 1);
    assert_no_secret(&output, SECRET);
    assert_no_secret(&output, SHORT);
}

#[test]
fn gen_config_writes_the_secret_into_its_file_but_masks_it_in_the_diff() {
    let server = Server::new();
    server.write_values(&format!("general:\n  db_password: {SECRET}\n"));
    let templates = server.dir().join("tpl");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("db.yml"),
        "db:\n  source: db.conf.tera\n  target: /etc/app/db.conf\n  mode: \"0600\"\n",
    )
    .unwrap();
    std::fs::write(
        templates.join("db.conf.tera"),
        "user={{ general.db_user }}\npassword={{ general.db_password }}\n",
    )
    .unwrap();
    let root = server.dir().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let gen_config = |extra: &[&str]| {
        let mut args = vec!["--templates", "tpl", "gen_config", "--root", "root"];
        args.extend_from_slice(extra);
        server.run(&args)
    };
    let output = gen_config(&["--dry-run", "--diff"]);
    assert_code(&output, 0);
    assert_no_secret(&output, SECRET);
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("+password=**********"),
        "the diff does not show the masked line:\n{}",
        text(&output)
    );
    let output = gen_config(&[]);
    assert_code(&output, 0);
    assert_no_secret(&output, SECRET);
    let file = root.join("etc/app/db.conf");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        format!("user=brise\npassword={SECRET}\n")
    );
    assert_eq!(mode(&file), 0o600);
}
