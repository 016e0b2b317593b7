//! The reconciler against the real dockerd and the local registry
//! (`scripts/setup/20-docker.sh`, `30-registry-images.sh`). Every test names its
//! containers with its own prefix, publishes on random 127.0.0.1 ports and
//! removes what it created. They fail (never pass) when the engine is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod docker_common;

use std::net::TcpListener;

use brise::reconcile::{Action, Conflict, Options, PrepareError, Reason, Status};
use brise::runtime::docker::DockerRuntime;
use brise::runtime::fake::{loopback_port, spec};
use brise::runtime::{ContainerState, Runtime, RuntimeError};
use docker_common::{Scope, docker_cli, free_port, http_get, names, push_as};

#[tokio::test]
#[ignore = "needs docker"]
async fn first_apply_then_a_noop_second_apply_with_ids_and_start_times_unchanged() {
    let scope = Scope::new("noop").await;
    let port = free_port();
    let mut hello = spec(&scope.name("hello-world"), "hello-world");
    hello.restart = brise::containers::RestartPolicy::No;
    let mut web = spec(&scope.name("my-apache-app"), "httpd:2.4");
    web.ports.push(loopback_port(80, port));
    web.persistent = true;
    let desired = vec![hello.clone(), web.clone()];

    let (plan, report) = scope.run(&desired, &Options::default()).await;
    assert_eq!(
        plan.entries.iter().map(|e| e.action).collect::<Vec<_>>(),
        vec![Action::Create, Action::Create]
    );
    assert!(report.is_success(), "{report:?}");
    let page = http_get(port, "/").await;
    assert!(page.contains("It works!"), "{page}");

    // hello-world prints and exits: completed, not "not running".
    scope.wait_exited(&hello.name).await;
    let before_web = scope.runtime.inspect(&web.name).await.unwrap().unwrap();
    let before_hello = scope.runtime.inspect(&hello.name).await.unwrap().unwrap();

    let (plan, report) = scope.run(&desired, &Options::default()).await;
    assert!(plan.is_empty(), "{plan}");
    assert!(report.outcomes.is_empty());
    assert_eq!(
        plan.entry(&hello.name).unwrap().reasons,
        vec![Reason::Completed]
    );
    let after_web = scope.runtime.inspect(&web.name).await.unwrap().unwrap();
    let after_hello = scope.runtime.inspect(&hello.name).await.unwrap().unwrap();
    assert_eq!(before_web.id, after_web.id);
    assert_eq!(before_web.started_at, after_web.started_at);
    assert_eq!(before_hello.id, after_hello.id);
    assert_eq!(before_hello.started_at, after_hello.started_at);
    assert_eq!(after_hello.state, ContainerState::Exited { code: 0 });
    scope.cleanup().await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn one_changed_container_out_of_several_is_the_only_one_recreated() {
    let scope = Scope::new("onechange").await;
    let mut desired: Vec<_> = (0..3)
        .map(|i| spec(&scope.name(&format!("svc{i}")), "busybox"))
        .collect();
    let (_, report) = scope.run(&desired, &Options::default()).await;
    assert!(report.is_success(), "{report:?}");
    let before = scope.ids(&desired).await;

    desired[1]
        .environment
        .push(("GREETING".to_owned(), "bonjour".to_owned()));
    let (plan, report) = scope.run(&desired, &Options::default()).await;
    assert!(report.is_success(), "{report:?}");
    let changed: Vec<&str> = plan.changes().map(|e| e.name.as_str()).collect();
    assert_eq!(changed, vec![desired[1].name.as_str()]);
    let after = scope.ids(&desired).await;
    assert_eq!(before[0], after[0]);
    assert_ne!(before[1], after[1]);
    assert_eq!(before[2], after[2]);
    let recreated = scope
        .runtime
        .inspect(&desired[1].name)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(recreated.state, ContainerState::Running);
    scope.cleanup().await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn an_image_tag_change_recreates_with_the_new_image() {
    let scope = Scope::new("tag").await;
    let mut desired = vec![spec(&scope.name("svc"), "busybox")];
    scope.run(&desired, &Options::default()).await;
    let before = scope
        .runtime
        .inspect(&desired[0].name)
        .await
        .unwrap()
        .unwrap();
    desired[0].image.tag = "v2".to_owned();
    let (plan, report) = scope.run(&desired, &Options::default()).await;
    assert!(report.is_success(), "{report:?}");
    let reasons = &plan.entry(&desired[0].name).unwrap().reasons;
    assert!(
        matches!(reasons[0], Reason::SpecHashChanged { .. }),
        "{reasons:?}"
    );
    assert!(
        matches!(reasons[1], Reason::ImageDigestChanged { .. }),
        "{reasons:?}"
    );
    let after = scope
        .runtime
        .inspect(&desired[0].name)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(before.image_id, after.image_id);
    assert_eq!(after.state, ContainerState::Running);
    scope.cleanup().await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn a_new_image_pushed_under_the_same_tag_recreates_the_container() {
    let scope = Scope::new("digest").await;
    let repository = format!("brise-test/{}", scope.prefix);
    let target = format!("localhost:5000/{repository}:latest");
    push_as("localhost:5000/brise-demo/busybox:latest", &target);
    let mut svc = spec(&scope.name("svc"), "busybox");
    svc.image.repository.clone_from(&repository);
    let desired = vec![svc];
    scope.run(&desired, &Options::default()).await;
    push_as("localhost:5000/brise-demo/busybox:v2", &target);
    let (plan, report) = scope.run(&desired, &Options::default()).await;
    assert!(report.is_success(), "{report:?}");
    let entry = plan.entry(&desired[0].name).unwrap();
    assert_eq!(entry.action, Action::Recreate);
    assert!(
        matches!(
            entry.reasons.as_slice(),
            [Reason::ImageDigestChanged { .. }]
        ),
        "{:?}",
        entry.reasons
    );
    scope.cleanup().await;
    docker_cli(&["image", "rm", &target]);
}

#[tokio::test]
#[ignore = "needs docker"]
async fn a_persistent_container_refuses_a_recreate_and_recreate_keeps_a_backup_image() {
    let scope = Scope::new("persist").await;
    let mut data = spec(&scope.name("data"), "busybox");
    data.persistent = true;
    let mut desired = vec![data];
    scope.run(&desired, &Options::default()).await;
    let before = scope
        .runtime
        .inspect(&desired[0].name)
        .await
        .unwrap()
        .unwrap();

    desired[0].stop_timeout = 3;
    let prepared = scope.prepare(&desired, &Options::default()).await.unwrap();
    let message = prepared.plan.conflicts[0].to_string();
    assert!(
        message.contains(&format!(
            "run `reconfigure --recreate {}` to recreate it",
            desired[0].name
        )),
        "{message}"
    );
    assert!(scope.apply(&prepared).await.is_err());
    let unchanged = scope
        .runtime
        .inspect(&desired[0].name)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before.id, unchanged.id);
    assert_eq!(before.started_at, unchanged.started_at);

    let options = Options {
        recreate: names(&[&desired[0].name]),
        ..Options::default()
    };
    let (_, report) = scope.run(&desired, &options).await;
    let Status::Done {
        backup: Some(backup),
    } = &report.outcome(&desired[0].name).unwrap().status
    else {
        panic!("{report:?}");
    };
    assert!(
        backup.starts_with(&format!("brise-backup/{}:", desired[0].name)),
        "{backup}"
    );
    docker_cli(&["image", "inspect", backup.as_str()]);
    let after = scope
        .runtime
        .inspect(&desired[0].name)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(before.id, after.id);
    scope.cleanup().await;
    docker_cli(&["image", "rm", backup.as_str()]);
}

#[tokio::test]
#[ignore = "needs docker"]
async fn a_host_port_in_use_is_found_before_any_change() {
    let scope = Scope::new("port").await;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let free = spec(&scope.name("first"), "busybox");
    let mut web = spec(&scope.name("web"), "httpd:2.4");
    web.ports.push(loopback_port(80, port));
    let prepared = scope
        .prepare(&[free.clone(), web.clone()], &Options::default())
        .await
        .unwrap();
    assert!(
        matches!(&prepared.plan.conflicts[..], [Conflict::PortInUse(p)] if p.container == web.name),
        "{:?}",
        prepared.plan.conflicts
    );
    assert!(scope.apply(&prepared).await.is_err());
    assert!(scope.runtime.inspect(&free.name).await.unwrap().is_none());
    assert!(scope.runtime.inspect(&web.name).await.unwrap().is_none());
    drop(listener);
    scope.cleanup().await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn an_unreachable_registry_names_image_and_registry_and_changes_nothing() {
    let scope = Scope::new("registry").await;
    let closed = free_port();
    let ok = spec(&scope.name("ok"), "busybox");
    let mut bad = spec(&scope.name("bad"), "busybox");
    bad.image.registry = Some(format!("127.0.0.1:{closed}"));
    let error = scope
        .prepare(&[ok.clone(), bad], &Options::default())
        .await
        .unwrap_err();
    let PrepareError::Pull(errors) = &error else {
        panic!("{error}");
    };
    let text = errors[0].to_string();
    assert!(
        text.starts_with(&format!(
            "cannot pull image `127.0.0.1:{closed}/brise-demo/busybox:latest` from registry `127.0.0.1:{closed}`: "
        )),
        "{text}"
    );
    assert!(scope.runtime.inspect(&ok.name).await.unwrap().is_none());
    scope.cleanup().await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn a_stopped_engine_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("unix://{}", dir.path().join("docker.sock").display());
    let error = DockerRuntime::connect(&endpoint).await.unwrap_err();
    assert!(matches!(error, RuntimeError::EngineUnreachable { .. }));
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot reach the docker engine at `{endpoint}`: ")),
        "{error}"
    );
    // The shared engine itself answers (so this test cannot pass without one).
    Scope::new("engine").await.cleanup().await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn a_foreign_container_with_a_managed_name_is_a_conflict_and_left_alone() {
    let scope = Scope::new("foreign").await;
    let name = scope.name("web");
    docker_cli(&[
        "create",
        "--name",
        &name,
        "localhost:5000/brise-demo/busybox:latest",
    ]);
    let foreign = scope.runtime.inspect(&name).await.unwrap().unwrap();
    assert!(!foreign.is_managed());
    let prepared = scope
        .prepare(&[spec(&name, "busybox")], &Options::default())
        .await
        .unwrap();
    assert_eq!(
        prepared.plan.conflicts,
        vec![Conflict::Foreign { name: name.clone() }]
    );
    assert!(scope.apply(&prepared).await.is_err());
    let after = scope.runtime.inspect(&name).await.unwrap().unwrap();
    assert_eq!(foreign.id, after.id);
    // Not ours: a plain reconfigure with nothing declared leaves it too.
    let (plan, _) = scope.run(&[], &Options::default()).await;
    assert!(plan.entry(&name).is_none());
    docker_cli(&["rm", "-f", &name]);
    scope.cleanup().await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn a_failing_container_is_named_with_its_step_and_the_others_converge() {
    let scope = Scope::new("failure").await;
    let good = spec(&scope.name("good"), "busybox");
    let mut broken = spec(&scope.name("broken"), "busybox");
    broken.command = Some(vec!["/no/such/program".to_owned()]);
    // Without an init process the engine itself fails to start it (with one, the
    // init starts and then exits 127: the next run reports it "not running").
    broken.init = false;
    let mut dependent = spec(&scope.name("dependent"), "busybox");
    dependent.depends_on = vec![broken.name.clone()];
    let (_, report) = scope
        .run(
            &[good.clone(), broken.clone(), dependent.clone()],
            &Options::default(),
        )
        .await;
    assert!(!report.is_success());
    match &report.outcome(&broken.name).unwrap().status {
        Status::Failed { step, error } => {
            assert_eq!(step, &brise::runtime::Step::Start);
            assert!(
                error.starts_with(&format!("container `{}`: start failed: ", broken.name)),
                "{error}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        report.outcome(&dependent.name).unwrap().status,
        Status::Skipped { .. }
    ));
    assert!(matches!(
        report.outcome(&good.name).unwrap().status,
        Status::Done { .. }
    ));
    let running = scope.runtime.inspect(&good.name).await.unwrap().unwrap();
    assert_eq!(running.state, ContainerState::Running);
    scope.cleanup().await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn undeclared_containers_are_removed_and_persistent_ones_kept_stopped() {
    let scope = Scope::new("undeclared").await;
    let gone = spec(&scope.name("gone"), "busybox");
    let mut kept = spec(&scope.name("kept"), "busybox");
    kept.persistent = true;
    scope
        .run(&[gone.clone(), kept.clone()], &Options::default())
        .await;
    let (plan, report) = scope.run(&[], &Options::default()).await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(plan.entry(&gone.name).unwrap().action, Action::Remove);
    assert_eq!(plan.entry(&kept.name).unwrap().action, Action::Stop);
    assert!(scope.runtime.inspect(&gone.name).await.unwrap().is_none());
    let stopped = scope.runtime.inspect(&kept.name).await.unwrap().unwrap();
    assert!(!stopped.state.is_up(), "{:?}", stopped.state);
    scope.cleanup().await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn the_negotiated_api_version_is_the_engines() {
    let scope = Scope::new("version").await;
    let info = scope.runtime.ping().await.unwrap();
    assert_eq!(info.kind, "docker");
    let api = info.api_version.unwrap();
    let (major, minor) = api.split_once('.').unwrap();
    assert_eq!(major, "1");
    assert!(minor.parse::<u32>().unwrap() >= 41, "{api}");
    scope.cleanup().await;
}
