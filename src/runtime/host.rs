//! The host side of running containers, shared by every runtime: host ports
//! already bound by something brise does not manage (probed by binding, before
//! anything changes), `net.ipv4.ip_forward` through procfs (only when a port
//! is published), and the host directories of mounts (created when missing,
//! owned by root, mode 0755).

use std::collections::HashSet;
use std::fmt;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, UdpSocket};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;

use super::ObservedContainer;
use crate::containers::{ContainerSpec, Protocol};

/// procfs switch of IPv4 forwarding (published ports are forwarded into containers).
pub const IP_FORWARD: &str = "/proc/sys/net/ipv4/ip_forward";

#[derive(Debug, Error)]
pub enum HostError {
    #[error("cannot create host directory `{path}`: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("host directory `{path}` exists but is not a directory")]
    NotADirectory { path: PathBuf },
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot enable IPv4 forwarding through `{path}`: {source}")]
    EnableForwarding {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A declared host port that something brise does not manage already uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortInUse {
    pub container: String,
    pub address: SocketAddr,
    pub protocol: Protocol,
    pub detail: String,
}

impl fmt::Display for PortInUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let protocol = match self.protocol {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        };
        write!(
            f,
            "container `{}`: host port {} ({protocol}) is already in use by something brise does not manage: {}",
            self.container, self.address, self.detail
        )
    }
}

/// The declared host ports that are neither free nor published by a managed
/// container. Probes by binding the address (and releasing it at once), which
/// also catches a wildcard listener holding the port on every address.
#[must_use]
pub fn ports_in_use(desired: &[ContainerSpec], observed: &[ObservedContainer]) -> Vec<PortInUse> {
    let ours: HashSet<(u16, Protocol)> = observed
        .iter()
        .filter(|c| c.is_managed())
        .flat_map(|c| c.ports.iter().map(|p| (p.host_port, p.protocol)))
        .collect();
    let mut found = Vec::new();
    for spec in desired {
        for port in &spec.ports {
            if ours.contains(&(port.host_port, port.protocol)) {
                continue;
            }
            let address = SocketAddr::new(port.host_ip, port.host_port);
            if let Err(error) = probe(address, port.protocol) {
                found.push(PortInUse {
                    container: spec.name.clone(),
                    address,
                    protocol: port.protocol,
                    detail: error.to_string(),
                });
            }
        }
    }
    found
}

fn probe(address: SocketAddr, protocol: Protocol) -> std::io::Result<()> {
    match protocol {
        Protocol::Tcp => TcpListener::bind(address).map(drop),
        Protocol::Udp => UdpSocket::bind(address).map(drop),
    }
}

/// Whether forwarding is needed: some declared container publishes an IPv4
/// port (the engine forwards published ports into the container's network).
#[must_use]
pub fn needs_forwarding(desired: &[ContainerSpec]) -> bool {
    desired
        .iter()
        .flat_map(|s| &s.ports)
        .any(|p| matches!(p.host_ip, IpAddr::V4(_)))
}

/// Turn IPv4 forwarding on when it is off (procfs, no shell); whether it changed.
///
/// # Errors
/// The procfs file cannot be read or written (not root, read-only /proc).
pub fn enable_ip_forward(path: &Path) -> Result<bool, HostError> {
    let mut current = String::new();
    std::fs::File::open(path)
        .and_then(|mut file| file.read_to_string(&mut current))
        .map_err(|source| HostError::Read {
            path: path.to_owned(),
            source,
        })?;
    if current.trim() == "1" {
        return Ok(false);
    }
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|mut file| file.write_all(b"1\n"))
        .map_err(|source| HostError::EnableForwarding {
            path: path.to_owned(),
            source,
        })?;
    Ok(true)
}

/// Create the missing host directories of the spec's mounts (mode 0755; the
/// owner is the user brise runs as, root on a server).
///
/// # Errors
/// A directory cannot be created, or the path exists and is not a directory.
pub fn ensure_mount_dirs(spec: &ContainerSpec) -> Result<(), HostError> {
    for mount in &spec.mounts {
        let path = Path::new(&mount.host_dir);
        if path.is_dir() {
            continue;
        }
        if path.exists() {
            return Err(HostError::NotADirectory {
                path: path.to_owned(),
            });
        }
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(path)
            .map_err(|source| HostError::CreateDir {
                path: path.to_owned(),
                source,
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::containers::Mount;
    use crate::runtime::fake::{loopback_port, spec};
    use crate::runtime::{ContainerState, Labels};

    #[test]
    fn a_port_bound_by_another_program_is_reported() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut web = spec("web", "httpd:2.4");
        web.ports.push(loopback_port(80, port));
        let found = ports_in_use(&[web], &[]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].container, "web");
        assert!(
            found[0].to_string().starts_with(&format!(
                "container `web`: host port 127.0.0.1:{port} (tcp) is already in use"
            )),
            "{}",
            found[0]
        );
    }

    #[test]
    fn a_port_published_by_a_managed_container_is_not_a_conflict() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut web = spec("web", "httpd:2.4");
        web.ports.push(loopback_port(80, port));
        let observed = ObservedContainer {
            name: "web".to_owned(),
            id: "1".to_owned(),
            labels: Some(Labels::for_spec(&web, None)),
            image_id: None,
            state: ContainerState::Running,
            started_at: None,
            ports: web.ports.clone(),
        };
        assert!(ports_in_use(&[web], &[observed]).is_empty());
    }

    #[test]
    fn a_free_port_is_not_reported() {
        let port = {
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
            listener.local_addr().unwrap().port()
        };
        let mut web = spec("web", "httpd:2.4");
        web.ports.push(loopback_port(80, port));
        assert!(ports_in_use(&[web], &[]).is_empty());
    }

    #[test]
    fn missing_mount_directories_are_created_and_files_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut web = spec("web", "httpd:2.4");
        web.mounts.push(Mount {
            host_dir: dir.path().join("a/b").display().to_string(),
            container_dir: "/data".to_owned(),
            read_only: false,
        });
        ensure_mount_dirs(&web).unwrap();
        assert!(dir.path().join("a/b").is_dir());
        ensure_mount_dirs(&web).unwrap();

        std::fs::File::create(dir.path().join("file")).unwrap();
        web.mounts[0].host_dir = dir.path().join("file").display().to_string();
        let error = ensure_mount_dirs(&web).unwrap_err();
        assert!(
            error.to_string().ends_with("exists but is not a directory"),
            "{error}"
        );
    }

    #[test]
    fn ip_forward_is_written_only_when_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ip_forward");
        std::fs::File::create(&path)
            .unwrap()
            .write_all(b"0\n")
            .unwrap();
        assert!(enable_ip_forward(&path).unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "1\n");
        assert!(!enable_ip_forward(&path).unwrap());
    }

    #[test]
    fn forwarding_is_needed_only_with_published_ports() {
        let mut web = spec("web", "httpd:2.4");
        assert!(!needs_forwarding(std::slice::from_ref(&web)));
        web.ports.push(loopback_port(80, 8081));
        assert!(needs_forwarding(&[web]));
    }
}
