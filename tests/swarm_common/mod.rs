//! A single-node swarm on the shared local dockerd for tests, left as found.
//!
//! Every swarm test holds an exclusive lock (`/tmp/brise-swarm-tests.lock`)
//! for its whole run, so swarm tests of every process run one at a time. A
//! test joins the swarm that is there, or initialises one on 127.0.0.1 and
//! remembers it (in `/tmp/brise-swarm-tests.created`, with the node id, so a
//! run killed midway is cleaned up by the next one); on drop it leaves only a
//! swarm it created, and removes the `docker_gwbridge` network when that
//! network did not exist before. Plain containers of other tests keep running
//! meanwhile: a manager node still runs them.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs::File;
use std::path::Path;

use brise::command::{self, Invocation};
use nix::fcntl::{Flock, FlockArg};

const LOCK: &str = "/tmp/brise-swarm-tests.lock";
const CREATED: &str = "/tmp/brise-swarm-tests.created";

/// Debian's docker client (the one matching the daemon), else the first in PATH.
pub(crate) fn docker_binary() -> &'static str {
    if Path::new("/usr/bin/docker").is_file() {
        "/usr/bin/docker"
    } else {
        "docker"
    }
}

/// Run `docker ARGS…`, failing the test with its standard error when it fails.
#[track_caller]
pub(crate) fn docker(args: &[&str]) -> String {
    let invocation = Invocation::new(docker_binary()).args(args);
    match command::run(&invocation) {
        Ok(output) => output.stdout.trim().to_owned(),
        Err(error) => panic!("{error}"),
    }
}

/// Run `docker ARGS…`, whatever its exit status; (success, stdout + stderr).
pub(crate) fn docker_try(args: &[&str]) -> (bool, String) {
    let invocation = Invocation::new(docker_binary()).args(args);
    match command::output(&invocation) {
        Ok(output) => (
            output.status.success(),
            format!("{}{}", output.stdout, output.stderr),
        ),
        Err(error) => (false, error.to_string()),
    }
}

fn node_state() -> (String, String) {
    let state = docker(&[
        "info",
        "--format",
        "{{.Swarm.LocalNodeState}} {{.Swarm.NodeID}}",
    ]);
    let mut parts = state.split_whitespace();
    let state = parts.next().unwrap_or_default().to_owned();
    let node = parts.next().unwrap_or_default().to_owned();
    (state, node)
}

fn gwbridge_exists() -> bool {
    !docker(&[
        "network",
        "ls",
        "--quiet",
        "--filter",
        "name=^docker_gwbridge$",
    ])
    .is_empty()
}

/// The swarm a test runs on.
#[derive(Debug)]
pub(crate) struct Swarm {
    _lock: Flock<File>,
    /// This test run initialised it (and leaves it on drop).
    created: bool,
    /// `docker_gwbridge` existed before the swarm was initialised.
    gwbridge_existed: bool,
}

/// Wait until no other swarm test runs.
fn lock() -> Flock<File> {
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(LOCK)
        .unwrap();
    Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, errno)| errno)
        .unwrap()
}

/// Whether an earlier run of these tests created the active swarm of node
/// `node` (and could not leave it); then whether `docker_gwbridge` existed before.
fn created_by_us(node: &str) -> Option<bool> {
    let text = std::fs::read_to_string(CREATED).ok()?;
    let mut parts = text.split_whitespace();
    (parts.next() == Some(node)).then(|| parts.next() == Some("true"))
}

/// Hold the swarm tests' lock with the local dockerd outside any swarm (a
/// swarm left by an earlier run of these tests is left first). Fails the
/// test when someone else's swarm is active: it cannot check an engine
/// outside a swarm there.
pub(crate) fn outside_swarm() -> Flock<File> {
    let lock = lock();
    let (state, node) = node_state();
    if state == "active" {
        match created_by_us(&node) {
            Some(gwbridge_existed) => leave(gwbridge_existed),
            None => panic!(
                "the local dockerd is part of a swarm these tests did not create: this test \
                 needs it outside any swarm"
            ),
        }
    }
    lock
}

impl Swarm {
    /// Wait for the other swarm tests, then join the local swarm, creating it if needed.
    /// Fails the test when dockerd does not answer.
    pub(crate) fn join() -> Self {
        let lock = lock();
        let (state, node) = node_state();
        match state.as_str() {
            "inactive" => {
                let gwbridge_existed = gwbridge_exists();
                docker(&["swarm", "init", "--advertise-addr", "127.0.0.1"]);
                let (_, node) = node_state();
                // Written with the std writer: a test fixture, not a brise output.
                let mut marker = File::create(CREATED).unwrap();
                std::io::Write::write_all(
                    &mut marker,
                    format!("{node} {gwbridge_existed}\n").as_bytes(),
                )
                .unwrap();
                Self {
                    _lock: lock,
                    created: true,
                    gwbridge_existed,
                }
            }
            "active" => {
                // A swarm an earlier run of these tests created and could not leave.
                let ours = created_by_us(&node);
                Self {
                    _lock: lock,
                    created: ours.is_some(),
                    gwbridge_existed: ours.unwrap_or(true),
                }
            }
            other => panic!(
                "the local dockerd is in swarm state `{other}`: swarm tests need it inactive or \
                 an active manager"
            ),
        }
    }
}

/// Leave the swarm these tests created, and remove `docker_gwbridge` unless it existed before.
fn leave(gwbridge_existed: bool) {
    let (left, output) = docker_try(&["swarm", "leave", "--force"]);
    if !left {
        eprintln!("leaving the test swarm failed: {output}");
        return;
    }
    if !gwbridge_existed {
        let (removed, output) = docker_try(&["network", "rm", "docker_gwbridge"]);
        if !removed {
            eprintln!("removing docker_gwbridge failed: {output}");
        }
    }
    let _ = std::fs::remove_file(CREATED);
}

impl Drop for Swarm {
    fn drop(&mut self) {
        if self.created {
            leave(self.gwbridge_existed);
        }
    }
}

/// A name no other test run uses: `brise-t-swarm-<what>-<pid>-<random>`.
pub(crate) fn unique(what: &str) -> String {
    format!(
        "brise-t-swarm-{what}-{}-{:04x}",
        std::process::id(),
        rand::random::<u16>()
    )
}
