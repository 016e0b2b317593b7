//! [`SwarmRuntime`]: the [`Runtime`] trait over Docker Swarm services
//! (bollard). A container becomes a replicated service; "create" creates it
//! and waits for its tasks, "recreate" is a rolling update (start-first unless
//! a host-mode port forbids it, automatic rollback on failure) made against
//! the service version just read, "stop" scales to zero and "start" back.
//! The engine must be a Swarm manager; brise never initialises a swarm.
//! No bollard type leaves this module.

pub mod converge;
pub mod spec;
pub mod status;

use std::collections::HashMap;

use async_trait::async_trait;
use bollard::Docker;
use bollard::errors::Error as BollardError;
use bollard::models::{
    LocalNodeState, Service, ServiceUpdateStatusStateEnum, Task as SwarmTask, TaskState,
};
use bollard::query_parameters::{
    CommitContainerOptionsBuilder, ListContainersOptionsBuilder, ListServicesOptionsBuilder,
    ListTasksOptionsBuilder, ListVolumesOptionsBuilder, RemoveVolumeOptionsBuilder,
    UpdateServiceOptionsBuilder,
};
use tokio::time::Instant;

use self::converge::{Phase, Task, UpdateState, UpdateStatus, UpdateVerdict, Verdict, Watch};
pub use self::spec::{
    Checked, PublishMode, SwarmOptions, UpdatePolicy, check, publish_mode, services,
};
pub use self::status::ServiceStatus;
use super::{
    ContainerState, EngineInfo, Labels, ObservedContainer, PullEvent, PullProgress, Recreated,
    Runtime, RuntimeError, Step, image_reference, labels, registry_name,
};
use crate::containers::{ContainerSpec, ImageRef, PortMapping, Protocol};

/// The local engine (the manager brise runs on).
pub const DEFAULT_ENDPOINT: &str = "unix:///var/run/docker.sock";
/// Requests give up after this long (waiting for convergence has its own limit).
const REQUEST_TIMEOUT_SECONDS: u64 = 120;
/// The label Swarm puts on the containers of a service's tasks.
const TASK_SERVICE_LABEL: &str = "com.docker.swarm.service.name";

/// A Swarm manager reached through its Docker engine's Unix socket.
#[derive(Debug, Clone)]
pub struct SwarmRuntime {
    docker: Docker,
    endpoint: String,
    info: EngineInfo,
    options: SwarmOptions,
}

fn unreachable(endpoint: &str, detail: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::EngineUnreachable {
        kind: "swarm".to_owned(),
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

fn status_code(error: &BollardError) -> Option<u16> {
    match error {
        BollardError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
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

/// The engine refused an update made against a version that is no longer current.
fn is_out_of_sequence(error: &BollardError) -> bool {
    detail(error).contains("out of sequence")
}

fn phase(state: Option<TaskState>) -> Phase {
    match state {
        Some(TaskState::PENDING) => Phase::Pending,
        Some(
            TaskState::NEW
            | TaskState::ALLOCATED
            | TaskState::ASSIGNED
            | TaskState::ACCEPTED
            | TaskState::PREPARING
            | TaskState::READY
            | TaskState::STARTING,
        )
        | None => Phase::Starting,
        Some(TaskState::RUNNING) => Phase::Running,
        Some(TaskState::COMPLETE) => Phase::Complete,
        Some(TaskState::FAILED) => Phase::Failed,
        Some(TaskState::REJECTED) => Phase::Rejected,
        Some(TaskState::SHUTDOWN | TaskState::REMOVE | TaskState::ORPHANED) => Phase::Gone,
    }
}

fn task_from(task: SwarmTask) -> Task {
    let status = task.status.unwrap_or_default();
    Task {
        id: task.id.unwrap_or_default(),
        slot: task.slot,
        node: task.node_id,
        phase: phase(status.state),
        desired_running: matches!(
            task.desired_state,
            Some(TaskState::RUNNING | TaskState::READY)
        ),
        error: status.err.filter(|error| !error.is_empty()),
        message: status.message,
        exit_code: status.container_status.and_then(|c| c.exit_code),
        timestamp: status.timestamp,
        image: task
            .spec
            .and_then(|spec| spec.container_spec)
            .and_then(|container| container.image),
    }
}

fn update_status_of(service: &Service) -> Option<UpdateStatus> {
    let status = service.update_status.as_ref()?;
    let state = status.state.and_then(|state| match state {
        ServiceUpdateStatusStateEnum::EMPTY => None,
        ServiceUpdateStatusStateEnum::UPDATING => Some(UpdateState::Updating),
        ServiceUpdateStatusStateEnum::PAUSED => Some(UpdateState::Paused),
        ServiceUpdateStatusStateEnum::COMPLETED => Some(UpdateState::Completed),
        ServiceUpdateStatusStateEnum::ROLLBACK_STARTED => Some(UpdateState::RollbackStarted),
        ServiceUpdateStatusStateEnum::ROLLBACK_PAUSED => Some(UpdateState::RollbackPaused),
        ServiceUpdateStatusStateEnum::ROLLBACK_COMPLETED => Some(UpdateState::RollbackCompleted),
    });
    Some(UpdateStatus {
        state,
        started_at: status.started_at.clone(),
        message: status.message.clone(),
    })
}

fn service_name(service: &Service) -> Option<&str> {
    service.spec.as_ref()?.name.as_deref()
}

fn service_labels(service: &Service) -> Option<&HashMap<String, String>> {
    service.spec.as_ref()?.labels.as_ref()
}

/// The replicas a service is set to run now.
fn replicas_of(service: &Service) -> u64 {
    service
        .spec
        .as_ref()
        .and_then(|spec| spec.mode.as_ref())
        .and_then(|mode| mode.replicated.as_ref())
        .and_then(|replicated| replicated.replicas)
        .and_then(|replicas| u64::try_from(replicas).ok())
        .unwrap_or(0)
}

/// The replicas declared when brise last created or updated it.
fn declared_replicas(service: &Service) -> u64 {
    service_labels(service)
        .and_then(|labels| labels.get(spec::REPLICAS))
        .and_then(|replicas| replicas.parse().ok())
        .unwrap_or(1)
}

fn version_of(service: &Service) -> u64 {
    service
        .version
        .as_ref()
        .and_then(|version| version.index)
        .unwrap_or(0)
}

fn image_of(service: &Service) -> Option<String> {
    service
        .spec
        .as_ref()?
        .task_template
        .as_ref()?
        .container_spec
        .as_ref()?
        .image
        .clone()
}

fn ports_of(service: &Service) -> Vec<PortMapping> {
    let ports = service
        .endpoint
        .as_ref()
        .and_then(|endpoint| endpoint.ports.as_ref())
        .or_else(|| {
            service
                .spec
                .as_ref()
                .and_then(|spec| spec.endpoint_spec.as_ref())
                .and_then(|endpoint| endpoint.ports.as_ref())
        });
    ports
        .into_iter()
        .flatten()
        .filter_map(|port| {
            let host_port = u16::try_from(port.published_port?).ok()?;
            let container_port = u16::try_from(port.target_port?).ok()?;
            let protocol = match port.protocol.map(|p| p.to_string()).as_deref() {
                Some("udp") => Protocol::Udp,
                _ => Protocol::Tcp,
            };
            Some(PortMapping {
                container_port,
                host_port,
                protocol,
                // Swarm binds every address (ingress on every node, host mode on the task's node).
                host_ip: std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            })
        })
        .collect()
}

/// A service as brise's observed container.
fn observed_from(service: &Service) -> Option<ObservedContainer> {
    let name = service_name(service)?.to_owned();
    let labels = service_labels(service).and_then(|map| Labels::from_map(map, &name));
    let actual = replicas_of(service);
    let running = service
        .service_status
        .as_ref()
        .and_then(|status| status.running_tasks)
        .unwrap_or(0);
    let updating = matches!(
        update_status_of(service).and_then(|status| status.state),
        Some(UpdateState::Updating | UpdateState::RollbackStarted)
    );
    let state = if actual == 0 && declared_replicas(service) > 0 {
        // Scaled to zero by `stop`: `start` brings the declared replicas back.
        ContainerState::Created
    } else if updating || running < actual {
        // The engine is converging (restarting tasks, rolling an update).
        ContainerState::Restarting
    } else {
        ContainerState::Running
    };
    Some(ObservedContainer {
        id: service.id.clone().unwrap_or_default(),
        labels,
        image_id: image_of(service)
            .as_deref()
            .and_then(spec::digest_of)
            .map(str::to_owned),
        state,
        started_at: service.updated_at.clone(),
        ports: ports_of(service),
        name,
    })
}

impl SwarmRuntime {
    /// Connect to `endpoint` (`unix:///path`), negotiate the API version, and
    /// check that the engine is a Swarm manager.
    ///
    /// # Errors
    /// [`RuntimeError::EngineUnreachable`] when no engine answers or it is not a manager.
    pub async fn connect(endpoint: &str, options: SwarmOptions) -> Result<Self, RuntimeError> {
        let runtime = Self::connect_engine(endpoint, options).await?;
        runtime.check_manager().await?;
        Ok(runtime)
    }

    /// Connect like [`SwarmRuntime::connect`], but an engine that is not a
    /// Swarm manager is `None` rather than an error (`brise status` shows
    /// services only where there are some).
    ///
    /// # Errors
    /// [`RuntimeError::EngineUnreachable`] when no engine answers.
    pub async fn connect_if_manager(
        endpoint: &str,
        options: SwarmOptions,
    ) -> Result<Option<Self>, RuntimeError> {
        let runtime = Self::connect_engine(endpoint, options).await?;
        match runtime.check_manager().await {
            Ok(()) => Ok(Some(runtime)),
            Err(RuntimeError::EngineUnreachable { .. }) if runtime.answers().await => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn answers(&self) -> bool {
        self.docker.ping().await.is_ok()
    }

    async fn connect_engine(endpoint: &str, options: SwarmOptions) -> Result<Self, RuntimeError> {
        if endpoint.contains("://") && !endpoint.starts_with("unix://") {
            return Err(unreachable(
                endpoint,
                format!("only Unix sockets (`unix:///path`) are supported, not `{endpoint}`"),
            ));
        }
        let path = endpoint.strip_prefix("unix://").unwrap_or(endpoint);
        let docker =
            Docker::connect_with_unix(path, REQUEST_TIMEOUT_SECONDS, bollard::API_DEFAULT_VERSION)
                .map_err(|e| unreachable(endpoint, detail(&e)))?;
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| unreachable(endpoint, detail(&e)))?;
        let version = docker
            .version()
            .await
            .map_err(|e| unreachable(endpoint, detail(&e)))?;
        let negotiated = docker.client_version();
        Ok(Self {
            docker,
            endpoint: endpoint.to_owned(),
            info: EngineInfo {
                kind: "swarm".to_owned(),
                version: version.version.unwrap_or_default(),
                api_version: Some(format!(
                    "{}.{}",
                    negotiated.major_version, negotiated.minor_version
                )),
                endpoint: endpoint.to_owned(),
            },
            options,
        })
    }

    #[must_use]
    pub fn options(&self) -> &SwarmOptions {
        &self.options
    }

    /// The engine must be an active Swarm manager.
    async fn check_manager(&self) -> Result<(), RuntimeError> {
        let info = self
            .docker
            .info()
            .await
            .map_err(|e| unreachable(&self.endpoint, detail(&e)))?;
        let swarm = info.swarm.unwrap_or_default();
        let state = swarm.local_node_state.unwrap_or(LocalNodeState::EMPTY);
        let manager = swarm.control_available.unwrap_or(false);
        if state == LocalNodeState::ACTIVE && manager {
            return Ok(());
        }
        let what = if state == LocalNodeState::ACTIVE {
            "a Swarm worker, not a manager: run brise on a manager node".to_owned()
        } else {
            let state = serde_json::to_value(state)
                .ok()
                .and_then(|value| value.as_str().map(str::to_owned))
                .unwrap_or_default();
            format!(
                "not part of a swarm (swarm state `{state}`): make this server the first \
                 manager with `docker swarm init --advertise-addr ADDRESS`, or set \
                 `containers.engine` back to `docker`"
            )
        };
        Err(unreachable(
            &self.endpoint,
            format!("this Docker engine is {what}"),
        ))
    }

    fn error(&self, name: &str, step: Step, error: &BollardError) -> RuntimeError {
        if is_connection(error) {
            unreachable(&self.endpoint, detail(error))
        } else {
            RuntimeError::container(name, step, detail(error))
        }
    }

    /// Services whose name is exactly `name` (the engine's name filter matches prefixes).
    async fn find(&self, name: &str, step: Step) -> Result<Option<Service>, RuntimeError> {
        let mut filters = HashMap::new();
        filters.insert("name".to_owned(), vec![name.to_owned()]);
        let options = ListServicesOptionsBuilder::default()
            .filters(&filters)
            .status(true)
            .build();
        let services = self
            .docker
            .list_services(Some(options))
            .await
            .map_err(|e| self.error(name, step, &e))?;
        Ok(services
            .into_iter()
            .find(|service| service_name(service) == Some(name)))
    }

    /// The service `name` if brise manages it; `None` when there is none.
    ///
    /// # Errors
    /// [`RuntimeError::Foreign`] when it exists without brise's labels.
    async fn find_managed(&self, name: &str, step: Step) -> Result<Option<Service>, RuntimeError> {
        match self.find(name, step).await? {
            None => Ok(None),
            Some(service) => {
                let managed = service_labels(&service)
                    .and_then(|map| Labels::from_map(map, name))
                    .is_some();
                if managed {
                    Ok(Some(service))
                } else {
                    Err(RuntimeError::Foreign {
                        name: name.to_owned(),
                    })
                }
            }
        }
    }

    /// The tasks of service `id_or_name`, in brise's terms.
    async fn tasks(&self, id_or_name: &str, step: Step) -> Result<Vec<Task>, RuntimeError> {
        let mut filters = HashMap::new();
        filters.insert("service".to_owned(), vec![id_or_name.to_owned()]);
        let options = ListTasksOptionsBuilder::default().filters(&filters).build();
        let tasks = self
            .docker
            .list_tasks(Some(options))
            .await
            .map_err(|e| self.error(id_or_name, step, &e))?;
        Ok(tasks.into_iter().map(task_from).collect())
    }

    /// Wait until `watch` says the service runs `desired` tasks.
    async fn wait_replicas(
        &self,
        name: &str,
        id: &str,
        mut watch: Watch,
        desired: u64,
        step: Step,
    ) -> Result<(), RuntimeError> {
        let deadline = Instant::now() + self.options.converge_timeout;
        loop {
            let tasks = self.tasks(id, step).await?;
            match watch.verdict(&tasks, desired) {
                Verdict::Converged => return Ok(()),
                Verdict::Failing(why) => return Err(RuntimeError::container(name, step, why)),
                Verdict::Waiting if Instant::now() >= deadline => {
                    let running = tasks
                        .iter()
                        .filter(|task| task.desired_running && task.phase == Phase::Running)
                        .count();
                    let mut why = format!(
                        "{running} of {desired} tasks running after {} s",
                        self.options.converge_timeout.as_secs()
                    );
                    if let Some(error) = converge::last_error(&tasks, &[]) {
                        why.push_str(&format!("; {error}"));
                    }
                    return Err(RuntimeError::container(name, step, why));
                }
                Verdict::Waiting => tokio::time::sleep(self.options.poll_interval).await,
            }
        }
    }

    /// Update service `service` (as just read) to `body`, against its version.
    async fn send_update(
        &self,
        name: &str,
        version: u64,
        body: bollard::models::ServiceSpec,
        rollback: bool,
    ) -> Result<(), RuntimeError> {
        let mut options =
            UpdateServiceOptionsBuilder::default().version(i32::try_from(version).unwrap_or(0));
        if rollback {
            options = options.rollback("previous");
        }
        match self
            .docker
            .update_service(name, body, options.build(), None)
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if is_out_of_sequence(&error) => Err(RuntimeError::container(
                name,
                Step::Update,
                format!(
                    "the service changed since brise read it (version {version}): someone else \
                     updated it; nothing was applied, run again to plan against its new state"
                ),
            )),
            Err(error) => Err(self.error(name, Step::Update, &error)),
        }
    }

    /// Set the replicas of a managed service, against the version just read,
    /// and wait for them.
    async fn scale(&self, service: Service, replicas: u64, step: Step) -> Result<(), RuntimeError> {
        let name = service_name(&service).unwrap_or_default().to_owned();
        let id = service.id.clone().unwrap_or_else(|| name.clone());
        let before = self.tasks(&id, step).await?;
        let mut body = service.spec.clone().unwrap_or_default();
        let mode = body.mode.get_or_insert_with(Default::default);
        mode.replicated
            .get_or_insert_with(Default::default)
            .replicas = Some(i64::try_from(replicas).unwrap_or(i64::MAX));
        self.send_update(&name, version_of(&service), body, false)
            .await
            .map_err(|error| restep(error, step))?;
        self.wait_replicas(&name, &id, Watch::new(&before), replicas, step)
            .await
    }

    /// Ask Swarm to go back to the service's previous spec, and wait for it.
    async fn roll_back(&self, name: &str, id: &str, desired_hint: u64) -> Result<(), RuntimeError> {
        let Some(service) = self.find(name, Step::Update).await? else {
            return Ok(());
        };
        let before = self.tasks(id, Step::Update).await?;
        let body = service.spec.clone().unwrap_or_default();
        self.send_update(name, version_of(&service), body, true)
            .await?;
        let desired = self
            .find(name, Step::Update)
            .await?
            .map_or(desired_hint, |service| replicas_of(&service));
        self.wait_replicas(name, id, Watch::new(&before), desired, Step::Update)
            .await
    }

    /// Roll `spec` out to the service, whose version was `version` when read:
    /// the engine refuses the update if anyone changed the service since
    /// (optimistic concurrency). A changed task hash is a rolling update
    /// watched to its end; a failed one is rolled back (by Swarm, or by brise
    /// after the timeout) and reported. A changed scale only waits for the
    /// replicas, and is rolled back when they cannot run.
    ///
    /// # Errors
    /// The service is missing or foreign, the version is stale, or the update failed.
    pub async fn update(
        &self,
        spec: &ContainerSpec,
        labels: &Labels,
        version: u64,
    ) -> Result<(), RuntimeError> {
        let name = spec.name.as_str();
        let service = self
            .find_managed(name, Step::Update)
            .await?
            .ok_or_else(|| RuntimeError::container(name, Step::Update, "no such service"))?;
        let id = service.id.clone().unwrap_or_else(|| name.to_owned());
        let before_status = update_status_of(&service);
        let before_tasks = self.tasks(&id, Step::Update).await?;
        let body = spec::service_spec(spec, labels, &self.options);
        let new_hash = spec::task_hash(spec, labels, &self.options);
        let rolling = service_labels(&service)
            .and_then(|map| map.get(spec::TASK_HASH))
            .is_none_or(|old| *old != new_hash);
        self.send_update(name, version, body, false).await?;
        let desired = u64::from(spec.replicas);
        if !rolling {
            return match self
                .wait_replicas(name, &id, Watch::new(&before_tasks), desired, Step::Update)
                .await
            {
                Ok(()) => Ok(()),
                Err(RuntimeError::Container { detail, .. }) => {
                    let rolled = match self.roll_back(name, &id, desired).await {
                        Ok(()) => "brise rolled the service back to its previous spec".to_owned(),
                        Err(error) => format!("rolling back failed too: {error}"),
                    };
                    Err(RuntimeError::container(
                        name,
                        Step::Update,
                        format!("the new scale did not converge ({detail}); {rolled}"),
                    ))
                }
                Err(other) => Err(other),
            };
        }
        let deadline = Instant::now() + self.options.converge_timeout;
        loop {
            let now = self.find(name, Step::Update).await?;
            let status = now.as_ref().and_then(update_status_of);
            match converge::update_verdict(before_status.as_ref(), status.as_ref()) {
                UpdateVerdict::Completed => {
                    return self
                        .wait_replicas(name, &id, Watch::new(&before_tasks), desired, Step::Update)
                        .await;
                }
                UpdateVerdict::RolledBack(message) => {
                    let tasks = self.tasks(&id, Step::Update).await?;
                    let mut why = format!(
                        "the rolling update failed and Swarm rolled the service back to its \
                         previous spec ({message})"
                    );
                    if let Some(error) = converge::last_error(&tasks, &before_tasks) {
                        why.push_str(&format!("; {error}"));
                    }
                    return Err(RuntimeError::container(name, Step::Update, why));
                }
                UpdateVerdict::Paused(message) => {
                    return Err(RuntimeError::container(
                        name,
                        Step::Update,
                        format!(
                            "the rolling update is paused ({message}): see `docker service ps \
                             {name}`, then run again or `docker service rollback {name}`"
                        ),
                    ));
                }
                UpdateVerdict::NotStarted | UpdateVerdict::InProgress
                    if Instant::now() >= deadline =>
                {
                    let rolled = match self.roll_back(name, &id, desired).await {
                        Ok(()) => "brise rolled the service back to its previous spec".to_owned(),
                        Err(error) => format!("rolling back failed too: {error}"),
                    };
                    return Err(RuntimeError::container(
                        name,
                        Step::Update,
                        format!(
                            "the rolling update did not finish within {} s; {rolled}",
                            self.options.converge_timeout.as_secs()
                        ),
                    ));
                }
                UpdateVerdict::NotStarted | UpdateVerdict::InProgress => {
                    tokio::time::sleep(self.options.poll_interval).await;
                }
            }
        }
    }

    /// The version of managed service `name` as the engine holds it now, for
    /// [`SwarmRuntime::update`]; `None` when there is no such service.
    ///
    /// # Errors
    /// The engine fails, or the service is foreign.
    pub async fn version(&self, name: &str) -> Result<Option<u64>, RuntimeError> {
        Ok(self
            .find_managed(name, Step::Inspect)
            .await?
            .map(|service| version_of(&service)))
    }

    /// Every brise service with its replicas, update state, ports and latest task errors.
    ///
    /// # Errors
    /// The engine cannot be listed.
    pub async fn services_status(&self) -> Result<Vec<ServiceStatus>, RuntimeError> {
        let services = self.list_services().await?;
        let mut statuses = Vec::with_capacity(services.len());
        for service in services {
            let Some(name) = service_name(&service).map(str::to_owned) else {
                continue;
            };
            let id = service.id.clone().unwrap_or_else(|| name.clone());
            let mut tasks = self.tasks(&id, Step::Inspect).await?;
            tasks.sort_by(|a, b| b.timestamp.cmp(&a.timestamp));
            let task_errors = tasks
                .iter()
                .filter(|task| task.error.is_some())
                .take(status::TASK_ERRORS_SHOWN)
                .map(converge::describe)
                .collect();
            let counts = service.service_status.clone().unwrap_or_default();
            statuses.push(ServiceStatus {
                image: image_of(&service),
                running: counts.running_tasks.unwrap_or(0),
                desired: counts
                    .desired_tasks
                    .unwrap_or_else(|| replicas_of(&service)),
                update: update_status_of(&service),
                ports: ports_of(&service),
                task_errors,
                name,
            });
        }
        statuses.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(statuses)
    }

    async fn list_services(&self) -> Result<Vec<Service>, RuntimeError> {
        let mut filters = HashMap::new();
        filters.insert(
            "label".to_owned(),
            vec![format!("{}=true", labels::MANAGED)],
        );
        let options = ListServicesOptionsBuilder::default()
            .filters(&filters)
            .status(true)
            .build();
        self.docker.list_services(Some(options)).await.map_err(|e| {
            if is_connection(&e) {
                unreachable(&self.endpoint, detail(&e))
            } else {
                RuntimeError::List {
                    kind: "swarm".to_owned(),
                    detail: detail(&e),
                }
            }
        })
    }

    /// The containers of service `name`'s tasks on this node (`all`: stopped ones too).
    async fn task_containers(
        &self,
        name: &str,
        all: bool,
        step: Step,
    ) -> Result<Vec<String>, RuntimeError> {
        let mut filters = HashMap::new();
        filters.insert(
            "label".to_owned(),
            vec![format!("{TASK_SERVICE_LABEL}={name}")],
        );
        let options = ListContainersOptionsBuilder::default()
            .all(all)
            .filters(&filters)
            .build();
        let containers = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(|e| self.error(name, step, &e))?;
        Ok(containers.into_iter().filter_map(|c| c.id).collect())
    }

    /// Remove the named volumes brise made for service `name` on this node,
    /// once its task containers are gone (a volume in use cannot be removed).
    /// Their data is the host directory they bind, which stays.
    async fn remove_volumes(&self, name: &str) -> Result<(), RuntimeError> {
        let deadline = Instant::now() + self.options.converge_timeout;
        while !self
            .task_containers(name, true, Step::Remove)
            .await?
            .is_empty()
        {
            if Instant::now() >= deadline {
                return Err(RuntimeError::container(
                    name,
                    Step::Remove,
                    format!(
                        "its task containers were still present after {} s",
                        self.options.converge_timeout.as_secs()
                    ),
                ));
            }
            tokio::time::sleep(self.options.poll_interval).await;
        }
        let mut filters = HashMap::new();
        filters.insert(
            "label".to_owned(),
            vec![
                format!("{}=true", labels::MANAGED),
                format!("{}={name}", labels::NAME),
            ],
        );
        let options = ListVolumesOptionsBuilder::default()
            .filters(&filters)
            .build();
        let volumes = self
            .docker
            .list_volumes(Some(options))
            .await
            .map_err(|e| self.error(name, Step::Remove, &e))?;
        for volume in volumes.volumes.into_iter().flatten() {
            let options = RemoveVolumeOptionsBuilder::default().force(false).build();
            match self.docker.remove_volume(&volume.name, Some(options)).await {
                Ok(()) => {}
                Err(error) if status_code(&error) == Some(404) => {}
                Err(error) => return Err(self.error(name, Step::Remove, &error)),
            }
        }
        Ok(())
    }
}

/// The same error, attributed to `step`.
fn restep(error: RuntimeError, step: Step) -> RuntimeError {
    match error {
        RuntimeError::Container { name, detail, .. } => {
            RuntimeError::Container { name, step, detail }
        }
        other => other,
    }
}

/// `localhost:5000/brise-demo/httpd` of `localhost:5000/brise-demo/httpd:2.4`.
fn repository_of(image: &ImageRef) -> String {
    match image.registry.as_deref() {
        Some(registry) if !registry.is_empty() => format!("{registry}/{}", image.repository),
        Some(_) | None => image.repository.clone(),
    }
}

#[async_trait]
impl Runtime for SwarmRuntime {
    fn kind(&self) -> &'static str {
        "swarm"
    }

    async fn ping(&self) -> Result<EngineInfo, RuntimeError> {
        self.docker
            .ping()
            .await
            .map_err(|e| unreachable(&self.endpoint, detail(&e)))?;
        self.check_manager().await?;
        Ok(self.info.clone())
    }

    async fn list_managed(&self) -> Result<Vec<ObservedContainer>, RuntimeError> {
        Ok(self
            .list_services()
            .await?
            .iter()
            .filter_map(observed_from)
            .collect())
    }

    async fn inspect(&self, name: &str) -> Result<Option<ObservedContainer>, RuntimeError> {
        Ok(self
            .find(name, Step::Inspect)
            .await?
            .as_ref()
            .and_then(observed_from))
    }

    /// The registry digest of the image as present on this node, without
    /// contacting the registry.
    async fn local_image(&self, image: &ImageRef) -> Result<Option<String>, RuntimeError> {
        let reference = image_reference(image);
        let prefix = format!("{}@", repository_of(image));
        match self.docker.inspect_image(&reference).await {
            Ok(inspect) => Ok(inspect
                .repo_digests
                .into_iter()
                .flatten()
                .find_map(|digest| digest.strip_prefix(&prefix).map(str::to_owned))),
            Err(error) if status_code(&error) == Some(404) => Ok(None),
            Err(error) if is_connection(&error) => Err(unreachable(&self.endpoint, detail(&error))),
            Err(error) => Err(RuntimeError::Pull {
                image: reference,
                registry: registry_name(image),
                detail: detail(&error),
            }),
        }
    }

    /// Resolve the image's registry digest: the tasks are pinned to it, so
    /// every node pulls the same image, and an image missing from its
    /// registry fails here, before anything changes. Nodes pull it themselves.
    async fn pull(
        &self,
        image: &ImageRef,
        progress: &dyn PullProgress,
    ) -> Result<String, RuntimeError> {
        let reference = image_reference(image);
        let failed = |detail: String| RuntimeError::Pull {
            image: reference.clone(),
            registry: registry_name(image),
            detail,
        };
        let inspect = self
            .docker
            .inspect_registry_image(&reference, None)
            .await
            .map_err(|e| {
                if is_connection(&e) {
                    unreachable(&self.endpoint, detail(&e))
                } else {
                    failed(detail(&e))
                }
            })?;
        let digest = inspect
            .descriptor
            .digest
            .filter(|digest| digest.starts_with("sha256:"))
            .ok_or_else(|| failed("the registry reports no digest for it".to_owned()))?;
        progress.pull_event(&PullEvent {
            image: reference.clone(),
            layer: None,
            status: format!("Digest: {digest}"),
            current: None,
            total: None,
        });
        Ok(digest)
    }

    /// Create the service with its declared replicas and wait until they run;
    /// a service whose tasks cannot run is removed again and reported.
    async fn create(&self, spec: &ContainerSpec, labels: &Labels) -> Result<String, RuntimeError> {
        let name = spec.name.as_str();
        if self.find_managed(name, Step::Create).await?.is_some() {
            return Err(RuntimeError::container(
                name,
                Step::Create,
                "a service with this name already exists",
            ));
        }
        let body = spec::service_spec(spec, labels, &self.options);
        let created = self
            .docker
            .create_service(body, None)
            .await
            .map_err(|e| self.error(name, Step::Create, &e))?;
        let id = created.id.unwrap_or_else(|| name.to_owned());
        let converged = self
            .wait_replicas(
                name,
                &id,
                Watch::new(&[]),
                u64::from(spec.replicas),
                Step::Create,
            )
            .await;
        match converged {
            Ok(()) => Ok(id),
            Err(RuntimeError::Container { detail, .. }) => {
                let cleanup = match self.remove(name).await {
                    Ok(()) => "the service was removed again".to_owned(),
                    Err(error) => format!("removing it failed too: {error}"),
                };
                Err(RuntimeError::container(
                    name,
                    Step::Create,
                    format!("its tasks did not start ({detail}); {cleanup}"),
                ))
            }
            Err(other) => Err(other),
        }
    }

    /// Scale a service stopped by [`Runtime::stop`] back to its declared replicas.
    async fn start(&self, name: &str) -> Result<(), RuntimeError> {
        let service = self
            .find_managed(name, Step::Start)
            .await?
            .ok_or_else(|| RuntimeError::container(name, Step::Start, "no such service"))?;
        let declared = declared_replicas(&service);
        if replicas_of(&service) == declared {
            return Ok(());
        }
        self.scale(service, declared, Step::Start).await
    }

    /// Scale the service to zero (it keeps its spec, volumes and ports), and
    /// wait for its tasks to stop. Their stop grace period is the service's.
    async fn stop(&self, name: &str, _timeout_seconds: u32) -> Result<(), RuntimeError> {
        let Some(service) = self.find_managed(name, Step::Stop).await? else {
            return Ok(());
        };
        if replicas_of(&service) == 0 {
            return Ok(());
        }
        self.scale(service, 0, Step::Stop).await
    }

    /// Remove the service, wait for its task containers to go, and remove the
    /// named volumes brise made for it on this node (their host directories stay).
    async fn remove(&self, name: &str) -> Result<(), RuntimeError> {
        let Some(service) = self.find_managed(name, Step::Remove).await? else {
            return Ok(());
        };
        let id = service.id.clone().unwrap_or_else(|| name.to_owned());
        match self.docker.delete_service(&id).await {
            Ok(()) => {}
            Err(error) if status_code(&error) == Some(404) => {}
            Err(error) => return Err(self.error(name, Step::Remove, &error)),
        }
        self.remove_volumes(name).await
    }

    /// Save the filesystem of one running task container of the service on
    /// this node (tasks on other nodes are not reachable from here).
    async fn backup(&self, name: &str, stamp: &str) -> Result<String, RuntimeError> {
        let containers = self.task_containers(name, false, Step::Backup).await?;
        let Some(container) = containers.first() else {
            return Err(RuntimeError::container(
                name,
                Step::Backup,
                "no task of the service runs on this node: its filesystem cannot be saved from here",
            ));
        };
        let repository = format!("brise-backup/{}", name.to_lowercase());
        let options = CommitContainerOptionsBuilder::default()
            .container(container)
            .repo(&repository)
            .tag(stamp)
            .comment("saved by brise reconfigure --recreate")
            .pause(true)
            .build();
        self.docker
            .commit_container(options, bollard::models::ContainerConfig::default())
            .await
            .map_err(|e| self.error(name, Step::Backup, &e))?;
        Ok(format!("{repository}:{stamp}"))
    }

    /// A rolling update of the service, against the version read just before.
    async fn recreate(
        &self,
        spec: &ContainerSpec,
        labels: &Labels,
        backup_stamp: Option<&str>,
    ) -> Result<Recreated, RuntimeError> {
        let backup = match backup_stamp {
            Some(stamp) => Some(self.backup(&spec.name, stamp).await?),
            None => None,
        };
        let version = self
            .version(&spec.name)
            .await?
            .ok_or_else(|| RuntimeError::container(&spec.name, Step::Update, "no such service"))?;
        self.update(spec, labels, version).await?;
        Ok(Recreated { backup })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{
        ObjectVersion, ServiceServiceStatus, ServiceSpec, ServiceSpecMode,
        ServiceSpecModeReplicated, ServiceUpdateStatus,
    };

    fn service(replicas: i64, declared: &str, running: u64) -> Service {
        let mut labels = HashMap::new();
        labels.insert(labels::MANAGED.to_owned(), "true".to_owned());
        labels.insert(labels::NAME.to_owned(), "web".to_owned());
        labels.insert(labels::SPEC_HASH.to_owned(), "abc".to_owned());
        labels.insert(spec::REPLICAS.to_owned(), declared.to_owned());
        Service {
            id: Some("id1".to_owned()),
            version: Some(ObjectVersion { index: Some(42) }),
            spec: Some(ServiceSpec {
                name: Some("web".to_owned()),
                labels: Some(labels),
                mode: Some(ServiceSpecMode {
                    replicated: Some(ServiceSpecModeReplicated {
                        replicas: Some(replicas),
                    }),
                    ..ServiceSpecMode::default()
                }),
                task_template: Some(bollard::models::TaskSpec {
                    container_spec: Some(bollard::models::TaskSpecContainerSpec {
                        image: Some("localhost:5000/x:1@sha256:feed".to_owned()),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..ServiceSpec::default()
            }),
            service_status: Some(ServiceServiceStatus {
                running_tasks: Some(running),
                desired_tasks: Some(u64::try_from(replicas).unwrap()),
                completed_tasks: None,
            }),
            ..Service::default()
        }
    }

    #[test]
    fn a_service_is_observed_with_its_labels_digest_and_state() {
        let observed = observed_from(&service(2, "2", 2)).unwrap();
        assert_eq!(observed.name, "web");
        assert_eq!(observed.id, "id1");
        assert_eq!(observed.state, ContainerState::Running);
        assert_eq!(observed.image_id.as_deref(), Some("sha256:feed"));
        assert_eq!(observed.labels.unwrap().spec_hash, "abc");
        assert_eq!(version_of(&service(2, "2", 2)), 42);
    }

    #[test]
    fn a_service_scaled_to_zero_by_stop_is_observed_as_not_started() {
        let observed = observed_from(&service(0, "2", 0)).unwrap();
        assert_eq!(observed.state, ContainerState::Created);
        let declared_zero = observed_from(&service(0, "0", 0)).unwrap();
        assert_eq!(
            declared_zero.state,
            ContainerState::Running,
            "zero replicas declared is as declared"
        );
    }

    #[test]
    fn a_service_missing_tasks_or_updating_is_left_to_the_engine() {
        assert_eq!(
            observed_from(&service(2, "2", 1)).unwrap().state,
            ContainerState::Restarting
        );
        let mut updating = service(2, "2", 2);
        updating.update_status = Some(ServiceUpdateStatus {
            state: Some(ServiceUpdateStatusStateEnum::UPDATING),
            ..ServiceUpdateStatus::default()
        });
        assert_eq!(
            observed_from(&updating).unwrap().state,
            ContainerState::Restarting
        );
    }

    #[test]
    fn a_service_without_brise_labels_is_foreign() {
        let mut foreign = service(1, "1", 1);
        foreign.spec.as_mut().unwrap().labels = None;
        assert_eq!(observed_from(&foreign).unwrap().labels, None);
    }

    #[test]
    fn task_states_map_to_phases() {
        assert_eq!(phase(Some(TaskState::PENDING)), Phase::Pending);
        assert_eq!(phase(Some(TaskState::PREPARING)), Phase::Starting);
        assert_eq!(phase(Some(TaskState::RUNNING)), Phase::Running);
        assert_eq!(phase(Some(TaskState::REJECTED)), Phase::Rejected);
        assert_eq!(phase(Some(TaskState::SHUTDOWN)), Phase::Gone);
    }

    #[test]
    fn repositories_keep_their_registry() {
        let image = ImageRef {
            registry: Some("localhost:5000".to_owned()),
            repository: "brise-demo/httpd".to_owned(),
            tag: "2.4".to_owned(),
        };
        assert_eq!(repository_of(&image), "localhost:5000/brise-demo/httpd");
    }

    #[test]
    fn the_engine_refusing_a_stale_version_is_recognised() {
        let error = BollardError::DockerResponseServerError {
            status_code: 500,
            message: "rpc error: code = Unknown desc = update out of sequence".to_owned(),
        };
        assert!(is_out_of_sequence(&error));
    }
}
