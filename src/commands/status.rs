//! `brise status`: whether the values differ from the last applied ones
//! (`values.applied.yml`), and the state of every container brise manages.
//! Reads only; changes nothing.

use anyhow::Context;
use serde::Serialize;

use crate::app::{Failure, Settings};
use crate::applied::{self, Drift};
use crate::cli::StatusArgs;
use crate::runtime::docker::{DockerRuntime, endpoint_from};
use crate::runtime::{EngineInfo, ObservedContainer, Runtime};

/// What `status` reports.
#[derive(Debug, Serialize)]
pub struct Status {
    pub values: Drift,
    pub engine: EngineInfo,
    pub containers: Vec<ContainerStatus>,
}

/// One managed container.
#[derive(Debug, Serialize)]
pub struct ContainerStatus {
    pub name: String,
    pub state: String,
    pub persistent: bool,
    pub image_id: Option<String>,
    pub ports: Vec<String>,
}

impl From<&ObservedContainer> for ContainerStatus {
    fn from(container: &ObservedContainer) -> Self {
        Self {
            name: container.name.clone(),
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

/// Gather the status from the values files and an engine.
///
/// # Errors
/// The records cannot be read, or the engine cannot be listed.
pub async fn status(settings: &Settings, runtime: &dyn Runtime) -> anyhow::Result<Status> {
    let values = applied::drift(&settings.values)?;
    let engine = runtime.ping().await?;
    let mut containers: Vec<ContainerStatus> = runtime
        .list_managed()
        .await?
        .iter()
        .map(ContainerStatus::from)
        .collect();
    containers.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Status {
        values,
        engine,
        containers,
    })
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
        writeln!(
            f,
            "engine: {} {} (API {}) at {}",
            self.engine.kind,
            self.engine.version,
            self.engine.api_version.as_deref().unwrap_or("?"),
            self.engine.endpoint
        )?;
        if self.containers.is_empty() {
            writeln!(f, "containers: none")?;
        }
        for container in &self.containers {
            write!(f, "{:<24} {}", container.name, container.state)?;
            if container.persistent {
                f.write_str(", persistent")?;
            }
            if !container.ports.is_empty() {
                write!(f, ", {}", container.ports.join(" "))?;
            }
            writeln!(f)?;
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
            let endpoint = endpoint_from(std::env::var("DOCKER_HOST").ok().as_deref());
            let docker = DockerRuntime::connect(&endpoint).await?;
            status(settings, &docker).await
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
