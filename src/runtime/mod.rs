//! The container engines behind one trait: Docker (bollard), LXC (liblxc in a
//! helper process), Swarm, and an in-memory fake for planner tests. A runtime
//! takes engine-neutral [`ContainerSpec`]s and returns [`ObservedContainer`]s;
//! engine types (bollard models, liblxc handles) never cross the trait, and a
//! runtime never touches an object that does not carry brise's labels.

pub mod docker;
pub mod engines;
pub mod fake;
pub mod host;
pub mod labels;
pub mod lxc;
pub mod routed;
pub mod swarm;

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::containers::{ContainerSpec, ImageRef, PortMapping};

pub use labels::Labels;

/// What the engine says about itself (for logs and `brise status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineInfo {
    /// `docker`, `lxc`, `swarm`, `fake`.
    pub kind: String,
    /// The engine's own version (`20.10.24+dfsg1`).
    pub version: String,
    /// The API version the client speaks to it after negotiation (`1.41`), if any.
    pub api_version: Option<String>,
    /// Where it was reached (`unix:///var/run/docker.sock`).
    pub endpoint: String,
}

/// The life-cycle state of an observed container, as far as reconciling cares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum ContainerState {
    /// Created but never started.
    Created,
    Running,
    /// The engine is restarting it (its restart policy); left to the engine.
    Restarting,
    Paused,
    /// Stopped; `code` is the exit status of its main process.
    Exited {
        code: i64,
    },
    /// Cannot be started again, only removed.
    Dead,
    /// Stopped, and the engine does not know how its main process ended
    /// (LXC keeps no exit status once a container has stopped).
    Stopped,
}

impl ContainerState {
    /// Running, or about to run again without brise's help.
    #[must_use]
    pub fn is_up(&self) -> bool {
        match self {
            Self::Running | Self::Restarting | Self::Paused => true,
            Self::Created | Self::Exited { .. } | Self::Dead | Self::Stopped => false,
        }
    }
}

impl fmt::Display for ContainerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Created => f.write_str("created"),
            Self::Running => f.write_str("running"),
            Self::Restarting => f.write_str("restarting"),
            Self::Paused => f.write_str("paused"),
            Self::Exited { code } => write!(f, "exited with status {code}"),
            Self::Dead => f.write_str("dead"),
            Self::Stopped => f.write_str("stopped"),
        }
    }
}

/// A container as an engine reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedContainer {
    pub name: String,
    /// The engine's id (Docker container id, LXC name, Swarm service id).
    pub id: String,
    /// brise's labels, `None` when the object does not carry `brise.managed=true`
    /// (a foreign object brise must never touch).
    pub labels: Option<Labels>,
    /// The image the container actually runs (Docker image id `sha256:…`), if known.
    pub image_id: Option<String>,
    pub state: ContainerState,
    /// When its main process last started (engine's RFC 3339 text), if known.
    pub started_at: Option<String>,
    /// Host ports it publishes (so brise does not mistake them for foreign listeners).
    pub ports: Vec<PortMapping>,
}

impl ObservedContainer {
    /// Carries `brise.managed=true`.
    #[must_use]
    pub fn is_managed(&self) -> bool {
        self.labels.is_some()
    }
}

/// One progress message of an image pull (one layer, or the whole image).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullEvent {
    /// The image reference being pulled (`localhost:5000/brise-demo/httpd:2.4`).
    pub image: String,
    /// The layer, when the message is about one.
    pub layer: Option<String>,
    /// `Downloading`, `Pull complete`, `Status: Image is up to date …`.
    pub status: String,
    /// Bytes done and total, when the engine says.
    pub current: Option<u64>,
    pub total: Option<u64>,
}

/// Receives pull progress (a terminal progress bar, a log, the web form's stream).
pub trait PullProgress: Send + Sync {
    fn pull_event(&self, event: &PullEvent);
}

/// Ignores progress.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl PullProgress for NoProgress {
    fn pull_event(&self, _event: &PullEvent) {}
}

/// The step of a container's convergence that failed (named in errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Inspect,
    Pull,
    PrepareHost,
    Backup,
    Create,
    Start,
    Stop,
    Remove,
    Update,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Inspect => "inspect",
            Self::Pull => "pull",
            Self::PrepareHost => "prepare host",
            Self::Backup => "backup",
            Self::Create => "create",
            Self::Start => "start",
            Self::Stop => "stop",
            Self::Remove => "remove",
            Self::Update => "update",
        })
    }
}

/// What went wrong talking to an engine.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum RuntimeError {
    /// No engine answers at the endpoint (daemon stopped, socket missing).
    #[error("cannot reach the {kind} engine at `{endpoint}`: {detail}")]
    EngineUnreachable {
        kind: String,
        endpoint: String,
        detail: String,
    },
    /// Listing the engine's objects failed.
    #[error("cannot list the {kind} engine's containers: {detail}")]
    List { kind: String, detail: String },
    /// An image could not be pulled; nothing was changed because of it.
    #[error("cannot pull image `{image}` from {registry}: {detail}")]
    Pull {
        image: String,
        /// `registry `localhost:5000`` or `Docker Hub`.
        registry: String,
        detail: String,
    },
    /// An object with a managed name exists but does not carry brise's labels.
    #[error(
        "a container named `{name}` exists but brise does not manage it (no `brise.managed` label): \
         rename or remove it, or rename the container in the configuration"
    )]
    Foreign { name: String },
    /// One step of one container failed.
    #[error("container `{name}`: {step} failed: {detail}")]
    Container {
        name: String,
        step: Step,
        detail: String,
    },
}

impl RuntimeError {
    /// `Container { name, step, detail }` from anything displayable.
    #[must_use]
    pub fn container(name: &str, step: Step, detail: impl fmt::Display) -> Self {
        Self::Container {
            name: name.to_owned(),
            step,
            detail: detail.to_string(),
        }
    }
}

/// How a recreate went: the backup it kept, if one was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Recreated {
    /// Name of the backup (Docker image `brise-backup/NAME:STAMP`, LXC snapshot).
    pub backup: Option<String>,
}

/// A container engine. Every method touches only objects carrying brise's
/// labels, except [`Runtime::inspect`], which reports foreign objects (with
/// `labels: None`) so that a name clash is a clear error.
///
/// Implementations: `docker::DockerRuntime`, `fake::FakeRuntime`, and the LXC
/// and Swarm runtimes. A Swarm runtime maps "create" to creating a service and
/// overrides [`Runtime::recreate`] with a rolling update.
#[async_trait]
pub trait Runtime: Send + Sync + fmt::Debug {
    /// `docker`, `lxc`, `swarm`, `fake` (used in messages).
    fn kind(&self) -> &'static str;

    /// Check that the engine answers; its version.
    async fn ping(&self) -> Result<EngineInfo, RuntimeError>;

    /// Every object carrying `brise.managed=true`.
    async fn list_managed(&self) -> Result<Vec<ObservedContainer>, RuntimeError>;

    /// The object with this name, managed or not; `None` when there is none.
    async fn inspect(&self, name: &str) -> Result<Option<ObservedContainer>, RuntimeError>;

    /// The id of the image already present locally for this reference, without
    /// contacting any registry (`--dry-run`); `None` when it is not present.
    async fn local_image(&self, image: &ImageRef) -> Result<Option<String>, RuntimeError>;

    /// Pull the image from its registry, reporting progress; its id afterwards.
    async fn pull(
        &self,
        image: &ImageRef,
        progress: &dyn PullProgress,
    ) -> Result<String, RuntimeError>;

    /// Create (not start) the container of `spec`, carrying `labels`; its id.
    /// Host directories of its mounts are expected to exist already.
    async fn create(&self, spec: &ContainerSpec, labels: &Labels) -> Result<String, RuntimeError>;

    /// Start a managed container (nothing when it already runs).
    async fn start(&self, name: &str) -> Result<(), RuntimeError>;

    /// Stop a managed container, killing it after `timeout_seconds` (nothing when stopped).
    async fn stop(&self, name: &str, timeout_seconds: u32) -> Result<(), RuntimeError>;

    /// Remove a managed container (stopped or not).
    async fn remove(&self, name: &str) -> Result<(), RuntimeError>;

    /// Save the (stopped) container's filesystem under a name derived from
    /// `name` and `stamp` (a UTC time `20261122T153000Z`); the backup's name.
    async fn backup(&self, name: &str, stamp: &str) -> Result<String, RuntimeError>;

    /// Replace the observed container by one built from `spec`: stop, back up
    /// when `backup_stamp` is given, remove, create, start. Engines with an
    /// in-place update (Swarm services) override this.
    async fn recreate(
        &self,
        spec: &ContainerSpec,
        labels: &Labels,
        backup_stamp: Option<&str>,
    ) -> Result<Recreated, RuntimeError> {
        self.stop(&spec.name, spec.stop_timeout).await?;
        let backup = match backup_stamp {
            Some(stamp) => Some(self.backup(&spec.name, stamp).await?),
            None => None,
        };
        self.remove(&spec.name).await?;
        self.create(spec, labels).await?;
        self.start(&spec.name).await?;
        Ok(Recreated { backup })
    }
}

/// The text form of an image reference: `registry/repository:tag`, Docker Hub
/// references without registry (`httpd:2.4`).
#[must_use]
pub fn image_reference(image: &ImageRef) -> String {
    let tag = if image.tag.is_empty() {
        "latest"
    } else {
        image.tag.as_str()
    };
    match image.registry.as_deref() {
        Some(registry) if !registry.is_empty() => {
            format!("{registry}/{}:{tag}", image.repository)
        }
        Some(_) | None => format!("{}:{tag}", image.repository),
    }
}

/// How a registry is named in messages: `` registry `localhost:5000` `` or `Docker Hub`.
#[must_use]
pub fn registry_name(image: &ImageRef) -> String {
    match image.registry.as_deref() {
        Some(registry) if !registry.is_empty() => format!("registry `{registry}`"),
        Some(_) | None => "Docker Hub".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(registry: Option<&str>, repository: &str, tag: &str) -> ImageRef {
        ImageRef {
            registry: registry.map(str::to_owned),
            repository: repository.to_owned(),
            tag: tag.to_owned(),
        }
    }

    #[test]
    fn image_reference_includes_the_registry_when_declared() {
        assert_eq!(
            image_reference(&image(Some("localhost:5000"), "brise-demo/httpd", "2.4")),
            "localhost:5000/brise-demo/httpd:2.4"
        );
    }

    #[test]
    fn image_reference_of_docker_hub_has_no_registry_and_defaults_to_latest() {
        assert_eq!(
            image_reference(&image(None, "hello-world", "")),
            "hello-world:latest"
        );
        assert_eq!(
            image_reference(&image(Some(""), "httpd", "2.4")),
            "httpd:2.4"
        );
    }

    #[test]
    fn registry_name_says_docker_hub_when_empty() {
        assert_eq!(registry_name(&image(None, "httpd", "2.4")), "Docker Hub");
        assert_eq!(
            registry_name(&image(Some("localhost:5000"), "httpd", "2.4")),
            "registry `localhost:5000`"
        );
    }

    #[test]
    fn exited_and_dead_containers_are_not_up() {
        assert!(ContainerState::Running.is_up());
        assert!(!ContainerState::Exited { code: 0 }.is_up());
        assert!(!ContainerState::Dead.is_up());
        assert!(!ContainerState::Stopped.is_up());
        assert_eq!(
            ContainerState::Exited { code: 3 }.to_string(),
            "exited with status 3"
        );
    }
}
