//! The planner and apply against the in-memory `FakeRuntime`: fast, no engine.
//! The same scenarios run against the real dockerd in `tests/docker.rs`.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use brise::containers::ContainerSpec;
use brise::reconcile::{
    self, Action, ApplyOptions, Conflict, Images, Options, Plan, PrepareError, Reason, Report,
    Silent, Status,
};
use brise::runtime::fake::{Call, FakeRuntime, loopback_port, spec};
use brise::runtime::{NoProgress, RuntimeError, Step};

const HTTPD: &str = "localhost:5000/brise-demo/httpd:2.4";
const HELLO: &str = "localhost:5000/brise-demo/hello-world:latest";
const BUSYBOX: &str = "localhost:5000/brise-demo/busybox:latest";
const BUSYBOX_V2: &str = "localhost:5000/brise-demo/busybox:v2";

fn engine() -> FakeRuntime {
    let fake = FakeRuntime::new();
    fake.publish_image(HTTPD, "sha256:httpd1");
    fake.publish_image(HELLO, "sha256:hello1");
    fake.publish_image(BUSYBOX, "sha256:busybox1");
    fake.publish_image(BUSYBOX_V2, "sha256:busybox2");
    fake
}

/// The demonstration's two containers.
/// The planner checks host ports with a real bind (`runtime::host`): the tests
/// run in parallel and share the demo's ports, so their checks take turns
/// (two binds of 127.0.0.1:18081 at the same instant made one test fail).
static PORT_CHECKS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn prepare(
    runtime: &FakeRuntime,
    desired: &[ContainerSpec],
    options: &Options,
    images: Images,
    parallel: usize,
    progress: &NoProgress,
) -> Result<reconcile::Prepared, PrepareError> {
    let _turn = PORT_CHECKS.lock().await;
    reconcile::prepare(runtime, desired, options, images, parallel, progress).await
}

fn demo() -> Vec<ContainerSpec> {
    let hello = spec("hello-world", "hello-world");
    let mut web = spec("my-apache-app", "httpd:2.4");
    web.ports.push(loopback_port(80, 18081));
    web.persistent = true;
    vec![hello, web]
}

fn names(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

async fn plan_with(fake: &FakeRuntime, desired: &[ContainerSpec], options: &Options) -> Plan {
    prepare(fake, desired, options, Images::Pull, 4, &NoProgress)
        .await
        .unwrap()
        .plan
}

async fn run_with(
    fake: &FakeRuntime,
    desired: &[ContainerSpec],
    options: &Options,
) -> (Plan, Report) {
    let prepared = prepare(fake, desired, options, Images::Pull, 4, &NoProgress)
        .await
        .unwrap();
    let report = reconcile::apply(
        &prepared.plan,
        fake,
        &prepared.images,
        &ApplyOptions {
            parallel: 4,
            backup_stamp: "20261122T153000Z".to_owned(),
        },
        &Silent,
    )
    .await
    .unwrap();
    (prepared.plan, report)
}

async fn run(fake: &FakeRuntime, desired: &[ContainerSpec]) -> (Plan, Report) {
    run_with(fake, desired, &Options::default()).await
}

fn actions(plan: &Plan) -> Vec<(String, Action)> {
    plan.entries
        .iter()
        .map(|e| (e.name.clone(), e.action))
        .collect()
}

#[tokio::test]
async fn first_reconcile_creates_and_starts_every_declared_container() {
    let fake = engine();
    let (plan, report) = run(&fake, &demo()).await;
    insta::assert_json_snapshot!(plan);
    assert!(report.is_success(), "{report:?}");
    let changes: BTreeSet<Call> = fake.changes().into_iter().collect();
    let expected: BTreeSet<Call> = [
        Call::Create("hello-world".to_owned()),
        Call::Start("hello-world".to_owned()),
        Call::Create("my-apache-app".to_owned()),
        Call::Start("my-apache-app".to_owned()),
    ]
    .into_iter()
    .collect();
    assert_eq!(changes, expected);
}

#[tokio::test]
async fn second_reconcile_is_a_noop() {
    let fake = engine();
    run(&fake, &demo()).await;
    let before = fake.container("my-apache-app").unwrap();
    fake.clear_calls();
    let (plan, report) = run(&fake, &demo()).await;
    assert!(plan.is_empty(), "{plan}");
    assert!(report.outcomes.is_empty());
    assert_eq!(fake.changes(), vec![]);
    assert_eq!(fake.container("my-apache-app").unwrap(), before);
    assert_eq!(
        plan.to_string(),
        "nothing    hello-world: up to date\nnothing    my-apache-app: up to date\nnothing to do: 2 containers as declared\n"
    );
}

#[tokio::test]
async fn a_container_that_exited_with_status_zero_is_completed_not_restarted() {
    let fake = engine();
    run(&fake, &demo()).await;
    fake.exit("hello-world", 0);
    fake.clear_calls();
    let (plan, _) = run(&fake, &demo()).await;
    assert!(plan.is_empty(), "{plan}");
    assert_eq!(
        plan.entry("hello-world").unwrap().reasons,
        vec![reconcile::Reason::Completed]
    );
    assert_eq!(fake.changes(), vec![]);
}

#[tokio::test]
async fn a_container_that_failed_is_started_again() {
    let fake = engine();
    run(&fake, &demo()).await;
    fake.exit("my-apache-app", 1);
    fake.clear_calls();
    let (plan, report) = run(&fake, &demo()).await;
    assert_eq!(
        plan.to_string(),
        "nothing    hello-world: up to date\nstart      my-apache-app: not running (exited with status 1)\n"
    );
    assert!(report.is_success());
    assert_eq!(
        fake.changes(),
        vec![Call::Start("my-apache-app".to_owned())]
    );
}

#[tokio::test]
async fn one_changed_container_out_of_several_is_the_only_one_recreated() {
    let fake = engine();
    let mut desired: Vec<ContainerSpec> = (0..5)
        .map(|i| spec(&format!("svc{i}"), "busybox"))
        .collect();
    run(&fake, &desired).await;
    fake.clear_calls();
    desired[2]
        .environment
        .push(("GREETING".to_owned(), "bonjour".to_owned()));
    let (plan, report) = run(&fake, &desired).await;
    assert!(report.is_success());
    let recreated: Vec<&str> = plan.changes().map(|e| e.name.as_str()).collect();
    assert_eq!(recreated, vec!["svc2"]);
    assert!(
        plan.to_string()
            .contains("recreate   svc2: spec hash changed ("),
        "{plan}"
    );
    assert_eq!(
        fake.changes(),
        vec![
            Call::Stop("svc2".to_owned()),
            Call::Remove("svc2".to_owned()),
            Call::Create("svc2".to_owned()),
            Call::Start("svc2".to_owned()),
        ]
    );
}

#[tokio::test]
async fn an_image_tag_change_recreates_the_container() {
    let fake = engine();
    let mut desired = vec![spec("svc", "busybox")];
    run(&fake, &desired).await;
    desired[0].image.tag = "v2".to_owned();
    let (plan, report) = run(&fake, &desired).await;
    assert!(report.is_success());
    let entry = plan.entry("svc").unwrap();
    assert_eq!(entry.action, Action::Recreate);
    assert!(
        matches!(entry.reasons[0], Reason::SpecHashChanged { .. }),
        "{:?}",
        entry.reasons
    );
    assert_eq!(
        entry.reasons[1],
        Reason::ImageDigestChanged {
            from: "sha256:busybox1".to_owned(),
            to: "sha256:busybox2".to_owned()
        }
    );
    assert_eq!(
        fake.container("svc").unwrap().image_id.as_deref(),
        Some("sha256:busybox2")
    );
}

#[tokio::test]
async fn a_new_image_behind_the_same_tag_recreates_the_container() {
    let fake = engine();
    let desired = vec![spec("svc", "busybox")];
    run(&fake, &desired).await;
    fake.publish_image(BUSYBOX, "sha256:busybox1-rebuilt");
    let (plan, _) = run(&fake, &desired).await;
    assert_eq!(
        plan.to_string(),
        "recreate   svc: image digest changed (busybox1 → busybox1-reb)\n"
    );
}

#[tokio::test]
async fn a_persistent_container_refuses_a_recreate_and_nothing_changes() {
    let fake = engine();
    let mut desired = demo();
    run(&fake, &desired).await;
    fake.clear_calls();
    desired[1].ports[0].host_port = 18082;
    desired[0]
        .environment
        .push(("A".to_owned(), "1".to_owned()));
    let prepared = prepare(
        &fake,
        &desired,
        &Options::default(),
        Images::Pull,
        4,
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(prepared.plan.conflicts.len(), 1);
    let message = prepared.plan.conflicts[0].to_string();
    assert!(
        message.starts_with(
            "container `my-apache-app` is persistent and must be recreated (spec hash changed ("
        ),
        "{message}"
    );
    assert!(
        message.ends_with("run `reconfigure --recreate my-apache-app` to recreate it (its filesystem is saved first as a backup image)"),
        "{message}"
    );
    let refused = reconcile::apply(
        &prepared.plan,
        &fake,
        &prepared.images,
        &ApplyOptions {
            parallel: 4,
            backup_stamp: "s".to_owned(),
        },
        &Silent,
    )
    .await
    .unwrap_err();
    assert_eq!(refused.0, prepared.plan.conflicts);
    assert_eq!(
        fake.changes(),
        vec![],
        "the other container's change waits too"
    );
}

#[tokio::test]
async fn recreate_of_a_persistent_container_keeps_a_backup_first() {
    let fake = engine();
    let mut desired = demo();
    run(&fake, &desired).await;
    fake.clear_calls();
    desired[1].ports[0].host_port = 18082;
    let options = Options {
        recreate: names(&["my-apache-app"]),
        ..Options::default()
    };
    let (plan, report) = run_with(&fake, &desired, &options).await;
    assert!(plan.conflicts.is_empty());
    assert!(plan.entry("my-apache-app").unwrap().backup);
    assert_eq!(
        report.outcome("my-apache-app").unwrap().status,
        Status::Done {
            backup: Some("brise-backup/my-apache-app:20261122T153000Z".to_owned())
        }
    );
    assert_eq!(
        fake.changes(),
        vec![
            Call::Stop("my-apache-app".to_owned()),
            Call::Backup("my-apache-app".to_owned()),
            Call::Remove("my-apache-app".to_owned()),
            Call::Create("my-apache-app".to_owned()),
            Call::Start("my-apache-app".to_owned()),
        ]
    );
}

#[tokio::test]
async fn fresh_recreates_non_persistent_containers_on_demand() {
    let fake = engine();
    let desired = demo();
    run(&fake, &desired).await;
    let options = Options {
        fresh: names(&["hello-world"]),
        ..Options::default()
    };
    let (plan, _) = run_with(&fake, &desired, &options).await;
    assert_eq!(
        actions(&plan),
        vec![
            ("hello-world".to_owned(), Action::Recreate),
            ("my-apache-app".to_owned(), Action::Nothing)
        ]
    );
    let all = Options {
        fresh_all: true,
        ..Options::default()
    };
    let (plan, _) = run_with(&fake, &desired, &all).await;
    assert_eq!(
        actions(&plan),
        vec![
            ("hello-world".to_owned(), Action::Recreate),
            ("my-apache-app".to_owned(), Action::Nothing)
        ],
        "--fresh-all leaves persistent containers alone"
    );
}

#[tokio::test]
async fn fresh_on_a_persistent_or_unknown_container_is_refused() {
    let fake = engine();
    let desired = demo();
    run(&fake, &desired).await;
    let options = Options {
        fresh: names(&["my-apache-app", "nope"]),
        recreate: names(&["ghost"]),
        ..Options::default()
    };
    let plan = plan_with(&fake, &desired, &options).await;
    let messages: Vec<String> = plan.conflicts.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        vec![
            "`--fresh nope`: no declared container is named `nope`",
            "`--recreate ghost`: no declared container is named `ghost`",
            "`--fresh my-apache-app`: container `my-apache-app` is persistent; use `--recreate my-apache-app` (its filesystem is saved first as a backup image)",
        ]
    );
}

#[tokio::test]
async fn a_foreign_container_with_a_declared_name_is_a_conflict_and_untouched() {
    let fake = engine();
    fake.add_foreign("my-apache-app");
    let prepared = prepare(
        &fake,
        &demo(),
        &Options::default(),
        Images::Pull,
        4,
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(
        prepared.plan.conflicts,
        vec![Conflict::Foreign {
            name: "my-apache-app".to_owned()
        }]
    );
    assert!(
        prepared.plan.to_string().starts_with(
            "conflict: a container named `my-apache-app` exists but brise does not manage it (no `brise.managed` label)"
        ),
        "{}",
        prepared.plan
    );
    assert!(
        reconcile::apply(
            &prepared.plan,
            &fake,
            &prepared.images,
            &ApplyOptions {
                parallel: 4,
                backup_stamp: "s".to_owned()
            },
            &Silent,
        )
        .await
        .is_err()
    );
    assert_eq!(fake.changes(), vec![]);
}

#[tokio::test]
async fn undeclared_containers_are_removed_unless_persistent() {
    let fake = engine();
    run(&fake, &demo()).await;
    fake.add_foreign("someone-elses");
    fake.clear_calls();
    let (plan, report) = run(&fake, &[]).await;
    assert!(report.is_success());
    insta::assert_snapshot!(plan.to_string(), @r"
    remove     hello-world: no longer declared
    stop       my-apache-app: no longer declared, persistent: kept
    ");
    assert!(fake.container("hello-world").is_none());
    assert!(fake.container("my-apache-app").is_some());
    assert!(fake.container("someone-elses").is_some());
    let (plan, _) = run(&fake, &[]).await;
    assert!(plan.is_empty(), "{plan}");
}

#[tokio::test]
async fn a_failure_names_the_container_and_step_and_lets_the_others_finish() {
    let fake = engine();
    let mut desired: Vec<ContainerSpec> = (0..4)
        .map(|i| spec(&format!("svc{i}"), "busybox"))
        .collect();
    desired[3].depends_on = vec!["svc1".to_owned()];
    fake.fail_once(
        Call::Start("svc1".to_owned()),
        RuntimeError::container("svc1", Step::Start, "exec format error"),
    );
    let (_, report) = run(&fake, &desired).await;
    assert!(!report.is_success());
    let failures: Vec<(String, Status)> = report
        .failures()
        .map(|o| (o.name.clone(), o.status.clone()))
        .collect();
    assert_eq!(
        failures,
        vec![
            (
                "svc1".to_owned(),
                Status::Failed {
                    step: Step::Start,
                    error: "container `svc1`: start failed: exec format error".to_owned()
                }
            ),
            (
                "svc3".to_owned(),
                Status::Skipped {
                    because: "container `svc1` it depends on failed".to_owned()
                }
            ),
        ]
    );
    for name in ["svc0", "svc2"] {
        assert!(matches!(
            report.outcome(name).unwrap().status,
            Status::Done { .. }
        ));
    }
    // The next run converges what is left.
    let (plan, report) = run(&fake, &desired).await;
    assert!(report.is_success());
    assert_eq!(
        plan.changes()
            .map(|e| (e.name.as_str(), e.action))
            .collect::<Vec<_>>(),
        vec![("svc1", Action::Start), ("svc3", Action::Create)]
    );
}

#[tokio::test]
async fn dependencies_are_converged_first() {
    let fake = engine();
    let mut desired = vec![
        spec("app", "busybox"),
        spec("db", "busybox"),
        spec("cache", "busybox"),
    ];
    desired[0].depends_on = vec!["db".to_owned(), "cache".to_owned()];
    desired[2].depends_on = vec!["db".to_owned()];
    let (_, report) = run(&fake, &desired).await;
    assert!(report.is_success());
    let starts: Vec<Call> = fake
        .changes()
        .into_iter()
        .filter(|c| matches!(c, Call::Start(_)))
        .collect();
    assert_eq!(
        starts,
        vec![
            Call::Start("db".to_owned()),
            Call::Start("cache".to_owned()),
            Call::Start("app".to_owned()),
        ]
    );
}

#[tokio::test]
async fn a_pull_failure_names_image_and_registry_and_changes_nothing() {
    let fake = engine();
    let mut desired = demo();
    desired[0].image.repository = "brise-demo/missing".to_owned();
    let error = prepare(
        &fake,
        &desired,
        &Options::default(),
        Images::Pull,
        4,
        &NoProgress,
    )
    .await
    .unwrap_err();
    assert!(matches!(error, PrepareError::Pull(_)));
    assert_eq!(
        error.to_string(),
        "cannot pull image `localhost:5000/brise-demo/missing:latest` from registry `localhost:5000`: manifest unknown"
    );
    assert_eq!(fake.changes(), vec![]);
}

#[tokio::test]
async fn an_unreachable_engine_is_reported_before_anything() {
    let fake = engine();
    fake.set_unreachable(true);
    let error = prepare(
        &fake,
        &demo(),
        &Options::default(),
        Images::Pull,
        4,
        &NoProgress,
    )
    .await
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot reach the fake engine at `memory`: the fake engine is stopped"
    );
}

#[tokio::test]
async fn a_dry_run_contacts_no_registry() {
    let fake = engine();
    prepare(
        &fake,
        &demo(),
        &Options::default(),
        Images::LocalOnly,
        4,
        &NoProgress,
    )
    .await
    .unwrap();
    assert!(!fake.calls().iter().any(|c| matches!(c, Call::Pull(_))));
}
