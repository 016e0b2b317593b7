//! `brise lxc-helper`: the single-threaded process that makes every liblxc call.
//! It reads [`Request`]s on standard input and answers [`Response`]s on
//! standard output, one per line, until standard input closes. Before the
//! first request it moves the protocol to close-on-exec copies of its
//! standard input and output, and points descriptors 0 and 1 at `/dev/null`
//! and standard error: templates and liblxc's own output can then never
//! corrupt the protocol, and containers never inherit the pipe. It must not
//! start threads (liblxc is not thread-safe: lxc/lxc#2245).

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use thiserror::Error;

use super::ffi::{self, Container, FfiError};
use super::protocol::{
    ContainerInfo, ProtocolError, Request, Response, SnapshotInfo, read_message, write_message,
};

/// How many lines of the container's log a start failure reports.
const LOG_LINES: usize = 20;

#[derive(Debug, Error)]
pub enum HelperError {
    #[error("the lxc helper must run single-threaded, but this process has {0} threads")]
    Threads(usize),
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot set up the helper's pipes: {0}")]
    Pipes(nix::Error),
    #[error("cannot open `/dev/null`: {0}")]
    DevNull(std::io::Error),
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
}

/// Serve requests on standard input until it closes.
///
/// # Errors
/// The process is not single-threaded, the pipes cannot be set up, or the
/// protocol breaks (a malformed request is answered, not fatal).
pub fn serve() -> Result<(), HelperError> {
    let threads = thread_count()?;
    if threads != 1 {
        return Err(HelperError::Threads(threads));
    }
    let (input, output) = take_stdio()?;
    let mut reader = BufReader::new(input);
    let mut writer = BufWriter::new(output);
    loop {
        let response = match read_message::<Request>(&mut reader) {
            Ok(None) => return Ok(()),
            Ok(Some(request)) => handle(request),
            Err(error @ ProtocolError::Malformed { .. }) => Response::Failed {
                message: error.to_string(),
                log: Vec::new(),
            },
            Err(error) => return Err(error.into()),
        };
        write_message(&mut writer, &response)?;
    }
}

/// The number of threads of this process (`Threads:` in `/proc/self/status`).
fn thread_count() -> Result<usize, HelperError> {
    let path = "/proc/self/status";
    let status = std::fs::read_to_string(path).map_err(|source| HelperError::Read {
        path: path.to_owned(),
        source,
    })?;
    Ok(status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|count| count.trim().parse().ok())
        .unwrap_or(0))
}

/// Close-on-exec copies of standard input and output for the protocol; then
/// descriptor 0 reads `/dev/null` and descriptor 1 goes to standard error.
fn take_stdio() -> Result<(File, File), HelperError> {
    let input = cloexec_dup(std::io::stdin().as_fd())?;
    let output = cloexec_dup(std::io::stdout().as_fd())?;
    let null = File::open("/dev/null").map_err(HelperError::DevNull)?;
    nix::unistd::dup2_stdin(&null).map_err(HelperError::Pipes)?;
    nix::unistd::dup2_stdout(std::io::stderr().as_fd()).map_err(HelperError::Pipes)?;
    Ok((File::from(input), File::from(output)))
}

fn cloexec_dup(fd: std::os::fd::BorrowedFd<'_>) -> Result<OwnedFd, HelperError> {
    let copy = nix::unistd::dup(fd).map_err(HelperError::Pipes)?;
    fcntl(&copy, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).map_err(HelperError::Pipes)?;
    Ok(copy)
}

fn failed(error: &FfiError) -> Response {
    Response::Failed {
        message: error.to_string(),
        log: Vec::new(),
    }
}

/// Answer one request; liblxc failures become [`Response::Failed`].
#[must_use]
pub fn handle(request: Request) -> Response {
    let result = match request {
        Request::Version => ffi::version().map(|version| Response::Version { version }),
        Request::List { lxcpath } => list(&lxcpath),
        Request::State { lxcpath, name } => state(&lxcpath, &name),
        Request::Define {
            lxcpath,
            name,
            items,
        } => define(&lxcpath, &name, &items),
        Request::CreateFromTemplate {
            lxcpath,
            name,
            template,
            args,
        } => create_from_template(&lxcpath, &name, &template, &args),
        Request::Start {
            lxcpath,
            name,
            use_init,
            argv,
        } => return start(&lxcpath, &name, use_init, argv.as_deref()),
        Request::Stop {
            lxcpath,
            name,
            timeout_seconds,
        } => stop(&lxcpath, &name, timeout_seconds),
        Request::Snapshot {
            lxcpath,
            name,
            comment,
        } => return snapshot(&lxcpath, &name, &comment),
        Request::Snapshots { lxcpath, name } => snapshots(&lxcpath, &name),
        Request::Destroy { lxcpath, name } => destroy(&lxcpath, &name),
    };
    result.unwrap_or_else(|error| failed(&error))
}

fn info(container: &Container) -> Result<ContainerInfo, FfiError> {
    Ok(ContainerInfo {
        name: container.name().to_owned(),
        state: container.state()?,
        init_pid: container.init_pid()?,
    })
}

fn list(lxcpath: &Path) -> Result<Response, FfiError> {
    let mut containers = Vec::new();
    for name in ffi::list_defined(lxcpath)? {
        let container = Container::open(lxcpath, &name)?;
        containers.push(info(&container)?);
    }
    Ok(Response::Containers { containers })
}

fn state(lxcpath: &Path, name: &str) -> Result<Response, FfiError> {
    let container = Container::open(lxcpath, name)?;
    let info = if container.is_defined()? {
        Some(info(&container)?)
    } else {
        None
    };
    Ok(Response::State { info })
}

fn define(lxcpath: &Path, name: &str, items: &[(String, String)]) -> Result<Response, FfiError> {
    let container = Container::open(lxcpath, name)?;
    if container.is_defined()? {
        return Err(FfiError::Failed {
            operation: "define",
            detail: format!("container `{name}` is already defined"),
        });
    }
    for (key, value) in items {
        container.set_config_item(key, value)?;
    }
    container.save_config()?;
    Ok(Response::Done)
}

fn create_from_template(
    lxcpath: &Path,
    name: &str,
    template: &str,
    args: &[String],
) -> Result<Response, FfiError> {
    let container = Container::open(lxcpath, name)?;
    if container.is_defined()? {
        return Err(FfiError::Failed {
            operation: "create",
            detail: format!("container `{name}` is already defined"),
        });
    }
    // Something set before create() keeps liblxc from loading the host's
    // default configuration (its network) into this container.
    container.set_config_item("lxc.uts.name", name)?;
    container.create(template, args)?;
    Ok(Response::Done)
}

/// The size of the container's log file now, to report only what a start adds.
fn log_offset(log: Option<&Path>) -> u64 {
    log.and_then(|path| std::fs::metadata(path).ok())
        .map_or(0, |metadata| metadata.len())
}

/// The lines written to `log` after `offset`: its errors when there are
/// any (liblxc also warns about harmless things), else its last lines.
fn log_since(log: Option<&Path>, offset: u64) -> Vec<String> {
    let Some(path) = log else {
        return Vec::new();
    };
    let mut text = String::new();
    let read = File::open(path).and_then(|mut file| {
        file.seek(SeekFrom::Start(offset))?;
        file.read_to_string(&mut text)
    });
    if read.is_err() {
        return Vec::new();
    }
    relevant_lines(&text)
}

/// The ERROR lines of a liblxc log excerpt, or its last lines when none.
fn relevant_lines(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    let errors: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|line| line.contains(" ERROR "))
        .collect();
    let chosen = if errors.is_empty() { lines } else { errors };
    let skip = chosen.len().saturating_sub(LOG_LINES);
    chosen.into_iter().skip(skip).map(str::to_owned).collect()
}

fn start(lxcpath: &Path, name: &str, use_init: bool, argv: Option<&[String]>) -> Response {
    let run = || -> Result<Response, (FfiError, Option<String>, u64)> {
        let container = Container::open(lxcpath, name).map_err(|e| (e, None, 0))?;
        if !container.is_defined().map_err(|e| (e, None, 0))? {
            return Err((
                FfiError::Failed {
                    operation: "start",
                    detail: format!("container `{name}` is not defined"),
                },
                None,
                0,
            ));
        }
        if container.is_running().map_err(|e| (e, None, 0))? {
            return Ok(Response::Done);
        }
        let log = container.config_item("lxc.log.file").ok().flatten();
        let offset = log_offset(log.as_deref().map(Path::new));
        container
            .start(use_init, argv)
            .map_err(|error| (error, log, offset))?;
        Ok(Response::Done)
    };
    match run() {
        Ok(response) => response,
        Err((error, log, offset)) => Response::Failed {
            message: error.to_string(),
            log: log_since(log.as_deref().map(Path::new), offset),
        },
    }
}

fn stop(lxcpath: &Path, name: &str, timeout_seconds: u32) -> Result<Response, FfiError> {
    let container = Container::open(lxcpath, name)?;
    if !container.is_defined()? || !container.is_running()? {
        return Ok(Response::Done);
    }
    let timeout = i32::try_from(timeout_seconds).unwrap_or(i32::MAX);
    if timeout > 0 && container.shutdown(timeout)? {
        return Ok(Response::Done);
    }
    if container.is_running()? {
        container.stop()?;
        if !container.wait("STOPPED", 30)? {
            return Err(FfiError::Failed {
                operation: "stop",
                detail: format!("container `{name}` did not stop within 30 s of being killed"),
            });
        }
    }
    Ok(Response::Done)
}

fn snapshot(lxcpath: &Path, name: &str, comment: &str) -> Response {
    let run = || -> Result<Response, FfiError> {
        let container = Container::open(lxcpath, name)?;
        let comment_file = tempfile::NamedTempFile::new().map_err(|error| FfiError::Failed {
            operation: "snapshot",
            detail: format!("cannot write the snapshot's comment file: {error}"),
        })?;
        std::io::Write::write_all(&mut comment_file.as_file(), comment.as_bytes()).map_err(
            |error| FfiError::Failed {
                operation: "snapshot",
                detail: format!("cannot write the snapshot's comment file: {error}"),
            },
        )?;
        let number = container.snapshot(comment_file.path())?;
        Ok(Response::Snapshot {
            name: format!("snap{number}"),
        })
    };
    run().unwrap_or_else(|error| failed(&error))
}

fn snapshots(lxcpath: &Path, name: &str) -> Result<Response, FfiError> {
    let container = Container::open(lxcpath, name)?;
    let snapshots = if container.is_defined()? {
        container
            .snapshots()?
            .into_iter()
            .map(|s| SnapshotInfo {
                name: s.name,
                timestamp: s.timestamp,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Response::Snapshots { snapshots })
}

fn destroy(lxcpath: &Path, name: &str) -> Result<Response, FfiError> {
    let container = Container::open(lxcpath, name)?;
    if !container.is_defined()? {
        return Ok(Response::Done);
    }
    container.destroy()?;
    Ok(Response::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_helper_refuses_to_serve_from_a_multithreaded_process() {
        // The test harness runs tests on threads: exactly what liblxc cannot bear.
        let _other = std::thread::spawn(|| std::thread::sleep(std::time::Duration::from_secs(1)));
        match serve() {
            Err(HelperError::Threads(count)) => assert!(count > 1),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_start_failure_reports_liblxc_s_errors_before_its_warnings() {
        let log = "\
lxc web 20261122 WARN     cgfsng - Ignoring cgroup2 limits on legacy cgroup system
lxc web 20261122 ERROR    start - start.c:start:2197 - No such file or directory - Failed to exec \"/nonexistent\"
lxc web 20261122 WARN     cgfsng - Failed to destroy 10(lxc.monitor.web)
lxc web 20261122 ERROR    start - start.c:__lxc_start:2107 - Failed to spawn container \"web\"
";
        let lines = relevant_lines(log);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains("Failed to exec"));
        assert!(lines[1].contains("Failed to spawn"));
        let warnings = relevant_lines("lxc web WARN one\n\nlxc web WARN two\n");
        assert_eq!(warnings, ["lxc web WARN one", "lxc web WARN two"]);
    }
}
