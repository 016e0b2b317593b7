//! [`DockerRuntime`]: the [`Runtime`] trait over the Docker Engine API (bollard).
//! Connects to `DOCKER_HOST` or the local socket, negotiates the API version
//! (Debian 12's docker.io 20.10 speaks 1.41), starts the Docker service when
//! the local socket does not answer, and converts bollard's models to brise's
//! own types: no bollard type leaves this file.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use bollard::Docker;
use bollard::errors::Error as BollardError;
use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, ContainerStateStatusEnum, ContainerSummary,
    ContainerSummaryStateEnum, HealthConfig, HostConfig, PortBinding, PortMap, PortSummaryTypeEnum,
    RestartPolicy as DockerRestart, RestartPolicyNameEnum,
};
use bollard::query_parameters::{
    CommitContainerOptionsBuilder, CreateContainerOptionsBuilder, CreateImageOptionsBuilder,
    ListContainersOptionsBuilder, RemoveContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use futures_util::StreamExt;

use super::{
    ContainerState, EngineInfo, Labels, ObservedContainer, PullEvent, PullProgress, Runtime,
    RuntimeError, Step, image_reference, labels, registry_name,
};
use crate::command::{self, Invocation};
use crate::containers::{ContainerSpec, ImageRef, PortMapping, Protocol, RestartPolicy};

/// The local engine's socket.
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
/// Requests other than pulls give up after this long.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// A pull (a stream) may take this long.
const PULL_TIMEOUT: Duration = Duration::from_secs(3600);
/// How long to wait for a Docker service just started.
const START_WAIT: Duration = Duration::from_secs(30);

/// The Docker engine on a Unix socket.
#[derive(Debug, Clone)]
pub struct DockerRuntime {
    docker: Docker,
    /// The same connection with a long timeout, for pulls.
    pulls: Docker,
    endpoint: String,
    info: EngineInfo,
}

/// Where to reach the engine: `DOCKER_HOST` (`unix:///path`) or the default socket.
#[must_use]
pub fn endpoint_from(docker_host: Option<&str>) -> String {
    match docker_host {
        Some(host) if !host.trim().is_empty() => host.trim().to_owned(),
        Some(_) | None => format!("unix://{DEFAULT_SOCKET}"),
    }
}

fn unreachable(endpoint: &str, detail: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::EngineUnreachable {
        kind: "docker".to_owned(),
        endpoint: endpoint.to_owned(),
        detail: detail.to_string(),
    }
}

/// The text of a bollard error, without bollard's type names.
fn detail(error: &BollardError) -> String {
    match error {
        BollardError::DockerResponseServerError { message, .. } => message.clone(),
        BollardError::DockerStreamError { error } => error.clone(),
        BollardError::RequestTimeoutError => "the engine did not answer in time".to_owned(),
        BollardError::SocketNotFoundError(path) => format!("no socket at `{path}`"),
        other => other.to_string(),
    }
}

fn is_not_found(error: &BollardError) -> bool {
    matches!(
        error,
        BollardError::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// Errors that mean "no engine there" rather than "the engine said no".
fn is_connection(error: &BollardError) -> bool {
    matches!(
        error,
        BollardError::SocketNotFoundError(_)
            | BollardError::IOError { .. }
            | BollardError::HyperResponseError { .. }
            | BollardError::HyperLegacyError { .. }
            | BollardError::RequestTimeoutError
    )
}

impl DockerRuntime {
    /// Connect to `endpoint` (`unix:///path`) and negotiate the API version.
    ///
    /// # Errors
    /// [`RuntimeError::EngineUnreachable`] when no engine answers.
    pub async fn connect(endpoint: &str) -> Result<Self, RuntimeError> {
        Self::try_connect(endpoint)
            .await
            .map_err(|error| unreachable(endpoint, error))
    }

    /// [`DockerRuntime::connect`], and when the default local socket does not
    /// answer, start the Docker service (systemd, else `service`) and wait for it.
    ///
    /// # Errors
    /// [`RuntimeError::EngineUnreachable`] when no engine answers and none could be started.
    pub async fn connect_or_start(endpoint: &str) -> Result<Self, RuntimeError> {
        match Self::try_connect(endpoint).await {
            Ok(runtime) => Ok(runtime),
            Err(error) if endpoint == format!("unix://{DEFAULT_SOCKET}") => {
                start_service().map_err(|detail| {
                    unreachable(
                        endpoint,
                        format!("{error}; starting the Docker service failed: {detail}"),
                    )
                })?;
                let deadline = tokio::time::Instant::now() + START_WAIT;
                loop {
                    match Self::try_connect(endpoint).await {
                        Ok(runtime) => return Ok(runtime),
                        Err(error) if tokio::time::Instant::now() >= deadline => {
                            return Err(unreachable(
                                endpoint,
                                format!(
                                    "the Docker service was started but does not answer: {error}"
                                ),
                            ));
                        }
                        Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
                    }
                }
            }
            Err(error) => Err(unreachable(endpoint, error)),
        }
    }

    async fn try_connect(endpoint: &str) -> Result<Self, String> {
        let path = endpoint.strip_prefix("unix://").unwrap_or(endpoint);
        if endpoint.contains("://") && !endpoint.starts_with("unix://") {
            return Err(format!(
                "only Unix sockets (`unix:///path`) are supported, not `{endpoint}`"
            ));
        }
        let docker = Docker::connect_with_unix(
            path,
            REQUEST_TIMEOUT.as_secs(),
            bollard::API_DEFAULT_VERSION,
        )
        .map_err(|e| detail(&e))?;
        let docker = docker.negotiate_version().await.map_err(|e| detail(&e))?;
        let version = docker.version().await.map_err(|e| detail(&e))?;
        let negotiated = docker.client_version();
        let info = EngineInfo {
            kind: "docker".to_owned(),
            version: version.version.unwrap_or_default(),
            api_version: Some(format!(
                "{}.{}",
                negotiated.major_version, negotiated.minor_version
            )),
            endpoint: endpoint.to_owned(),
        };
        tracing::debug!(
            "docker engine {} at {endpoint}, API {}",
            info.version,
            info.api_version.as_deref().unwrap_or("?")
        );
        let pulls = docker.clone().with_timeout(PULL_TIMEOUT);
        Ok(Self {
            docker,
            pulls,
            endpoint: endpoint.to_owned(),
            info,
        })
    }

    /// The engine's version and the negotiated API version.
    #[must_use]
    pub fn info(&self) -> &EngineInfo {
        &self.info
    }

    fn step_error(&self, name: &str, step: Step, error: &BollardError) -> RuntimeError {
        if is_connection(error) {
            unreachable(&self.endpoint, detail(error))
        } else {
            RuntimeError::container(name, step, detail(error))
        }
    }
}

/// How the Docker service is started: through systemd when it runs, else `service`.
fn start_service_invocation(systemd: bool) -> Invocation {
    if systemd {
        Invocation::new("systemctl").args(["start", "docker"])
    } else {
        Invocation::new("service").args(["docker", "start"])
    }
}

fn start_service() -> Result<(), String> {
    let systemd = std::path::Path::new("/run/systemd/system").is_dir();
    command::run(&start_service_invocation(systemd))
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Host ports of a container summary (published ones only; IPv4 and IPv6 wildcard
/// publishes of the same port count once).
fn summary_ports(summary: &ContainerSummary) -> Vec<PortMapping> {
    let mut ports: Vec<PortMapping> = Vec::new();
    for port in summary.ports.iter().flatten() {
        let Some(host_port) = port.public_port else {
            continue;
        };
        let protocol = match port.typ {
            Some(PortSummaryTypeEnum::UDP) => Protocol::Udp,
            _ => Protocol::Tcp,
        };
        let host_ip = port
            .ip
            .as_deref()
            .and_then(|ip| ip.parse().ok())
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        let mapping = PortMapping {
            container_port: port.private_port,
            host_port,
            protocol,
            host_ip,
        };
        if !ports
            .iter()
            .any(|p| p.host_port == host_port && p.protocol == protocol)
        {
            ports.push(mapping);
        }
    }
    ports
}

/// `Exited (137) 5 seconds ago` → 137.
fn exit_code_from_status(status: &str) -> i64 {
    status
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .and_then(|(code, _)| code.trim().parse().ok())
        .unwrap_or(0)
}

fn observed_from_summary(summary: ContainerSummary) -> Option<ObservedContainer> {
    let name = summary
        .names
        .as_ref()
        .and_then(|names| names.first())
        .map(|name| name.trim_start_matches('/').to_owned())?;
    let state = match summary.state {
        Some(ContainerSummaryStateEnum::RUNNING) => ContainerState::Running,
        Some(ContainerSummaryStateEnum::RESTARTING) => ContainerState::Restarting,
        Some(ContainerSummaryStateEnum::PAUSED) => ContainerState::Paused,
        Some(ContainerSummaryStateEnum::CREATED) => ContainerState::Created,
        Some(ContainerSummaryStateEnum::DEAD | ContainerSummaryStateEnum::REMOVING) => {
            ContainerState::Dead
        }
        Some(
            ContainerSummaryStateEnum::EXITED
            | ContainerSummaryStateEnum::STOPPING
            | ContainerSummaryStateEnum::EMPTY,
        )
        | None => ContainerState::Exited {
            code: exit_code_from_status(summary.status.as_deref().unwrap_or_default()),
        },
    };
    let ports = summary_ports(&summary);
    let labels = summary
        .labels
        .as_ref()
        .and_then(|labels| Labels::from_map(labels, &name));
    Some(ObservedContainer {
        id: summary.id.unwrap_or_default(),
        labels,
        image_id: summary.image_id,
        state,
        started_at: None,
        ports,
        name,
    })
}

fn observed_from_inspect(response: ContainerInspectResponse) -> ObservedContainer {
    let name = response
        .name
        .as_deref()
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_owned();
    let docker_state = response.state.unwrap_or_default();
    let code = docker_state.exit_code.unwrap_or(0);
    let state = match docker_state.status {
        Some(ContainerStateStatusEnum::RUNNING) => ContainerState::Running,
        Some(ContainerStateStatusEnum::RESTARTING) => ContainerState::Restarting,
        Some(ContainerStateStatusEnum::PAUSED) => ContainerState::Paused,
        Some(ContainerStateStatusEnum::CREATED) => ContainerState::Created,
        Some(ContainerStateStatusEnum::DEAD | ContainerStateStatusEnum::REMOVING) => {
            ContainerState::Dead
        }
        Some(
            ContainerStateStatusEnum::EXITED
            | ContainerStateStatusEnum::STOPPING
            | ContainerStateStatusEnum::EMPTY,
        )
        | None => ContainerState::Exited { code },
    };
    let labels = response
        .config
        .as_ref()
        .and_then(|config| config.labels.as_ref())
        .and_then(|labels| Labels::from_map(labels, &name));
    let mut ports = Vec::new();
    if state == ContainerState::Running {
        let bindings = response
            .host_config
            .as_ref()
            .and_then(|host| host.port_bindings.as_ref());
        for (key, bindings) in bindings.into_iter().flatten() {
            let (port, protocol) = key.split_once('/').unwrap_or((key.as_str(), "tcp"));
            let Ok(container_port) = port.parse() else {
                continue;
            };
            for binding in bindings.iter().flatten() {
                let Some(host_port) = binding.host_port.as_deref().and_then(|p| p.parse().ok())
                else {
                    continue;
                };
                ports.push(PortMapping {
                    container_port,
                    host_port,
                    protocol: if protocol == "udp" {
                        Protocol::Udp
                    } else {
                        Protocol::Tcp
                    },
                    host_ip: binding
                        .host_ip
                        .as_deref()
                        .and_then(|ip| ip.parse().ok())
                        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
                });
            }
        }
    }
    ObservedContainer {
        name,
        id: response.id.unwrap_or_default(),
        labels,
        image_id: response.image,
        state,
        started_at: docker_state.started_at,
        ports,
    }
}

fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    }
}

/// The Engine API body creating the container of `spec`.
#[must_use]
fn create_body(spec: &ContainerSpec, labels: &Labels) -> ContainerCreateBody {
    let mut port_bindings: PortMap = HashMap::new();
    let mut exposed = Vec::new();
    for port in &spec.ports {
        let key = format!("{}/{}", port.container_port, protocol_name(port.protocol));
        if !exposed.contains(&key) {
            exposed.push(key.clone());
        }
        port_bindings
            .entry(key)
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: Some(port.host_ip.to_string()),
                host_port: Some(port.host_port.to_string()),
            });
    }
    let binds: Vec<String> = spec
        .mounts
        .iter()
        .map(|m| {
            let mut bind = format!("{}:{}", m.host_dir, m.container_dir);
            if m.read_only {
                bind.push_str(":ro");
            }
            bind
        })
        .collect();
    let restart = match spec.restart {
        RestartPolicy::No => RestartPolicyNameEnum::NO,
        RestartPolicy::OnFailure => RestartPolicyNameEnum::ON_FAILURE,
        RestartPolicy::Always => RestartPolicyNameEnum::ALWAYS,
        RestartPolicy::UnlessStopped => RestartPolicyNameEnum::UNLESS_STOPPED,
    };
    let healthcheck = spec.healthcheck.as_ref().map(|check| HealthConfig {
        test: Some(vec!["CMD-SHELL".to_owned(), check.command.clone()]),
        interval: Some(i64::from(check.interval_seconds) * 1_000_000_000),
        ..HealthConfig::default()
    });
    ContainerCreateBody {
        image: Some(image_reference(&spec.image)),
        env: Some(
            spec.environment
                .iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect(),
        ),
        cmd: spec.command.clone(),
        labels: Some(labels.to_map().into_iter().collect()),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        healthcheck,
        stop_timeout: Some(i64::from(spec.stop_timeout)),
        host_config: Some(HostConfig {
            binds: (!binds.is_empty()).then_some(binds),
            port_bindings: (!port_bindings.is_empty()).then_some(port_bindings),
            restart_policy: Some(DockerRestart {
                name: Some(restart),
                maximum_retry_count: None,
            }),
            init: Some(spec.init),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    }
}

#[async_trait]
impl Runtime for DockerRuntime {
    fn kind(&self) -> &'static str {
        "docker"
    }

    async fn ping(&self) -> Result<EngineInfo, RuntimeError> {
        self.docker
            .ping()
            .await
            .map_err(|e| unreachable(&self.endpoint, detail(&e)))?;
        Ok(self.info.clone())
    }

    async fn list_managed(&self) -> Result<Vec<ObservedContainer>, RuntimeError> {
        let mut filters = HashMap::new();
        filters.insert(
            "label".to_owned(),
            vec![format!("{}=true", labels::MANAGED)],
        );
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let summaries = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(|e| {
                if is_connection(&e) {
                    unreachable(&self.endpoint, detail(&e))
                } else {
                    RuntimeError::List {
                        kind: "docker".to_owned(),
                        detail: detail(&e),
                    }
                }
            })?;
        Ok(summaries
            .into_iter()
            .filter_map(observed_from_summary)
            .collect())
    }

    async fn inspect(&self, name: &str) -> Result<Option<ObservedContainer>, RuntimeError> {
        match self.docker.inspect_container(name, None).await {
            Ok(response) => Ok(Some(observed_from_inspect(response))),
            Err(error) if is_not_found(&error) => Ok(None),
            Err(error) => Err(self.step_error(name, Step::Inspect, &error)),
        }
    }

    async fn local_image(&self, image: &ImageRef) -> Result<Option<String>, RuntimeError> {
        let reference = image_reference(image);
        match self.docker.inspect_image(&reference).await {
            Ok(inspect) => Ok(inspect.id),
            Err(error) if is_not_found(&error) => Ok(None),
            Err(error) if is_connection(&error) => Err(unreachable(&self.endpoint, detail(&error))),
            Err(error) => Err(RuntimeError::Pull {
                image: reference,
                registry: registry_name(image),
                detail: detail(&error),
            }),
        }
    }

    async fn pull(
        &self,
        image: &ImageRef,
        progress: &dyn PullProgress,
    ) -> Result<String, RuntimeError> {
        let reference = image_reference(image);
        let (from_image, tag) = reference
            .rsplit_once(':')
            .unwrap_or((reference.as_str(), "latest"));
        let options = CreateImageOptionsBuilder::default()
            .from_image(from_image)
            .tag(tag)
            .build();
        let failed = |detail: String| RuntimeError::Pull {
            image: reference.clone(),
            registry: registry_name(image),
            detail,
        };
        let mut stream = self.pulls.create_image(Some(options), None, None);
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| {
                if is_connection(&e) {
                    unreachable(&self.endpoint, detail(&e))
                } else {
                    failed(detail(&e))
                }
            })?;
            let detail = info.progress_detail.unwrap_or_default();
            progress.pull_event(&PullEvent {
                image: reference.clone(),
                layer: info.id,
                status: info.status.unwrap_or_default(),
                current: detail.current.and_then(|c| u64::try_from(c).ok()),
                total: detail.total.and_then(|t| u64::try_from(t).ok()),
            });
        }
        let id = match self.docker.inspect_image(&reference).await {
            Ok(inspect) => inspect
                .id
                .ok_or_else(|| failed("the engine reports no id for the pulled image".to_owned())),
            Err(error) => Err(failed(detail(&error))),
        }?;
        crate::crash::point("docker.pulled");
        Ok(id)
    }

    async fn create(&self, spec: &ContainerSpec, labels: &Labels) -> Result<String, RuntimeError> {
        let options = CreateContainerOptionsBuilder::default()
            .name(&spec.name)
            .build();
        let response = self
            .docker
            .create_container(Some(options), create_body(spec, labels))
            .await
            .map_err(|e| self.step_error(&spec.name, Step::Create, &e))?;
        crate::crash::point("docker.created");
        Ok(response.id)
    }

    async fn start(&self, name: &str) -> Result<(), RuntimeError> {
        self.docker
            .start_container(name, None)
            .await
            .map_err(|e| self.step_error(name, Step::Start, &e))?;
        crate::crash::point("docker.started");
        Ok(())
    }

    async fn stop(&self, name: &str, timeout_seconds: u32) -> Result<(), RuntimeError> {
        let options = StopContainerOptionsBuilder::default()
            .t(i32::try_from(timeout_seconds).unwrap_or(i32::MAX))
            .build();
        match self.docker.stop_container(name, Some(options)).await {
            Ok(()) => {}
            Err(error) if is_not_found(&error) => {}
            Err(error) => return Err(self.step_error(name, Step::Stop, &error)),
        }
        crate::crash::point("docker.stopped");
        Ok(())
    }

    async fn remove(&self, name: &str) -> Result<(), RuntimeError> {
        let options = RemoveContainerOptionsBuilder::default().force(true).build();
        match self.docker.remove_container(name, Some(options)).await {
            Ok(()) => {}
            Err(error) if is_not_found(&error) => {}
            Err(error) => return Err(self.step_error(name, Step::Remove, &error)),
        }
        crate::crash::point("docker.removed");
        Ok(())
    }

    async fn backup(&self, name: &str, stamp: &str) -> Result<String, RuntimeError> {
        let repository = format!("brise-backup/{}", name.to_lowercase());
        let options = CommitContainerOptionsBuilder::default()
            .container(name)
            .repo(&repository)
            .tag(stamp)
            .comment("saved by brise reconfigure --recreate")
            .pause(false)
            .build();
        self.docker
            .commit_container(options, bollard::models::ContainerConfig::default())
            .await
            .map_err(|e| self.step_error(name, Step::Backup, &e))?;
        crate::crash::point("docker.backed-up");
        Ok(format!("{repository}:{stamp}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::fake::{loopback_port, spec};

    #[test]
    fn endpoint_defaults_to_the_local_socket() {
        assert_eq!(endpoint_from(None), "unix:///var/run/docker.sock");
        assert_eq!(endpoint_from(Some("")), "unix:///var/run/docker.sock");
        assert_eq!(
            endpoint_from(Some("unix:///tmp/d.sock")),
            "unix:///tmp/d.sock"
        );
    }

    #[test]
    fn the_docker_service_is_started_through_systemd_or_service() {
        assert_eq!(
            start_service_invocation(true).to_string(),
            "systemctl start docker"
        );
        assert_eq!(
            start_service_invocation(false).to_string(),
            "service docker start"
        );
    }

    #[test]
    fn exit_code_is_read_from_the_status_text() {
        assert_eq!(exit_code_from_status("Exited (137) 5 seconds ago"), 137);
        assert_eq!(exit_code_from_status("Exited (0) About a minute ago"), 0);
        assert_eq!(exit_code_from_status("Created"), 0);
    }

    #[test]
    fn create_body_publishes_ports_mounts_labels_and_init() {
        let mut web = spec("web", "httpd:2.4");
        web.ports.push(loopback_port(80, 8081));
        web.mounts.push(crate::containers::Mount {
            host_dir: "/var/eole-httpd/".to_owned(),
            container_dir: "/usr/local/apache2/htdocs/".to_owned(),
            read_only: true,
        });
        web.environment.push(("A".to_owned(), "1".to_owned()));
        let labels = Labels::for_spec(&web, Some("sha256:abc"));
        let body = create_body(&web, &labels);
        assert_eq!(
            body.image.as_deref(),
            Some("localhost:5000/brise-demo/httpd:2.4")
        );
        assert_eq!(body.env, Some(vec!["A=1".to_owned()]));
        assert_eq!(body.exposed_ports, Some(vec!["80/tcp".to_owned()]));
        let host = body.host_config.unwrap();
        assert_eq!(host.init, Some(true));
        assert_eq!(
            host.binds,
            Some(vec![
                "/var/eole-httpd/:/usr/local/apache2/htdocs/:ro".to_owned()
            ])
        );
        let bindings = host.port_bindings.unwrap();
        let binding = &bindings["80/tcp"].as_ref().unwrap()[0];
        assert_eq!(binding.host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(binding.host_port.as_deref(), Some("8081"));
        let labels = body.labels.unwrap();
        assert_eq!(labels["brise.managed"], "true");
        assert_eq!(labels["brise.image-digest"], "sha256:abc");
    }
}
