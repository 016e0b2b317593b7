//! Pure translation of a [`ContainerSpec`] into a Swarm service: the service
//! spec sent to the engine (task template, replicas, placement, published
//! ports, named volumes, update and rollback policy), the policies behind it
//! ([`SwarmOptions`]), and the checks and warnings an administrator must see
//! before anything changes ([`check`]). No I/O.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use bollard::models::{
    EndpointPortConfig, EndpointPortConfigProtocolEnum, EndpointPortConfigPublishModeEnum,
    EndpointSpec, EndpointSpecModeEnum, HealthConfig, Mount as SwarmMount, MountType,
    MountVolumeOptions, MountVolumeOptionsDriverConfig, ServiceSpec, ServiceSpecMode,
    ServiceSpecModeReplicated, ServiceSpecRollbackConfig,
    ServiceSpecRollbackConfigFailureActionEnum, ServiceSpecRollbackConfigOrderEnum,
    ServiceSpecUpdateConfig, ServiceSpecUpdateConfigFailureActionEnum,
    ServiceSpecUpdateConfigOrderEnum, TaskSpec, TaskSpecContainerSpec, TaskSpecPlacement,
    TaskSpecRestartPolicy, TaskSpecRestartPolicyConditionEnum,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::containers::{ContainerSpec, Protocol, RestartPolicy, Technology};
use crate::runtime::image_reference;
use crate::runtime::labels::{self, Labels, spec_hash};

/// Service label: the declared number of replicas (restored by `start` after a `stop`).
pub const REPLICAS: &str = "brise.replicas";
/// Service label: hash of what the tasks run; a change means a rolling update.
pub const TASK_HASH: &str = "brise.task-hash";
/// Bumped whenever the task hash input changes.
const TASK_HASH_VERSION: &str = "brise-swarm-task-v1";

/// How a service's ports are published (`containers.swarm_publish_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PublishMode {
    /// The routing mesh: the port answers on every node and reaches any task,
    /// so nginx on the manager reaches tasks on every node; rolling updates
    /// can start the new task first.
    #[default]
    Ingress,
    /// The port is bound on the nodes that run a task only (one task per node
    /// and port); updates stop the old task before starting the new one.
    Host,
}

impl PublishMode {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ingress => "ingress",
            Self::Host => "host",
        }
    }
}

/// The publish mode chosen in the configuration (`containers.swarm_publish_mode`;
/// `ingress` when the variable is absent).
///
/// # Errors
/// The value is neither `ingress` nor `host`.
pub fn publish_mode(
    config: &dyn crate::render::Configuration,
) -> Result<PublishMode, crate::containers::ValidationError> {
    let path = match config.namespace() {
        Some(namespace) => format!("{namespace}.containers.swarm_publish_mode"),
        None => "containers.swarm_publish_mode".to_owned(),
    };
    let tree = config.tree();
    match crate::render::configuration::lookup(&tree, &path) {
        None | Some(serde_json::Value::Null) => Ok(PublishMode::Ingress),
        Some(serde_json::Value::String(mode)) if mode == "ingress" => Ok(PublishMode::Ingress),
        Some(serde_json::Value::String(mode)) if mode == "host" => Ok(PublishMode::Host),
        Some(other) => Err(crate::containers::ValidationError {
            path,
            index: None,
            message: format!(
                "unknown publish mode `{}`",
                other
                    .as_str()
                    .map_or_else(|| other.to_string(), str::to_owned)
            ),
        }),
    }
}

/// Rolling update policy of every service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdatePolicy {
    /// Tasks replaced at once.
    pub parallelism: u32,
    /// Pause between two batches.
    pub delay: Duration,
    /// How long a new task is watched for failure before the next batch.
    pub monitor: Duration,
}

impl Default for UpdatePolicy {
    fn default() -> Self {
        Self {
            parallelism: 1,
            delay: Duration::from_secs(2),
            monitor: Duration::from_secs(5),
        }
    }
}

/// Everything the Swarm runtime decides that is not in a [`ContainerSpec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwarmOptions {
    pub publish_mode: PublishMode,
    pub update: UpdatePolicy,
    /// Delay before a failed or exited task is restarted.
    pub restart_delay: Duration,
    /// How long a creation, update, stop or removal may take to converge.
    pub converge_timeout: Duration,
    /// How often convergence is checked.
    pub poll_interval: Duration,
}

impl Default for SwarmOptions {
    fn default() -> Self {
        Self {
            publish_mode: PublishMode::Ingress,
            update: UpdatePolicy::default(),
            restart_delay: Duration::from_secs(5),
            converge_timeout: Duration::from_secs(300),
            poll_interval: Duration::from_millis(500),
        }
    }
}

/// The order of a rolling update: start the new task first unless a fixed
/// host port forbids it (host mode binds the port on the node, and two tasks
/// of the service cannot hold it on the same node at once).
#[must_use]
pub fn starts_first(spec: &ContainerSpec, mode: PublishMode) -> bool {
    spec.ports.is_empty() || mode == PublishMode::Ingress
}

/// The declared specs as a run with the Swarm engine sees them: containers
/// of technology `docker` get every host port on all addresses, since Swarm
/// cannot bind one address (the spec hash then describes what really runs,
/// and host port checks probe the addresses the engine will bind); LXC
/// containers are unchanged (the LXC runtime runs them).
#[must_use]
pub fn services(desired: &[ContainerSpec]) -> Vec<ContainerSpec> {
    desired
        .iter()
        .map(|spec| {
            let mut spec = spec.clone();
            if spec.technology == Technology::Docker {
                for port in &mut spec.ports {
                    port.host_ip = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
                }
            }
            spec
        })
        .collect()
}

/// What stops a Swarm run before anything changes, and what the
/// administrator should know about it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Checked {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// Check the declared containers for Swarm: service names Swarm accepts, and
/// the policies it cannot honour (loopback or one-address publishing, local
/// data, host-mode replicas).
#[must_use]
pub fn check(desired: &[ContainerSpec], options: &SwarmOptions) -> Checked {
    let mut checked = Checked::default();
    for spec in desired {
        let name = &spec.name;
        if spec.technology == Technology::Lxc {
            checked.warnings.push(format!(
                "container `{name}` uses technology `lxc`: it is not a Swarm service and runs \
                 with LXC on this machine"
            ));
            continue;
        }
        if !is_service_name(name) {
            checked.errors.push(format!(
                "container `{name}`: Swarm service names are letters, digits, `-` and `_` \
                 (starting and ending with a letter or digit, at most 63 characters): rename it"
            ));
        }
        for port in &spec.ports {
            let reach = match options.publish_mode {
                PublishMode::Ingress => "on every address of every node (routing mesh)",
                PublishMode::Host => "on every address of the nodes that run one of its tasks",
            };
            if port.host_ip.is_loopback() {
                checked.warnings.push(format!(
                    "container `{name}`: Swarm cannot publish on {} only: host port {} is \
                     published {reach}; block it from other machines with a firewall \
                     (see docs/scale-out.md)",
                    port.host_ip, port.host_port
                ));
            } else if !port.host_ip.is_unspecified() {
                checked.warnings.push(format!(
                    "container `{name}`: Swarm cannot publish on one address ({}): host port {} \
                     is published {reach}",
                    port.host_ip, port.host_port
                ));
            }
        }
        if options.publish_mode == PublishMode::Host && !spec.ports.is_empty() && spec.replicas > 1
        {
            checked.warnings.push(format!(
                "container `{name}`: in host mode one task per node publishes host port {}: \
                 with {} replicas, the service needs {} nodes or its extra tasks stay pending",
                spec.ports[0].host_port, spec.replicas, spec.replicas
            ));
        }
        for mount in &spec.mounts {
            checked.warnings.push(format!(
                "container `{name}`: directory `{}` is a local volume of whichever node runs \
                 the task: its data stays on that node, and it must exist on every node that \
                 may run the service",
                mount.host_dir
            ));
        }
    }
    checked
}

/// Swarm's rule for service names (a DNS label with `_` allowed).
fn is_service_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let edge = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    name.len() <= 63
        && edge(bytes.first())
        && edge(bytes.last())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
}

/// The image the tasks run: the reference pinned to the registry digest when
/// it is known, so every node runs the same image.
#[must_use]
pub fn pinned_image(spec: &ContainerSpec, labels: &Labels) -> String {
    let reference = image_reference(&spec.image);
    match labels.image_digest.as_deref() {
        Some(digest) if digest.starts_with("sha256:") => format!("{reference}@{digest}"),
        Some(_) | None => reference,
    }
}

/// The registry digest an image reference is pinned to (`…@sha256:…`).
#[must_use]
pub fn digest_of(image: &str) -> Option<&str> {
    image
        .rsplit_once('@')
        .map(|(_, digest)| digest)
        .filter(|digest| digest.starts_with("sha256:"))
}

/// Hash of what the tasks run (everything but the number of replicas): two
/// service specs with the same task hash differ by scale only, which Swarm
/// applies without replacing any task. It covers the content of rendered
/// files too (through the spec hash), which Swarm cannot see: the task
/// template carries it as its `ForceUpdate` counter, so a changed hash always
/// rolls the tasks.
#[must_use]
pub fn task_hash(spec: &ContainerSpec, labels: &Labels, options: &SwarmOptions) -> String {
    let mut unscaled = spec.clone();
    unscaled.replicas = 0;
    let restart_delay = options.restart_delay.as_millis().to_string();
    let mut hasher = Sha256::new();
    for part in [
        TASK_HASH_VERSION,
        &spec_hash(&unscaled),
        &pinned_image(spec, labels),
        options.publish_mode.as_str(),
        &restart_delay,
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

/// The task template's `ForceUpdate` counter for a task hash (its first 48
/// bits: exact in every JSON reader).
#[must_use]
pub fn force_update(task_hash: &str) -> u64 {
    task_hash
        .get(..12)
        .and_then(|prefix| u64::from_str_radix(prefix, 16).ok())
        .unwrap_or(0)
}

/// Name of the named volume holding host directory `host_dir` for `service`:
/// derived from the directory, so a changed directory is a new volume (an
/// existing local volume keeps the options it was created with).
#[must_use]
pub fn volume_name(service: &str, host_dir: &str) -> String {
    let digest = hex::encode(Sha256::digest(host_dir.as_bytes()));
    format!("brise-{service}-{}", &digest[..12])
}

fn nanoseconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

/// The service labels: brise's ownership labels plus the declared replicas and the task hash.
#[must_use]
pub fn service_labels(
    spec: &ContainerSpec,
    labels: &Labels,
    task_hash: &str,
) -> HashMap<String, String> {
    let mut map: HashMap<String, String> = labels.to_map().into_iter().collect();
    map.insert(REPLICAS.to_owned(), spec.replicas.to_string());
    map.insert(TASK_HASH.to_owned(), task_hash.to_owned());
    map
}

/// The Engine API service spec of `spec`, carrying `labels`.
#[must_use]
pub fn service_spec(spec: &ContainerSpec, labels: &Labels, options: &SwarmOptions) -> ServiceSpec {
    let mode = options.publish_mode;
    let task_hash = task_hash(spec, labels, options);
    let mounts: Vec<SwarmMount> = spec
        .mounts
        .iter()
        .map(|mount| {
            let mut volume_labels = HashMap::new();
            volume_labels.insert(labels::MANAGED.to_owned(), "true".to_owned());
            volume_labels.insert(labels::NAME.to_owned(), spec.name.clone());
            let mut driver_options = HashMap::new();
            driver_options.insert("type".to_owned(), "none".to_owned());
            driver_options.insert("o".to_owned(), "bind".to_owned());
            driver_options.insert("device".to_owned(), mount.host_dir.clone());
            SwarmMount {
                target: Some(mount.container_dir.clone()),
                source: Some(volume_name(&spec.name, &mount.host_dir)),
                typ: Some(MountType::VOLUME),
                read_only: Some(mount.read_only),
                volume_options: Some(MountVolumeOptions {
                    labels: Some(volume_labels),
                    driver_config: Some(MountVolumeOptionsDriverConfig {
                        name: Some("local".to_owned()),
                        options: Some(driver_options),
                    }),
                    ..MountVolumeOptions::default()
                }),
                ..SwarmMount::default()
            }
        })
        .collect();
    let health_check = spec.healthcheck.as_ref().map(|check| HealthConfig {
        test: Some(vec!["CMD-SHELL".to_owned(), check.command.clone()]),
        interval: Some(nanoseconds(Duration::from_secs(u64::from(
            check.interval_seconds,
        )))),
        ..HealthConfig::default()
    });
    let container = TaskSpecContainerSpec {
        image: Some(pinned_image(spec, labels)),
        // The declared command replaces the image's CMD, as `docker run IMAGE CMD…`
        // does; `command` would replace its ENTRYPOINT.
        args: spec.command.clone(),
        env: (!spec.environment.is_empty()).then(|| {
            spec.environment
                .iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect()
        }),
        mounts: (!mounts.is_empty()).then_some(mounts),
        stop_grace_period: Some(nanoseconds(Duration::from_secs(u64::from(
            spec.stop_timeout,
        )))),
        health_check,
        init: Some(spec.init),
        ..TaskSpecContainerSpec::default()
    };
    let condition = match spec.restart {
        RestartPolicy::No => TaskSpecRestartPolicyConditionEnum::NONE,
        RestartPolicy::OnFailure => TaskSpecRestartPolicyConditionEnum::ON_FAILURE,
        RestartPolicy::Always | RestartPolicy::UnlessStopped => {
            TaskSpecRestartPolicyConditionEnum::ANY
        }
    };
    let task = TaskSpec {
        container_spec: Some(container),
        restart_policy: Some(TaskSpecRestartPolicy {
            condition: Some(condition),
            delay: Some(nanoseconds(options.restart_delay)),
            max_attempts: Some(0),
            window: None,
        }),
        placement: (!spec.placement.is_empty()).then(|| TaskSpecPlacement {
            constraints: Some(spec.placement.clone()),
            ..TaskSpecPlacement::default()
        }),
        force_update: Some(force_update(&task_hash)),
        ..TaskSpec::default()
    };
    let ports: Vec<EndpointPortConfig> = spec
        .ports
        .iter()
        .map(|port| EndpointPortConfig {
            name: None,
            protocol: Some(match port.protocol {
                Protocol::Tcp => EndpointPortConfigProtocolEnum::TCP,
                Protocol::Udp => EndpointPortConfigProtocolEnum::UDP,
            }),
            target_port: Some(i64::from(port.container_port)),
            published_port: Some(i64::from(port.host_port)),
            publish_mode: Some(match mode {
                PublishMode::Ingress => EndpointPortConfigPublishModeEnum::INGRESS,
                PublishMode::Host => EndpointPortConfigPublishModeEnum::HOST,
            }),
        })
        .collect();
    let start_first = starts_first(spec, mode);
    let update = &options.update;
    ServiceSpec {
        name: Some(spec.name.clone()),
        labels: Some(service_labels(spec, labels, &task_hash)),
        task_template: Some(task),
        mode: Some(ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated {
                replicas: Some(i64::from(spec.replicas)),
            }),
            ..ServiceSpecMode::default()
        }),
        update_config: Some(ServiceSpecUpdateConfig {
            parallelism: Some(i64::from(update.parallelism)),
            delay: Some(nanoseconds(update.delay)),
            failure_action: Some(ServiceSpecUpdateConfigFailureActionEnum::ROLLBACK),
            monitor: Some(nanoseconds(update.monitor)),
            max_failure_ratio: Some(0.0),
            order: Some(if start_first {
                ServiceSpecUpdateConfigOrderEnum::START_FIRST
            } else {
                ServiceSpecUpdateConfigOrderEnum::STOP_FIRST
            }),
        }),
        rollback_config: Some(ServiceSpecRollbackConfig {
            parallelism: Some(i64::from(update.parallelism)),
            delay: Some(0),
            failure_action: Some(ServiceSpecRollbackConfigFailureActionEnum::PAUSE),
            monitor: Some(nanoseconds(update.monitor)),
            max_failure_ratio: Some(0.0),
            order: Some(if start_first {
                ServiceSpecRollbackConfigOrderEnum::START_FIRST
            } else {
                ServiceSpecRollbackConfigOrderEnum::STOP_FIRST
            }),
        }),
        networks: None,
        endpoint_spec: Some(EndpointSpec {
            mode: Some(EndpointSpecModeEnum::VIP),
            ports: (!ports.is_empty()).then_some(ports),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containers::Mount;
    use crate::runtime::fake::{loopback_port, spec};

    fn web() -> ContainerSpec {
        let mut web = spec("web", "httpd:2.4");
        web.ports.push(loopback_port(80, 8081));
        web.replicas = 2;
        web.placement = vec!["node.labels.site==lyon".to_owned()];
        web.environment = vec![("A".to_owned(), "1".to_owned())];
        web.command = Some(vec!["httpd".to_owned(), "-f".to_owned()]);
        web.mounts.push(Mount {
            host_dir: "/srv/web".to_owned(),
            container_dir: "/usr/local/apache2/htdocs".to_owned(),
            read_only: true,
        });
        web
    }

    fn labels(spec: &ContainerSpec) -> Labels {
        Labels::for_spec(spec, Some("sha256:0123"))
    }

    #[test]
    fn a_container_becomes_a_replicated_service_with_its_labels_and_placement() {
        let web = web();
        let service = service_spec(&web, &labels(&web), &SwarmOptions::default());
        assert_eq!(service.name.as_deref(), Some("web"));
        assert_eq!(
            service.mode.unwrap().replicated.unwrap().replicas,
            Some(2),
            "replicated mode with the declared replicas"
        );
        let service_labels = service.labels.unwrap();
        assert_eq!(service_labels["brise.managed"], "true");
        assert_eq!(service_labels["brise.name"], "web");
        assert_eq!(service_labels[REPLICAS], "2");
        assert_eq!(service_labels[labels::SPEC_HASH], spec_hash(&web));
        let task = service.task_template.unwrap();
        assert_eq!(
            task.placement.unwrap().constraints,
            Some(vec!["node.labels.site==lyon".to_owned()])
        );
        let container = task.container_spec.unwrap();
        assert_eq!(
            container.image.as_deref(),
            Some("localhost:5000/brise-demo/httpd:2.4@sha256:0123")
        );
        assert_eq!(container.command, None, "the entrypoint is the image's");
        assert_eq!(
            container.args,
            Some(vec!["httpd".to_owned(), "-f".to_owned()])
        );
        assert_eq!(container.env, Some(vec!["A=1".to_owned()]));
        assert_eq!(container.init, Some(true));
        assert_eq!(container.stop_grace_period, Some(10_000_000_000));
        assert!(
            container.labels.is_none(),
            "task containers must not look managed to the Docker runtime"
        );
    }

    #[test]
    fn shared_directories_become_named_volumes_bound_to_the_host_directory() {
        let web = web();
        let service = service_spec(&web, &labels(&web), &SwarmOptions::default());
        let mounts = service
            .task_template
            .unwrap()
            .container_spec
            .unwrap()
            .mounts
            .unwrap();
        assert_eq!(mounts.len(), 1);
        let mount = &mounts[0];
        assert_eq!(mount.typ, Some(MountType::VOLUME));
        assert_eq!(mount.read_only, Some(true));
        assert_eq!(
            mount.source.as_deref(),
            Some(volume_name("web", "/srv/web").as_str())
        );
        let options = mount.volume_options.as_ref().unwrap();
        let driver = options.driver_config.as_ref().unwrap();
        assert_eq!(driver.name.as_deref(), Some("local"));
        let driver_options = driver.options.as_ref().unwrap();
        assert_eq!(driver_options["device"], "/srv/web");
        assert_eq!(driver_options["o"], "bind");
        assert_eq!(options.labels.as_ref().unwrap()["brise.name"], "web");
    }

    #[test]
    fn volume_names_follow_the_host_directory() {
        assert_eq!(volume_name("web", "/a"), volume_name("web", "/a"));
        assert_ne!(volume_name("web", "/a"), volume_name("web", "/b"));
        assert_ne!(volume_name("web", "/a"), volume_name("db", "/a"));
        assert!(volume_name("web", "/a").starts_with("brise-web-"));
    }

    #[test]
    fn ingress_ports_update_start_first_and_roll_back_on_failure() {
        let web = web();
        let service = service_spec(&web, &labels(&web), &SwarmOptions::default());
        let ports = service.endpoint_spec.unwrap().ports.unwrap();
        assert_eq!(
            ports[0].publish_mode,
            Some(EndpointPortConfigPublishModeEnum::INGRESS)
        );
        assert_eq!(
            (ports[0].target_port, ports[0].published_port),
            (Some(80), Some(8081))
        );
        let update = service.update_config.unwrap();
        assert_eq!(
            update.order,
            Some(ServiceSpecUpdateConfigOrderEnum::START_FIRST)
        );
        assert_eq!(
            update.failure_action,
            Some(ServiceSpecUpdateConfigFailureActionEnum::ROLLBACK)
        );
        assert_eq!(update.parallelism, Some(1));
        assert_eq!(update.monitor, Some(5_000_000_000));
    }

    #[test]
    fn a_host_mode_port_forbids_start_first() {
        let web = web();
        let options = SwarmOptions {
            publish_mode: PublishMode::Host,
            ..SwarmOptions::default()
        };
        let service = service_spec(&web, &labels(&web), &options);
        assert_eq!(
            service.endpoint_spec.unwrap().ports.unwrap()[0].publish_mode,
            Some(EndpointPortConfigPublishModeEnum::HOST)
        );
        assert_eq!(
            service.update_config.unwrap().order,
            Some(ServiceSpecUpdateConfigOrderEnum::STOP_FIRST)
        );
        let mut no_port = spec("worker", "busybox");
        no_port.replicas = 2;
        assert!(starts_first(&no_port, PublishMode::Host));
    }

    #[test]
    fn the_task_hash_ignores_replicas_only() {
        let web = web();
        let options = SwarmOptions::default();
        let base = task_hash(&web, &labels(&web), &options);
        let mut scaled = web.clone();
        scaled.replicas = 3;
        assert_eq!(task_hash(&scaled, &labels(&scaled), &options), base);
        let mut changed = web.clone();
        changed.environment.push(("B".to_owned(), "2".to_owned()));
        assert_ne!(task_hash(&changed, &labels(&changed), &options), base);
        let mut rendered = web.clone();
        rendered.rendered_hash = Some("abc".to_owned());
        assert_ne!(task_hash(&rendered, &labels(&rendered), &options), base);
        let moved = Labels::for_spec(&web, Some("sha256:4567"));
        assert_ne!(task_hash(&web, &moved, &options), base);
        let host = SwarmOptions {
            publish_mode: PublishMode::Host,
            ..options
        };
        assert_ne!(task_hash(&web, &labels(&web), &host), base);
    }

    #[test]
    fn a_new_task_hash_forces_a_rolling_update_and_a_new_scale_does_not() {
        let web = web();
        let options = SwarmOptions::default();
        let force = |spec: &ContainerSpec| {
            service_spec(spec, &labels(spec), &options)
                .task_template
                .unwrap()
                .force_update
                .unwrap()
        };
        let mut rendered = web.clone();
        rendered.rendered_hash = Some("abc".to_owned());
        assert_ne!(force(&rendered), force(&web));
        let mut scaled = web.clone();
        scaled.replicas = 5;
        assert_eq!(force(&scaled), force(&web));
        assert!(force(&web) < 1 << 48);
    }

    #[test]
    fn the_image_is_pinned_to_its_registry_digest_when_known() {
        let web = web();
        assert_eq!(
            pinned_image(&web, &Labels::for_spec(&web, None)),
            "localhost:5000/brise-demo/httpd:2.4"
        );
        let pinned = pinned_image(&web, &labels(&web));
        assert_eq!(digest_of(&pinned), Some("sha256:0123"));
        assert_eq!(digest_of("httpd:2.4"), None);
    }

    #[test]
    fn restart_policies_map_to_task_restart_conditions() {
        for (restart, condition) in [
            (RestartPolicy::No, TaskSpecRestartPolicyConditionEnum::NONE),
            (
                RestartPolicy::OnFailure,
                TaskSpecRestartPolicyConditionEnum::ON_FAILURE,
            ),
            (
                RestartPolicy::Always,
                TaskSpecRestartPolicyConditionEnum::ANY,
            ),
            (
                RestartPolicy::UnlessStopped,
                TaskSpecRestartPolicyConditionEnum::ANY,
            ),
        ] {
            let mut web = web();
            web.restart = restart;
            let service = service_spec(&web, &labels(&web), &SwarmOptions::default());
            let policy = service.task_template.unwrap().restart_policy.unwrap();
            assert_eq!(policy.condition, Some(condition), "{restart:?}");
        }
    }

    #[test]
    fn services_publish_docker_ports_on_all_addresses_and_leave_lxc_alone() {
        let mut lxc = spec("vm", "busybox");
        lxc.technology = Technology::Lxc;
        lxc.ports.push(loopback_port(22, 2222));
        let services = services(&[web(), lxc]);
        assert_eq!(services.len(), 2);
        assert!(services[0].ports[0].host_ip.is_unspecified());
        assert!(services[1].ports[0].host_ip.is_loopback());
    }

    #[test]
    fn check_warns_about_loopback_ports_local_volumes_and_host_mode_replicas() {
        let checked = check(&[web()], &SwarmOptions::default());
        assert!(checked.errors.is_empty());
        assert_eq!(checked.warnings.len(), 2, "{:#?}", checked.warnings);
        assert!(checked.warnings[0].contains("cannot publish on 127.0.0.1 only"));
        assert!(checked.warnings[0].contains("every address of every node"));
        assert!(checked.warnings[1].contains("`/srv/web` is a local volume"));
        let host = SwarmOptions {
            publish_mode: PublishMode::Host,
            ..SwarmOptions::default()
        };
        let checked = check(&[web()], &host);
        assert!(
            checked
                .warnings
                .iter()
                .any(|w| w.contains("in host mode one task per node publishes host port 8081")),
            "{:#?}",
            checked.warnings
        );
    }

    #[test]
    fn the_publish_mode_is_read_from_the_configuration() {
        let mut config = crate::render::TreeConfiguration {
            tree: serde_json::json!({"containers": {}}),
            dynamic: Vec::new(),
        };
        assert_eq!(publish_mode(&config), Ok(PublishMode::Ingress));
        config.tree["containers"]["swarm_publish_mode"] = serde_json::json!("host");
        assert_eq!(publish_mode(&config), Ok(PublishMode::Host));
        config.tree["containers"]["swarm_publish_mode"] = serde_json::json!("mesh");
        let error = publish_mode(&config).unwrap_err();
        assert_eq!(error.path, "containers.swarm_publish_mode");
        assert_eq!(error.message, "unknown publish mode `mesh`");
    }

    #[test]
    fn check_rejects_names_swarm_refuses() {
        for bad in ["my.app", "-web", "web-", &"a".repeat(64)] {
            let checked = check(&[spec(bad, "busybox")], &SwarmOptions::default());
            assert_eq!(checked.errors.len(), 1, "{bad}");
            assert!(checked.errors[0].contains("Swarm service names"), "{bad}");
        }
        for good in ["web", "my-apache-app", "a_b2", "W"] {
            assert!(
                check(&[spec(good, "busybox")], &SwarmOptions::default())
                    .errors
                    .is_empty(),
                "{good}"
            );
        }
    }
}
