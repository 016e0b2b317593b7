//! The `reconfigure` pipeline (hooks, gen_config, converge, record) driven with
//! the in-memory engine: order of the steps, what a failure stops, the record.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use brise::app::Failure;
use brise::commands::reconfigure::{Generate, Log, Request, pipeline};
use brise::containers::ContainerSpec;
use brise::reconcile::Options;
use brise::runtime::fake::{Call, FakeRuntime, spec};
use brise::runtime::{RuntimeError, Step};

#[derive(Default)]
struct Lines(Mutex<Vec<String>>);

impl Log for Lines {
    fn line(&self, line: &str) {
        self.0.lock().unwrap().push(line.to_owned());
    }
}

impl Lines {
    fn text(&self) -> String {
        self.0.lock().unwrap().join("\n")
    }
}

/// gen_config stand-in: appends to the hooks' trace file, like a hook would.
struct Trace(PathBuf);

impl Generate for Trace {
    fn generate(&mut self, dry_run: bool) -> Result<String, Failure> {
        if !dry_run {
            append(&self.0, "gen_config");
        }
        Ok(String::new())
    }
}

fn append(path: &Path, line: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    writeln!(file, "{line}").unwrap();
}

struct Setup {
    dir: tempfile::TempDir,
    fake: FakeRuntime,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeRuntime::new();
        fake.publish_image("localhost:5000/brise-demo/busybox:latest", "sha256:b1");
        brise::output::atomic::write(&dir.path().join("values.yml"), b"a: 1\n", None).unwrap();
        for phase in ["preservice", "pretemplate", "posttemplate", "postservice"] {
            self_hook(
                dir.path(),
                phase,
                "10-trace",
                &format!("echo {phase} $1 >> {}", dir.path().join("trace").display()),
            );
        }
        Self { dir, fake }
    }

    fn request(&self, dry_run: bool) -> Request {
        Request {
            dry_run,
            json: dry_run,
            options: Options::default(),
            parallel: 4,
            hooks_dir: self.dir.path().join("hooks"),
            values: self.dir.path().join("values.yml"),
            stamp: "20261122T153000Z".to_owned(),
            scope: None,
        }
    }

    async fn run(&self, dry_run: bool, desired: &[ContainerSpec]) -> (Result<(), Failure>, String) {
        let lines = Lines::default();
        let mut generate = Trace(self.dir.path().join("trace"));
        let result = pipeline(
            &self.request(dry_run),
            desired,
            &self.fake,
            &mut generate,
            &lines,
        )
        .await;
        (result, lines.text())
    }

    fn trace(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("trace")).unwrap_or_default()
    }

    fn recorded(&self) -> bool {
        self.dir.path().join("values.applied.yml").exists()
    }
}

fn self_hook(root: &Path, phase: &str, name: &str, body: &str) -> PathBuf {
    let dir = root.join("hooks").join(format!("{phase}.d"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    brise::output::atomic::write(&path, format!("#!/bin/sh\n{body}\n").as_bytes(), None).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[tokio::test]
async fn a_successful_run_follows_eoles_order_and_records_the_values() {
    let setup = Setup::new();
    let (result, log) = setup.run(false, &[spec("svc", "busybox")]).await;
    result.unwrap();
    assert_eq!(
        setup.trace(),
        "preservice reconfigure\npretemplate reconfigure\ngen_config\nposttemplate reconfigure\npostservice reconfigure\n"
    );
    assert!(log.contains("create     svc: done"), "{log}");
    assert!(setup.recorded());
    assert_eq!(
        std::fs::read(setup.dir.path().join("values.applied.yml")).unwrap(),
        b"a: 1\n"
    );
}

#[tokio::test]
async fn a_failing_hook_stops_the_run_with_its_name_and_output() {
    let setup = Setup::new();
    let hook = self_hook(
        setup.dir.path(),
        "pretemplate",
        "05-check",
        "echo 'checking the disk'; echo 'no space left' >&2; exit 4",
    );
    let (result, _) = setup.run(false, &[spec("svc", "busybox")]).await;
    let Err(Failure::System(error)) = result else {
        panic!("{result:?}");
    };
    assert_eq!(
        format!("{error:#}"),
        format!(
            "pretemplate hook `{}` failed (exit status: 4):\nchecking the disk\nno space left",
            hook.display()
        )
    );
    assert_eq!(setup.trace(), "preservice reconfigure\n");
    assert_eq!(setup.fake.changes(), vec![], "no container changed");
    assert!(!setup.recorded());
}

#[tokio::test]
async fn a_conflict_runs_no_hook_and_changes_nothing() {
    let setup = Setup::new();
    setup.fake.add_foreign("svc");
    let (result, _) = setup.run(false, &[spec("svc", "busybox")]).await;
    let Err(Failure::Invalid(error)) = result else {
        panic!("{result:?}");
    };
    assert!(
        error
            .to_string()
            .starts_with("error: a container named `svc` exists but brise does not manage it"),
        "{error}"
    );
    assert!(
        error.to_string().ends_with("\nnothing was changed"),
        "{error}"
    );
    assert_eq!(setup.trace(), "");
    assert_eq!(setup.fake.changes(), vec![]);
    assert!(!setup.recorded());
}

#[tokio::test]
async fn a_dry_run_prints_the_json_plan_and_runs_nothing() {
    let setup = Setup::new();
    let (result, log) = setup.run(true, &[spec("svc", "busybox")]).await;
    result.unwrap();
    let json: serde_json::Value = serde_json::from_str(&log).unwrap();
    assert_eq!(json["containers"]["entries"][0]["action"], "create");
    assert_eq!(
        json["containers"]["entries"][0]["reasons"][0]["reason"],
        "not-present"
    );
    assert_eq!(setup.trace(), "");
    assert_eq!(setup.fake.changes(), vec![]);
    assert!(
        !setup
            .fake
            .calls()
            .iter()
            .any(|c| matches!(c, Call::Pull(_)))
    );
    assert!(!setup.recorded());
}

#[tokio::test]
async fn a_failed_container_keeps_the_previous_record_and_skips_postservice() {
    let setup = Setup::new();
    setup.fake.fail_once(
        Call::Start("bad".to_owned()),
        RuntimeError::container("bad", Step::Start, "port is already allocated"),
    );
    let (result, log) = setup
        .run(false, &[spec("good", "busybox"), spec("bad", "busybox")])
        .await;
    assert!(matches!(result, Err(Failure::Reported(2))), "{result:?}");
    assert!(
        log.contains(
            "create     bad: FAILED: container `bad`: start failed: port is already allocated"
        ),
        "{log}"
    );
    assert!(log.contains("create     good: done"), "{log}");
    assert!(!setup.trace().contains("postservice"));
    assert!(!setup.recorded());
}

#[tokio::test]
async fn a_second_run_changes_nothing() {
    let setup = Setup::new();
    let desired = [spec("svc", "busybox")];
    setup.run(false, &desired).await.0.unwrap();
    setup.fake.clear_calls();
    let (result, log) = setup.run(false, &desired).await;
    result.unwrap();
    assert_eq!(setup.fake.changes(), vec![]);
    assert!(
        log.contains("\nnothing to do: 1 container as declared\n"),
        "{log}"
    );
    assert!(!log.contains(" svc"), "{log}");
}
