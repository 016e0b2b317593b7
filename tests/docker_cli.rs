//! `brise reconfigure` and `brise status` as an administrator runs them: the
//! real binary, the shipped dictionaries and templates, a values file, the
//! real dockerd and the local registry. The hidden `--scope` keeps each run to
//! this test's containers (the engine is shared with other tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod docker_common;

mod engine_cli;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use brise::command::{self, Invocation, Output};
use brise::runtime::ContainerState;
use brise::runtime::Runtime;
use docker_common::Scope;

struct Site {
    dir: tempfile::TempDir,
    scope: Scope,
    name: String,
}

impl Site {
    async fn new(test: &str) -> Self {
        let scope = Scope::new(test).await;
        let name = scope.name("svc");
        let dir = tempfile::tempdir().unwrap();
        let site = Self { dir, scope, name };
        site.values("");
        site
    }

    /// The values file: one busybox container, plus `extra` lines in its family.
    fn values(&self, extra: &str) {
        let identifier = self.name.replace(['-', '.'], "_");
        let text = format!(
            "containers:\n  names:\n    - {name}\n  container_{identifier}:\n    registry: localhost:5000\n    repository: brise-demo/busybox\n{extra}",
            name = self.name
        );
        engine_cli::write_values(self.dir.path(), &text);
    }

    fn brise(&self, args: &[&str]) -> Output {
        engine_cli::run(self.dir.path(), args)
    }

    fn reconfigure(&self, extra: &[&str]) -> Output {
        let root = self.dir.path().join("root");
        let scope = format!("{}-", self.scope.prefix);
        let mut args = vec![
            "reconfigure",
            "--root",
            root.to_str().unwrap(),
            "--scope",
            &scope,
        ];
        args.extend_from_slice(extra);
        self.brise(&args)
    }
}

#[track_caller]
fn success(output: &Output) -> &str {
    assert!(
        output.status.success(),
        "{}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        output.stdout,
        output.stderr
    );
    &output.stdout
}

#[tokio::test]
#[ignore = "needs docker"]
async fn reconfigure_converges_then_changes_nothing_and_status_tells() {
    let site = Site::new("cli").await;
    let dry = site.reconfigure(&["--dry-run", "--json"]);
    let plan: serde_json::Value = serde_json::from_str(success(&dry)).unwrap();
    assert_eq!(plan["containers"]["entries"][0]["action"], "create");
    assert!(
        site.scope
            .runtime
            .inspect(&site.name)
            .await
            .unwrap()
            .is_none()
    );

    let first = site.reconfigure(&[]);
    assert!(
        success(&first).contains(&format!("create     {}: done", site.name)),
        "{}",
        first.stdout
    );
    let before = site
        .scope
        .runtime
        .inspect(&site.name)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before.state, ContainerState::Running);
    assert!(site.dir.path().join("values.applied.yml").exists());

    let second = site.reconfigure(&[]);
    assert!(
        success(&second).contains("nothing to do: 1 container as declared"),
        "{}",
        second.stdout
    );
    let after = site
        .scope
        .runtime
        .inspect(&site.name)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before.id, after.id);
    assert_eq!(before.started_at, after.started_at);

    let status = site.brise(&["status"]);
    assert!(
        success(&status).starts_with("values: applied\n"),
        "{}",
        status.stdout
    );
    site.values("    environment:\n      - name: GREETING\n        value: bonjour\n");
    let status = site.brise(&["status"]);
    assert!(
        success(&status).starts_with("values: changed since the last successful reconfigure"),
        "{}",
        status.stdout
    );
    site.scope.cleanup().await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn a_failing_hook_stops_reconfigure_with_its_name_and_output() {
    let site = Site::new("clihook").await;
    let hooks = site.dir.path().join("hooks/preservice.d");
    std::fs::create_dir_all(&hooks).unwrap();
    let hook = hooks.join("10-refuse");
    brise::output::atomic::write(
        &hook,
        b"#!/bin/sh\necho \"refusing $1\" >&2\nexit 7\n",
        None,
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let output = site.reconfigure(&[]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert_eq!(
        output.stderr.trim_end(),
        format!(
            "brise: preservice hook `{}` failed (exit status: 7):\nrefusing reconfigure",
            hook.display()
        )
    );
    assert!(
        site.scope
            .runtime
            .inspect(&site.name)
            .await
            .unwrap()
            .is_none()
    );
    assert!(!site.dir.path().join("values.applied.yml").exists());
    site.scope.cleanup().await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn an_unreachable_engine_is_a_clear_error_and_changes_nothing() {
    let site = Site::new("clinoengine").await;
    let dir = tempfile::tempdir().unwrap();
    let socket = format!("unix://{}", dir.path().join("docker.sock").display());
    let root = site.dir.path().join("root");
    let invocation = Invocation::new(env!("CARGO_BIN_EXE_brise"))
        .env("DOCKER_HOST", &socket)
        .arg("--dictionaries")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("dictionaries"))
        .arg("--templates")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"))
        .arg("--values")
        .arg(site.dir.path().join("values.yml"))
        .arg("--state-dir")
        .arg(site.dir.path().join("state"))
        .args(["reconfigure", "--root", root.to_str().unwrap()]);
    let output = command::output(&invocation).unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(
        output.stderr.starts_with(&format!(
            "brise: cannot reach the docker engine at `{socket}`: "
        )),
        "{}",
        output.stderr
    );
    assert!(!site.dir.path().join("values.applied.yml").exists());
    site.scope.cleanup().await;
}
