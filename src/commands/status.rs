//! `brise status`: whether the values differ from the last applied ones
//! (`values.applied.yml`), and the state of every container brise manages.
//! Reads only; changes nothing.

use anyhow::Context;
use serde::Serialize;

use crate::app::{Failure, Settings};
use crate::applied::{self, Drift};
use crate::cli::StatusArgs;
use crate::runtime::docker::endpoint_from;
use crate::runtime::engines::Engines;
use crate::runtime::swarm::{ServiceStatus, SwarmOptions, SwarmRuntime};
use crate::runtime::{EngineInfo, ObservedContainer, Runtime, RuntimeError};

/// What `status` reports.
#[derive(Debug, Serialize)]
pub struct Status {
    pub values: Drift,
    /// Every engine seen (Docker, LXC).
    pub engines: Vec<EngineInfo>,
    pub containers: Vec<ContainerStatus>,
    /// brise's Swarm services, when the engine is a Swarm manager.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<ServiceStatus>,
}

/// One managed container.
#[derive(Debug, Serialize)]
pub struct ContainerStatus {
    pub name: String,
    /// The engine running it (`docker`, `lxc`).
    pub engine: String,
    pub state: String,
    pub persistent: bool,
    pub image_id: Option<String>,
    pub ports: Vec<String>,
}

impl ContainerStatus {
    /// A managed container as engine `engine` reports it.
    #[must_use]
    pub fn new(engine: &str, container: &ObservedContainer) -> Self {
        Self {
            name: container.name.clone(),
            engine: engine.to_owned(),
            state: container.state.to_string(),
            persistent: container.labels.as_ref().is_some_and(|l| l.persistent),
            image_id: container.image_id.clone(),
            ports: container
                .ports
                .iter()
                .map(|p| format!("{}:{}->{}", p.host_ip, p.host_port, p.container_port))
                .collect(),
        }
    }
}

/// Gather the status from the values files and the engines.
///
/// # Errors
/// The records cannot be read, or an engine cannot be listed.
pub async fn status(settings: &Settings, engines: &[&dyn Runtime]) -> anyhow::Result<Status> {
    let values = applied::drift(&settings.values)?;
    let mut infos = Vec::new();
    let mut containers = Vec::new();
    for runtime in engines {
        infos.push(runtime.ping().await?);
        containers.extend(
            runtime
                .list_managed()
                .await?
                .iter()
                .map(|c| ContainerStatus::new(runtime.kind(), c)),
        );
    }
    containers.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Status {
        values,
        engines: infos,
        containers,
        services: Vec::new(),
    })
}

/// brise's services (replicas running and desired, update state, task
/// errors) when the engine at `endpoint` is a Swarm manager; none when it is
/// not, or when no Docker engine answers there (an LXC-only machine).
///
/// # Errors
/// The manager's services cannot be listed.
pub async fn swarm_services(endpoint: &str) -> anyhow::Result<Vec<ServiceStatus>> {
    match SwarmRuntime::connect_if_manager(endpoint, SwarmOptions::default()).await {
        Ok(Some(manager)) => Ok(manager.services_status().await?),
        Ok(None) | Err(RuntimeError::EngineUnreachable { .. }) => Ok(Vec::new()),
        Err(error) => Err(error.into()),
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.values {
            Drift::NeverApplied => writeln!(f, "values: never applied (run `reconfigure`)")?,
            Drift::Applied => writeln!(f, "values: applied")?,
            Drift::Changed => writeln!(
                f,
                "values: changed since the last successful reconfigure (run `reconfigure`)"
            )?,
        }
        if self.engines.is_empty() {
            writeln!(f, "engine: none found")?;
        }
        for engine in &self.engines {
            write!(f, "engine: {} {}", engine.kind, engine.version)?;
            if let Some(api) = &engine.api_version {
                write!(f, " (API {api})")?;
            }
            writeln!(f, " at {}", engine.endpoint)?;
        }
        if self.containers.is_empty() {
            writeln!(f, "containers: none")?;
        }
        for container in &self.containers {
            write!(
                f,
                "{:<24} {:<6} {}",
                container.name, container.engine, container.state
            )?;
            if container.persistent {
                f.write_str(", persistent")?;
            }
            if !container.ports.is_empty() {
                write!(f, ", {}", container.ports.join(" "))?;
            }
            writeln!(f)?;
        }
        if !self.services.is_empty() {
            writeln!(f, "swarm services:")?;
            for service in &self.services {
                writeln!(f, "{service}")?;
            }
        }
        Ok(())
    }
}

pub fn run(settings: &Settings, args: &StatusArgs) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .map_err(Failure::system)?;
    let status = runtime
        .block_on(async {
            let engines = Engines::connect(&[]).await?;
            let list: Vec<&dyn Runtime> = engines.list().into_iter().map(|(_, e)| e).collect();
            let mut status = status(settings, &list).await?;
            let endpoint = endpoint_from(std::env::var("DOCKER_HOST").ok().as_deref());
            status.services = swarm_services(&endpoint).await?;
            anyhow::Ok(status)
        })
        .map_err(Failure::system)?;
    let text = if args.json {
        serde_json::to_string_pretty(&status)
            .context("cannot print the status as JSON")
            .map_err(Failure::system)?
    } else {
        status.to_string().trim_end().to_owned()
    };
    #[allow(clippy::print_stdout)]
    {
        println!("{text}");
    }
    Ok(())
}
