//! Rollback (docs/RELIABILITY.md): when `reconfigure` fails half-way (a
//! container fails to start, a hook fails) the generated files of the last
//! successful run are put back and nginx reloaded; when nginx refuses the new
//! files nothing is installed; `brise rollback` re-applies
//! `values.applied.yml`. The real binary, the real dockerd with the local
//! registry's images, and a private nginx under the test root.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;
mod docker_common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::nginx::{self, Nginx};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One busybox container behind a private nginx.
struct Site {
    dir: tempfile::TempDir,
    nginx: Nginx,
    scope: docker_common::Scope,
    name: String,
}

impl Site {
    async fn new(test: &str) -> Self {
        let scope = docker_common::Scope::new(test).await;
        let name = scope.name("svc");
        let dir = tempfile::Builder::new()
            .prefix("brise-rel-rollback-")
            .tempdir()
            .unwrap();
        let mut nginx = Nginx::configure(&dir.path().join("root"));
        nginx.start();
        Self {
            dir,
            nginx,
            scope,
            name,
        }
    }

    /// Values: the container with `port`, `greeting` and `extra` lines.
    fn values(&self, port: u16, greeting: &str, extra: &str) -> String {
        let identifier = self.name.replace(['-', '.'], "_");
        let text = format!(
            "containers:\n  names:\n    - {name}\n  container_{identifier}:\n    registry: localhost:5000\n    repository: brise-demo/busybox\n    ports:\n      - container_port: 80\n        host_port: {port}\n    environment:\n      - name: GREETING\n        value: {greeting}\n{extra}",
            name = self.name
        );
        brise::output::atomic::write(&self.values_path(), text.as_bytes(), None).unwrap();
        text
    }

    fn values_path(&self) -> PathBuf {
        self.dir.path().join("values.yml")
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn brise(&self, templates: &[&Path], args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_brise"));
        command
            .env_remove("BRISE_STATE_DIR")
            .env_remove("BRISE_CRASH_AT")
            .env("BRISE_NGINX", nginx::binary())
            .arg("--dictionaries")
            .arg(repo().join("dictionaries"))
            .arg("--templates")
            .arg(repo().join("templates"));
        for dir in templates {
            command.arg("--templates").arg(dir);
        }
        command
            .arg("--values")
            .arg(self.values_path())
            .arg("--hooks-dir")
            .arg(self.dir.path().join("hooks"))
            .args(args)
            .arg("--root")
            .arg(self.root())
            .arg("--scope")
            .arg(format!("{}-", self.scope.prefix));
        command.output().unwrap()
    }

    fn reconfigure(&self) -> Output {
        self.brise(&[], &["reconfigure"])
    }

    /// The generated nginx files and the manifest.
    fn files(&self) -> BTreeMap<String, String> {
        let mut files = BTreeMap::new();
        for dir in ["etc/nginx/web.d", "var/lib/brise"] {
            for entry in std::fs::read_dir(self.root().join(dir)).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() && !path.ends_with("lock") {
                    files.insert(
                        path.display().to_string(),
                        std::fs::read_to_string(&path).unwrap(),
                    );
                }
            }
        }
        files
    }

    fn no_journal(&self) -> bool {
        !self.root().join("var/lib/brise/undo").exists()
    }

    /// `true GREETING=…` of the container (running, environment).
    fn container(&self) -> String {
        let output = Command::new("docker")
            .args([
                "inspect",
                "-f",
                "{{.State.Running}} {{.Id}} {{json .Config.Env}}",
                &self.name,
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn nginx_accepts(&self) -> bool {
        Command::new(nginx::binary())
            .args(["-t", "-q", "-c"])
            .arg(&self.nginx.conf)
            .status()
            .unwrap()
            .success()
    }

    fn applied(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("values.applied.yml")).unwrap()
    }
}

fn out(output: &Output) -> String {
    format!(
        "{}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[track_caller]
fn success(output: &Output) -> String {
    assert!(output.status.success(), "{}", out(output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
#[ignore = "needs docker and nginx"]
async fn a_container_failing_to_start_puts_the_files_back_and_rollback_restores_the_last_applied_configuration()
 {
    let site = Site::new("rbstart").await;
    let good = site.values(nginx::free_port(), "a", "");
    success(&site.reconfigure());
    let files_before = site.files();
    assert!(site.container().starts_with("true "));

    // A directory mounted over a file of the image: the engine refuses to start it.
    let bad = site.values(
        nginx::free_port(),
        "b",
        &format!(
            "    shared_dirs:\n      - host_dir: {}/data/\n        container_dir: /bin/busybox\n",
            site.dir.path().display()
        ),
    );
    let output = site.reconfigure();
    assert_eq!(output.status.code(), Some(2), "{}", out(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("{}: FAILED", site.name)),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "the generated files of the last successful run were put back (1 file(s); reloaded nginx)"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("`brise rollback`"), "{stdout}");
    assert_eq!(site.files(), files_before, "the files were not put back");
    assert!(site.no_journal());
    assert!(site.nginx_accepts());
    assert_eq!(site.applied(), good, "a failed run recorded its values");

    let output = site.brise(&[], &["rollback"]);
    let stdout = success(&output);
    assert!(
        stdout.contains("holds the last applied values again"),
        "{stdout}"
    );
    assert_eq!(std::fs::read_to_string(site.values_path()).unwrap(), good);
    assert_eq!(
        std::fs::read_to_string(site.dir.path().join("values.before-rollback.yml")).unwrap(),
        bad,
        "the replaced values are kept"
    );
    let container = site.container();
    assert!(
        container.starts_with("true ") && container.contains("GREETING=a"),
        "{container}"
    );
    assert_eq!(site.files(), files_before);
    assert_eq!(site.applied(), good);
    site.scope.cleanup().await;
}

#[tokio::test]
#[ignore = "needs docker and nginx"]
async fn a_failing_posttemplate_hook_puts_the_files_back_and_leaves_the_containers() {
    let site = Site::new("rbhook").await;
    site.values(nginx::free_port(), "a", "");
    success(&site.reconfigure());
    let files_before = site.files();
    let container_before = site.container();

    let hooks = site.dir.path().join("hooks/posttemplate.d");
    std::fs::create_dir_all(&hooks).unwrap();
    let hook = hooks.join("10-refuse");
    brise::output::atomic::write(&hook, b"#!/bin/sh\necho refusing >&2\nexit 3\n", None).unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    site.values(nginx::free_port(), "b", "");
    let output = site.reconfigure();
    assert_eq!(output.status.code(), Some(2), "{}", out(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("posttemplate hook `{}` failed", hook.display())),
        "{stderr}"
    );
    assert!(
        stdout.contains("the generated files of the last successful run were put back (1 file(s)"),
        "{stdout}"
    );
    assert_eq!(site.files(), files_before);
    assert!(site.no_journal());
    assert_eq!(site.container(), container_before, "a container changed");
    site.scope.cleanup().await;
}

#[tokio::test]
#[ignore = "needs docker and nginx"]
async fn nginx_refusing_the_new_files_installs_nothing_and_changes_no_container() {
    let site = Site::new("rbnginx").await;
    site.values(nginx::free_port(), "a", "");
    success(&site.reconfigure());
    let files_before = site.files();
    let container_before = site.container();

    // A local template replacing the location by one nginx refuses.
    let local = site.dir.path().join("local-templates");
    std::fs::create_dir_all(local.join("nginx")).unwrap();
    brise::output::atomic::write(
        &local.join("nginx/broken.conf.tera"),
        b"location /{{ identifier }} { no_such_directive on; }\n",
        None,
    )
    .unwrap();
    let catalogue = std::fs::read_to_string(repo().join("templates/containers.yml"))
        .unwrap()
        .replace("nginx/conteneurs.conf.tera", "nginx/broken.conf.tera");
    brise::output::atomic::write(&local.join("containers.yml"), catalogue.as_bytes(), None)
        .unwrap();
    site.values(nginx::free_port(), "b", "");
    let output = site.brise(&[&local], &["reconfigure"]);
    assert_eq!(output.status.code(), Some(1), "{}", out(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no_such_directive"), "{stderr}");
    assert_eq!(site.files(), files_before);
    assert!(site.no_journal());
    assert!(site.nginx_accepts());
    assert_eq!(site.container(), container_before, "a container changed");
    site.scope.cleanup().await;
}

#[test]
fn rollback_before_any_successful_reconfigure_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let values = dir.path().join("values.yml");
    brise::output::atomic::write(&values, b"containers:\n  names: []\n", None).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_brise"))
        .env_remove("BRISE_STATE_DIR")
        .arg("--dictionaries")
        .arg(repo().join("dictionaries"))
        .arg("--values")
        .arg(&values)
        .args(["rollback", "--root"])
        .arg(dir.path().join("root"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", out(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "nothing to roll back to: `{}` does not exist (no reconfigure succeeded yet); nothing was changed",
            dir.path().join("values.applied.yml").display()
        )),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(&values).unwrap(),
        b"containers:\n  names: []\n"
    );
}
