//! The typed pipe protocol between brise and its liblxc helper process: one
//! [`Request`] per line from brise, one [`Response`] per line back, both JSON
//! (serde_json's compact form never contains a raw newline). Pure framing over
//! `BufRead`/`Write`; what each request does is the helper's business.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One liblxc operation on one container (or on an LXC path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Request {
    /// liblxc's version.
    Version,
    /// Every container defined under `lxcpath`, with its state.
    List { lxcpath: PathBuf },
    /// One container's state; `None` when it is not defined.
    State { lxcpath: PathBuf, name: String },
    /// Write the configuration of a container that is not defined yet, from
    /// these items only (no `/etc/lxc/default.conf`).
    Define {
        lxcpath: PathBuf,
        name: String,
        items: Vec<(String, String)>,
    },
    /// Create a container with an LXC template (`lxc-create -t TEMPLATE -B dir`).
    CreateFromTemplate {
        lxcpath: PathBuf,
        name: String,
        template: String,
        args: Vec<String>,
    },
    /// Start a defined container in the background; with `use_init`, liblxc's
    /// own init runs as PID 1 and starts `argv` (application containers).
    Start {
        lxcpath: PathBuf,
        name: String,
        use_init: bool,
        argv: Option<Vec<String>>,
    },
    /// Ask the container to stop (its halt signal), kill it after `timeout_seconds`.
    Stop {
        lxcpath: PathBuf,
        name: String,
        timeout_seconds: u32,
    },
    /// Snapshot a stopped container (`lxc-snapshot`), with a comment.
    Snapshot {
        lxcpath: PathBuf,
        name: String,
        comment: String,
    },
    /// The container's snapshots.
    Snapshots { lxcpath: PathBuf, name: String },
    /// Destroy a stopped container: configuration and root filesystem.
    Destroy { lxcpath: PathBuf, name: String },
}

impl Request {
    /// The operation's name, for messages.
    #[must_use]
    pub fn op(&self) -> &'static str {
        match self {
            Self::Version => "version",
            Self::List { .. } => "list",
            Self::State { .. } => "state",
            Self::Define { .. } => "define",
            Self::CreateFromTemplate { .. } => "create-from-template",
            Self::Start { .. } => "start",
            Self::Stop { .. } => "stop",
            Self::Snapshot { .. } => "snapshot",
            Self::Snapshots { .. } => "snapshots",
            Self::Destroy { .. } => "destroy",
        }
    }
}

/// A container's state as liblxc names it (`RUNNING`, `STOPPED`, …) and the
/// PID of its init when it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerInfo {
    pub name: String,
    pub state: String,
    pub init_pid: Option<i32>,
}

/// One snapshot of a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    /// `snap0`, `snap1`, …
    pub name: String,
    /// When it was taken (liblxc's `YYYY:MM:DD HH:MM:SS`).
    pub timestamp: String,
}

/// The helper's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Response {
    /// Done, nothing to return.
    Done,
    Version {
        version: String,
    },
    Containers {
        containers: Vec<ContainerInfo>,
    },
    State {
        info: Option<ContainerInfo>,
    },
    /// The snapshot just taken.
    Snapshot {
        name: String,
    },
    Snapshots {
        snapshots: Vec<SnapshotInfo>,
    },
    /// liblxc said no: its message and the lines it wrote to the container's
    /// log meanwhile.
    Failed {
        message: String,
        log: Vec<String>,
    },
}

#[derive(Debug, Error)]
pub enum ProtocolError {
    #[error("cannot read from the pipe: {0}")]
    Read(std::io::Error),
    #[error("cannot write to the pipe: {0}")]
    Write(std::io::Error),
    #[error("malformed message `{line}`: {source}")]
    Malformed {
        line: String,
        source: serde_json::Error,
    },
    #[error("cannot encode a message: {0}")]
    Encode(serde_json::Error),
}

/// Write one message as one line and flush.
///
/// # Errors
/// The message cannot be encoded or the pipe is closed.
pub fn write_message<T: Serialize>(
    writer: &mut impl Write,
    message: &T,
) -> Result<(), ProtocolError> {
    let mut line = serde_json::to_vec(message).map_err(ProtocolError::Encode)?;
    line.push(b'\n');
    writer.write_all(&line).map_err(ProtocolError::Write)?;
    writer.flush().map_err(ProtocolError::Write)
}

/// Encode one message as one line (with its newline), for async writers.
///
/// # Errors
/// The message cannot be encoded.
pub fn encode<T: Serialize>(message: &T) -> Result<Vec<u8>, ProtocolError> {
    let mut line = serde_json::to_vec(message).map_err(ProtocolError::Encode)?;
    line.push(b'\n');
    Ok(line)
}

/// Decode one line (with or without its newline).
///
/// # Errors
/// The line is not a message of type `T`.
pub fn decode<T: for<'de> Deserialize<'de>>(line: &str) -> Result<T, ProtocolError> {
    serde_json::from_str(line.trim_end()).map_err(|source| ProtocolError::Malformed {
        line: line.trim_end().chars().take(200).collect(),
        source,
    })
}

/// Read the next message; `None` at end of input.
///
/// # Errors
/// The pipe fails or the line is not a message of type `T`.
pub fn read_message<T: for<'de> Deserialize<'de>>(
    reader: &mut impl BufRead,
) -> Result<Option<T>, ProtocolError> {
    let mut line = String::new();
    let read = reader.read_line(&mut line).map_err(ProtocolError::Read)?;
    if read == 0 {
        return Ok(None);
    }
    decode(&line).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_responses_round_trip_one_per_line() {
        let requests = vec![
            Request::Version,
            Request::Define {
                lxcpath: PathBuf::from("/var/lib/lxc"),
                name: "web".to_owned(),
                items: vec![("lxc.environment".to_owned(), "A=line one\nB".to_owned())],
            },
            Request::Start {
                lxcpath: PathBuf::from("/var/lib/lxc"),
                name: "web".to_owned(),
                use_init: true,
                argv: Some(vec!["/bin/httpd".to_owned(), "-f".to_owned()]),
            },
        ];
        let mut pipe = Vec::new();
        for request in &requests {
            write_message(&mut pipe, request).unwrap();
        }
        assert_eq!(pipe.iter().filter(|b| **b == b'\n').count(), requests.len());
        let mut reader = std::io::Cursor::new(pipe);
        let mut read = Vec::new();
        while let Some(request) = read_message::<Request>(&mut reader).unwrap() {
            read.push(request);
        }
        assert_eq!(read, requests);
    }

    #[test]
    fn a_failure_carries_the_liblxc_log_lines() {
        let response = Response::Failed {
            message: "liblxc could not start the container".to_owned(),
            log: vec!["ERROR start - Failed to exec \"/sbin/init\"".to_owned()],
        };
        let line = String::from_utf8(encode(&response).unwrap()).unwrap();
        assert!(line.starts_with(r#"{"result":"failed""#), "{line}");
        assert_eq!(decode::<Response>(&line).unwrap(), response);
    }

    #[test]
    fn a_malformed_line_is_an_error_naming_it() {
        let error = decode::<Response>("not json\n").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("malformed message `not json`"),
            "{error}"
        );
    }

    #[test]
    fn end_of_input_is_none() {
        let mut empty = std::io::Cursor::new(Vec::new());
        assert!(read_message::<Request>(&mut empty).unwrap().is_none());
    }
}
