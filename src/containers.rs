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

/// The dynamic family of the shipped container dictionary (without namespace).
pub const CONTAINER_FAMILY: &str = "containers.container_{{ identifier }}";

/// Proxy health checks run this often (seconds).
const HEALTHCHECK_INTERVAL_SECONDS: u32 = 30;

/// A container setting that is wrong, by variable path, so the CLI and the
/// web form can show it next to the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationError {
    /// Full variable path (`containers.container_web.ports.host_port`).
    pub path: String,
    /// 0-based row of a leadership or position in a multi-valued variable.
    pub index: Option<usize>,
    /// Lowercase, names in backticks.
    pub message: String,
}

impl std::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.index {
            Some(index) => write!(f, "`{}` (row {}): {}", self.path, index + 1, self.message),
            None => write!(f, "`{}`: {}", self.path, self.message),
        }
    }
}

impl std::error::Error for ValidationError {}

/// The desired containers of a configuration, one per instance of
/// `containers.container_{{ identifier }}`, after the checks that span
/// several containers: a host port declared twice, a proxy path or a
/// container name used twice, a dependency on an unknown container or a
/// dependency cycle. Per-field rules (absolute directories, repository and
/// tag syntax) are the dictionary's and reported by the configuration core.
pub fn desired(
    config: &dyn crate::render::Configuration,
) -> Result<Vec<ContainerSpec>, Vec<ValidationError>> {
    let prefix = config
        .namespace()
        .map_or_else(String::new, |namespace| format!("{namespace}."));
    let pattern = format!("{prefix}{CONTAINER_FAMILY}");
    let instances = config.dynamic_instances(&pattern).unwrap_or_default();
    let tree = config.tree();
    let mut errors = Vec::new();
    let mut specs = Vec::new();
    for (position, instance) in instances.iter().enumerate() {
        // A disabled container family is absent: it is not desired.
        let Some(family) = crate::render::configuration::lookup(&tree, &instance.path) else {
            continue;
        };
        let mut reader = Reader {
            family,
            path: &instance.path,
            errors: &mut errors,
        };
        if let Some(spec) = reader.spec(&instance.identifier, position + 1) {
            specs.push(spec);
        }
    }
    cross_check(&prefix, &specs, &mut errors);
    if errors.is_empty() {
        Ok(specs)
    } else {
        Err(errors)
    }
}

/// The engine running the containers of technology `docker`
/// (`containers.engine`; `docker` when the variable is absent).
///
/// # Errors
/// The value is neither `docker` nor `swarm`.
pub fn engine(config: &dyn crate::render::Configuration) -> Result<Engine, ValidationError> {
    let path = match config.namespace() {
        Some(namespace) => format!("{namespace}.containers.engine"),
        None => "containers.engine".to_owned(),
    };
    let tree = config.tree();
    match crate::render::configuration::lookup(&tree, &path).map(text) {
        None => Ok(Engine::Docker),
        Some(value) => match value.as_str() {
            "docker" | "null" => Ok(Engine::Docker),
            "swarm" => Ok(Engine::Swarm),
            other => Err(ValidationError {
                path,
                index: None,
                message: format!("unknown engine `{other}`"),
            }),
        },
    }
}

/// Reads one container family of the tree, collecting errors.
struct Reader<'a> {
    family: &'a serde_json::Value,
    path: &'a str,
    errors: &'a mut Vec<ValidationError>,
}

impl Reader<'_> {
    fn error(&mut self, name: &str, index: Option<usize>, message: impl Into<String>) {
        self.errors.push(ValidationError {
            path: format!("{}.{name}", self.path),
            index,
            message: message.into(),
        });
    }

    fn field(&self, name: &str) -> Option<&serde_json::Value> {
        self.family.get(name).filter(|value| !value.is_null())
    }

    fn string(&self, name: &str) -> Option<String> {
        self.field(name).map(text)
    }

    fn required(&mut self, name: &str) -> Option<String> {
        let value = self.string(name).filter(|value| !value.is_empty());
        if value.is_none() {
            self.error(name, None, "a value is required");
        }
        value
    }

    fn boolean(&mut self, name: &str, default: bool) -> bool {
        match self.field(name) {
            None => default,
            Some(serde_json::Value::Bool(value)) => *value,
            Some(other) => {
                self.error(name, None, format!("`{}` is not a boolean", text(other)));
                default
            }
        }
    }

    fn number(&mut self, name: &str, default: u32) -> u32 {
        let Some(value) = self.field(name).map(text) else {
            return default;
        };
        value.parse().unwrap_or_else(|_| {
            self.error(name, None, format!("`{value}` is not a whole number"));
            default
        })
    }

    fn strings(&self, name: &str) -> Vec<String> {
        match self.field(name) {
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter(|item| !item.is_null())
                .map(text)
                .collect(),
            Some(other) => vec![text(other)],
            None => Vec::new(),
        }
    }

    /// The rows of a leadership (`[{leader: …, follower: …}, …]`).
    fn rows(&self, name: &str) -> Vec<serde_json::Map<String, serde_json::Value>> {
        match self.field(name) {
            Some(serde_json::Value::Array(rows)) => rows
                .iter()
                .filter_map(|row| row.as_object().cloned())
                .collect(),
            _ => Vec::new(),
        }
    }

    fn spec(&mut self, identifier: &str, index: usize) -> Option<ContainerSpec> {
        let name = self.required("name");
        let repository = self.required("repository");
        let technology = match self.string("technology").as_deref() {
            None | Some("docker") => Technology::Docker,
            Some("lxc") => Technology::Lxc,
            Some(other) => {
                self.error("technology", None, format!("unknown technology `{other}`"));
                Technology::Docker
            }
        };
        let registry = self.string("registry").filter(|value| !value.is_empty());
        let tag = self
            .string("tag")
            .filter(|value| !value.is_empty())
            .unwrap_or_else(|| "latest".to_owned());
        let host_ip = self.host_ip();
        let ports = self.ports(host_ip);
        let mounts = self
            .rows("shared_dirs")
            .iter()
            .enumerate()
            .filter_map(|(row, fields)| {
                let host_dir = fields.get("host_dir").filter(|v| !v.is_null()).map(text);
                let container_dir = fields
                    .get("container_dir")
                    .filter(|v| !v.is_null())
                    .map(text);
                match (host_dir, container_dir) {
                    (Some(host_dir), Some(container_dir)) => {
                        let mut clean = true;
                        for (name, dir) in
                            [("host_dir", &host_dir), ("container_dir", &container_dir)]
                        {
                            if let Some(problem) = unclean_directory(dir) {
                                self.error(&format!("shared_dirs.{name}"), Some(row), problem);
                                clean = false;
                            }
                        }
                        clean.then_some(())?;
                        Some(Mount {
                            host_dir,
                            container_dir,
                            read_only: false,
                        })
                    }
                    _ => {
                        self.error(
                            "shared_dirs.container_dir",
                            Some(row),
                            "both directories of a shared pair are required",
                        );
                        None
                    }
                }
            })
            .collect();
        let environment = self
            .rows("environment")
            .iter()
            .filter_map(|fields| {
                let name = fields.get("name").filter(|v| !v.is_null()).map(text)?;
                let value = fields
                    .get("value")
                    .filter(|v| !v.is_null())
                    .map(text)
                    .unwrap_or_default();
                Some((name, value))
            })
            .collect();
        let command = match self.string("command").filter(|c| !c.trim().is_empty()) {
            None => None,
            Some(line) => match shlex::split(&line) {
                Some(words) => Some(words),
                None => {
                    self.error(
                        "command",
                        None,
                        format!("`{line}` has an unclosed quote or a trailing `\\`"),
                    );
                    None
                }
            },
        };
        let restart = match self.string("restart").as_deref() {
            None | Some("unless-stopped") => RestartPolicy::UnlessStopped,
            Some("no") => RestartPolicy::No,
            Some("on-failure") => RestartPolicy::OnFailure,
            Some("always") => RestartPolicy::Always,
            Some(other) => {
                self.error("restart", None, format!("unknown restart policy `{other}`"));
                RestartPolicy::UnlessStopped
            }
        };
        let persistent = self.boolean("persistent", false);
        let init = self.boolean("init", true);
        let stop_timeout = self.number("stop_timeout", 10);
        let replicas = self.number("replicas", 1);
        let proxy_path = if ports.is_empty() {
            None
        } else {
            self.string("proxy_path")
                .or_else(|| name.as_ref().map(|name| format!("/{name}")))
        };
        let healthcheck = self
            .string("healthcheck")
            .filter(|command| !command.trim().is_empty())
            .map(|command| Healthcheck {
                command,
                interval_seconds: HEALTHCHECK_INTERVAL_SECONDS,
            });
        Some(ContainerSpec {
            name: name?,
            identifier: identifier.to_owned(),
            index,
            technology,
            image: ImageRef {
                registry,
                repository: repository?,
                tag,
            },
            ports,
            mounts,
            environment,
            command,
            restart,
            persistent,
            init,
            stop_timeout,
            depends_on: self.strings("depends_on"),
            proxy_path,
            allowed_networks: self.strings("allowed_networks"),
            healthcheck,
            replicas,
            placement: self.strings("placement"),
            rendered_hash: None,
        })
    }

    /// The address host ports bind, from `publish` (+ `publish_address`).
    fn host_ip(&mut self) -> IpAddr {
        let loopback = IpAddr::from([127, 0, 0, 1]);
        match self.string("publish").as_deref() {
            None | Some("loopback") => loopback,
            Some("all") => IpAddr::from([0, 0, 0, 0]),
            Some("address") => match self.string("publish_address") {
                Some(address) => address.parse().unwrap_or_else(|_| {
                    self.error(
                        "publish_address",
                        None,
                        format!("`{address}` is not an IP address"),
                    );
                    loopback
                }),
                None => {
                    self.error("publish_address", None, "a value is required");
                    loopback
                }
            },
            Some(other) => {
                self.error("publish", None, format!("unknown publish policy `{other}`"));
                loopback
            }
        }
    }

    fn ports(&mut self, host_ip: IpAddr) -> Vec<PortMapping> {
        let mut ports = Vec::new();
        for (row, fields) in self.rows("ports").iter().enumerate() {
            let mut port = |name: &str| -> Option<u16> {
                let field = format!("ports.{name}");
                match fields.get(name).filter(|v| !v.is_null()).map(text) {
                    None => {
                        self.error(&field, Some(row), "a value is required");
                        None
                    }
                    Some(value) => match value.parse::<u16>() {
                        Ok(port) if port > 0 => Some(port),
                        _ => {
                            self.error(
                                &field,
                                Some(row),
                                format!("`{value}` is not a port number"),
                            );
                            None
                        }
                    },
                }
            };
            let container_port = port("container_port");
            let host_port = port("host_port");
            if let (Some(container_port), Some(host_port)) = (container_port, host_port) {
                ports.push(PortMapping {
                    container_port,
                    host_port,
                    protocol: Protocol::Tcp,
                    host_ip,
                });
            }
        }
        ports
    }
}

fn text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Checks across containers; errors point at the later declaration.
fn cross_check(prefix: &str, specs: &[ContainerSpec], errors: &mut Vec<ValidationError>) {
    let family = |spec: &ContainerSpec| {
        format!(
            "{prefix}containers.container_{}",
            crate::render::normalize_identifier(&spec.identifier)
        )
    };
    // Host ports: the same port on the same address, or on every address.
    let mut seen_ports: Vec<(&PortMapping, String, usize)> = Vec::new();
    for spec in specs {
        for (row, port) in spec.ports.iter().enumerate() {
            let clash = seen_ports.iter().find(|(other, _, _)| {
                other.host_port == port.host_port
                    && other.protocol == port.protocol
                    && (other.host_ip == port.host_ip
                        || other.host_ip.is_unspecified()
                        || port.host_ip.is_unspecified())
            });
            if let Some((_, path, other_row)) = clash {
                errors.push(ValidationError {
                    path: format!("{}.ports.host_port", family(spec)),
                    index: Some(row),
                    message: format!(
                        "host port {} is already declared by `{path}` (row {})",
                        port.host_port,
                        other_row + 1
                    ),
                });
            } else {
                seen_ports.push((port, format!("{}.ports.host_port", family(spec)), row));
            }
        }
    }
    // Proxy paths (only containers with a location have one).
    let mut seen_paths: Vec<(String, String)> = Vec::new();
    for spec in specs {
        let Some(proxy_path) = &spec.proxy_path else {
            continue;
        };
        let key = proxy_path.trim_end_matches('/').to_owned();
        let key = if key.is_empty() { "/".to_owned() } else { key };
        if let Some((_, path)) = seen_paths.iter().find(|(seen, _)| *seen == key) {
            errors.push(ValidationError {
                path: format!("{}.proxy_path", family(spec)),
                index: None,
                message: format!("proxy path `{proxy_path}` is already used by `{path}`"),
            });
        } else {
            seen_paths.push((key, format!("{}.proxy_path", family(spec))));
        }
    }
    // Names.
    let mut seen_names: Vec<(&str, String)> = Vec::new();
    for spec in specs {
        if let Some((_, path)) = seen_names.iter().find(|(name, _)| *name == spec.name) {
            errors.push(ValidationError {
                path: format!("{}.name", family(spec)),
                index: None,
                message: format!("container name `{}` is already used by `{path}`", spec.name),
            });
        } else {
            seen_names.push((&spec.name, format!("{}.name", family(spec))));
        }
    }
    // Dependencies: known, not itself, no cycle.
    for spec in specs {
        for (position, dependency) in spec.depends_on.iter().enumerate() {
            let message = if *dependency == spec.name {
                Some(format!("`{dependency}` cannot depend on itself"))
            } else if !specs.iter().any(|other| other.name == *dependency) {
                Some(format!("no container is named `{dependency}`"))
            } else {
                None
            };
            if let Some(message) = message {
                errors.push(ValidationError {
                    path: format!("{}.depends_on", family(spec)),
                    index: Some(position),
                    message,
                });
            }
        }
    }
    if let Some(cycle) = dependency_cycle(specs) {
        let first = cycle.first().copied().unwrap_or_default();
        if let Some(spec) = specs.iter().find(|spec| spec.name == first) {
            errors.push(ValidationError {
                path: format!("{}.depends_on", family(spec)),
                index: None,
                message: format!("dependency cycle: {}", cycle.join(" → ")),
            });
        }
    }
}

/// A cycle of `depends_on` (names, the first repeated at the end), if any.
fn dependency_cycle(specs: &[ContainerSpec]) -> Option<Vec<&str>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    fn visit<'a>(
        name: &'a str,
        specs: &'a [ContainerSpec],
        marks: &mut std::collections::HashMap<&'a str, Mark>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<&'a str>> {
        match marks.get(name).copied().unwrap_or(Mark::New) {
            Mark::Done => return None,
            Mark::Active => {
                let start = stack.iter().position(|n| *n == name).unwrap_or(0);
                let mut cycle = stack[start..].to_vec();
                cycle.push(name);
                return Some(cycle);
            }
            Mark::New => {}
        }
        marks.insert(name, Mark::Active);
        stack.push(name);
        if let Some(spec) = specs.iter().find(|spec| spec.name == name) {
            for dependency in &spec.depends_on {
                if dependency != name {
                    if let Some(cycle) = visit(dependency, specs, marks, stack) {
                        return Some(cycle);
                    }
                }
            }
        }
        stack.pop();
        marks.insert(name, Mark::Done);
        None
    }
    let mut marks = std::collections::HashMap::new();
    for spec in specs {
        let mut stack = Vec::new();
        if let Some(cycle) = visit(&spec.name, specs, &mut marks, &mut stack) {
            return Some(cycle);
        }
    }
    None
}

/// Why a shared directory is refused: it must be an absolute path without `..`
/// (a mount is made at that exact path; `..` would reach outside what the
/// administrator meant to share).
fn unclean_directory(dir: &str) -> Option<String> {
    let path = std::path::Path::new(dir);
    if !path.is_absolute() {
        return Some(format!("`{dir}` is not an absolute directory"));
    }
    if path
        .components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Some(format!("`{dir}` contains `..`"));
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::render::{DynamicInstance, TreeConfiguration, normalize_identifier};

    fn config(containers: Vec<(&str, Value)>) -> TreeConfiguration {
        let mut family = serde_json::Map::new();
        family.insert(
            "names".into(),
            json!(containers.iter().map(|(id, _)| *id).collect::<Vec<_>>()),
        );
        let mut instances = Vec::new();
        for (identifier, value) in containers {
            let name = format!("container_{}", normalize_identifier(identifier));
            instances.push(DynamicInstance {
                identifier: identifier.to_owned(),
                path: format!("containers.{name}"),
            });
            family.insert(name, value);
        }
        TreeConfiguration {
            tree: json!({ "containers": family }),
            dynamic: vec![(CONTAINER_FAMILY.to_owned(), instances)],
        }
    }

    fn apache() -> Value {
        json!({
            "name": "my-apache-app", "technology": "docker", "registry": null,
            "repository": "httpd", "tag": "2.4",
            "shared_dirs": [{"host_dir": "/var/eole-httpd/", "container_dir": "/usr/local/apache2/htdocs/"}],
            "ports": [{"container_port": "80", "host_port": "8081"}],
            "publish": "loopback", "persistent": true,
            "environment": [{"name": "A", "value": "1"}, {"name": "B", "value": null}],
            "command": "httpd-foreground -d '/usr/local/apache2'",
            "restart": "unless-stopped", "proxy_path": "/my-apache-app",
            "allowed_networks": [], "depends_on": ["hello-world"], "init": true,
            "stop_timeout": 10, "healthcheck": null, "replicas": 1, "placement": []
        })
    }

    fn hello() -> Value {
        json!({"name": "hello-world", "repository": "hello-world", "tag": null, "ports": [], "proxy_path": "/hello-world"})
    }

    #[test]
    fn the_engine_is_docker_unless_swarm_is_chosen() {
        let mut config = config(vec![("hello-world", hello())]);
        assert_eq!(engine(&config), Ok(Engine::Docker));
        config.tree["containers"]["engine"] = json!("swarm");
        assert_eq!(engine(&config), Ok(Engine::Swarm));
        config.tree["containers"]["engine"] = json!("kubernetes");
        let error = engine(&config).unwrap_err();
        assert_eq!(error.path, "containers.engine");
        assert_eq!(error.message, "unknown engine `kubernetes`");
    }

    #[test]
    fn demo_containers_become_specs() {
        let specs = desired(&config(vec![
            ("hello-world", hello()),
            ("my-apache-app", apache()),
        ]))
        .unwrap();
        assert_eq!(specs.len(), 2);
        let hello = &specs[0];
        assert_eq!((hello.index, hello.image.tag.as_str()), (1, "latest"));
        assert_eq!(hello.proxy_path, None, "no host port, no location");
        let apache = &specs[1];
        assert_eq!(apache.index, 2);
        assert_eq!(apache.identifier, "my-apache-app");
        assert_eq!(
            apache.image,
            ImageRef {
                registry: None,
                repository: "httpd".into(),
                tag: "2.4".into()
            }
        );
        assert_eq!(
            apache.ports,
            vec![PortMapping {
                container_port: 80,
                host_port: 8081,
                protocol: Protocol::Tcp,
                host_ip: IpAddr::from([127, 0, 0, 1])
            }]
        );
        assert_eq!(apache.mounts[0].container_dir, "/usr/local/apache2/htdocs/");
        assert_eq!(
            apache.environment,
            vec![("A".into(), "1".into()), ("B".into(), String::new())]
        );
        assert_eq!(
            apache.command,
            Some(vec![
                "httpd-foreground".into(),
                "-d".into(),
                "/usr/local/apache2".into()
            ])
        );
        assert!(apache.persistent);
        assert_eq!(apache.proxy_path.as_deref(), Some("/my-apache-app"));
        assert_eq!(apache.depends_on, vec!["hello-world".to_owned()]);
    }

    #[test]
    fn rejects_a_host_port_declared_twice() {
        let mut other = apache();
        other["name"] = json!("other");
        other["proxy_path"] = json!("/other");
        other["depends_on"] = json!([]);
        other["ports"] = json!([{"container_port": "443", "host_port": "9443"}, {"container_port": "80", "host_port": "8081"}]);
        let errors = desired(&config(vec![
            ("hello-world", hello()),
            ("my-apache-app", apache()),
            ("other", other),
        ]))
        .unwrap_err();
        assert_eq!(
            errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
            vec![
                "`containers.container_other.ports.host_port` (row 2): host port 8081 is already declared by `containers.container_my_apache_app.ports.host_port` (row 1)"
            ]
        );
        assert_eq!(errors[0].index, Some(1));
    }

    #[test]
    fn same_port_on_two_distinct_addresses_is_allowed() {
        let mut a = apache();
        a["publish"] = json!("address");
        a["publish_address"] = json!("10.0.0.1");
        a["depends_on"] = json!([]);
        let mut b = a.clone();
        b["name"] = json!("b");
        b["proxy_path"] = json!("/b");
        b["publish_address"] = json!("10.0.0.2");
        assert!(desired(&config(vec![("a", a), ("b", b)])).is_ok());
    }

    #[test]
    fn rejects_a_proxy_path_and_a_name_used_twice() {
        let mut twin = apache();
        twin["depends_on"] = json!([]);
        twin["ports"] = json!([{"container_port": "80", "host_port": "8082"}]);
        twin["proxy_path"] = json!("/my-apache-app/");
        let errors = desired(&config(vec![
            ("hello-world", hello()),
            ("my-apache-app", apache()),
            ("twin", twin),
        ]))
        .unwrap_err();
        assert_eq!(
            errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
            vec![
                "`containers.container_twin.proxy_path`: proxy path `/my-apache-app/` is already used by `containers.container_my_apache_app.proxy_path`",
                "`containers.container_twin.name`: container name `my-apache-app` is already used by `containers.container_my_apache_app.name`",
            ]
        );
    }

    #[test]
    fn rejects_unknown_and_cyclic_dependencies() {
        let mut a = hello();
        a["name"] = json!("a");
        a["depends_on"] = json!(["b", "ghost"]);
        let mut b = hello();
        b["name"] = json!("b");
        b["depends_on"] = json!(["a"]);
        let errors = desired(&config(vec![("a", a), ("b", b)])).unwrap_err();
        assert_eq!(
            errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
            vec![
                "`containers.container_a.depends_on` (row 2): no container is named `ghost`",
                "`containers.container_a.depends_on`: dependency cycle: a → b → a",
            ]
        );
    }

    #[test]
    fn missing_repository_and_bad_command_are_reported_by_path() {
        let mut broken = apache();
        broken["repository"] = Value::Null;
        broken["command"] = json!("sh -c 'unclosed");
        broken["depends_on"] = json!([]);
        let errors = desired(&config(vec![("my-apache-app", broken)])).unwrap_err();
        assert_eq!(
            errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
            vec![
                "`containers.container_my_apache_app.repository`: a value is required",
                "`containers.container_my_apache_app.command`: `sh -c 'unclosed` has an unclosed quote or a trailing `\\`",
            ]
        );
    }

    #[test]
    fn publish_policies_choose_the_host_address() {
        let mut all = apache();
        all["publish"] = json!("all");
        all["depends_on"] = json!([]);
        let specs = desired(&config(vec![("a", all)])).unwrap();
        assert_eq!(specs[0].ports[0].host_ip, IpAddr::from([0, 0, 0, 0]));
    }

    #[test]
    fn no_container_family_means_no_container() {
        let empty = TreeConfiguration::default();
        assert_eq!(desired(&empty).unwrap(), vec![]);
    }
}
