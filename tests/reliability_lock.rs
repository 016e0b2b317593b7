//! One apply at a time (docs/RELIABILITY.md): every command that changes the
//! server takes the flock of `<state dir>/lock`. The holder is a real `brise`
//! run frozen with the lock held (`BRISE_CRASH_AT=lock.acquired` with
//! `BRISE_CRASH_SIGNAL=STOP`); the other runs are the real binary too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const PORT: &str = "containers.container_my_apache_app.ports.host_port";

/// A server in a temporary directory: the demo's values, `--root`, and the
/// state directory under the root (where gen_config and reconfigure lock).
struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("brise-rel-lock-")
            .tempdir()
            .unwrap();
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let demo = std::fs::read(repo.join("examples/demo/values.yml")).unwrap();
        brise::output::atomic::write(&dir.path().join("values.yml"), &demo, None).unwrap();
        Self { dir }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// `--state-dir` as seen from `set`: the root's `/var/lib/brise`.
    fn state_dir(&self) -> PathBuf {
        self.root().join("var/lib/brise")
    }

    fn values(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("values.yml")).unwrap()
    }

    fn command(&self, args: &[&str]) -> Command {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_brise"));
        command
            .env_remove("BRISE_CRASH_AT")
            .env_remove("BRISE_CRASH_TRACE")
            .env_remove("BRISE_STATE_DIR")
            .arg("--dictionaries")
            .arg(repo.join("dictionaries"))
            .arg("--templates")
            .arg(repo.join("templates"))
            .arg("--values")
            .arg(self.dir.path().join("values.yml"))
            .arg("--hooks-dir")
            .arg(self.dir.path().join("hooks"));
        // `set` and `import-eol` have no --root: point them at the root's state.
        if args
            .iter()
            .take(2)
            .any(|a| *a == "set" || *a == "import-eol")
        {
            command.arg("--state-dir").arg(self.state_dir());
        }
        command.args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// A `set` frozen (SIGSTOP) right after it took the lock.
    fn frozen_holder(&self, value: &str) -> Child {
        let mut holder = self
            .command(&["set", PORT, value])
            .env("BRISE_CRASH_AT", "lock.acquired")
            .env("BRISE_CRASH_SIGNAL", "STOP")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_stopped(&mut holder);
        holder
    }
}

/// Wait until `child` is stopped (state `T` in /proc) with the lock held.
fn wait_stopped(child: &mut Child) {
    let stat = format!("/proc/{}/stat", child.id());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(&stat).unwrap_or_default();
        let state = text
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next());
        if state == Some('T') {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the holder ended before taking the lock: {status}");
        }
        assert!(Instant::now() < deadline, "the holder never stopped");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kill -9 (and reap) a process this test started.
fn kill_nine(child: &mut Child) {
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
    kill(pid, Signal::SIGKILL).unwrap();
    child.wait().unwrap();
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_second_run_with_no_wait_fails_fast_with_exit_3_naming_the_holder_for_every_command() {
    let site = Site::new();
    let before = site.values();
    let mut holder = site.frozen_holder("8090");
    let holder_text = format!("(pid {}, set)", holder.id());
    let root = site.root();
    let root = root.to_str().unwrap();
    let eol = site.dir.path().join("config.eol");
    brise::output::atomic::write(&eol, b"{}", None).unwrap();
    let eol = eol.to_str().unwrap();
    let commands: Vec<Vec<&str>> = vec![
        vec!["--no-wait", "set", PORT, "8091"],
        vec!["--no-wait", "import-eol", eol],
        vec!["--no-wait", "gen_config", "--root", root, "--no-reload"],
        vec!["--no-wait", "reconfigure", "--root", root],
        vec!["--no-wait", "rollback", "--root", root],
    ];
    for args in &commands {
        let output = site.run(args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "another brise run is changing this server {holder_text}: not waiting (--no-wait)"
            )),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(site.values(), before, "a refused run changed the values");
    assert!(
        !site.root().join("etc").exists(),
        "a refused gen_config wrote files"
    );
    kill_nine(&mut holder);
}

#[test]
fn a_waiting_run_says_so_and_proceeds_when_the_holder_is_killed_by_sigkill() {
    let site = Site::new();
    let mut holder = site.frozen_holder("8090");
    let holder_pid = holder.id();
    let mut waiter = site
        .command(&["set", PORT, "8091"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(waiter.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(
        line.starts_with(&format!(
            "waiting for another brise run (pid {holder_pid}, set) to finish (lock `{}`",
            site.state_dir().join("lock").display()
        )),
        "{line}"
    );
    // Still waiting: the lock is the kernel's, nobody guesses it is stale.
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        waiter.try_wait().unwrap().is_none(),
        "the waiter did not wait"
    );
    kill_nine(&mut holder);
    let status = waiter.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(
        site.values().contains("host_port: \"8091\""),
        "{}",
        site.values()
    );
}

#[test]
fn a_run_after_a_killed_holder_proceeds_at_once_even_with_no_wait() {
    let site = Site::new();
    let mut holder = site.frozen_holder("8090");
    kill_nine(&mut holder);
    // The lock file stays, with the dead holder's description: it is not the lock.
    assert!(site.state_dir().join("lock").exists());
    let output = site.run(&["--no-wait", "set", PORT, "8092"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(site.values().contains("host_port: \"8092\""));
}
