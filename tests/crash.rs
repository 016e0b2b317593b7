//! Crash safety (docs/RELIABILITY.md): the real binary is killed (`SIGKILL`)
//! at every kill point its run reaches (`BRISE_CRASH_TRACE` enumerates them,
//! `BRISE_CRASH_AT=name#n` kills at the n-th time a point is reached), then
//! at random delays; after each kill the invariants are checked (values and
//! generated files are the old or the new ones, never partial; the live
//! nginx configuration passes `nginx -t`; every container bears brise's owner
//! label), then the command runs again and must converge. Real components: a
//! private nginx under the test root, the real dockerd and the local registry.
//!
//! Bounds (for CI): `BRISE_CRASH_RANDOM_RUNS` random kills per scenario
//! (default 12 for files, 6 for reconfigure); `BRISE_CRASH_SEED` replays.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods,
    clippy::print_stderr
)]

mod common;
mod docker_common;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use common::nginx::{self, Nginx};

/// Files as found: relative path → bytes.
type Snapshot = BTreeMap<String, Vec<u8>>;

const PORT: &str = "containers.container_my_apache_app.ports.host_port";
const MANIFEST: &str = "var/lib/brise/generated-files.json";
const JOURNAL: &str = "var/lib/brise/undo/journal.json";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A small random generator (xorshift), seeded for replay.
struct Random(u64);

impl Random {
    fn new() -> Self {
        let seed = std::env::var("BRISE_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| u64::from(std::process::id()) * 2_654_435_761 + 1);
        eprintln!("crash harness: BRISE_CRASH_SEED={seed}");
        Self(seed.max(1))
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound.max(1)
    }
}

fn random_runs(default: usize) -> usize {
    std::env::var("BRISE_CRASH_RANDOM_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// What a kill run is asked to do.
#[derive(Debug, Clone)]
enum Kill {
    /// Record every point reached in this file; no kill.
    Trace(PathBuf),
    /// Kill at this point (`name#n`).
    At(String),
    /// Kill after this delay.
    After(Duration),
    /// A plain run.
    Never,
}

/// Run `command` as `kill` says; its status and output.
fn run(mut command: Command, kill: &Kill) -> (ExitStatus, Output) {
    command
        .env_remove("BRISE_CRASH_AT")
        .env_remove("BRISE_CRASH_TRACE")
        .env_remove("BRISE_CRASH_SIGNAL")
        .env_remove("BRISE_STATE_DIR");
    match kill {
        Kill::Trace(path) => {
            command.env("BRISE_CRASH_TRACE", path);
        }
        Kill::At(point) => {
            command.env("BRISE_CRASH_AT", point);
        }
        Kill::After(_) | Kill::Never => {}
    }
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Kill::After(delay) = kill {
        std::thread::sleep(*delay);
        // Only our own child, by its pid; it may have ended already.
        let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
    }
    let output = child.wait_with_output().unwrap();
    (output.status, output)
}

fn text(output: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn killed(status: ExitStatus) -> bool {
    status.signal() == Some(9)
}

/// `name#n` for every point of a trace, in order.
fn points_of(trace: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(trace).unwrap_or_default();
    let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
    text.lines()
        .map(|name| {
            let n = seen.entry(name).or_insert(0);
            *n += 1;
            format!("{name}#{n}")
        })
        .collect()
}

/// The live nginx configuration under `root` passes `nginx -t`.
#[track_caller]
fn assert_nginx_accepts(conf: &Path, what: &str) {
    let output = Command::new(nginx::binary())
        .arg("-t")
        .arg("-q")
        .arg("-c")
        .arg(conf)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{what}: the live nginx configuration fails `nginx -t`: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The generated files of a root: every file of `etc/nginx/web.d` but
/// brise's temporary files, and the manifest.
fn generated(root: &Path) -> Snapshot {
    let mut files = Snapshot::new();
    if let Ok(entries) = std::fs::read_dir(root.join("etc/nginx/web.d")) {
        for entry in entries {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.starts_with(".brise-") {
                files.insert(
                    format!("etc/nginx/web.d/{name}"),
                    std::fs::read(&path).unwrap(),
                );
            }
        }
    }
    if let Ok(bytes) = std::fs::read(root.join(MANIFEST)) {
        files.insert(MANIFEST.to_owned(), bytes);
    }
    files
}

/// Every generated file is as in `old` or as in `new` (present or absent), never partial.
#[track_caller]
fn assert_old_or_new(now: &Snapshot, old: &Snapshot, new: &Snapshot, what: &str) {
    let names: BTreeSet<&String> = now.keys().chain(old.keys()).chain(new.keys()).collect();
    for name in names {
        let current = now.get(name);
        assert!(
            current == old.get(name) || current == new.get(name),
            "{what}: `{name}` is neither the old nor the new one: {:?}",
            current.map(|b| String::from_utf8_lossy(b).into_owned())
        );
    }
}

/// Leftover temporary files (`.brise-*`) under `dir`, recursively.
fn temporaries(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut count = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            count += temporaries(&path);
        } else if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(".brise-"))
        {
            count += 1;
        }
    }
    count
}

/// What a harness did, for docs/RELIABILITY.md.
#[derive(Debug, Default)]
struct Tally {
    points: BTreeSet<String>,
    kills: usize,
    random_runs: usize,
    random_kills: usize,
    temporaries_left: usize,
    /// Next runs refused by the host-port check after a random kill.
    port_refusals: usize,
}

impl Tally {
    fn print(&self, scenario: &str) {
        let names: BTreeSet<&str> = self
            .points
            .iter()
            .map(|p| {
                let name = p.split('#').next().unwrap();
                name.rsplit_once(':').map_or(name, |(_, n)| n)
            })
            .collect();
        eprintln!(
            "crash harness [{scenario}]: {} kill points ({} distinct names: {}), {} kills at points, {} random-delay runs ({} killed), {} temporary files left by kills (the next runs removed them), {} next runs refused by the host-port check",
            self.points.len(),
            names.len(),
            names.into_iter().collect::<Vec<_>>().join(" "),
            self.kills,
            self.random_runs,
            self.random_kills,
            self.temporaries_left,
            self.port_refusals
        );
    }
}

// ---------------------------------------------------------------- files ---

/// A server root with a running private nginx, two values files A and B and
/// the generated files each produces.
struct FilesSite {
    dir: tempfile::TempDir,
    nginx: Nginx,
    values: [String; 2],
    expected: [Snapshot; 2],
    /// Which of A (0) or B (1) the root is converged to.
    state: usize,
}

impl FilesSite {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("brise-crash-files-")
            .tempdir()
            .unwrap();
        let mut nginx = Nginx::configure(&dir.path().join("root"));
        nginx.start();
        let demo = std::fs::read_to_string(repo().join("examples/demo/values.yml")).unwrap();
        let a = demo.replace(
            "host_port: 8081",
            &format!("host_port: {}", nginx::free_port()),
        );
        // B moves the port and gives hello-world one: a file updated, one created.
        let b = demo
            .replace("host_port: 8081", &format!("host_port: {}", nginx::free_port()))
            .replace(
                "    repository: hello-world\n",
                &format!(
                    "    repository: hello-world\n    ports:\n      - container_port: 80\n        host_port: {}\n",
                    nginx::free_port()
                ),
            );
        let mut site = Self {
            dir,
            nginx,
            values: [a, b],
            expected: [Snapshot::new(), Snapshot::new()],
            state: 0,
        };
        for to in [0, 1] {
            site.write_values(to);
            let (status, output) = run(site.gen_config(), &Kill::Never);
            assert!(status.success(), "{}", text(&output));
            site.expected[to] = generated(&site.root());
            site.state = to;
        }
        assert_ne!(site.expected[0], site.expected[1]);
        site
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn values_path(&self) -> PathBuf {
        self.dir.path().join("values.yml")
    }

    fn write_values(&self, which: usize) {
        brise::output::atomic::write(&self.values_path(), self.values[which].as_bytes(), None)
            .unwrap();
    }

    fn brise(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_brise"));
        command
            .arg("--dictionaries")
            .arg(repo().join("dictionaries"))
            .arg("--templates")
            .arg(repo().join("templates"))
            .arg("--values")
            .arg(self.values_path());
        command
    }

    fn gen_config(&self) -> Command {
        let mut command = self.brise();
        command
            .arg("gen_config")
            .arg("--root")
            .arg(self.root())
            .arg("--nginx")
            .arg(nginx::binary());
        command
    }

    /// A gen_config towards `to` from the other state, killed as `kill` says.
    fn transition(&mut self, to: usize, kill: &Kill) -> ExitStatus {
        if self.state == to {
            self.write_values(1 - to);
            let (status, output) = run(self.gen_config(), &Kill::Never);
            assert!(status.success(), "{}", text(&output));
            self.state = 1 - to;
        }
        self.write_values(to);
        let (status, _) = run(self.gen_config(), kill);
        status
    }

    fn check(&self, to: usize, what: &str) {
        let now = generated(&self.root());
        assert_old_or_new(&now, &self.expected[1 - to], &self.expected[to], what);
        assert_nginx_accepts(&self.nginx.conf, what);
        assert!(
            self.nginx.get("/brise-test-alive").is_some(),
            "{what}: nginx stopped answering"
        );
        assert_eq!(
            std::fs::read_to_string(self.values_path()).unwrap(),
            self.values[to],
            "{what}: gen_config changed the values"
        );
    }

    /// Run gen_config to `to` until it converges: exactly the expected files,
    /// no journal left, and a second run has nothing to do.
    fn converge(&mut self, to: usize) {
        self.write_values(to);
        let (status, output) = run(self.gen_config(), &Kill::Never);
        assert!(status.success(), "converging to {to}: {}", text(&output));
        assert_eq!(generated(&self.root()), self.expected[to], "not converged");
        assert_eq!(
            temporaries(&self.root()),
            0,
            "temporary files left after converging"
        );
        assert!(!self.root().join(JOURNAL).exists(), "a journal is left");
        let (status, output) = run(self.gen_config(), &Kill::Never);
        assert!(status.success(), "{}", text(&output));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.starts_with("nothing to do"), "{stdout}");
        self.state = to;
    }
}

#[test]
#[ignore = "needs nginx"]
fn gen_config_killed_at_every_point_leaves_old_or_new_files_and_converges() {
    let mut site = FilesSite::new();
    let mut tally = Tally::default();
    let mut cases = Vec::new();
    let mut clean = Duration::ZERO;
    for to in [0, 1] {
        let trace = site.dir.path().join(format!("trace-{to}"));
        let started = Instant::now();
        assert!(site.transition(to, &Kill::Trace(trace.clone())).success());
        clean = clean.max(started.elapsed());
        site.state = to;
        site.converge(to);
        cases.extend(points_of(&trace).into_iter().map(|p| (to, p)));
    }
    let lock_only = cases.iter().filter(|(_, p)| p.starts_with("lock.")).count();
    assert!(cases.len() > 2 * lock_only, "too few points: {cases:?}");
    for (to, point) in &cases {
        let what = format!("gen_config to {to} killed at {point}");
        let status = site.transition(*to, &Kill::At(point.clone()));
        assert!(
            killed(status),
            "{what}: the point was not reached ({status})"
        );
        tally.points.insert(format!("{to}:{point}"));
        tally.kills += 1;
        tally.temporaries_left += temporaries(&site.root());
        site.check(*to, &what);
        site.converge(*to);
    }
    let mut random = Random::new();
    let window = u64::try_from(clean.as_micros()).unwrap().max(1);
    for run_index in 0..random_runs(12) {
        let to = run_index % 2;
        let delay = Duration::from_micros(random.below(window));
        let what = format!("gen_config to {to} killed after {delay:?}");
        let status = site.transition(to, &Kill::After(delay));
        tally.random_runs += 1;
        if killed(status) {
            tally.random_kills += 1;
        }
        site.check(to, &what);
        site.converge(to);
    }
    tally.print("gen_config");
}

#[test]
#[ignore = "needs nginx"]
fn set_killed_at_every_point_leaves_the_old_or_the_new_values_file() {
    let site = FilesSite::new();
    let set = || {
        let mut command = site.brise();
        command
            .arg("--state-dir")
            .arg(site.dir.path().join("state"))
            .args(["set", PORT, "8099"]);
        command
    };
    let old = site.values[0].clone();
    site.write_values(0);
    let trace = site.dir.path().join("trace-set");
    let (status, output) = run(set(), &Kill::Trace(trace.clone()));
    assert!(status.success(), "{}", text(&output));
    let new = std::fs::read_to_string(site.values_path()).unwrap();
    assert_ne!(old, new);
    let mut tally = Tally::default();
    let points = points_of(&trace);
    assert!(
        points.iter().any(|p| p.starts_with("atomic.renamed")),
        "{points:?}"
    );
    for point in &points {
        site.write_values(0);
        let (status, _) = run(set(), &Kill::At(point.clone()));
        assert!(
            killed(status),
            "set killed at {point}: not reached ({status})"
        );
        tally.points.insert(point.clone());
        tally.kills += 1;
        tally.temporaries_left += temporaries(site.dir.path());
        let now = std::fs::read_to_string(site.values_path()).unwrap();
        assert!(
            now == old || now == new,
            "set killed at {point}: the values file is neither old nor new:\n{now}"
        );
        let (status, output) = run(set(), &Kill::Never);
        assert!(status.success(), "{}", text(&output));
        assert_eq!(std::fs::read_to_string(site.values_path()).unwrap(), new);
        assert_eq!(
            temporaries(site.dir.path()),
            0,
            "set killed at {point}: temporary files left after the next set"
        );
    }
    tally.print("set");
}

// ---------------------------------------------------------- reconfigure ---

/// One busybox container behind a private nginx, values A and B differing
/// in its environment and host port (a recreate and an nginx file update).
struct EngineSite {
    files: FilesSite,
    scope: docker_common::Scope,
    name: String,
    applied: [String; 2],
}

impl EngineSite {
    async fn new() -> Self {
        let scope = docker_common::Scope::new("crash").await;
        let name = scope.name("svc");
        let mut files = FilesSite::new();
        let identifier = name.replace(['-', '.'], "_");
        let values = |greeting: &str| {
            format!(
                "containers:\n  names:\n    - {name}\n  container_{identifier}:\n    registry: localhost:5000\n    repository: brise-demo/busybox\n    ports:\n      - container_port: 80\n        host_port: {}\n    environment:\n      - name: GREETING\n        value: {greeting}\n",
                nginx::free_port()
            )
        };
        files.values = [values("a"), values("b")];
        files.expected = [Snapshot::new(), Snapshot::new()];
        let mut site = Self {
            files,
            scope,
            name,
            applied: [String::new(), String::new()],
        };
        for to in [0, 1] {
            site.files.write_values(to);
            let (status, output) = run(site.reconfigure(), &Kill::Never);
            assert!(status.success(), "{}", text(&output));
            site.files.expected[to] = generated(&site.files.root());
            site.applied[to] = site.files.values[to].clone();
            site.files.state = to;
        }
        assert_ne!(site.files.expected[0], site.files.expected[1]);
        site
    }

    fn reconfigure(&self) -> Command {
        let mut command = self.files.brise();
        command
            .env("BRISE_NGINX", nginx::binary())
            .arg("--hooks-dir")
            .arg(self.files.dir.path().join("hooks"))
            .arg("reconfigure")
            .arg("--root")
            .arg(self.files.root())
            .arg("--scope")
            .arg(format!("{}-", self.scope.prefix));
        command
    }

    fn applied_path(&self) -> PathBuf {
        self.files.dir.path().join("values.applied.yml")
    }

    fn transition(&mut self, to: usize, kill: &Kill) -> ExitStatus {
        if self.files.state == to {
            self.files.write_values(1 - to);
            let (status, output) = run(self.reconfigure(), &Kill::Never);
            assert!(status.success(), "{}", text(&output));
            self.files.state = 1 - to;
        }
        self.files.write_values(to);
        let (status, _) = run(self.reconfigure(), kill);
        status
    }

    /// Containers bearing this test's prefix: (name, owner label).
    fn containers(&self) -> Vec<(String, String)> {
        let output = Command::new("docker")
            .args([
                "ps",
                "-a",
                "--format",
                "{{.Names}}\t{{.Label \"brise.managed\"}}",
            ])
            .args(["--filter", &format!("name=^{}-", self.scope.prefix)])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", text(&output));
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|line| {
                let (name, label) = line.split_once('\t').unwrap_or((line, ""));
                (name.to_owned(), label.to_owned())
            })
            .collect()
    }

    fn check(&self, to: usize, what: &str) {
        self.files.check(to, what);
        for (name, label) in self.containers() {
            assert_eq!(
                label, "true",
                "{what}: container `{name}` has no owner label"
            );
        }
        match std::fs::read_to_string(self.applied_path()) {
            Ok(applied) => assert!(
                applied == self.applied[0] || applied == self.applied[1],
                "{what}: values.applied.yml is partial:\n{applied}"
            ),
            Err(error) => panic!("{what}: values.applied.yml is gone: {error}"),
        }
    }

    fn environment(&self) -> String {
        let output = Command::new("docker")
            .args([
                "inspect",
                "-f",
                "{{.State.Running}} {{json .Config.Env}}",
                &self.name,
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// [`Self::converge`] after a kill at a random moment: the engine may
    /// still be finishing the request the killed run sent (a container
    /// starting), which the next run's host-port check can see as a port in
    /// use by something else; such a refusal changes nothing and is counted,
    /// and the run is repeated (at most twice).
    fn converge_after_random_kill(&mut self, to: usize, tally: &mut Tally) {
        for _ in 0..2 {
            self.files.write_values(to);
            let (status, output) = run(self.reconfigure(), &Kill::Never);
            if status.success() {
                break;
            }
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                stderr.contains("is already in use by something brise does not manage"),
                "converging to {to}: {}",
                text(&output)
            );
            tally.port_refusals += 1;
            std::thread::sleep(Duration::from_secs(1));
        }
        self.converge(to);
    }

    fn converge(&mut self, to: usize) {
        self.files.write_values(to);
        let (status, output) = run(self.reconfigure(), &Kill::Never);
        assert!(status.success(), "converging to {to}: {}", text(&output));
        assert_eq!(
            temporaries(&self.files.root()),
            0,
            "temporary files left after converging"
        );
        let greeting = ["a", "b"][to];
        let environment = self.environment();
        assert!(
            environment.starts_with("true ")
                && environment.contains(&format!("GREETING={greeting}")),
            "not converged: {environment}"
        );
        assert_eq!(generated(&self.files.root()), self.files.expected[to]);
        assert_eq!(
            std::fs::read_to_string(self.applied_path()).unwrap(),
            self.applied[to]
        );
        assert!(
            !self.files.root().join(JOURNAL).exists(),
            "a journal is left"
        );
        let (status, output) = run(self.reconfigure(), &Kill::Never);
        assert!(status.success(), "{}", text(&output));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.contains("nothing to do: 1 container as declared"),
            "{stdout}"
        );
        self.files.state = to;
    }
}

#[tokio::test]
#[ignore = "needs docker and nginx"]
async fn reconfigure_killed_at_every_point_converges_on_the_next_run() {
    let mut site = EngineSite::new().await;
    let mut tally = Tally::default();
    let trace = site.files.dir.path().join("trace-reconfigure");
    let started = Instant::now();
    assert!(site.transition(0, &Kill::Trace(trace.clone())).success());
    let clean = started.elapsed();
    site.files.state = 0;
    site.converge(0);
    let points = points_of(&trace);
    for name in [
        "docker.pulled",
        "docker.stopped",
        "docker.removed",
        "docker.created",
        "docker.started",
        "reconfigure.applied-recorded",
    ] {
        assert!(
            points.iter().any(|p| p.starts_with(name)),
            "{name} not reached: {points:?}"
        );
    }
    for point in &points {
        let what = format!("reconfigure killed at {point}");
        let status = site.transition(0, &Kill::At(point.clone()));
        assert!(
            killed(status),
            "{what}: the point was not reached ({status})"
        );
        tally.points.insert(point.clone());
        tally.kills += 1;
        tally.temporaries_left += temporaries(&site.files.root());
        site.check(0, &what);
        site.converge(0);
    }
    let mut random = Random::new();
    let window = u64::try_from(clean.as_micros()).unwrap().max(1);
    for run_index in 0..random_runs(6) {
        let to = run_index % 2;
        let delay = Duration::from_micros(random.below(window));
        let what = format!("reconfigure to {to} killed after {delay:?}");
        let status = site.transition(to, &Kill::After(delay));
        tally.random_runs += 1;
        if killed(status) {
            tally.random_kills += 1;
        }
        site.check(to, &what);
        site.converge_after_random_kill(to, &mut tally);
    }
    tally.print("reconfigure");
    site.scope.cleanup().await;
}
