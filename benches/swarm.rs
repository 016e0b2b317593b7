//! Swarm benchmark, side by side in one run on one single-node swarm:
//! `docker stack deploy` of brise's own Compose export (then waiting until
//! the services converge, as brise does) against brise's Swarm runtime
//! (observe → resolve digests → plan → apply, waiting for convergence), on the
//! same N busybox services: first apply, no-op apply, one changed
//! environment (a rolling update with the same policy on both sides), and
//! removal. Prints a Markdown table.
//!
//! Run through `scripts/bench-swarm.sh` (needs dockerd and the local
//! registry). Sizes: `BENCH_SIZES=10`; no-op repetitions: `BENCH_NOOP_RUNS=5`.
//! The swarm is joined or created and left as found, like the swarm tests;
//! everything else is named `brise-bs-<pid>-…` (the stack `bbs-<pid>-…`) and removed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods
)]

#[path = "../tests/swarm_common/mod.rs"]
mod swarm_common;

use std::time::{Duration, Instant};

use brise::containers::ContainerSpec;
use brise::export::{self, Target};
use brise::reconcile::{self, ApplyOptions, Images, Options, Plan, Silent};
use brise::runtime::NoProgress;
use brise::runtime::fake::spec;
use brise::runtime::swarm::{self, SwarmOptions, SwarmRuntime};
use swarm_common::{Swarm, docker, docker_try};

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// The N services, named `<prefix>-svcNN`.
fn services(prefix: &str, n: usize, stage: &str) -> Vec<ContainerSpec> {
    (0..n)
        .map(|i| {
            let mut s = spec(&format!("{prefix}-svc{i:02}"), "busybox");
            s.environment.push(("INDEX".to_owned(), i.to_string()));
            s.environment.push(("STAGE".to_owned(), stage.to_owned()));
            s
        })
        .collect()
}

/// One whole brise run, restricted to this benchmark's services (the engine is shared).
async fn brise_run(
    runtime: &SwarmRuntime,
    prefix: &str,
    desired: &[ContainerSpec],
) -> (Duration, Plan) {
    let start = Instant::now();
    let services = swarm::services(desired);
    let mut prepared = reconcile::prepare(
        runtime,
        &services,
        &Options::default(),
        Images::Pull,
        4,
        &NoProgress,
    )
    .await
    .unwrap();
    let mine = format!("{prefix}-");
    prepared.plan.entries.retain(|e| e.name.starts_with(&mine));
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
    assert!(report.is_success(), "{report:?}");
    (start.elapsed(), prepared.plan)
}

struct Stack {
    name: String,
    file: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Stack {
    fn new(prefix: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("brise-bench-swarm-")
            .tempdir()
            .unwrap();
        Self {
            name: prefix.replacen("brise-bs-", "bbs-", 1),
            file: dir.path().join("docker-compose.yml"),
            _dir: dir,
        }
    }

    /// `docker stack deploy` of the Compose export of `desired`, then wait
    /// until every service runs its replicas and no update is under way.
    /// (the `docker stack deploy` command alone, the command and the wait).
    fn deploy(&self, desired: &[ContainerSpec]) -> (Duration, Duration) {
        let exported = export::export(desired, Target::Compose).unwrap();
        // Written before the clock starts: brise's export is not what is measured.
        std::fs::write(&self.file, exported.text).unwrap();
        let start = Instant::now();
        docker(&[
            "stack",
            "deploy",
            "--compose-file",
            self.file.to_str().unwrap(),
            &self.name,
        ]);
        let command = start.elapsed();
        self.wait(desired.len());
        (command, start.elapsed())
    }

    fn wait(&self, services: usize) {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let listed = docker(&[
                "service",
                "ls",
                "--filter",
                &format!("label=com.docker.stack.namespace={}", self.name),
                "--format",
                "{{.ID}} {{.Replicas}}",
            ]);
            let lines: Vec<&str> = listed.lines().collect();
            let running = lines.len() == services
                && lines.iter().all(|line| {
                    let replicas = line.split_whitespace().nth(1).unwrap_or_default();
                    replicas.split_once('/').is_some_and(|(a, b)| a == b)
                });
            let settled = running
                && lines.iter().all(|line| {
                    let id = line.split_whitespace().next().unwrap_or_default();
                    let state = docker(&[
                        "service",
                        "inspect",
                        id,
                        "--format",
                        "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}",
                    ]);
                    !matches!(state.as_str(), "updating" | "rollback_started")
                });
            if settled {
                return;
            }
            assert!(Instant::now() < deadline, "the stack did not converge");
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// `docker stack rm`, then wait until its containers are gone.
    fn remove(&self) -> Duration {
        let start = Instant::now();
        docker(&["stack", "rm", &self.name]);
        let filter = format!("label=com.docker.stack.namespace={}", self.name);
        while !docker(&["ps", "--all", "--quiet", "--filter", &filter]).is_empty() {
            std::thread::sleep(Duration::from_millis(300));
        }
        start.elapsed()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = docker_try(&["stack", "rm", &self.name]);
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "10".to_owned())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let noop_runs: usize = std::env::var("BENCH_NOOP_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    let swarm = Swarm::join();
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let runtime = tokio
        .block_on(SwarmRuntime::connect(
            swarm::DEFAULT_ENDPOINT,
            SwarmOptions::default(),
        ))
        .unwrap();
    docker(&[
        "pull",
        "--quiet",
        "localhost:5000/brise-demo/busybox:latest",
    ]);
    let mut rows = Vec::new();
    for n in sizes {
        // Short: a stack's services are named `<stack>_<service>`, 63 characters at most.
        let prefix = format!("brise-bs-{}-{n}", std::process::id());
        let first = services(&prefix, n, "one");
        let mut changed = first.clone();
        changed[0].environment[1].1 = "two".to_owned();

        let (brise_first, plan) = tokio.block_on(brise_run(&runtime, &prefix, &first));
        assert_eq!(plan.changes().count(), n);
        let brise_noop = median(
            (0..noop_runs)
                .map(|_| {
                    let (time, plan) = tokio.block_on(brise_run(&runtime, &prefix, &first));
                    assert!(plan.is_empty(), "{plan}");
                    time
                })
                .collect(),
        );
        let (brise_change, plan) = tokio.block_on(brise_run(&runtime, &prefix, &changed));
        assert_eq!(plan.changes().count(), 1);
        let (brise_removal, _) = tokio.block_on(brise_run(&runtime, &prefix, &[]));

        let stack = Stack::new(&prefix);
        let stack_first = stack.deploy(&first);
        let noops: Vec<(Duration, Duration)> =
            (0..noop_runs).map(|_| stack.deploy(&first)).collect();
        let stack_noop = (
            median(noops.iter().map(|(command, _)| *command).collect()),
            median(noops.iter().map(|(_, total)| *total).collect()),
        );
        let stack_change = stack.deploy(&changed);
        let removal = stack.remove();
        let stack_removal = (removal, removal);

        for (step, stack, brise) in [
            ("first apply", stack_first, brise_first),
            ("no-op apply", stack_noop, brise_noop),
            ("one changed (rolling)", stack_change, brise_change),
            ("removal", stack_removal, brise_removal),
        ] {
            let (command, total) = stack;
            rows.push(format!(
                "| {n} | {step} | {:.3} s | {:.3} s | {:.3} s | {:.1}× |",
                command.as_secs_f64(),
                total.as_secs_f64(),
                brise.as_secs_f64(),
                total.as_secs_f64() / brise.as_secs_f64()
            ));
        }
    }
    drop(runtime);
    drop(swarm);
    println!(
        "| services | step | `docker stack` command | command + wait | brise | stack / brise |"
    );
    println!("|---|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
}
