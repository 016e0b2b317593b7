//! Reconciliation benchmark, side by side in one run: docker-compose (Debian's
//! 1.29) and brise's reconciler (observe → pull → plan → apply, `--parallel 4`)
//! on the same N busybox services (`init: true`), for first apply, no-op
//! apply, one-changed apply and removal; plus the Engine API floors measured
//! with the bare runtime calls (list, one recreate, create+start N with 4
//! workers, remove N). Prints a Markdown table with the ratios.
//!
//! Run through `scripts/bench-reconcile.sh` (needs dockerd, the local registry
//! and docker-compose). Sizes: `BENCH_SIZES=10,50`; no-op repetitions:
//! `BENCH_NOOP_RUNS=5`. Everything it creates is named `brise-bench-<pid>-…`
//! and removed at the end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::time::{Duration, Instant};

use brise::command::{self, Invocation};
use brise::containers::ContainerSpec;
use brise::reconcile::{self, ApplyOptions, Images, Options, Plan, Silent};
use brise::runtime::docker::{DockerRuntime, endpoint_from};
use brise::runtime::fake::spec;
use brise::runtime::{Labels, NoProgress, Runtime};
use futures_util::stream::{self, StreamExt};

const IMAGE: &str = "localhost:5000/brise-demo/busybox:latest";
const WORKERS: usize = 4;

fn seconds(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// The N services, named `<prefix>-svcNN`.
fn services(prefix: &str, n: usize) -> Vec<ContainerSpec> {
    (0..n)
        .map(|i| {
            let mut s = spec(&format!("{prefix}-svc{i:02}"), "busybox");
            s.environment.push(("INDEX".to_owned(), i.to_string()));
            s
        })
        .collect()
}

struct Brise<'a> {
    runtime: &'a DockerRuntime,
    prefix: String,
}

impl Brise<'_> {
    /// One whole reconcile (observe, pull, plan, apply), restricted to this
    /// benchmark's containers because the engine is shared.
    async fn reconcile(&self, desired: &[ContainerSpec]) -> (Duration, Plan) {
        let start = Instant::now();
        let mut prepared = reconcile::prepare(
            self.runtime,
            desired,
            &Options::default(),
            Images::Pull,
            WORKERS,
            &NoProgress,
        )
        .await
        .unwrap();
        let prefix = format!("{}-", self.prefix);
        prepared
            .plan
            .entries
            .retain(|e| e.name.starts_with(&prefix));
        let report = reconcile::apply(
            &prepared.plan,
            self.runtime,
            &prepared.images,
            &ApplyOptions {
                parallel: WORKERS,
                backup_stamp: "bench".to_owned(),
            },
            &Silent,
        )
        .await
        .unwrap();
        let elapsed = start.elapsed();
        assert!(report.is_success(), "{report:?}");
        (elapsed, prepared.plan)
    }
}

struct Compose {
    dir: tempfile::TempDir,
    project: String,
}

impl Compose {
    fn new(project: &str) -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            project: project.to_owned(),
        }
    }

    fn write(&self, desired: &[ContainerSpec]) {
        let mut yaml = String::from("version: \"2.4\"\nservices:\n");
        for s in desired {
            yaml.push_str(&format!(
                "  {}:\n    image: {IMAGE}\n    init: true\n    restart: unless-stopped\n    stop_grace_period: 10s\n    environment:\n",
                s.name
            ));
            for (key, value) in &s.environment {
                yaml.push_str(&format!("      {key}: \"{value}\"\n"));
            }
        }
        brise::output::atomic::write(
            &self.dir.path().join("docker-compose.yml"),
            yaml.as_bytes(),
            None,
        )
        .unwrap();
    }

    fn run(&self, args: &[&str]) -> Duration {
        let invocation = Invocation::new("docker-compose")
            .args(["--no-ansi", "-p", &self.project])
            .args(args)
            .current_dir(self.dir.path());
        let start = Instant::now();
        command::run(&invocation).unwrap_or_else(|e| panic!("{e}"));
        start.elapsed()
    }
}

struct Row {
    n: usize,
    compose: [Duration; 4],
    brise: [Duration; 4],
    floors: [Duration; 4],
    list: Duration,
}

async fn floors(runtime: &DockerRuntime, prefix: &str, n: usize) -> ([Duration; 4], Duration) {
    let desired = services(&format!("{prefix}-floor"), n);
    let labels: Vec<Labels> = desired.iter().map(|s| Labels::for_spec(s, None)).collect();
    // Create and start N, 4 at a time.
    let start = Instant::now();
    stream::iter(desired.iter().zip(&labels))
        .map(|(s, l)| async move {
            runtime.create(s, l).await.unwrap();
            runtime.start(&s.name).await.unwrap();
        })
        .buffer_unordered(WORKERS)
        .collect::<Vec<()>>()
        .await;
    let create = start.elapsed();
    // Listing.
    let mut lists = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        runtime.list_managed().await.unwrap();
        lists.push(start.elapsed());
    }
    let list = median(lists);
    // One recreate: stop, remove, create, start.
    let start = Instant::now();
    runtime
        .recreate(&desired[0], &labels[0], None)
        .await
        .unwrap();
    let recreate = start.elapsed();
    // Remove N (stop then remove, 4 at a time).
    let start = Instant::now();
    stream::iter(&desired)
        .map(|s| async move {
            runtime.stop(&s.name, s.stop_timeout).await.unwrap();
            runtime.remove(&s.name).await.unwrap();
        })
        .buffer_unordered(WORKERS)
        .collect::<Vec<()>>()
        .await;
    let remove = start.elapsed();
    ([create, list, recreate, remove], list)
}

async fn measure(runtime: &DockerRuntime, n: usize, noop_runs: usize) -> Row {
    let prefix = format!("brise-bench-{}-{n}", std::process::id());

    // docker-compose.
    let compose = Compose::new(&format!("{prefix}c").replace('-', ""));
    let mut desired = services(&format!("{prefix}-c"), n);
    compose.write(&desired);
    let c_first = compose.run(&["up", "-d"]);
    let c_noop = median((0..noop_runs).map(|_| compose.run(&["up", "-d"])).collect());
    desired[n / 2].environment[0].1.push_str("-changed");
    compose.write(&desired);
    let c_change = compose.run(&["up", "-d"]);
    let c_down = compose.run(&["down"]);

    // brise.
    let brise = Brise {
        runtime,
        prefix: format!("{prefix}-b"),
    };
    let mut desired = services(&brise.prefix, n);
    let (b_first, plan) = brise.reconcile(&desired).await;
    assert_eq!(plan.changes().count(), n);
    let mut noops = Vec::new();
    for _ in 0..noop_runs {
        let (elapsed, plan) = brise.reconcile(&desired).await;
        assert!(plan.is_empty(), "{plan}");
        noops.push(elapsed);
    }
    let b_noop = median(noops);
    desired[n / 2].environment[0].1.push_str("-changed");
    let (b_change, plan) = brise.reconcile(&desired).await;
    assert_eq!(plan.changes().count(), 1, "{plan}");
    let (b_remove, plan) = brise.reconcile(&[]).await;
    assert_eq!(plan.changes().count(), n, "{plan}");

    // Engine API floors.
    let (floor, list) = floors(runtime, &prefix, n).await;

    Row {
        n,
        compose: [c_first, c_noop, c_change, c_down],
        brise: [b_first, b_noop, b_change, b_remove],
        floors: [floor[0], floor[1], floor[2], floor[3]],
        list,
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "10,50".to_owned())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let noop_runs: usize = std::env::var("BENCH_NOOP_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let rows: Vec<Row> = tokio.block_on(async {
        let endpoint = endpoint_from(std::env::var("DOCKER_HOST").ok().as_deref());
        let runtime = DockerRuntime::connect(&endpoint).await.unwrap();
        // Warm the image cache so that neither side pays the first pull.
        runtime
            .pull(&spec("warm", "busybox").image, &NoProgress)
            .await
            .unwrap();
        let mut rows = Vec::new();
        for &n in &sizes {
            eprintln!("measuring {n} services…");
            rows.push(measure(&runtime, n, noop_runs).await);
        }
        rows
    });

    println!(
        "| services | step | docker-compose 1.29 | brise | compose / brise | Engine API floor | brise / floor |"
    );
    println!("|---|---|---|---|---|---|---|");
    for row in &rows {
        let steps = ["first apply", "no-op apply", "one changed", "removal"];
        // The no-op floor is one listing of the engine's containers.
        let floors = [row.floors[0], row.list, row.floors[2], row.floors[3]];
        for (i, step) in steps.iter().enumerate() {
            let c = seconds(row.compose[i]);
            let b = seconds(row.brise[i]);
            let f = seconds(floors[i]);
            println!(
                "| {} | {step} | {c:.3} s | {b:.3} s | {:.1}× | {f:.3} s | {:.2} |",
                row.n,
                c / b,
                b / f
            );
        }
    }
}
