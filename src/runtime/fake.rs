//! An in-memory [`Runtime`] for fast tests of the planner and of apply: a
//! state (containers, a registry, local images), a log of every call, and
//! one-shot failure injection. It follows the same ownership rules as a real
//! engine (foreign containers are reported, never touched).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use serde::Serialize;

use super::{
    ContainerState, EngineInfo, Labels, ObservedContainer, PullEvent, PullProgress, Runtime,
    RuntimeError, Step, image_reference, registry_name,
};
use crate::containers::{
    ContainerSpec, ImageRef, Mount, PortMapping, Protocol, RestartPolicy, Technology,
};

/// One call made to the fake, in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case", tag = "call", content = "target")]
pub enum Call {
    Ping,
    ListManaged,
    Inspect(String),
    LocalImage(String),
    Pull(String),
    Create(String),
    Start(String),
    Stop(String),
    Remove(String),
    Backup(String),
}

impl Call {
    /// Calls that change something (create, start, stop, remove, backup).
    #[must_use]
    pub fn is_change(&self) -> bool {
        match self {
            Self::Create(_)
            | Self::Start(_)
            | Self::Stop(_)
            | Self::Remove(_)
            | Self::Backup(_) => true,
            Self::Ping
            | Self::ListManaged
            | Self::Inspect(_)
            | Self::LocalImage(_)
            | Self::Pull(_) => false,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    containers: BTreeMap<String, ObservedContainer>,
    /// reference → image id, what `pull` finds.
    registry: BTreeMap<String, String>,
    /// reference → image id, what is present locally.
    local: BTreeMap<String, String>,
    /// Backups taken, by name.
    backups: Vec<String>,
    calls: Vec<Call>,
    failures: Vec<(Call, RuntimeError)>,
    unreachable: bool,
    next_id: u64,
    clock: u64,
}

/// The in-memory runtime.
#[derive(Debug, Default)]
pub struct FakeRuntime {
    state: Mutex<State>,
}

impl FakeRuntime {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock already failed; keep going.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Make `reference` pullable, resolving to image `id`.
    pub fn publish_image(&self, reference: &str, id: &str) {
        self.state()
            .registry
            .insert(reference.to_owned(), id.to_owned());
    }

    /// Add a container that brise does not manage.
    pub fn add_foreign(&self, name: &str) {
        let mut state = self.state();
        state.next_id += 1;
        let id = format!("foreign-{}", state.next_id);
        state.containers.insert(
            name.to_owned(),
            ObservedContainer {
                name: name.to_owned(),
                id,
                labels: None,
                image_id: None,
                state: ContainerState::Running,
                started_at: None,
                ports: Vec::new(),
            },
        );
    }

    /// The main process of a container exits with `code` (hello-world, a crash).
    pub fn exit(&self, name: &str, code: i64) {
        if let Some(container) = self.state().containers.get_mut(name) {
            container.state = ContainerState::Exited { code };
        }
    }

    /// Make every call fail as if the engine were stopped (or back).
    pub fn set_unreachable(&self, unreachable: bool) {
        self.state().unreachable = unreachable;
    }

    /// The next call equal to `call` fails with `error` (once).
    pub fn fail_once(&self, call: Call, error: RuntimeError) {
        self.state().failures.push((call, error));
    }

    /// Every call so far.
    #[must_use]
    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    /// Calls so far that changed something.
    #[must_use]
    pub fn changes(&self) -> Vec<Call> {
        self.calls().into_iter().filter(Call::is_change).collect()
    }

    /// Forget the call log.
    pub fn clear_calls(&self) {
        self.state().calls.clear();
    }

    /// The container named `name`, as observed now.
    #[must_use]
    pub fn container(&self, name: &str) -> Option<ObservedContainer> {
        self.state().containers.get(name).cloned()
    }

    /// Backups taken so far.
    #[must_use]
    pub fn backups(&self) -> Vec<String> {
        self.state().backups.clone()
    }

    /// Log the call; fail if the engine is "stopped" or a failure was injected for it.
    fn enter(&self, call: Call) -> Result<MutexGuard<'_, State>, RuntimeError> {
        let mut state = self.state();
        state.calls.push(call.clone());
        if state.unreachable {
            return Err(RuntimeError::EngineUnreachable {
                kind: "fake".to_owned(),
                endpoint: "memory".to_owned(),
                detail: "the fake engine is stopped".to_owned(),
            });
        }
        if let Some(position) = state.failures.iter().position(|(c, _)| *c == call) {
            let (_, error) = state.failures.remove(position);
            return Err(error);
        }
        Ok(state)
    }
}

fn managed<'a>(
    state: &'a mut State,
    name: &str,
    step: Step,
) -> Result<&'a mut ObservedContainer, RuntimeError> {
    match state.containers.get_mut(name) {
        None => Err(RuntimeError::container(name, step, "no such container")),
        Some(container) if !container.is_managed() => Err(RuntimeError::Foreign {
            name: name.to_owned(),
        }),
        Some(container) => Ok(container),
    }
}

#[async_trait]
impl Runtime for FakeRuntime {
    fn kind(&self) -> &'static str {
        "fake"
    }

    async fn ping(&self) -> Result<EngineInfo, RuntimeError> {
        drop(self.enter(Call::Ping)?);
        Ok(EngineInfo {
            kind: "fake".to_owned(),
            version: "0".to_owned(),
            api_version: None,
            endpoint: "memory".to_owned(),
        })
    }

    async fn list_managed(&self) -> Result<Vec<ObservedContainer>, RuntimeError> {
        let state = self.enter(Call::ListManaged)?;
        Ok(state
            .containers
            .values()
            .filter(|c| c.is_managed())
            .cloned()
            .collect())
    }

    async fn inspect(&self, name: &str) -> Result<Option<ObservedContainer>, RuntimeError> {
        let state = self.enter(Call::Inspect(name.to_owned()))?;
        Ok(state.containers.get(name).cloned())
    }

    async fn local_image(&self, image: &ImageRef) -> Result<Option<String>, RuntimeError> {
        let reference = image_reference(image);
        let state = self.enter(Call::LocalImage(reference.clone()))?;
        Ok(state.local.get(&reference).cloned())
    }

    async fn pull(
        &self,
        image: &ImageRef,
        progress: &dyn PullProgress,
    ) -> Result<String, RuntimeError> {
        let reference = image_reference(image);
        let mut state = self.enter(Call::Pull(reference.clone()))?;
        let Some(id) = state.registry.get(&reference).cloned() else {
            return Err(RuntimeError::Pull {
                image: reference,
                registry: registry_name(image),
                detail: "manifest unknown".to_owned(),
            });
        };
        state.local.insert(reference.clone(), id.clone());
        drop(state);
        progress.pull_event(&PullEvent {
            image: reference,
            layer: None,
            status: format!("Digest: {id}"),
            current: None,
            total: None,
        });
        Ok(id)
    }

    async fn create(&self, spec: &ContainerSpec, labels: &Labels) -> Result<String, RuntimeError> {
        let mut state = self.enter(Call::Create(spec.name.clone()))?;
        if state.containers.contains_key(&spec.name) {
            return Err(RuntimeError::container(
                &spec.name,
                Step::Create,
                "the name is already in use",
            ));
        }
        let reference = image_reference(&spec.image);
        let Some(image_id) = state.local.get(&reference).cloned() else {
            return Err(RuntimeError::container(
                &spec.name,
                Step::Create,
                format!("no such image: {reference}"),
            ));
        };
        state.next_id += 1;
        let id = format!("fake-{}", state.next_id);
        state.containers.insert(
            spec.name.clone(),
            ObservedContainer {
                name: spec.name.clone(),
                id: id.clone(),
                labels: Some(labels.clone()),
                image_id: Some(image_id),
                state: ContainerState::Created,
                started_at: None,
                ports: spec.ports.clone(),
            },
        );
        Ok(id)
    }

    async fn start(&self, name: &str) -> Result<(), RuntimeError> {
        let mut state = self.enter(Call::Start(name.to_owned()))?;
        state.clock += 1;
        let now = format!("t{}", state.clock);
        let container = managed(&mut state, name, Step::Start)?;
        if container.state != ContainerState::Running {
            container.state = ContainerState::Running;
            container.started_at = Some(now);
        }
        Ok(())
    }

    async fn stop(&self, name: &str, _timeout_seconds: u32) -> Result<(), RuntimeError> {
        let mut state = self.enter(Call::Stop(name.to_owned()))?;
        let container = managed(&mut state, name, Step::Stop)?;
        if container.state.is_up() {
            // What a service stopped through an init process reports: 128 + SIGTERM.
            container.state = ContainerState::Exited { code: 143 };
        }
        Ok(())
    }

    async fn remove(&self, name: &str) -> Result<(), RuntimeError> {
        let mut state = self.enter(Call::Remove(name.to_owned()))?;
        managed(&mut state, name, Step::Remove)?;
        state.containers.remove(name);
        Ok(())
    }

    async fn backup(&self, name: &str, stamp: &str) -> Result<String, RuntimeError> {
        let mut state = self.enter(Call::Backup(name.to_owned()))?;
        managed(&mut state, name, Step::Backup)?;
        let backup = format!("brise-backup/{name}:{stamp}");
        state.backups.push(backup.clone());
        Ok(backup)
    }
}

/// A plain spec for tests: image `localhost:5000/brise-demo/<image>`, no port,
/// no mount, not persistent, init on.
#[must_use]
pub fn spec(name: &str, image: &str) -> ContainerSpec {
    let (repository, tag) = image.split_once(':').unwrap_or((image, "latest"));
    ContainerSpec {
        name: name.to_owned(),
        identifier: name.to_owned(),
        index: 1,
        technology: Technology::Docker,
        image: ImageRef {
            registry: Some("localhost:5000".to_owned()),
            repository: format!("brise-demo/{repository}"),
            tag: tag.to_owned(),
        },
        ports: Vec::new(),
        mounts: Vec::<Mount>::new(),
        environment: Vec::new(),
        command: None,
        restart: RestartPolicy::UnlessStopped,
        persistent: false,
        init: true,
        stop_timeout: 10,
        depends_on: Vec::new(),
        proxy_path: None,
        allowed_networks: Vec::new(),
        healthcheck: None,
        replicas: 1,
        placement: Vec::new(),
        rendered_hash: None,
    }
}

/// A TCP port published on 127.0.0.1.
#[must_use]
pub fn loopback_port(container_port: u16, host_port: u16) -> PortMapping {
    PortMapping {
        container_port,
        host_port,
        protocol: Protocol::Tcp,
        host_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
    }
}
