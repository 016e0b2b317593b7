//! The LXC runtime against real liblxc (Debian's lxc, privileged containers as
//! root), driven by the same planner as Docker: the busybox template, an OCI
//! image from the local registry (127.0.0.1:5000), no-op second runs,
//! ephemeral and persistent containers, snapshots, bind mounts, DNAT from
//! 127.0.0.1, removal, foreign containers, start failures. Each test has its
//! own LXC path, image store, bridge, subnet and nftables table, all named
//! `brise-t-lxc…`, removed when it ends. `#[ignore = "needs lxc"]`:
//! `scripts/test.sh` runs them with `--include-ignored`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use brise::app::Failure;
use brise::command::{self, Invocation};
use brise::commands::reconfigure::{Generate, Log, Request, pipeline};
use brise::containers::{ContainerSpec, ImageRef, Mount, Technology};
use brise::reconcile::{
    self, Action, ApplyOptions, Conflict, Images, Options, Plan, Reason, Report, Silent, Status,
};
use brise::runtime::docker::{DockerRuntime, endpoint_from};
use brise::runtime::fake::{loopback_port, spec};
use brise::runtime::lxc::client::HelperCommand;
use brise::runtime::lxc::network::{self, Bridge};
use brise::runtime::lxc::{LxcConfig, LxcRuntime, nat};
use brise::runtime::routed::RoutedRuntime;
use brise::runtime::{ContainerState, NoProgress, Runtime, RuntimeError, Step};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// One test's own LXC world, removed on drop.
struct Env {
    id: String,
    root: tempfile::TempDir,
    runtime: LxcRuntime,
}

fn run_ok(invocation: Invocation) -> String {
    command::run(&invocation)
        .unwrap_or_else(|e| panic!("{e}"))
        .stdout
}

impl Env {
    fn new() -> Self {
        assert!(
            nix::unistd::geteuid().is_root(),
            "needs lxc: these tests run privileged containers and must run as root"
        );
        assert!(
            Path::new(brise::runtime::lxc::image::BUSYBOX_TEMPLATE).is_file(),
            "needs lxc: `{}` is missing (Debian package `lxc`)",
            brise::runtime::lxc::image::BUSYBOX_TEMPLATE
        );
        let unique = std::process::id()
            .wrapping_mul(7919)
            .wrapping_add(NEXT.fetch_add(1, Ordering::SeqCst));
        let id = format!("{:04x}", unique & 0xffff);
        let root = tempfile::Builder::new()
            .prefix("brise-t-lxc-")
            .tempdir()
            .unwrap();
        // A /24 no other interface routes, found by trying.
        let mut bridge = None;
        for attempt in 0..64u32 {
            let third = (unique.wrapping_add(attempt.wrapping_mul(37))) % 250 + 3;
            let candidate = Bridge {
                name: format!("brise-t-lxc{id}"),
                subnet: format!("10.214.{third}.0/24").parse().unwrap(),
            };
            match network::ensure_bridge(&candidate) {
                Ok(_) => {
                    bridge = Some(candidate);
                    break;
                }
                Err(network::NetworkError::SubnetInUse { .. }) => {}
                Err(error) => panic!("needs lxc: cannot create the test bridge: {error}"),
            }
        }
        let bridge = bridge.expect("a free 10.214.x.0/24 for the test bridge");
        let config = LxcConfig {
            lxcpath: root.path().join("lxc"),
            images: root.path().join("images"),
            local_images: root.path().join("local"),
            bridge,
            nft_table: format!("brise_t_lxc_{id}"),
            helper: HelperCommand::brise(PathBuf::from(env!("CARGO_BIN_EXE_brise"))),
        };
        std::fs::create_dir_all(&config.lxcpath).unwrap();
        Self {
            id,
            root,
            runtime: LxcRuntime::new(config),
        }
    }

    fn config(&self) -> &LxcConfig {
        self.runtime.config()
    }

    fn name(&self, short: &str) -> String {
        format!("brise-t-lxc-{}-{short}", self.id)
    }

    fn lxcpath(&self) -> &Path {
        &self.config().lxcpath
    }

    fn lxc(&self, tool: &str, name: &str) -> Invocation {
        Invocation::new(tool)
            .arg("-P")
            .arg(self.lxcpath())
            .arg("-n")
            .arg(name)
    }

    /// Run a command in the container; its output, or `None` when it failed.
    fn attach(&self, name: &str, script: &str) -> Option<String> {
        let output = command::output(&self.lxc("lxc-attach", name).args([
            "--clear-env",
            "--",
            "/bin/sh",
            "-c",
            script,
        ]))
        .unwrap();
        output.status.success().then_some(output.stdout)
    }

    fn busybox(&self, short: &str) -> ContainerSpec {
        let mut spec = spec(&self.name(short), "busybox");
        spec.technology = Technology::Lxc;
        spec.image = ImageRef {
            registry: None,
            repository: "busybox".to_owned(),
            tag: String::new(),
        };
        spec.stop_timeout = 5;
        spec
    }

    fn httpd(&self, short: &str) -> ContainerSpec {
        let mut spec = spec(&self.name(short), "httpd:2.4");
        spec.technology = Technology::Lxc;
        spec.stop_timeout = 5;
        spec
    }

    async fn prepare(&self, desired: &[ContainerSpec], options: &Options) -> reconcile::Prepared {
        reconcile::prepare(
            &self.runtime,
            desired,
            options,
            Images::Pull,
            4,
            &NoProgress,
        )
        .await
        .unwrap()
    }

    async fn apply(&self, prepared: &reconcile::Prepared) -> Result<Report, reconcile::Refused> {
        reconcile::apply(
            &prepared.plan,
            &self.runtime,
            &prepared.images,
            &ApplyOptions {
                parallel: 4,
                backup_stamp: "20261122T153000Z".to_owned(),
            },
            &Silent,
        )
        .await
    }

    /// Plan and apply; the run must succeed.
    async fn converge(&self, desired: &[ContainerSpec], options: &Options) -> (Plan, Report) {
        let prepared = self.prepare(desired, options).await;
        let report = self.apply(&prepared).await.unwrap();
        assert!(report.is_success(), "{report:#?}");
        (prepared.plan, report)
    }

    async fn state(&self, name: &str) -> Option<ContainerState> {
        self.runtime
            .inspect(name)
            .await
            .unwrap()
            .map(|observed| observed.state)
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        // Whatever a test left: its containers, rules, bridge; never others'.
        if let Ok(entries) = std::fs::read_dir(self.lxcpath()) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let _ = command::output(&self.lxc("lxc-stop", &name).arg("-k"));
                let _ = command::output(&self.lxc("lxc-destroy", &name).arg("-s"));
            }
        }
        let _ = nat::delete_table(&self.config().nft_table);
        let _ = network::remove_bridge(&self.config().bridge.name);
    }
}

fn actions(plan: &Plan) -> Vec<(String, Action)> {
    plan.entries
        .iter()
        .map(|e| (e.name.clone(), e.action))
        .collect()
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET /` on 127.0.0.1:`port`; the response, or the error.
fn http_get(port: u16) -> Result<String, std::io::Error> {
    let mut stream =
        TcpStream::connect_timeout(&(Ipv4Addr::LOCALHOST, port).into(), Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

/// The server in a just-started container may need a moment to listen.
async fn http_get_eventually(port: u16) -> String {
    let mut last = String::new();
    for _ in 0..50 {
        match http_get(port) {
            Ok(response) if response.starts_with("HTTP/1") => return response,
            Ok(other) => last = other,
            Err(error) => last = error.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("nothing answered on 127.0.0.1:{port}: {last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs lxc"]
async fn a_busybox_template_container_is_created_started_and_a_second_run_changes_nothing() {
    let env = Env::new();
    let web = env.busybox("box");
    let desired = vec![web.clone()];

    let (plan, report) = env.converge(&desired, &Options::default()).await;
    assert_eq!(actions(&plan), [(web.name.clone(), Action::Create)]);
    assert_eq!(report.outcomes.len(), 1);
    assert_eq!(env.state(&web.name).await, Some(ContainerState::Running));
    let info = run_ok(env.lxc("lxc-info", &web.name).arg("-s"));
    assert!(info.contains("RUNNING"), "{info}");
    // busybox init booted, with brise's static address on its interface.
    let addresses = env.attach(&web.name, "ip -4 addr show eth0").unwrap();
    let subnet = env.config().bridge.subnet.to_string();
    let prefix = subnet.trim_end_matches("0/24");
    assert!(addresses.contains(&format!("inet {prefix}")), "{addresses}");
    let observed = env.runtime.list_managed().await.unwrap();
    assert_eq!(observed.len(), 1);
    assert!(
        observed[0]
            .image_id
            .as_deref()
            .unwrap()
            .starts_with("sha256:")
    );

    let prepared = env.prepare(&desired, &Options::default()).await;
    assert!(prepared.plan.is_empty(), "{}", prepared.plan);
    assert_eq!(
        prepared.plan.entries[0].reasons,
        [Reason::UpToDate],
        "{}",
        prepared.plan
    );
    let report = env.apply(&prepared).await.unwrap();
    assert!(report.outcomes.is_empty(), "{report:#?}");
    assert_eq!(env.state(&web.name).await, Some(ContainerState::Running));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs lxc"]
async fn an_oci_image_serves_a_shared_directory_through_dnat_and_removal_leaves_nothing() {
    let env = Env::new();
    let htdocs = env.root.path().join("htdocs");
    std::fs::create_dir_all(&htdocs).unwrap();
    let marker = format!("served from a shared directory by {}", env.name("web"));
    brise::output::atomic::write(
        &htdocs.join("index.html"),
        format!("{marker}\n").as_bytes(),
        None,
    )
    .unwrap();
    let port = free_port();
    let mut web = env.httpd("web");
    web.mounts.push(Mount {
        host_dir: htdocs.display().to_string(),
        container_dir: "/usr/local/apache2/htdocs".to_owned(),
        read_only: true,
    });
    web.ports.push(loopback_port(80, port));
    let desired = vec![web.clone()];

    let (plan, _) = env.converge(&desired, &Options::default()).await;
    assert_eq!(actions(&plan), [(web.name.clone(), Action::Create)]);
    let observed = env.runtime.inspect(&web.name).await.unwrap().unwrap();
    assert_eq!(observed.state, ContainerState::Running);
    assert_eq!(observed.ports, web.ports);
    // The OCI config digest: the same id Docker gives this image.
    let image_id = observed.image_id.unwrap();
    assert!(image_id.starts_with("sha256:"), "{image_id}");
    let rules = nat::rules_of(&env.config().nft_table, &web.name).unwrap();
    assert_eq!(rules.len(), 2, "{rules:?}");

    let response = http_get_eventually(port).await;
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(response.contains(&marker), "{response}");

    // A second run changes nothing.
    let prepared = env.prepare(&desired, &Options::default()).await;
    assert!(prepared.plan.is_empty(), "{}", prepared.plan);

    // Undeclared and not persistent: removed, with its rules and filesystem.
    let (plan, _) = env.converge(&[], &Options::default()).await;
    assert_eq!(actions(&plan), [(web.name.clone(), Action::Remove)]);
    assert_eq!(env.state(&web.name).await, None);
    assert!(!env.lxcpath().join(&web.name).exists());
    assert!(
        nat::rules_of(&env.config().nft_table, &web.name)
            .unwrap()
            .is_empty()
    );
    assert!(http_get(port).is_err(), "the port still answers");
    // The shared directory is the administrator's: kept.
    assert!(htdocs.join("index.html").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs lxc"]
async fn a_changed_spec_recreates_an_ephemeral_container_from_its_image() {
    let env = Env::new();
    let mut web = env.busybox("eph");
    env.converge(std::slice::from_ref(&web), &Options::default())
        .await;
    env.attach(&web.name, "echo scratch > /root/scratch")
        .unwrap();
    assert_eq!(
        env.attach(&web.name, "cat /root/scratch").as_deref(),
        Some("scratch\n")
    );

    web.environment
        .push(("BRISE_T_LXC".to_owned(), "changed".to_owned()));
    let (plan, report) = env
        .converge(std::slice::from_ref(&web), &Options::default())
        .await;
    assert_eq!(actions(&plan), [(web.name.clone(), Action::Recreate)]);
    assert!(
        matches!(plan.entries[0].reasons[0], Reason::SpecHashChanged { .. }),
        "{plan}"
    );
    assert_eq!(
        report.outcome(&web.name).unwrap().status,
        Status::Done { backup: None }
    );
    assert_eq!(env.state(&web.name).await, Some(ContainerState::Running));
    // Fresh from the image: the file written before is gone; the new
    // environment reached its init.
    assert_eq!(env.attach(&web.name, "cat /root/scratch"), None);
    let environ = env
        .attach(&web.name, "tr '\\0' '\\n' < /proc/1/environ")
        .unwrap();
    assert!(environ.contains("BRISE_T_LXC=changed"), "{environ}");

    // Stopping an ephemeral container discards its changes too.
    env.attach(&web.name, "echo again > /root/scratch").unwrap();
    env.runtime.stop(&web.name, 5).await.unwrap();
    assert_eq!(env.state(&web.name).await, Some(ContainerState::Stopped));
    let prepared = env
        .prepare(std::slice::from_ref(&web), &Options::default())
        .await;
    assert_eq!(actions(&prepared.plan), [(web.name.clone(), Action::Start)]);
    env.apply(&prepared).await.unwrap();
    assert_eq!(env.attach(&web.name, "cat /root/scratch"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs lxc"]
async fn a_persistent_container_refuses_a_change_until_recreate_which_keeps_a_snapshot() {
    let env = Env::new();
    let mut db = env.busybox("db");
    db.persistent = true;
    env.converge(std::slice::from_ref(&db), &Options::default())
        .await;
    env.attach(&db.name, "echo precious > /root/data").unwrap();
    // A persistent container keeps its files across a stop and a start.
    env.runtime.stop(&db.name, 5).await.unwrap();
    env.runtime.start(&db.name).await.unwrap();
    assert_eq!(
        env.attach(&db.name, "cat /root/data").as_deref(),
        Some("precious\n")
    );

    db.environment
        .push(("BRISE_T_LXC".to_owned(), "v2".to_owned()));
    let prepared = env
        .prepare(std::slice::from_ref(&db), &Options::default())
        .await;
    assert!(
        matches!(
            prepared.plan.conflicts.as_slice(),
            [Conflict::PersistentNeedsRecreate { name, .. }] if *name == db.name
        ),
        "{}",
        prepared.plan
    );
    assert!(env.apply(&prepared).await.is_err());
    assert_eq!(env.state(&db.name).await, Some(ContainerState::Running));
    assert_eq!(
        env.attach(&db.name, "cat /root/data").as_deref(),
        Some("precious\n")
    );

    let options = Options {
        recreate: BTreeSet::from([db.name.clone()]),
        ..Options::default()
    };
    let (plan, report) = env.converge(std::slice::from_ref(&db), &options).await;
    assert_eq!(actions(&plan), [(db.name.clone(), Action::Recreate)]);
    assert!(plan.entries[0].backup);
    let backup = format!("{}/snap0", db.name);
    assert_eq!(
        report.outcome(&db.name).unwrap().status,
        Status::Done {
            backup: Some(backup)
        }
    );
    // The new container starts from the image; the snapshot holds the old files.
    assert_eq!(env.state(&db.name).await, Some(ContainerState::Running));
    assert_eq!(env.attach(&db.name, "cat /root/data"), None);
    let listing = run_ok(env.lxc("lxc-snapshot", &db.name).args(["-L", "-C"]));
    assert!(listing.contains("snap0"), "{listing}");
    assert!(
        listing.contains("before it was recreated (20261122T153000Z)"),
        "{listing}"
    );
    let saved = env
        .lxcpath()
        .join(&db.name)
        .join("snaps/snap0/rootfs/root/data");
    assert_eq!(std::fs::read_to_string(&saved).unwrap(), "precious\n");

    // Undeclared, a persistent container is stopped and kept, never removed.
    let (plan, _) = env.converge(&[], &Options::default()).await;
    assert_eq!(actions(&plan), [(db.name.clone(), Action::Stop)]);
    assert_eq!(env.state(&db.name).await, Some(ContainerState::Stopped));
    assert!(saved.is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs lxc"]
async fn a_foreign_container_is_left_alone() {
    let env = Env::new();
    let clash = env.name("clash");
    let other = env.name("other");
    for name in [&clash, &other] {
        run_ok(env.lxc("lxc-create", name).args(["-t", "busybox"]));
    }
    let config_before = std::fs::read(env.lxcpath().join(&clash).join("config")).unwrap();

    assert!(env.runtime.list_managed().await.unwrap().is_empty());
    let observed = env.runtime.inspect(&clash).await.unwrap().unwrap();
    assert!(!observed.is_managed());

    let declared = env.busybox("clash");
    let prepared = env
        .prepare(std::slice::from_ref(&declared), &Options::default())
        .await;
    assert_eq!(
        prepared.plan.conflicts,
        [Conflict::Foreign {
            name: clash.clone()
        }]
    );
    assert!(env.apply(&prepared).await.is_err());
    // Not even a direct call touches it.
    let error = env.runtime.remove(&clash).await.unwrap_err();
    assert_eq!(
        error,
        RuntimeError::Foreign {
            name: clash.clone()
        }
    );
    assert!(env.runtime.stop(&other, 1).await.is_err());
    assert!(env.runtime.start(&other).await.is_err());

    // A run declaring nothing leaves both foreign containers as they were.
    let (plan, _) = env.converge(&[], &Options::default()).await;
    assert!(plan.entries.is_empty(), "{plan}");
    for name in [&clash, &other] {
        assert_eq!(env.state(name).await, Some(ContainerState::Stopped));
    }
    assert_eq!(
        std::fs::read(env.lxcpath().join(&clash).join("config")).unwrap(),
        config_before
    );
    assert!(!env.lxcpath().join(&clash).join("brise.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs lxc"]
async fn a_start_failure_reports_liblxc_s_log_lines() {
    let env = Env::new();
    let mut broken = env.busybox("broken");
    broken.command = Some(vec!["/nonexistent/brise-t-lxc".to_owned()]);
    broken.init = false;
    let prepared = env
        .prepare(std::slice::from_ref(&broken), &Options::default())
        .await;
    let report = env.apply(&prepared).await.unwrap();
    let outcome = report.outcome(&broken.name).unwrap();
    let Status::Failed { step, error } = &outcome.status else {
        panic!("{outcome:?}");
    };
    assert_eq!(*step, Step::Start);
    assert!(
        error.starts_with(&format!(
            "container `{}`: start failed: liblxc:",
            broken.name
        )),
        "{error}"
    );
    assert!(error.contains("liblxc's log:"), "{error}");
    assert!(error.contains("/nonexistent/brise-t-lxc"), "{error}");
    // Created but stopped: the next run starts it again (and says why it fails).
    assert_eq!(env.state(&broken.name).await, Some(ContainerState::Stopped));
    let tail = env.runtime.log_tail(&broken.name, 50).unwrap();
    assert!(tail.iter().any(|l| l.contains("ERROR")), "{tail:?}");
}

#[derive(Default)]
struct Lines(Mutex<Vec<String>>);

impl Log for Lines {
    fn line(&self, line: &str) {
        self.0.lock().unwrap().push(line.to_owned());
    }
}

/// gen_config stand-in: no files.
struct NoFiles;

impl Generate for NoFiles {
    fn generate(&mut self, _dry_run: bool) -> Result<String, Failure> {
        Ok(String::new())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs lxc"]
async fn reconfigure_s_pipeline_drives_lxc_containers_and_names_the_snapshot() {
    let env = Env::new();
    let values = env.root.path().join("values.yml");
    brise::output::atomic::write(&values, b"containers: {}\n", None).unwrap();
    let request = |options: Options| Request {
        dry_run: false,
        json: false,
        options,
        parallel: 4,
        hooks_dir: env.root.path().join("hooks"),
        values: values.clone(),
        stamp: "20261122T153000Z".to_owned(),
        scope: None,
    };
    let mut web = env.busybox("pipe");
    web.persistent = true;
    let desired = vec![web.clone()];
    let routed = RoutedRuntime::new(vec![(Technology::Lxc, &env.runtime)], &desired);
    let lines = Lines::default();
    pipeline(
        &request(Options::default()),
        &desired,
        &routed,
        &mut NoFiles,
        &lines,
    )
    .await
    .unwrap();
    assert!(
        lines
            .0
            .lock()
            .unwrap()
            .contains(&format!("create     {}: done", web.name)),
        "{:?}",
        lines.0.lock().unwrap()
    );
    assert!(env.root.path().join("values.applied.yml").is_file());

    web.environment
        .push(("BRISE_T_LXC".to_owned(), "v2".to_owned()));
    let desired = vec![web.clone()];
    let routed = RoutedRuntime::new(vec![(Technology::Lxc, &env.runtime)], &desired);
    let lines = Lines::default();
    let refused = pipeline(
        &request(Options::default()),
        &desired,
        &routed,
        &mut NoFiles,
        &lines,
    )
    .await;
    let Err(Failure::Invalid(error)) = refused else {
        panic!("a persistent container must not be recreated without --recreate");
    };
    assert!(
        error
            .to_string()
            .contains(&format!("run `reconfigure --recreate {}`", web.name)),
        "{error}"
    );

    let options = Options {
        recreate: BTreeSet::from([web.name.clone()]),
        ..Options::default()
    };
    let lines = Lines::default();
    pipeline(&request(options), &desired, &routed, &mut NoFiles, &lines)
        .await
        .unwrap();
    let expected = format!(
        "recreate   {0}: done (filesystem saved as `{0}/snap0`)",
        web.name
    );
    assert!(
        lines.0.lock().unwrap().contains(&expected),
        "{:?}",
        lines.0.lock().unwrap()
    );
}

/// Docker and LXC containers in one plan (the shared dockerd: only this
/// test's containers are kept in the plan, and removed at the end).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs lxc"]
async fn one_plan_drives_docker_and_lxc_and_moves_a_container_between_them() {
    let env = Env::new();
    let endpoint = endpoint_from(std::env::var("DOCKER_HOST").ok().as_deref());
    let docker = DockerRuntime::connect(&endpoint)
        .await
        .unwrap_or_else(|e| panic!("needs docker too (scripts/setup-test-env.sh): {e}"));
    let prefix = env.name("");
    struct Cleanup(Vec<String>);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            for name in &self.0 {
                let _ = command::output(&Invocation::new("docker").args(["rm", "-f", name]));
            }
        }
    }
    let in_docker = env.name("indocker");
    let in_lxc = env.name("inlxc");
    let _cleanup = Cleanup(vec![in_docker.clone(), in_lxc.clone()]);
    let (docker_port, lxc_port) = (free_port(), free_port());
    let mut a = env.httpd("indocker");
    a.technology = Technology::Docker;
    a.ports.push(loopback_port(80, docker_port));
    let mut b = env.httpd("inlxc");
    b.ports.push(loopback_port(80, lxc_port));

    let converge = |desired: Vec<ContainerSpec>| {
        let docker = &docker;
        let env = &env;
        let prefix = prefix.clone();
        async move {
            let routed = RoutedRuntime::new(
                vec![
                    (Technology::Docker, docker),
                    (Technology::Lxc, &env.runtime),
                ],
                &desired,
            );
            let mut prepared = reconcile::prepare(
                &routed,
                &desired,
                &Options::default(),
                Images::Pull,
                4,
                &NoProgress,
            )
            .await
            .unwrap();
            prepared
                .plan
                .entries
                .retain(|e| e.name.starts_with(&prefix));
            assert!(prepared.plan.conflicts.is_empty(), "{}", prepared.plan);
            let report = reconcile::apply(
                &prepared.plan,
                &routed,
                &prepared.images,
                &ApplyOptions {
                    parallel: 4,
                    backup_stamp: "20261122T153000Z".to_owned(),
                },
                &Silent,
            )
            .await
            .unwrap();
            assert!(report.is_success(), "{report:#?}");
            prepared.plan
        }
    };

    let plan = converge(vec![a.clone(), b.clone()]).await;
    assert_eq!(plan.changes().count(), 2, "{plan}");
    assert!(
        docker
            .inspect(&in_docker)
            .await
            .unwrap()
            .unwrap()
            .is_managed()
    );
    assert_eq!(env.state(&in_lxc).await, Some(ContainerState::Running));
    assert!(docker.inspect(&in_lxc).await.unwrap().is_none());
    for port in [docker_port, lxc_port] {
        let response = http_get_eventually(port).await;
        assert!(response.contains("It works!"), "{response}");
    }
    // The same image, pulled by both engines, has the same id in both.
    assert_eq!(
        docker.inspect(&in_docker).await.unwrap().unwrap().image_id,
        env.runtime
            .inspect(&in_lxc)
            .await
            .unwrap()
            .unwrap()
            .image_id
    );
    let again = converge(vec![a.clone(), b.clone()]).await;
    assert_eq!(again.changes().count(), 0, "{again}");

    // `technology: docker` → `lxc`: removed from Docker, created in LXC.
    a.technology = Technology::Lxc;
    let plan = converge(vec![a.clone(), b.clone()]).await;
    let changes: Vec<(String, Action)> =
        plan.changes().map(|e| (e.name.clone(), e.action)).collect();
    assert_eq!(changes, [(in_docker.clone(), Action::Recreate)]);
    assert!(docker.inspect(&in_docker).await.unwrap().is_none());
    assert_eq!(env.state(&in_docker).await, Some(ContainerState::Running));
    let response = http_get_eventually(docker_port).await;
    assert!(response.contains("It works!"), "{response}");

    let plan = converge(Vec::new()).await;
    assert_eq!(plan.changes().count(), 2, "{plan}");
    assert!(env.runtime.list_managed().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs lxc"]
async fn an_application_that_runs_to_completion_leaves_its_output_and_is_stopped() {
    let env = Env::new();
    let mut hello = env.httpd("hello");
    hello.image.repository = "brise-demo/hello-world".to_owned();
    hello.image.tag = "latest".to_owned();
    let (plan, _) = env
        .converge(std::slice::from_ref(&hello), &Options::default())
        .await;
    assert_eq!(actions(&plan), [(hello.name.clone(), Action::Create)]);
    let mut state = env.state(&hello.name).await;
    for _ in 0..50 {
        if state == Some(ContainerState::Stopped) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        state = env.state(&hello.name).await;
    }
    assert_eq!(state, Some(ContainerState::Stopped));
    let tail = env.runtime.log_tail(&hello.name, 50).unwrap();
    assert!(
        tail.iter()
            .any(|l| l == "console.log: Hello from brise-demo/hello-world!"),
        "{tail:?}"
    );
    // LXC keeps no exit status: unlike Docker's `completed`, it is started again.
    let prepared = env
        .prepare(std::slice::from_ref(&hello), &Options::default())
        .await;
    assert_eq!(
        prepared.plan.entries[0].reasons,
        [Reason::NotRunning {
            state: ContainerState::Stopped
        }]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs lxc"]
async fn a_moved_tag_recreates_an_ephemeral_container_from_the_new_image() {
    let env = Env::new();
    // A repository of this test's own in the shared registry, removed at the end.
    let repository = format!("brise-t-lxc-{}/moving", env.id);
    let target = format!("docker://127.0.0.1:5000/{repository}:latest");
    struct Delete(String);
    impl Drop for Delete {
        fn drop(&mut self) {
            let _ = command::output(&Invocation::new("skopeo").args([
                "delete",
                "--tls-verify=false",
                &self.0,
            ]));
        }
    }
    let _delete = Delete(target.clone());
    let push = |tag: &str| {
        run_ok(Invocation::new("skopeo").args([
            "copy",
            "--quiet",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            &format!("docker://127.0.0.1:5000/brise-demo/busybox:{tag}"),
            &target,
        ]))
    };
    push("latest");
    let mut app = env.httpd("moving");
    app.image.repository = repository.clone();
    app.image.tag = "latest".to_owned();
    env.converge(std::slice::from_ref(&app), &Options::default())
        .await;
    let before = env.runtime.inspect(&app.name).await.unwrap().unwrap();
    assert_eq!(before.state, ContainerState::Running);
    assert_eq!(
        env.attach(&app.name, "cat /etc/brise-demo-version || echo none")
            .as_deref(),
        Some("none\n")
    );

    push("v2");
    let (plan, _) = env
        .converge(std::slice::from_ref(&app), &Options::default())
        .await;
    assert_eq!(actions(&plan), [(app.name.clone(), Action::Recreate)]);
    assert!(
        matches!(
            plan.entries[0].reasons.as_slice(),
            [Reason::ImageDigestChanged { from, .. }] if Some(from) == before.image_id.as_ref()
        ),
        "{plan}"
    );
    let after = env.runtime.inspect(&app.name).await.unwrap().unwrap();
    assert_ne!(after.image_id, before.image_id);
    assert_eq!(
        env.attach(&app.name, "cat /etc/brise-demo-version")
            .as_deref(),
        Some("v2\n")
    );
}
