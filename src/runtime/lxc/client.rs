//! brise's side of the helper protocol: a pool of `brise lxc-helper`
//! processes, each serving one call at a time (several calls run in parallel
//! in several helpers; liblxc's locks work between processes). A call has a
//! timeout: a helper that does not answer in time is killed by its PID and
//! reported; a helper that dies is reported with its exit status and the end
//! of its standard error. Never hangs, never panics.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use thiserror::Error;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::task::JoinHandle;

use super::protocol::{self, ProtocolError, Request, Response};

/// Lines of the helper's standard error kept for error reports.
const STDERR_LINES: usize = 40;
/// How long a dead helper's standard error may take to drain.
const DRAIN: Duration = Duration::from_secs(2);

/// The program (and arguments) that serves the protocol: normally the brise
/// binary with `lxc-helper`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
}

impl HelperCommand {
    /// `PROGRAM lxc-helper`.
    #[must_use]
    pub fn brise(program: PathBuf) -> Self {
        Self {
            program,
            args: vec![OsString::from("lxc-helper")],
        }
    }
}

#[derive(Debug, Error)]
pub enum ClientError {
    #[error("cannot start the lxc helper `{program}`: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("the lxc helper (pid {pid}) ended during `{op}` ({status}){}", stderr_suffix(.stderr))]
    Crashed {
        op: &'static str,
        pid: u32,
        status: String,
        stderr: String,
    },
    #[error(
        "the lxc helper (pid {pid}) did not answer `{op}` within {seconds} s and was killed{}",
        stderr_suffix(.stderr)
    )]
    TimedOut {
        op: &'static str,
        pid: u32,
        seconds: u64,
        stderr: String,
    },
    #[error("the lxc helper (pid {pid}) broke the protocol during `{op}`: {source}{}", stderr_suffix(.stderr))]
    Protocol {
        op: &'static str,
        pid: u32,
        source: ProtocolError,
        stderr: String,
    },
}

fn stderr_suffix(stderr: &str) -> String {
    let trimmed = stderr.trim();
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("; its standard error: {trimmed}")
    }
}

type Tail = Arc<Mutex<VecDeque<String>>>;

/// One running helper process.
#[derive(Debug)]
struct Helper {
    child: Child,
    pid: u32,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    stderr: Tail,
    stderr_task: JoinHandle<()>,
}

enum Exchange {
    /// The helper closed its standard output.
    Eof,
    Io(ProtocolError),
    Malformed(ProtocolError),
}

impl Helper {
    fn spawn(command: &HelperCommand) -> Result<Self, ClientError> {
        let spawn_error = |source| ClientError::Spawn {
            program: command.program.display().to_string(),
            source,
        };
        // The helper is brise itself speaking a pipe protocol, which
        // crate::command (run to completion, capture output) cannot express.
        #[allow(clippy::disallowed_methods)]
        let mut child = tokio::process::Command::new(&command.program)
            .args(&command.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(spawn_error)?;
        let missing = || spawn_error(std::io::Error::other("a standard stream was not piped"));
        let pid = child.id().unwrap_or(0);
        let stdin = child.stdin.take().ok_or_else(missing)?;
        let stdout = child.stdout.take().ok_or_else(missing)?;
        let stderr = child.stderr.take().ok_or_else(missing)?;
        let tail: Tail = Arc::new(Mutex::new(VecDeque::new()));
        let sink = Arc::clone(&tail);
        let stderr_task = tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut tail = sink.lock().unwrap_or_else(PoisonError::into_inner);
                if tail.len() == STDERR_LINES {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        });
        Ok(Self {
            child,
            pid,
            stdin,
            stdout: BufReader::new(stdout),
            stderr: tail,
            stderr_task,
        })
    }

    fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn clear_stderr(&self) {
        self.stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn stderr_text(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }

    async fn exchange(&mut self, request: &Request) -> Result<Response, Exchange> {
        let line = protocol::encode(request).map_err(Exchange::Io)?;
        if let Err(error) = self.stdin.write_all(&line).await {
            return Err(if error.kind() == std::io::ErrorKind::BrokenPipe {
                Exchange::Eof
            } else {
                Exchange::Io(ProtocolError::Write(error))
            });
        }
        self.stdin
            .flush()
            .await
            .map_err(|error| Exchange::Io(ProtocolError::Write(error)))?;
        let mut answer = String::new();
        let read = self
            .stdout
            .read_line(&mut answer)
            .await
            .map_err(|error| Exchange::Io(ProtocolError::Read(error)))?;
        if read == 0 {
            return Err(Exchange::Eof);
        }
        protocol::decode(&answer).map_err(Exchange::Malformed)
    }

    /// Kill (by PID, SIGKILL), reap, and let standard error drain.
    async fn kill(mut self) -> (String, String) {
        // An error means it has already exited: reaping below still works.
        let _ = self.child.start_kill();
        let status = self.reap().await;
        (status, self.drained_stderr().await)
    }

    async fn reap(&mut self) -> String {
        match tokio::time::timeout(DRAIN, self.child.wait()).await {
            Ok(Ok(status)) => status.to_string(),
            Ok(Err(error)) => format!("cannot wait for it: {error}"),
            Err(_) => {
                let _ = self.child.start_kill();
                match self.child.wait().await {
                    Ok(status) => format!("killed after closing its output: {status}"),
                    Err(error) => format!("cannot wait for it: {error}"),
                }
            }
        }
    }

    async fn drained_stderr(self) -> String {
        let Self {
            stderr,
            mut stderr_task,
            ..
        } = self;
        // The reader ends at end of file; a descendant holding the pipe open
        // must not make us wait.
        if tokio::time::timeout(DRAIN, &mut stderr_task).await.is_err() {
            stderr_task.abort();
        }
        stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Helper processes ready to serve a call.
#[derive(Debug)]
pub struct HelperPool {
    command: HelperCommand,
    idle: Mutex<Vec<Helper>>,
}

impl HelperPool {
    #[must_use]
    pub fn new(command: HelperCommand) -> Self {
        Self {
            command,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn take_idle(&self) -> Option<Helper> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(mut helper) = idle.pop() {
            if helper.is_alive() {
                return Some(helper);
            }
        }
        None
    }

    fn put_back(&self, helper: Helper) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(helper);
    }

    /// Send `request` to a helper and wait up to `timeout` for its answer.
    ///
    /// # Errors
    /// The helper cannot be started, dies, breaks the protocol or is too slow
    /// (then it is killed).
    pub async fn call(
        &self,
        request: &Request,
        timeout: Duration,
    ) -> Result<Response, ClientError> {
        let mut helper = match self.take_idle() {
            Some(helper) => helper,
            None => Helper::spawn(&self.command)?,
        };
        helper.clear_stderr();
        let op = request.op();
        let pid = helper.pid;
        match tokio::time::timeout(timeout, helper.exchange(request)).await {
            Ok(Ok(response)) => {
                self.put_back(helper);
                Ok(response)
            }
            Ok(Err(Exchange::Eof)) => {
                let status = helper.reap().await;
                let stderr = helper.drained_stderr().await;
                Err(ClientError::Crashed {
                    op,
                    pid,
                    status,
                    stderr,
                })
            }
            Ok(Err(Exchange::Io(source) | Exchange::Malformed(source))) => {
                let (_, stderr) = helper.kill().await;
                Err(ClientError::Protocol {
                    op,
                    pid,
                    source,
                    stderr,
                })
            }
            Err(_elapsed) => {
                let (_, stderr) = helper.kill().await;
                Err(ClientError::TimedOut {
                    op,
                    pid,
                    seconds: timeout.as_secs(),
                    stderr,
                })
            }
        }
    }

    /// How many helpers wait idle (for tests).
    #[must_use]
    pub fn idle_count(&self) -> usize {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The standard error a helper printed so far, when one is idle (for tests).
    #[must_use]
    pub fn idle_stderr(&self) -> Option<String> {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .last()
            .map(Helper::stderr_text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(script: &str) -> HelperPool {
        HelperPool::new(HelperCommand {
            program: PathBuf::from("/bin/sh"),
            args: vec![OsString::from("-c"), OsString::from(script)],
        })
    }

    #[tokio::test]
    async fn a_helper_that_dies_is_an_error_with_its_status_and_stderr() {
        let pool = shell("read line; echo 'liblxc exploded' >&2; exit 7");
        let error = pool
            .call(&Request::Version, Duration::from_secs(30))
            .await
            .unwrap_err();
        let text = error.to_string();
        assert!(matches!(error, ClientError::Crashed { .. }), "{text}");
        assert!(text.contains("ended during `version`"), "{text}");
        assert!(text.contains("exit status: 7"), "{text}");
        assert!(text.contains("liblxc exploded"), "{text}");
        assert_eq!(pool.idle_count(), 0);
    }

    #[tokio::test]
    async fn a_helper_that_does_not_answer_is_killed_and_reported() {
        let pool = shell("echo 'stuck in liblxc' >&2; exec sleep 1000");
        let error = pool
            .call(&Request::Version, Duration::from_millis(500))
            .await
            .unwrap_err();
        let ClientError::TimedOut {
            pid, ref stderr, ..
        } = error
        else {
            panic!("{error}");
        };
        assert!(stderr.contains("stuck in liblxc"), "{error}");
        // Killed and reaped: no process of ours runs under that PID any more.
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&cmdline).contains("sleep\u{0}1000"),
            "the helper {pid} still runs"
        );
    }

    #[tokio::test]
    async fn garbage_on_the_pipe_is_a_protocol_error() {
        let pool = shell("read line; echo 'this is not json'; sleep 5");
        let error = pool
            .call(&Request::Version, Duration::from_secs(30))
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains(
                "broke the protocol during `version`: malformed message `this is not json`"
            ),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_missing_program_cannot_be_started() {
        let pool = HelperPool::new(HelperCommand::brise(PathBuf::from(
            "/nonexistent/brise-t-lxc",
        )));
        let error = pool
            .call(&Request::Version, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("cannot start the lxc helper `/nonexistent/brise-t-lxc`"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_helper_answers_several_calls_and_is_reused() {
        let pool =
            shell(r#"while read line; do echo '{"result":"version","version":"5.0.2"}'; done"#);
        for _ in 0..3 {
            let response = pool
                .call(&Request::Version, Duration::from_secs(30))
                .await
                .unwrap();
            assert_eq!(
                response,
                Response::Version {
                    version: "5.0.2".to_owned()
                }
            );
            assert_eq!(pool.idle_count(), 1);
        }
    }
}
