//! The Swarm runtime against a real single-node swarm on the local dockerd,
//! with the demo images of the local registry (127.0.0.1:5000): a service
//! with 2 replicas, a no-op second apply, a changed environment rolling
//! through start-first, a broken image rolled back automatically and
//! reported, a scale from 2 to 3 without replacing tasks, removal; a
//! host-mode service answering through a real nginx, keeping its data; a
//! stale service version refused; a foreign service never touched. The
//! swarm is left as found (see `swarm_common`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
#![allow(clippy::disallowed_methods)] // fixtures are written with std::fs::write

mod common;
mod swarm_common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use brise::app::Failure;
use brise::commands::reconfigure::{Generate, Log, Request, pipeline, swarm_services};
use brise::containers::{ContainerSpec, ImageRef, Mount, Technology};
use brise::reconcile::{
    self, Action, ApplyOptions, Conflict, Images, Options, Plan, Reason, Report, Silent, Status,
};
use brise::runtime::fake::{loopback_port, spec};
use brise::runtime::routed::RoutedRuntime;
use brise::runtime::swarm::{
    self, PublishMode, ServiceStatus, SwarmOptions, SwarmRuntime, UpdatePolicy,
};
use brise::runtime::{ContainerState, Labels, NoProgress, Runtime, RuntimeError, Step};
use common::nginx::{self, Nginx};
use swarm_common::{Swarm, docker, docker_try, outside_swarm, unique};

fn options(publish_mode: PublishMode) -> SwarmOptions {
    SwarmOptions {
        publish_mode,
        update: UpdatePolicy {
            parallelism: 1,
            delay: Duration::from_secs(1),
            monitor: Duration::from_secs(3),
        },
        restart_delay: Duration::from_secs(2),
        converge_timeout: Duration::from_secs(120),
        poll_interval: Duration::from_millis(300),
    }
}

async fn connect(publish_mode: PublishMode) -> SwarmRuntime {
    SwarmRuntime::connect(swarm::DEFAULT_ENDPOINT, options(publish_mode))
        .await
        .unwrap()
}

/// Observe and plan (pulling = resolving registry digests), as reconfigure does.
async fn plan(runtime: &SwarmRuntime, desired: &[ContainerSpec]) -> reconcile::Prepared {
    let services = swarm::services(desired);
    reconcile::prepare(
        runtime,
        &services,
        &Options::default(),
        Images::Pull,
        4,
        &NoProgress,
    )
    .await
    .unwrap()
}

async fn converge(runtime: &SwarmRuntime, desired: &[ContainerSpec]) -> (Plan, Report) {
    converge_with(runtime, desired, &Options::default()).await
}

async fn converge_with(
    runtime: &SwarmRuntime,
    desired: &[ContainerSpec],
    options: &Options,
) -> (Plan, Report) {
    let services = swarm::services(desired);
    let prepared = reconcile::prepare(runtime, &services, options, Images::Pull, 4, &NoProgress)
        .await
        .unwrap();
    let report = reconcile::apply(
        &prepared.plan,
        runtime,
        &prepared.images,
        &ApplyOptions {
            parallel: 4,
            backup_stamp: "20260101T000000Z".to_owned(),
        },
        &Silent,
    )
    .await
    .unwrap();
    (prepared.plan, report)
}

async fn status_of(runtime: &SwarmRuntime, name: &str) -> Option<ServiceStatus> {
    runtime
        .services_status()
        .await
        .unwrap()
        .into_iter()
        .find(|status| status.name == name)
}

/// IDs of the running task containers of service `name` on this node,
/// including those of tasks being shut down.
fn running_containers(name: &str) -> BTreeSet<String> {
    docker(&[
        "ps",
        "--quiet",
        "--no-trunc",
        "--filter",
        &format!("label=com.docker.swarm.service.name={name}"),
    ])
    .lines()
    .map(str::to_owned)
    .collect()
}

/// IDs of the running containers of the tasks service `name` wants running
/// (not those of replaced tasks that are still stopping).
fn current_containers(name: &str) -> BTreeSet<String> {
    let wanted: BTreeSet<String> = docker(&[
        "service",
        "ps",
        "--quiet",
        "--no-trunc",
        "--filter",
        "desired-state=running",
        name,
    ])
    .lines()
    .map(str::to_owned)
    .collect();
    docker(&[
        "ps",
        "--no-trunc",
        "--filter",
        &format!("label=com.docker.swarm.service.name={name}"),
        "--format",
        "{{.ID}} {{.Label \"com.docker.swarm.task.id\"}}",
    ])
    .lines()
    .filter_map(|line| line.split_once(' '))
    .filter(|(_, task)| wanted.contains(*task))
    .map(|(container, _)| container.to_owned())
    .collect()
}

fn service_field(name: &str, template: &str) -> String {
    docker(&["service", "inspect", name, "--format", template])
}

fn service_exists(name: &str) -> bool {
    docker_try(&["service", "inspect", name]).0
}

/// Removes a service left behind by a failing test.
struct ServiceCleanup(String);

impl Drop for ServiceCleanup {
    fn drop(&mut self) {
        if service_exists(&self.0) {
            let _ = docker_try(&["service", "rm", &self.0]);
            std::thread::sleep(Duration::from_secs(2));
        }
        for volume in docker(&[
            "volume",
            "ls",
            "--quiet",
            "--filter",
            &format!("label=brise.name={}", self.0),
        ])
        .lines()
        {
            let _ = docker_try(&["volume", "rm", volume]);
        }
    }
}

/// An image whose entrypoint does not exist, pushed to the local registry
/// (deleted from it on drop): it resolves, but its tasks cannot start.
struct BrokenImage {
    image: ImageRef,
    digest: String,
}

impl BrokenImage {
    fn push() -> Self {
        let base = "localhost:5000/brise-demo/busybox:latest";
        docker(&["pull", "--quiet", base]);
        let source = unique("broken-src");
        docker(&["create", "--name", &source, base]);
        let tag = format!("{:08x}", rand::random::<u32>());
        let reference = format!("localhost:5000/brise-t-swarm/broken:{tag}");
        let committed = docker_try(&[
            "commit",
            "--change",
            r#"ENTRYPOINT ["/bin/brise-missing-entrypoint"]"#,
            &source,
            &reference,
        ]);
        docker(&["rm", &source]);
        assert!(committed.0, "{}", committed.1);
        docker(&["push", "--quiet", &reference]);
        let digest = docker(&[
            "image",
            "inspect",
            &reference,
            "--format",
            "{{index .RepoDigests 0}}",
        ]);
        docker(&["rmi", &reference]);
        let digest = digest.rsplit_once('@').unwrap().1.to_owned();
        Self {
            image: ImageRef {
                registry: Some("localhost:5000".to_owned()),
                repository: "brise-t-swarm/broken".to_owned(),
                tag,
            },
            digest,
        }
    }
}

impl Drop for BrokenImage {
    fn drop(&mut self) {
        // The copy the swarm pulled by digest, once no task container uses it.
        let local = format!("localhost:5000/brise-t-swarm/broken@{}", self.digest);
        let deadline = Instant::now() + Duration::from_secs(30);
        while docker_try(&["image", "inspect", &local]).0 {
            if docker_try(&["rmi", &local]).0 || Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        let url = format!(
            "http://127.0.0.1:5000/v2/brise-t-swarm/broken/manifests/{}",
            self.digest
        );
        let delete = brise::command::Invocation::new("curl").args(["-sf", "-X", "DELETE", &url]);
        if let Err(error) = brise::command::run(&delete) {
            eprintln!("could not delete the broken test image from the registry: {error}");
        }
    }
}

/// `brise status ARGS…` (the real binary) with a values file of its own; its standard output.
fn brise_status(args: &[&str]) -> String {
    let dir = tempfile::Builder::new()
        .prefix("brise-t-swarm-status-")
        .tempdir()
        .unwrap();
    let status = brise::command::Invocation::new(env!("CARGO_BIN_EXE_brise"))
        .arg("--values")
        .arg(dir.path().join("values.yml"))
        .arg("--state-dir")
        .arg(dir.path())
        .arg("status")
        .args(args);
    match brise::command::run(&status) {
        Ok(output) => output.stdout,
        Err(error) => panic!("{error}"),
    }
}

fn action_of(plan: &Plan, name: &str) -> Action {
    plan.entry(name)
        .unwrap_or_else(|| panic!("no entry for {name} in {plan}"))
        .action
}

fn assert_done(report: &Report, name: &str) {
    let outcome = report.outcome(name).unwrap();
    assert!(
        matches!(outcome.status, Status::Done { .. }),
        "{name}: {outcome:?}"
    );
}

fn env_of(container: &str) -> String {
    docker(&["inspect", container, "--format", "{{json .Config.Env}}"])
}

// See: #8
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker"]
async fn a_replicated_service_rolls_updates_through_rolls_back_a_broken_image_and_scales() {
    let _swarm = Swarm::join();
    let runtime = connect(PublishMode::Ingress).await;
    let name = unique("web");
    let _cleanup = ServiceCleanup(name.clone());
    let mut web = spec(&name, "httpd:2.4");
    web.replicas = 2;
    web.environment = vec![("BRISE_STAGE".to_owned(), "one".to_owned())];
    web.ports.push(loopback_port(80, nginx::free_port()));

    // 1. Created with 2 replicas, both running, carrying brise's labels.
    let (first, report) = converge(&runtime, std::slice::from_ref(&web)).await;
    assert_eq!(action_of(&first, &name), Action::Create);
    assert_done(&report, &name);
    let status = status_of(&runtime, &name).await.unwrap();
    assert_eq!((status.running, status.desired), (2, 2), "{status}");
    assert_eq!(running_containers(&name).len(), 2);
    assert_eq!(
        service_field(&name, "{{index .Spec.Labels \"brise.managed\"}}"),
        "true"
    );
    assert!(
        status.image.as_deref().unwrap().contains("@sha256:"),
        "tasks are pinned to the registry digest: {status:?}"
    );
    assert_eq!(
        service_field(&name, "{{.Spec.UpdateConfig.Order}}"),
        "start-first",
        "an ingress port does not forbid start-first"
    );
    assert_eq!(
        service_field(&name, "{{.Spec.UpdateConfig.FailureAction}}"),
        "rollback"
    );

    // 2. A second run changes nothing, not even the service version.
    let version = runtime.version(&name).await.unwrap().unwrap();
    let (second, report) = converge(&runtime, std::slice::from_ref(&web)).await;
    assert!(second.is_empty(), "{second}");
    assert!(report.outcomes.is_empty(), "{report:?}");
    assert_eq!(runtime.version(&name).await.unwrap(), Some(version));

    // 3. A changed environment rolls through, start-first: every task replaced.
    let before = current_containers(&name);
    web.environment = vec![("BRISE_STAGE".to_owned(), "two".to_owned())];
    let (third, report) = converge(&runtime, std::slice::from_ref(&web)).await;
    assert_eq!(action_of(&third, &name), Action::Recreate);
    assert!(
        matches!(
            third.entry(&name).unwrap().reasons[0],
            Reason::SpecHashChanged { .. }
        ),
        "{third}"
    );
    assert_done(&report, &name);
    let after = current_containers(&name);
    assert_eq!(after.len(), 2);
    assert!(before.is_disjoint(&after), "every task was replaced");
    for container in &after {
        assert!(env_of(container).contains("BRISE_STAGE=two"), "{container}");
    }
    assert_eq!(service_field(&name, "{{.UpdateStatus.State}}"), "completed");

    // 4. A broken image: Swarm rolls the service back, brise reports it.
    let broken = BrokenImage::push();
    let mut bad = web.clone();
    bad.image = broken.image.clone();
    let (fourth, report) = converge(&runtime, std::slice::from_ref(&bad)).await;
    assert_eq!(action_of(&fourth, &name), Action::Recreate);
    let outcome = report.outcome(&name).unwrap();
    match &outcome.status {
        Status::Failed { step, error } => {
            assert_eq!(*step, Step::Update);
            assert!(
                error.contains("Swarm rolled the service back to its previous spec"),
                "{error}"
            );
            // docker-init cannot exec the missing entrypoint: status 127.
            assert!(error.contains("non-zero exit (127)"), "{error}");
        }
        other => panic!("the broken update must fail: {other:?}"),
    }
    let status = status_of(&runtime, &name).await.unwrap();
    assert_eq!((status.running, status.desired), (2, 2), "{status}");
    assert!(
        !status.image.as_deref().unwrap().contains("broken"),
        "{status}"
    );
    assert_eq!(
        status.update.as_ref().unwrap().state,
        Some(swarm::converge::UpdateState::RollbackCompleted)
    );
    assert!(
        status
            .task_errors
            .iter()
            .any(|error| error.contains("non-zero exit (127)")),
        "`brise status` shows the task error: {status}"
    );
    for container in current_containers(&name) {
        assert!(env_of(&container).contains("BRISE_STAGE=two"));
    }
    // `brise status` (the real binary) shows the service, its replicas and the task error.
    let shown = brise_status(&[]);
    let line = shown
        .lines()
        .position(|line| line.starts_with(&name))
        .unwrap_or_else(|| panic!("{name} not in:\n{shown}"));
    let lines: Vec<&str> = shown.lines().collect();
    assert!(
        lines[line].contains("2/2 running") && lines[line].contains("update rollback-completed"),
        "{shown}"
    );
    assert!(
        lines[line + 1].trim_start().starts_with("task ")
            && lines[line + 1].contains("non-zero exit (127)"),
        "{shown}"
    );
    let json: serde_json::Value = serde_json::from_str(&brise_status(&["--json"])).unwrap();
    let service = json["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|service| service["name"] == name.as_str())
        .unwrap();
    assert_eq!(
        (service["running"].as_u64(), service["desired"].as_u64()),
        (Some(2), Some(2))
    );
    // The rollback restored the previous spec and its labels: as declared again.
    let (again, _) = converge(&runtime, std::slice::from_ref(&web)).await;
    assert!(again.is_empty(), "{again}");

    // 5. From 2 to 3 replicas: one task added, none replaced.
    let before = current_containers(&name);
    web.replicas = 3;
    let (fifth, report) = converge(&runtime, std::slice::from_ref(&web)).await;
    assert_eq!(action_of(&fifth, &name), Action::Recreate);
    assert_done(&report, &name);
    let after = current_containers(&name);
    assert_eq!(after.len(), 3);
    assert!(
        before.is_subset(&after),
        "scaling replaces no task: before {before:?}, after {after:?}\n{}",
        docker(&["service", "ps", "--no-trunc", &name])
    );
    let status = status_of(&runtime, &name).await.unwrap();
    assert_eq!((status.running, status.desired), (3, 3), "{status}");

    // 6. No longer declared: removed, with its task containers.
    let (sixth, report) = converge(&runtime, &[]).await;
    assert_eq!(action_of(&sixth, &name), Action::Remove);
    assert_done(&report, &name);
    assert!(!service_exists(&name));
    assert!(running_containers(&name).is_empty());
}

// See: #8
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker"]
async fn a_host_mode_service_answers_through_nginx_recreates_with_a_backup_and_keeps_its_data() {
    let _swarm = Swarm::join();
    let runtime = connect(PublishMode::Host).await;
    let name = unique("site");
    let _cleanup = ServiceCleanup(name.clone());
    let data = tempfile::Builder::new()
        .prefix("brise-t-swarm-data-")
        .tempdir()
        .unwrap();
    let marker = format!("brise swarm {}", rand::random::<u32>());
    std::fs::write(data.path().join("index.html"), format!("{marker}\n")).unwrap();
    let port = nginx::free_port();
    let mut site = spec(&name, "httpd:2.4");
    site.ports.push(loopback_port(80, port));
    site.mounts.push(Mount {
        host_dir: data.path().display().to_string(),
        container_dir: "/usr/local/apache2/htdocs".to_owned(),
        read_only: true,
    });
    site.persistent = true;

    let checked = swarm::check(std::slice::from_ref(&site), runtime.options());
    assert!(checked.errors.is_empty());
    assert!(
        checked
            .warnings
            .iter()
            .any(|w| w.contains("cannot publish on 127.0.0.1 only")),
        "{checked:?}"
    );

    let (_, report) = converge(&runtime, std::slice::from_ref(&site)).await;
    assert_done(&report, &name);
    assert_eq!(
        service_field(&name, "{{.Spec.UpdateConfig.Order}}"),
        "stop-first",
        "a host-mode port forbids two tasks on the node at once"
    );

    // nginx on the manager proxies to the published port, as gen_config's location does.
    let root = tempfile::Builder::new()
        .prefix("brise-t-swarm-nginx-")
        .tempdir()
        .unwrap();
    let mut proxy = Nginx::configure(root.path());
    std::fs::write(
        root.path().join("etc/nginx/web.d/conteneurs1.conf"),
        format!("location /{name} {{\n    proxy_pass http://127.0.0.1:{port}/;\n}}\n"),
    )
    .unwrap();
    proxy.start();
    let fetch = |what: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match proxy.get(&format!("/{name}/index.html")) {
                Some((status, body)) if status.contains("200") && body.contains(what) => {
                    return body;
                }
                other => {
                    assert!(
                        Instant::now() < deadline,
                        "no answer through nginx: {other:?}"
                    );
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        }
    };
    fetch(&marker);

    // A changed environment needs new tasks: refused for a persistent service
    // by a plain run, done with --recreate, which saves a task's filesystem first.
    site.environment = vec![("BRISE_STAGE".to_owned(), "two".to_owned())];
    let changed = plan(&runtime, std::slice::from_ref(&site)).await.plan;
    assert!(
        changed.conflicts.iter().any(|c| matches!(
            c,
            Conflict::PersistentNeedsRecreate { name: n, .. } if *n == name
        )),
        "a persistent service is not replaced by a plain run: {changed}"
    );
    let recreate = Options {
        recreate: [name.clone()].into(),
        ..Options::default()
    };
    let (_, report) = converge_with(&runtime, std::slice::from_ref(&site), &recreate).await;
    let backup = match &report.outcome(&name).unwrap().status {
        Status::Done {
            backup: Some(backup),
        } => backup.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(backup, format!("brise-backup/{name}:20260101T000000Z"));
    assert!(docker_try(&["image", "inspect", &backup]).0);
    docker(&["rmi", &backup]);
    for container in current_containers(&name) {
        assert!(env_of(&container).contains("BRISE_STAGE=two"));
    }
    fetch(&marker);

    // Two replicas cannot share a host-mode port on one node: the new task
    // stays pending, brise rolls the scale back and reports why.
    let mut two = site.clone();
    two.persistent = false;
    two.replicas = 2;
    let (_, report) = converge(&runtime, std::slice::from_ref(&two)).await;
    match &report.outcome(&name).unwrap().status {
        Status::Failed { step, error } => {
            assert_eq!(*step, Step::Update);
            assert!(error.contains("cannot be scheduled"), "{error}");
            assert!(error.contains("rolled the service back"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    let status = status_of(&runtime, &name).await.unwrap();
    assert_eq!((status.running, status.desired), (1, 1), "{status}");
    fetch(&marker);

    // No longer declared, persistent: scaled to zero and kept; declared again: started.
    let (gone, report) = converge(&runtime, &[]).await;
    assert_eq!(action_of(&gone, &name), Action::Stop);
    assert_done(&report, &name);
    assert!(service_exists(&name));
    let observed = runtime.inspect(&name).await.unwrap().unwrap();
    assert_eq!(observed.state, ContainerState::Created);
    assert!(running_containers(&name).is_empty());
    let (kept, _) = converge(&runtime, &[]).await;
    assert!(kept.is_empty(), "{kept}");
    let (back, report) = converge(&runtime, std::slice::from_ref(&site)).await;
    assert_eq!(action_of(&back, &name), Action::Start);
    assert_done(&report, &name);
    fetch(&marker);

    // Stop (the runtime verb) scales to zero too; the next run starts it again.
    runtime.stop(&name, 10).await.unwrap();
    assert!(running_containers(&name).is_empty());
    let (restart, report) = converge(&runtime, std::slice::from_ref(&site)).await;
    assert_eq!(action_of(&restart, &name), Action::Start);
    assert_done(&report, &name);
    fetch(&marker);

    // Removal removes the service and its volume, never the data.
    runtime.remove(&name).await.unwrap();
    assert!(!service_exists(&name));
    let volumes = docker(&[
        "volume",
        "ls",
        "--quiet",
        "--filter",
        &format!("label=brise.name={name}"),
    ]);
    assert!(volumes.is_empty(), "{volumes}");
    assert_eq!(
        std::fs::read_to_string(data.path().join("index.html")).unwrap(),
        format!("{marker}\n")
    );
}

// See: #8
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker"]
async fn an_update_against_a_stale_service_version_is_refused() {
    let _swarm = Swarm::join();
    let runtime = connect(PublishMode::Ingress).await;
    let name = unique("stale");
    let _cleanup = ServiceCleanup(name.clone());
    let worker = spec(&name, "busybox");
    // Through the routed runtime, as reconfigure drives every engine.
    let services = swarm::services(std::slice::from_ref(&worker));
    let routed = RoutedRuntime::new(vec![(Technology::Docker, &runtime)], &services);
    let prepared = reconcile::prepare(
        &routed,
        &services,
        &Options::default(),
        Images::Pull,
        4,
        &NoProgress,
    )
    .await
    .unwrap();
    let report = reconcile::apply(
        &prepared.plan,
        &routed,
        &prepared.images,
        &ApplyOptions {
            parallel: 4,
            backup_stamp: "20260101T000000Z".to_owned(),
        },
        &Silent,
    )
    .await
    .unwrap();
    assert_done(&report, &name);
    assert_eq!(
        status_of(&runtime, &name)
            .await
            .map(|s| (s.running, s.desired)),
        Some((1, 1))
    );

    let stale = runtime.version(&name).await.unwrap().unwrap();
    // Someone else changes the service after brise read it.
    docker(&[
        "service",
        "update",
        "--quiet",
        "--label-add",
        "other=1",
        &name,
    ]);
    let mut changed = worker.clone();
    changed.environment = vec![("A".to_owned(), "1".to_owned())];
    let labels = Labels::for_spec(&changed, None);
    let error = runtime.update(&changed, &labels, stale).await.unwrap_err();
    match &error {
        RuntimeError::Container { step, detail, .. } => {
            assert_eq!(*step, Step::Update);
            assert!(detail.contains("changed since brise read it"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        service_field(&name, "{{json .Spec.TaskTemplate.ContainerSpec.Env}}"),
        "null",
        "nothing was applied"
    );

    let (_, report) = converge(&runtime, &[]).await;
    assert_done(&report, &name);
}

// See: #8
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker"]
async fn a_foreign_service_with_a_declared_name_is_never_touched() {
    let _swarm = Swarm::join();
    let runtime = connect(PublishMode::Ingress).await;
    let name = unique("foreign");
    let _cleanup = ServiceCleanup(name.clone());
    docker(&[
        "service",
        "create",
        "--quiet",
        "--detach",
        "--name",
        &name,
        "localhost:5000/brise-demo/busybox:latest",
    ]);
    let prepared = plan(&runtime, &[spec(&name, "busybox")]).await;
    assert_eq!(
        prepared.plan.conflicts,
        vec![Conflict::Foreign { name: name.clone() }]
    );
    assert_eq!(
        runtime.remove(&name).await.unwrap_err(),
        RuntimeError::Foreign { name: name.clone() }
    );
    assert!(service_exists(&name));
    // Undeclared and foreign: not ours, not in the plan.
    let prepared = plan(&runtime, &[]).await;
    assert!(prepared.plan.entry(&name).is_none());
}

// See: #8
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker"]
async fn an_engine_outside_a_swarm_is_refused_with_the_command_to_fix_it() {
    let _lock = outside_swarm();
    let error = SwarmRuntime::connect(swarm::DEFAULT_ENDPOINT, SwarmOptions::default())
        .await
        .unwrap_err();
    match &error {
        RuntimeError::EngineUnreachable { kind, detail, .. } => {
            assert_eq!(kind, "swarm");
            assert!(detail.contains("not part of a swarm"), "{detail}");
            assert!(detail.contains("docker swarm init"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
}

// See: #8
#[tokio::test]
async fn a_missing_socket_is_an_unreachable_engine() {
    let error = SwarmRuntime::connect(
        "unix:///nonexistent/brise-t-swarm.sock",
        SwarmOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error, RuntimeError::EngineUnreachable { .. }),
        "{error:?}"
    );
}

/// reconfigure's log, kept.
#[derive(Default)]
struct Lines(std::sync::Mutex<Vec<String>>);

impl Log for Lines {
    fn line(&self, line: &str) {
        self.0.lock().unwrap().push(line.to_owned());
    }
}

impl Lines {
    fn take(&self) -> String {
        std::mem::take(&mut *self.0.lock().unwrap()).join("\n")
    }
}

/// gen_config stand-in: nothing to render.
struct NoFiles;

impl Generate for NoFiles {
    fn generate(&mut self, _dry_run: bool) -> Result<String, Failure> {
        Ok(String::new())
    }
}

// See: #8
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker"]
async fn reconfigure_with_the_swarm_engine_warns_plans_converges_and_records() {
    let _swarm = Swarm::join();
    let runtime = connect(PublishMode::Ingress).await;
    let name = unique("pipeline");
    let _cleanup = ServiceCleanup(name.clone());
    let dir = tempfile::Builder::new()
        .prefix("brise-t-swarm-pipeline-")
        .tempdir()
        .unwrap();
    let values = dir.path().join("values.yml");
    brise::output::atomic::write(&values, b"containers: {}\n", None).unwrap();
    let request = |dry_run: bool| Request {
        dry_run,
        json: false,
        options: Options::default(),
        parallel: 4,
        hooks_dir: dir.path().join("hooks"),
        values: values.clone(),
        stamp: "20260101T000000Z".to_owned(),
        scope: None,
    };
    let mut worker = spec(&name, "busybox");
    worker.replicas = 2;
    worker.ports.push(loopback_port(80, nginx::free_port()));
    let log = Lines::default();

    // Swarm's checks first: a name Swarm refuses stops everything.
    let dotted = spec("brise-t-swarm.dotted", "busybox");
    match swarm_services(&[worker.clone(), dotted], runtime.options(), &log) {
        Err(Failure::Invalid(error)) => {
            let text = format!("{error:#}");
            assert!(
                text.contains("`brise-t-swarm.dotted`: Swarm service names"),
                "{text}"
            );
            assert!(text.ends_with("nothing was changed"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    log.take();
    let services = swarm_services(std::slice::from_ref(&worker), runtime.options(), &log).unwrap();
    assert!(
        log.take().contains("warning: container `")
            && services[0].ports[0].host_ip.is_unspecified(),
        "the loopback port is warned about and published on every address"
    );

    // A dry run plans the service and creates nothing.
    pipeline(&request(true), &services, &runtime, &mut NoFiles, &log)
        .await
        .unwrap();
    assert!(
        log.take()
            .contains(&format!("create     {name}: not present"))
    );
    assert!(!service_exists(&name));

    // The run creates it and records the values as applied; the next does nothing.
    pipeline(&request(false), &services, &runtime, &mut NoFiles, &log)
        .await
        .unwrap();
    assert!(log.take().contains(&format!("create     {name}: done")));
    assert_eq!(
        status_of(&runtime, &name)
            .await
            .map(|s| (s.running, s.desired)),
        Some((2, 2))
    );
    assert!(dir.path().join("values.applied.yml").is_file());
    pipeline(&request(false), &services, &runtime, &mut NoFiles, &log)
        .await
        .unwrap();
    assert!(
        log.take()
            .contains("nothing to do: 1 container as declared")
    );

    pipeline(&request(false), &[], &runtime, &mut NoFiles, &log)
        .await
        .unwrap();
    assert!(!service_exists(&name));
}

// See: #8
#[tokio::test]
async fn status_shows_no_services_where_no_docker_engine_answers() {
    let services =
        brise::commands::status::swarm_services("unix:///nonexistent/brise-t-swarm.sock")
            .await
            .unwrap();
    assert!(services.is_empty());
}
