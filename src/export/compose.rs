//! Declared containers → a Compose file (format 3.8, read by Debian's
//! docker-compose 1.29 and by `docker stack deploy`): one service per Docker
//! container with its image, ports (on the declared address), bind mounts,
//! environment, command, restart policy, init, stop grace period,
//! dependencies, health check, and under `deploy` its Swarm replicas,
//! placement and brise's update, rollback and restart policies. Typed structures serialised to YAML; `$` is escaped so that
//! Compose interpolates nothing. Pure.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::{ExportError, Exported};
use crate::containers::{ContainerSpec, Protocol, RestartPolicy, Technology};
use crate::runtime::image_reference;
use crate::runtime::swarm::spec::starts_first;
use crate::runtime::swarm::{PublishMode, SwarmOptions};

/// The Compose file format written.
pub const VERSION: &str = "3.8";

/// A Compose file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComposeFile {
    pub version: String,
    pub services: IndexMap<String, Service>,
}

/// One Compose service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub image: String,
    /// The container's name (single-replica services only: a fixed name
    /// cannot be given to several containers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub environment: IndexMap<String, String>,
    /// `[ADDRESS:]HOST:CONTAINER/PROTOCOL`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    pub restart: String,
    pub init: bool,
    /// `10s`.
    pub stop_grace_period: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub labels: IndexMap<String, String>,
    pub deploy: Deploy,
}

/// A bind mount, long syntax.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    #[serde(rename = "type")]
    pub kind: String,
    pub source: String,
    pub target: String,
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Healthcheck {
    pub test: Vec<String>,
    pub interval: String,
}

/// What Swarm (`docker stack deploy`) reads; docker-compose ignores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deploy {
    pub replicas: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<Placement>,
    /// brise's rolling update policy (`docs/scale-out.md`).
    pub update_config: UpdateConfig,
    pub rollback_config: UpdateConfig,
    pub restart_policy: RestartConfig,
}

/// `update_config` / `rollback_config` of a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateConfig {
    pub parallelism: u32,
    /// `2s`.
    pub delay: String,
    /// `rollback` for updates, `pause` for rollbacks.
    pub failure_action: String,
    pub monitor: String,
    pub max_failure_ratio: f64,
    /// `start-first` or `stop-first`.
    pub order: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartConfig {
    /// `none`, `on-failure` or `any`.
    pub condition: String,
    pub delay: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    pub constraints: Vec<String>,
}

/// Compose interpolates `$VAR` and `${VAR}` everywhere; `$$` is a literal `$`.
fn literal(text: &str) -> String {
    text.replace('$', "$$")
}

fn restart(policy: RestartPolicy) -> &'static str {
    match policy {
        RestartPolicy::No => "no",
        RestartPolicy::OnFailure => "on-failure",
        RestartPolicy::Always => "always",
        RestartPolicy::UnlessStopped => "unless-stopped",
    }
}

fn port(spec_port: &crate::containers::PortMapping) -> String {
    let protocol = match spec_port.protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    };
    let mapping = format!(
        "{}:{}/{protocol}",
        spec_port.host_port, spec_port.container_port
    );
    match spec_port.host_ip {
        ip if ip.is_unspecified() => mapping,
        std::net::IpAddr::V4(ip) => format!("{ip}:{mapping}"),
        std::net::IpAddr::V6(ip) => format!("[{ip}]:{mapping}"),
    }
}

fn service(spec: &ContainerSpec) -> Service {
    let mut labels = IndexMap::new();
    if let Some(path) = &spec.proxy_path {
        // Read by nobody but people: where gen_config's nginx location forwards from.
        labels.insert("brise.proxy-path".to_owned(), literal(path));
    }
    Service {
        image: image_reference(&spec.image),
        container_name: (spec.replicas == 1).then(|| spec.name.clone()),
        command: spec
            .command
            .as_ref()
            .map(|words| words.iter().map(|word| literal(word)).collect()),
        environment: spec
            .environment
            .iter()
            .map(|(key, value)| (key.clone(), literal(value)))
            .collect(),
        ports: spec.ports.iter().map(port).collect(),
        volumes: spec
            .mounts
            .iter()
            .map(|mount| Volume {
                kind: "bind".to_owned(),
                source: literal(&mount.host_dir),
                target: literal(&mount.container_dir),
                read_only: mount.read_only,
            })
            .collect(),
        restart: restart(spec.restart).to_owned(),
        init: spec.init,
        stop_grace_period: format!("{}s", spec.stop_timeout),
        depends_on: spec.depends_on.clone(),
        healthcheck: spec.healthcheck.as_ref().map(|check| Healthcheck {
            test: vec!["CMD-SHELL".to_owned(), literal(&check.command)],
            interval: format!("{}s", check.interval_seconds),
        }),
        labels,
        deploy: deploy(spec),
    }
}

/// A Compose duration: `5s`, `500ms`.
fn duration(duration: std::time::Duration) -> String {
    let millis = duration.as_millis();
    if millis % 1000 == 0 {
        format!("{}s", millis / 1000)
    } else {
        format!("{millis}ms")
    }
}

/// The Swarm side of a service: replicas, placement, and the same update,
/// rollback and restart policies as brise's Swarm runtime (the stack's ports
/// are published in ingress mode: updates start the new task first).
fn deploy(spec: &ContainerSpec) -> Deploy {
    let options = SwarmOptions::default();
    let order = if starts_first(spec, PublishMode::Ingress) {
        "start-first"
    } else {
        "stop-first"
    };
    let policy = |failure_action: &str, delay| UpdateConfig {
        parallelism: options.update.parallelism,
        delay: duration(delay),
        failure_action: failure_action.to_owned(),
        monitor: duration(options.update.monitor),
        max_failure_ratio: 0.0,
        order: order.to_owned(),
    };
    Deploy {
        replicas: spec.replicas,
        placement: (!spec.placement.is_empty()).then(|| Placement {
            constraints: spec.placement.clone(),
        }),
        update_config: policy("rollback", options.update.delay),
        rollback_config: policy("pause", std::time::Duration::ZERO),
        restart_policy: RestartConfig {
            condition: match spec.restart {
                RestartPolicy::No => "none",
                RestartPolicy::OnFailure => "on-failure",
                RestartPolicy::Always | RestartPolicy::UnlessStopped => "any",
            }
            .to_owned(),
            delay: duration(options.restart_delay),
        },
    }
}

/// The Compose file of the declared Docker containers (LXC ones are listed
/// in the warnings: Compose runs OCI images only).
///
/// # Errors
/// The file cannot be serialised (not expected with these types).
pub fn export(desired: &[ContainerSpec]) -> Result<Exported, ExportError> {
    let mut warnings = Vec::new();
    let mut services = IndexMap::new();
    for spec in desired {
        if spec.technology == Technology::Lxc {
            warnings.push(super::lxc_skipped(&spec.name, "Compose"));
            continue;
        }
        services.insert(spec.name.clone(), service(spec));
    }
    let file = ComposeFile {
        version: VERSION.to_owned(),
        services,
    };
    let text = serde_saphyr::to_string(&file).map_err(|error| ExportError::Serialise {
        what: "the compose file".to_owned(),
        detail: error.to_string(),
    })?;
    Ok(Exported { text, warnings })
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use super::*;
    use crate::containers::{Healthcheck as SpecHealthcheck, Mount, PortMapping};
    use crate::runtime::fake::{loopback_port, spec};

    fn web() -> ContainerSpec {
        let mut web = spec("web", "httpd:2.4");
        web.ports.push(loopback_port(80, 8081));
        web.mounts.push(Mount {
            host_dir: "/srv/web".to_owned(),
            container_dir: "/usr/local/apache2/htdocs".to_owned(),
            read_only: true,
        });
        web.environment = vec![("PRICE".to_owned(), "$5".to_owned())];
        web.command = Some(vec!["httpd".to_owned(), "-f".to_owned()]);
        web.proxy_path = Some("/web".to_owned());
        web.healthcheck = Some(SpecHealthcheck {
            command: "wget -q -O- localhost".to_owned(),
            interval_seconds: 30,
        });
        web
    }

    fn parsed(desired: &[ContainerSpec]) -> ComposeFile {
        let exported = export(desired).unwrap();
        serde_saphyr::from_str(&exported.text).unwrap()
    }

    #[test]
    fn a_container_becomes_a_service_with_everything_it_runs() {
        let file = parsed(&[web()]);
        assert_eq!(file.version, "3.8");
        let web = &file.services["web"];
        assert_eq!(web.image, "localhost:5000/brise-demo/httpd:2.4");
        assert_eq!(web.container_name.as_deref(), Some("web"));
        assert_eq!(web.ports, vec!["127.0.0.1:8081:80/tcp".to_owned()]);
        assert_eq!(
            web.volumes,
            vec![Volume {
                kind: "bind".to_owned(),
                source: "/srv/web".to_owned(),
                target: "/usr/local/apache2/htdocs".to_owned(),
                read_only: true,
            }]
        );
        assert_eq!(web.command, Some(vec!["httpd".to_owned(), "-f".to_owned()]));
        assert_eq!(web.restart, "unless-stopped");
        assert!(web.init);
        assert_eq!(web.stop_grace_period, "10s");
        assert_eq!(web.deploy.replicas, 1);
        assert_eq!(web.deploy.update_config.order, "start-first");
        assert_eq!(web.deploy.update_config.failure_action, "rollback");
        assert_eq!(web.deploy.update_config.monitor, "5s");
        assert_eq!(web.deploy.rollback_config.failure_action, "pause");
        assert_eq!(web.deploy.restart_policy.condition, "any");
        assert_eq!(web.labels["brise.proxy-path"], "/web");
        assert_eq!(
            web.healthcheck.as_ref().unwrap().test,
            vec!["CMD-SHELL".to_owned(), "wget -q -O- localhost".to_owned()]
        );
    }

    #[test]
    fn dollars_are_escaped_so_compose_interpolates_nothing() {
        let file = parsed(&[web()]);
        assert_eq!(file.services["web"].environment["PRICE"], "$$5");
    }

    #[test]
    fn ports_on_every_address_or_an_ipv6_address_keep_their_address() {
        let mut web = web();
        web.ports = vec![
            PortMapping {
                host_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                ..loopback_port(80, 8081)
            },
            PortMapping {
                host_ip: IpAddr::V6(Ipv6Addr::LOCALHOST),
                protocol: Protocol::Udp,
                ..loopback_port(53, 5353)
            },
        ];
        let file = parsed(&[web]);
        assert_eq!(
            file.services["web"].ports,
            vec!["8081:80/tcp".to_owned(), "[::1]:5353:53/udp".to_owned()]
        );
    }

    #[test]
    fn replicated_services_have_no_fixed_name_and_keep_their_placement() {
        let mut web = web();
        web.replicas = 3;
        web.placement = vec!["node.labels.site==lyon".to_owned()];
        let file = parsed(&[web]);
        let service = &file.services["web"];
        assert_eq!(service.container_name, None);
        assert_eq!(service.deploy.replicas, 3);
        assert_eq!(
            service.deploy.placement.as_ref().unwrap().constraints,
            vec!["node.labels.site==lyon".to_owned()]
        );
    }

    #[test]
    fn restart_no_stays_a_string_for_yaml_1_1_readers() {
        let mut web = web();
        web.restart = RestartPolicy::No;
        let exported = export(&[web]).unwrap();
        assert!(
            exported.text.contains("restart: \"no\"") || exported.text.contains("restart: 'no'"),
            "{}",
            exported.text
        );
    }

    #[test]
    fn lxc_containers_are_left_out_with_a_warning() {
        let mut vm = spec("vm", "busybox");
        vm.technology = Technology::Lxc;
        let exported = export(&[web(), vm]).unwrap();
        let file: ComposeFile = serde_saphyr::from_str(&exported.text).unwrap();
        assert_eq!(file.services.keys().collect::<Vec<_>>(), vec!["web"]);
        assert_eq!(exported.warnings.len(), 1);
        assert!(
            exported.warnings[0].contains("`vm`"),
            "{:?}",
            exported.warnings
        );
    }
}
