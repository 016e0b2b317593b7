//! Kill points, to prove crash safety: [`point`] marks a step after which a
//! power cut must leave the server consistent (a temporary file written, a
//! rename, a container created, …). Compiled in every build and inert unless
//! the environment asks: `BRISE_CRASH_AT=NAME` (or `NAME#N`, the N-th time the
//! point is reached) makes the process `SIGKILL` itself there, and
//! `BRISE_CRASH_TRACE=FILE` appends the name of every point reached to FILE,
//! so a test harness can enumerate them and then kill at each;
//! `BRISE_CRASH_SIGNAL=STOP` stops the process there instead of killing it
//! (a test then holds a real run frozen at a point, e.g. with the lock held);
//! `BRISE_CRASH_LIST=1` makes `brise` print every point's name ([`POINTS`])
//! and exit. Nothing else reads these variables; no point changes what the
//! program does.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

/// The variable naming the point to die at.
pub const CRASH_AT: &str = "BRISE_CRASH_AT";
/// The variable naming the file that records every point reached.
pub const CRASH_TRACE: &str = "BRISE_CRASH_TRACE";
/// The variable choosing `STOP` instead of `KILL`.
pub const CRASH_SIGNAL: &str = "BRISE_CRASH_SIGNAL";
/// The variable asking `brise` to list the points and exit.
pub const CRASH_LIST: &str = "BRISE_CRASH_LIST";

/// Every kill point in the program (a test keeps this list complete).
pub const POINTS: &[&str] = &[
    "lock.acquired",
    "atomic.temp-written",
    "atomic.synced",
    "atomic.renamed",
    "atomic.moved",
    "journal.written",
    "journal.file-restored",
    "journal.committed",
    "output.attributes-set",
    "output.removed",
    "output.manifest-written",
    "output.reloaded",
    "reconfigure.files-installed",
    "reconfigure.files-committed",
    "reconfigure.applied-recorded",
    "rollback.values-restored",
    "docker.pulled",
    "docker.created",
    "docker.started",
    "docker.stopped",
    "docker.removed",
    "docker.backed-up",
];

/// With `BRISE_CRASH_LIST` set, print [`POINTS`] one a line; whether it did.
#[must_use]
pub fn list_if_asked() -> bool {
    if std::env::var_os(CRASH_LIST).is_none_or(|v| v.is_empty()) {
        return false;
    }
    let mut out = std::io::stdout().lock();
    for point in POINTS {
        let _ = writeln!(out, "{point}");
    }
    true
}

#[derive(Debug)]
struct Armed {
    /// Die at this point…
    at: Option<String>,
    /// …the N-th time it is reached (1-based).
    occurrence: u32,
    trace: Option<PathBuf>,
    signal: nix::sys::signal::Signal,
    seen: Mutex<HashMap<String, u32>>,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let at = std::env::var(CRASH_AT).ok().filter(|s| !s.is_empty());
            let trace = std::env::var_os(CRASH_TRACE)
                .filter(|s| !s.is_empty())
                .map(PathBuf::from);
            if at.is_none() && trace.is_none() {
                return None;
            }
            let (at, occurrence) = match at.as_deref().map(parse) {
                Some((name, n)) => (Some(name.to_owned()), n),
                None => (None, 1),
            };
            let signal = if std::env::var(CRASH_SIGNAL).is_ok_and(|s| s == "STOP") {
                nix::sys::signal::Signal::SIGSTOP
            } else {
                nix::sys::signal::Signal::SIGKILL
            };
            Some(Armed {
                at,
                occurrence,
                trace,
                signal,
                seen: Mutex::new(HashMap::new()),
            })
        })
        .as_ref()
}

/// `name#3` → (`name`, 3); `name` → (`name`, 1).
fn parse(spec: &str) -> (&str, u32) {
    match spec.rsplit_once('#') {
        Some((name, n)) => (name, n.parse().unwrap_or(1).max(1)),
        None => (spec, 1),
    }
}

/// A step is complete: die here if asked to (see the module documentation).
pub fn point(name: &str) {
    let Some(armed) = armed() else {
        return;
    };
    let count = {
        let mut seen = armed
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = seen.entry(name.to_owned()).or_insert(0);
        *count += 1;
        *count
    };
    if let Some(trace) = &armed.trace {
        let opened = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(trace);
        if let Ok(mut file) = opened {
            // One write per line: O_APPEND keeps lines of parallel writers whole.
            let _ = file.write_all(format!("{name}\n").as_bytes());
        }
    }
    if armed.at.as_deref() == Some(name) && count == armed.occurrence {
        let _ = nix::sys::signal::raise(armed.signal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_names_every_point_in_the_sources_and_nothing_else() {
        let mut found = std::collections::BTreeSet::new();
        let mut dirs = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for piece in text.split("crash::point(\"").skip(1) {
                        found.insert(piece.split('"').next().unwrap().to_owned());
                    }
                }
            }
        }
        let listed: std::collections::BTreeSet<String> =
            POINTS.iter().map(|p| (*p).to_owned()).collect();
        assert_eq!(found, listed);
    }

    #[test]
    fn a_point_names_its_occurrence_after_a_hash() {
        assert_eq!(parse("atomic.renamed"), ("atomic.renamed", 1));
        assert_eq!(parse("atomic.renamed#3"), ("atomic.renamed", 3));
        assert_eq!(parse("atomic.renamed#0"), ("atomic.renamed", 1));
        assert_eq!(parse("atomic.renamed#x"), ("atomic.renamed", 1));
    }
}
