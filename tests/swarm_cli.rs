//! `brise reconfigure` and `brise status` with the Swarm engine as an
//! administrator runs them: the real binary, the shipped dictionaries and
//! templates, a values file choosing `containers.engine: swarm` (or
//! `--engine swarm`), a real single-node swarm on the local dockerd (left as
//! found, see `swarm_common`) and the demo busybox image of the local
//! registry. The hidden `--scope` keeps each run to this test's service.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod swarm_common;

mod engine_cli;

use brise::command::Output;
use swarm_common::{Swarm, docker, docker_try, unique};

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

fn free_port() -> u16 {
    std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A values file and state directory of this test; its service on the swarm.
struct Site {
    dir: tempfile::TempDir,
    name: String,
    port: u16,
}

impl Site {
    fn new() -> Self {
        Self {
            dir: tempfile::Builder::new()
                .prefix("brise-t-swarm-cli-")
                .tempdir()
                .unwrap(),
            name: unique("cli"),
            port: free_port(),
        }
    }

    /// Write the values: `head` lines under `containers`, then the service
    /// with `extra` lines in its family (no service when `declared` is false).
    fn values(&self, head: &str, declared: bool, extra: &str) {
        let text = if declared {
            format!(
                "containers:
{head}  names:
    - {name}
  container_{identifier}:
    registry: localhost:5000
    repository: brise-demo/busybox
    command: httpd -f -p 8080
    replicas: 2
    placement:
      - node.role==manager
    ports:
      - container_port: 8080
        host_port: {port}
{extra}",
                name = self.name,
                identifier = self.name.replace(['-', '.'], "_"),
                port = self.port,
            )
        } else {
            format!("containers:\n{head}  names: []\n")
        };
        engine_cli::write_values(self.dir.path(), &text);
    }

    fn brise(&self, args: &[&str]) -> Output {
        engine_cli::run(self.dir.path(), args)
    }

    fn reconfigure(&self, extra: &[&str]) -> Output {
        let root = self.dir.path().join("root");
        let mut args = vec![
            "reconfigure",
            "--root",
            root.to_str().unwrap(),
            "--scope",
            &self.name,
        ];
        args.extend_from_slice(extra);
        self.brise(&args)
    }

    fn field(&self, template: &str) -> String {
        docker(&["service", "inspect", &self.name, "--format", template])
    }

    fn exists(&self) -> bool {
        docker_try(&["service", "inspect", &self.name]).0
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        // A service a failing test left behind.
        if self.exists() {
            let _ = docker_try(&["service", "rm", &self.name]);
        }
    }
}

// See: #8
#[test]
#[ignore = "needs docker"]
fn reconfigure_runs_the_containers_as_swarm_services_when_the_configuration_says_so() {
    let _swarm = Swarm::join();
    let site = Site::new();
    let engine = "  engine: swarm\n";
    site.values(engine, true, "");

    // 1. Created as a service with 2 replicas and its placement; the loopback port is warned about.
    let first = site.reconfigure(&[]);
    assert!(
        success(&first).contains(&format!("create     {}: done", site.name)),
        "{}",
        first.stdout
    );
    assert!(
        first.stdout.contains(&format!(
            "warning: container `{}`: Swarm cannot publish on 127.0.0.1 only: host port {} is \
             published on every address of every node",
            site.name, site.port
        )),
        "{}",
        first.stdout
    );
    assert_eq!(site.field("{{.Spec.Mode.Replicated.Replicas}}"), "2");
    assert_eq!(
        site.field("{{json .Spec.TaskTemplate.Placement.Constraints}}"),
        r#"["node.role==manager"]"#
    );
    assert_eq!(
        site.field("{{index .Spec.Labels \"brise.managed\"}}"),
        "true"
    );
    let version = site.field("{{.Version.Index}}");

    // 2. A second run changes nothing, not even the service version.
    let second = site.reconfigure(&[]);
    assert!(
        success(&second).contains("nothing to do: 1 container as declared"),
        "{}",
        second.stdout
    );
    assert_eq!(site.field("{{.Version.Index}}"), version);

    // 3. `brise status` shows the service with its replicas.
    let status = site.brise(&["status"]);
    let shown = success(&status);
    assert!(shown.starts_with("values: applied\n"), "{shown}");
    let line = shown
        .lines()
        .skip_while(|line| *line != "swarm services:")
        .find(|line| line.starts_with(&site.name))
        .unwrap_or_else(|| panic!("{} not in:\n{shown}", site.name));
    assert!(line.contains("2/2 running"), "{line}");

    // 4. A changed environment rolls through, start-first.
    site.values(
        engine,
        true,
        "    environment:\n      - name: BRISE_STAGE\n        value: two\n",
    );
    let third = site.reconfigure(&[]);
    assert!(
        success(&third).contains(&format!("recreate   {}: done", site.name)),
        "{}",
        third.stdout
    );
    assert_eq!(site.field("{{.UpdateStatus.State}}"), "completed");
    assert_eq!(site.field("{{.Spec.UpdateConfig.Order}}"), "start-first");
    assert!(
        site.field("{{json .Spec.TaskTemplate.ContainerSpec.Env}}")
            .contains("BRISE_STAGE=two")
    );

    // 5. No longer declared, with the engine chosen on the command line: removed.
    site.values("", false, "");
    let fourth = site.reconfigure(&["--engine", "swarm"]);
    assert!(
        success(&fourth).contains(&format!("remove     {}: done", site.name)),
        "{}",
        fourth.stdout
    );
    assert!(!site.exists());
}
