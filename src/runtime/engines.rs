//! The real engines of this machine, connected as the declared containers
//! need them: Docker when a container declares `technology: docker` (or when
//! a Docker engine answers, so that its undeclared brise containers are
//! still seen), LXC when one declares `technology: lxc` (or when LXC is
//! installed). [`Engines::routed`] puts them behind one [`Runtime`] for the
//! planner. Connecting is the only I/O here; the LXC helper starts lazily.

use std::path::Path;

use super::docker::{DEFAULT_SOCKET, DockerRuntime, endpoint_from};
use super::lxc::{DEFAULT_LXCPATH, LxcConfig, LxcRuntime};
use super::routed::RoutedRuntime;
use super::swarm::{SwarmOptions, SwarmRuntime};
use super::{Runtime, RuntimeError};
use crate::containers::{ContainerSpec, Technology};

/// Something accepts connections on the Unix socket `path`.
fn answers(path: &Path) -> bool {
    std::os::unix::net::UnixStream::connect(path).is_ok()
}

/// The engines one run works with.
#[derive(Debug)]
pub struct Engines {
    docker: Option<DockerRuntime>,
    lxc: Option<LxcRuntime>,
    /// With `containers.engine: swarm`: runs the `technology: docker`
    /// containers as services, in the place of `docker`.
    swarm: Option<SwarmRuntime>,
}

impl Engines {
    /// Connect the engines `desired` needs, and the others this machine has.
    ///
    /// # Errors
    /// A needed engine cannot be reached (Docker) or the brise program cannot
    /// be found to serve as the LXC helper.
    pub async fn connect(desired: &[ContainerSpec]) -> Result<Self, RuntimeError> {
        let wants = |technology| desired.iter().any(|s| s.technology == technology);
        let docker_host = std::env::var("DOCKER_HOST").ok();
        let endpoint = endpoint_from(docker_host.as_deref());
        let docker = if wants(Technology::Docker) {
            // Needed: start the Docker service when the local socket does not answer.
            Some(DockerRuntime::connect_or_start(&endpoint).await?)
        } else if docker_host.is_some() || answers(Path::new(DEFAULT_SOCKET)) {
            // Not needed: only to see (and remove) brise's undeclared
            // containers, so never by starting a stopped Docker service.
            DockerRuntime::connect(&endpoint).await.ok()
        } else {
            None
        };
        let lxc = if wants(Technology::Lxc) || Path::new(DEFAULT_LXCPATH).is_dir() {
            let program =
                std::env::current_exe().map_err(|error| RuntimeError::EngineUnreachable {
                    kind: "lxc".to_owned(),
                    endpoint: DEFAULT_LXCPATH.to_owned(),
                    detail: format!("cannot find the brise program to run the lxc helper: {error}"),
                })?;
            Some(LxcRuntime::new(LxcConfig::system(program)))
        } else {
            None
        };
        Ok(Self {
            docker,
            lxc,
            swarm: None,
        })
    }

    /// Like [`Engines::connect`], with the Docker containers run as Swarm
    /// services by the manager at `DOCKER_HOST` (the local engine by default).
    ///
    /// # Errors
    /// The engine is not a Swarm manager, or the LXC helper cannot be found.
    pub async fn connect_swarm(
        desired: &[ContainerSpec],
        options: SwarmOptions,
    ) -> Result<Self, RuntimeError> {
        let endpoint = endpoint_from(std::env::var("DOCKER_HOST").ok().as_deref());
        let swarm = SwarmRuntime::connect(&endpoint, options).await?;
        let lxc_only: Vec<ContainerSpec> = desired
            .iter()
            .filter(|spec| spec.technology == Technology::Lxc)
            .cloned()
            .collect();
        let mut engines = Self::connect(&lxc_only).await?;
        // The plain Docker engine's brise containers are not this run's
        // (see docs/scale-out.md on switching engines).
        engines.docker = None;
        engines.swarm = Some(swarm);
        Ok(engines)
    }

    /// From engines built by the caller (tests).
    #[must_use]
    pub fn from_parts(docker: Option<DockerRuntime>, lxc: Option<LxcRuntime>) -> Self {
        Self {
            docker,
            lxc,
            swarm: None,
        }
    }

    /// Every connected engine with its technology, Docker first.
    #[must_use]
    pub fn list(&self) -> Vec<(Technology, &dyn Runtime)> {
        let mut engines: Vec<(Technology, &dyn Runtime)> = Vec::new();
        if let Some(swarm) = &self.swarm {
            engines.push((Technology::Docker, swarm));
        } else if let Some(docker) = &self.docker {
            engines.push((Technology::Docker, docker));
        }
        if let Some(lxc) = &self.lxc {
            engines.push((Technology::Lxc, lxc));
        }
        engines
    }

    /// All of them behind one runtime, routed for `desired`.
    #[must_use]
    pub fn routed(&self, desired: &[ContainerSpec]) -> RoutedRuntime<'_> {
        RoutedRuntime::new(self.list(), desired)
    }
}
