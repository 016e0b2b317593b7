//! Configuration → the desired containers (`ContainerSpec`), one per instance of
//! the container dynamic family (`containers.container_{{ identifier }}` in the
//! shipped dictionary). Pure. The types here are the contract between the
//! configuration side (dictionary, gen_config) and the runtimes (Docker, LXC,
//! Swarm, exports): engine types never appear in them.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// Which runtime runs a container (`technology` in the dictionary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Technology {
    Docker,
    Lxc,
}

/// Where the containers of technology `docker` run (`containers.engine`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// One Docker engine on this machine.
    #[default]
    Docker,
    /// Docker Swarm services (replicas, rolling updates).
    Swarm,
}

/// An image reference as declared: registry (empty = Docker Hub), repository, tag
/// (empty = `latest`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImageRef {
    /// `localhost:5000`, `registry.example.org`; `None` = Docker Hub.
    pub registry: Option<String>,
    /// `httpd`, `library/busybox`, `team/app`.
    pub repository: String,
    /// `2.4`; `latest` when not declared.
    pub tag: String,
}

/// Transport protocol of a published port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
}

/// A container port published on the host.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PortMapping {
    pub container_port: u16,
    pub host_port: u16,
    pub protocol: Protocol,
    /// The host address the port binds: 127.0.0.1 unless the publish policy says otherwise;
    /// `0.0.0.0` for all interfaces.
    pub host_ip: IpAddr,
}

/// A host directory bind-mounted into the container.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Mount {
    /// Absolute host path.
    pub host_dir: String,
    /// Absolute path inside the container.
    pub container_dir: String,
    pub read_only: bool,
}

/// Restart policy (`restart` in the dictionary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    No,
    OnFailure,
    Always,
    #[default]
    UnlessStopped,
}

/// A container health check run inside the container.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Healthcheck {
    /// Shell command; exit 0 = healthy.
    pub command: String,
    pub interval_seconds: u32,
}

/// Everything brise declares about one container. Built by `desired` from the
/// configuration; compared (through its spec hash) with what a runtime observes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerSpec {
    /// Container name (the `name` variable; default: the identifier).
    pub name: String,
    /// The dynamic family identifier (`containers.names` entry).
    pub identifier: String,
    /// 1-based position of the identifier in `containers.names`
    /// (`/etc/nginx/web.d/conteneurs<index>.conf`).
    pub index: usize,
    pub technology: Technology,
    pub image: ImageRef,
    pub ports: Vec<PortMapping>,
    pub mounts: Vec<Mount>,
    /// Environment variables, in declaration order.
    pub environment: Vec<(String, String)>,
    /// Command and arguments overriding the image's; `None` = the image's own.
    pub command: Option<Vec<String>>,
    pub restart: RestartPolicy,
    /// `true`: never removed by a plain reconfigure; recreating needs `--recreate`.
    pub persistent: bool,
    /// Run an init process as PID 1 (Docker's `init`).
    pub init: bool,
    /// Seconds given to stop before the container is killed.
    pub stop_timeout: u32,
    /// Names of containers that must be converged before this one.
    pub depends_on: Vec<String>,
    /// Reverse-proxy location (`/my-apache-app`); `None` when no host port.
    pub proxy_path: Option<String>,
    /// Networks allowed through the proxy; empty = everyone.
    pub allowed_networks: Vec<String>,
    pub healthcheck: Option<Healthcheck>,
    /// Swarm only: desired number of tasks.
    pub replicas: u32,
    /// Swarm only: placement constraints (`node.labels.site==lyon`).
    pub placement: Vec<String>,
    /// Content hash of every rendered file mounted into the container
    /// (so a changed configuration file recreates it); filled by reconfigure.
    pub rendered_hash: Option<String>,
}
