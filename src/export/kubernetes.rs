//! Declared containers → Kubernetes objects, as `k8s-openapi` structures
//! serialised to multi-document YAML (never hand-written YAML): per Docker
//! container a Deployment (replicas, node affinity from Swarm placement, init
//! as a shared process namespace, stop timeout as grace period, health check
//! as probes), a ClusterIP Service for its ports, a PersistentVolumeClaim per
//! shared directory, and an Ingress (`networking.k8s.io/v1`, for
//! ingress-nginx) per proxied container. Gateway API types are not in
//! `k8s-openapi`, so no HTTPRoute is written. Pure.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
};
use k8s_openapi::api::core::v1::{
    Affinity, Container, ContainerPort, EnvVar, ExecAction, NodeAffinity, NodeSelector,
    NodeSelectorRequirement, NodeSelectorTerm, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PersistentVolumeClaimVolumeSource, PodSpec, PodTemplateSpec, Probe, Service, ServicePort,
    ServiceSpec, Volume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, ServiceBackendPort,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::de::DeserializeOwned;

use super::{ExportError, Exported};
use crate::containers::{ContainerSpec, Protocol, Technology};
use crate::runtime::image_reference;

/// Label selecting a container's pods.
pub const NAME_LABEL: &str = "app.kubernetes.io/name";
/// Label naming who made the object.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Annotation keeping the host directory a claim replaces.
pub const HOST_DIR_ANNOTATION: &str = "brise.eole/host-dir";
/// The storage every claim requests; adjust to the data before applying.
pub const CLAIM_SIZE: &str = "1Gi";
/// The ingress class the Ingresses are written for.
pub const INGRESS_CLASS: &str = "nginx";

/// Every object of an export, in the order they are applied.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manifests {
    pub claims: Vec<PersistentVolumeClaim>,
    pub deployments: Vec<Deployment>,
    pub services: Vec<Service>,
    pub ingresses: Vec<Ingress>,
}

impl Manifests {
    /// Multi-document YAML (`---` between objects).
    ///
    /// # Errors
    /// An object cannot be serialised (not expected with these types).
    pub fn to_yaml(&self) -> Result<String, ExportError> {
        let mut documents = Vec::new();
        for claim in &self.claims {
            documents.push(yaml(claim, "a PersistentVolumeClaim")?);
        }
        for deployment in &self.deployments {
            documents.push(yaml(deployment, "a Deployment")?);
        }
        for service in &self.services {
            documents.push(yaml(service, "a Service")?);
        }
        for ingress in &self.ingresses {
            documents.push(yaml(ingress, "an Ingress")?);
        }
        Ok(documents.join("---\n"))
    }

    /// Read multi-document YAML back into typed objects, by `kind`.
    ///
    /// # Errors
    /// A document is not YAML, has an unknown kind, or does not match its type.
    pub fn from_yaml(text: &str) -> Result<Self, ExportError> {
        let mut manifests = Self::default();
        let documents: Vec<serde_json::Value> =
            serde_saphyr::from_multiple(text).map_err(|error| ExportError::Parse {
                detail: error.to_string(),
            })?;
        for document in documents {
            let kind = document
                .get("kind")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned();
            match kind.as_str() {
                "PersistentVolumeClaim" => manifests.claims.push(typed(document)?),
                "Deployment" => manifests.deployments.push(typed(document)?),
                "Service" => manifests.services.push(typed(document)?),
                "Ingress" => manifests.ingresses.push(typed(document)?),
                other => {
                    return Err(ExportError::Parse {
                        detail: format!("unexpected kind `{other}`"),
                    });
                }
            }
        }
        Ok(manifests)
    }
}

fn yaml<T: serde::Serialize>(object: &T, what: &str) -> Result<String, ExportError> {
    serde_saphyr::to_string(object).map_err(|error| ExportError::Serialise {
        what: what.to_owned(),
        detail: error.to_string(),
    })
}

fn typed<T: DeserializeOwned>(document: serde_json::Value) -> Result<T, ExportError> {
    serde_json::from_value(document).map_err(|error| ExportError::Parse {
        detail: error.to_string(),
    })
}

/// A container name as a Kubernetes object name (a DNS label): lowercase,
/// `_` and `.` become `-`.
///
/// # Errors
/// The result is still not a DNS label (too long, or not starting and ending alphanumeric).
pub fn object_name(name: &str) -> Result<String, ExportError> {
    let converted: String = name
        .chars()
        .map(|c| match c {
            '_' | '.' => '-',
            other => other.to_ascii_lowercase(),
        })
        .collect();
    let bytes = converted.as_bytes();
    let edge = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    let valid = converted.len() <= 63
        && edge(bytes.first())
        && edge(bytes.last())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    if valid {
        Ok(converted)
    } else {
        Err(ExportError::Name {
            name: name.to_owned(),
            detail: format!(
                "`{converted}` is not a Kubernetes name (lowercase letters, digits and `-`, \
                 at most 63 characters, starting and ending with a letter or digit)"
            ),
        })
    }
}

fn labels(name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (NAME_LABEL.to_owned(), name.to_owned()),
        (MANAGED_BY_LABEL.to_owned(), "brise".to_owned()),
    ])
}

fn metadata(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        labels: Some(labels(name)),
        ..ObjectMeta::default()
    }
}

fn protocol(protocol: Protocol) -> String {
    match protocol {
        Protocol::Tcp => "TCP".to_owned(),
        Protocol::Udp => "UDP".to_owned(),
    }
}

fn port_name(port: &crate::containers::PortMapping) -> String {
    let protocol = match port.protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    };
    format!("{protocol}-{}", port.container_port)
}

/// Swarm placement constraints → node selector requirements; the ones with
/// no Kubernetes equivalent are returned as warnings.
fn affinity(spec: &ContainerSpec, warnings: &mut Vec<String>) -> Option<Affinity> {
    let mut requirements = Vec::new();
    for constraint in &spec.placement {
        let parsed = constraint
            .split_once("==")
            .map(|(key, value)| (key, value, "In"))
            .or_else(|| {
                constraint
                    .split_once("!=")
                    .map(|(key, value)| (key, value, "NotIn"))
            });
        let Some((key, value, operator)) = parsed else {
            warnings.push(format!(
                "container `{}`: placement `{constraint}` is not `KEY==VALUE` or `KEY!=VALUE`: \
                 left out",
                spec.name
            ));
            continue;
        };
        let key = key.trim();
        let node_key = match key {
            "node.hostname" => Some("kubernetes.io/hostname".to_owned()),
            "node.platform.os" => Some("kubernetes.io/os".to_owned()),
            "node.platform.arch" => Some("kubernetes.io/arch".to_owned()),
            other => other.strip_prefix("node.labels.").map(str::to_owned),
        };
        match node_key {
            Some(node_key) => requirements.push(NodeSelectorRequirement {
                key: node_key,
                operator: operator.to_owned(),
                values: Some(vec![value.trim().to_owned()]),
            }),
            None => warnings.push(format!(
                "container `{}`: placement `{constraint}` has no Kubernetes equivalent: left out",
                spec.name
            )),
        }
    }
    (!requirements.is_empty()).then(|| Affinity {
        node_affinity: Some(NodeAffinity {
            required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                node_selector_terms: vec![NodeSelectorTerm {
                    match_expressions: Some(requirements),
                    match_fields: None,
                }],
            }),
            ..NodeAffinity::default()
        }),
        ..Affinity::default()
    })
}

fn claim_name(name: &str, index: usize) -> String {
    format!("{name}-data-{}", index + 1)
}

fn claim(name: &str, index: usize, host_dir: &str, replicas: u32) -> PersistentVolumeClaim {
    let mut meta = metadata(name);
    meta.name = Some(claim_name(name, index));
    meta.annotations = Some(BTreeMap::from([(
        HOST_DIR_ANNOTATION.to_owned(),
        host_dir.to_owned(),
    )]));
    // Several replicas may run on several nodes: the volume must allow it.
    let access = if replicas > 1 {
        "ReadWriteMany"
    } else {
        "ReadWriteOnce"
    };
    PersistentVolumeClaim {
        metadata: meta,
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec![access.to_owned()]),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_owned(),
                    Quantity(CLAIM_SIZE.to_owned()),
                )])),
                ..VolumeResourceRequirements::default()
            }),
            ..PersistentVolumeClaimSpec::default()
        }),
        ..PersistentVolumeClaim::default()
    }
}

fn deployment(spec: &ContainerSpec, name: &str, warnings: &mut Vec<String>) -> Deployment {
    let probe = spec.healthcheck.as_ref().map(|check| Probe {
        exec: Some(ExecAction {
            command: Some(vec![
                "/bin/sh".to_owned(),
                "-c".to_owned(),
                check.command.clone(),
            ]),
        }),
        period_seconds: Some(i32::try_from(check.interval_seconds).unwrap_or(i32::MAX)),
        ..Probe::default()
    });
    let container = Container {
        name: name.to_owned(),
        image: Some(image_reference(&spec.image)),
        // The declared command replaces the image's CMD (Docker semantics): `args`.
        args: spec.command.clone(),
        env: (!spec.environment.is_empty()).then(|| {
            spec.environment
                .iter()
                .map(|(key, value)| EnvVar {
                    name: key.clone(),
                    value: Some(value.clone()),
                    value_from: None,
                })
                .collect()
        }),
        ports: (!spec.ports.is_empty()).then(|| {
            spec.ports
                .iter()
                .map(|port| ContainerPort {
                    container_port: i32::from(port.container_port),
                    name: Some(port_name(port)),
                    protocol: Some(protocol(port.protocol)),
                    ..ContainerPort::default()
                })
                .collect()
        }),
        volume_mounts: (!spec.mounts.is_empty()).then(|| {
            spec.mounts
                .iter()
                .enumerate()
                .map(|(index, mount)| VolumeMount {
                    name: format!("data-{}", index + 1),
                    mount_path: mount.container_dir.clone(),
                    read_only: mount.read_only.then_some(true),
                    ..VolumeMount::default()
                })
                .collect()
        }),
        liveness_probe: probe.clone(),
        readiness_probe: probe,
        ..Container::default()
    };
    let volumes: Vec<Volume> = spec
        .mounts
        .iter()
        .enumerate()
        .map(|(index, _)| Volume {
            name: format!("data-{}", index + 1),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim_name(name, index),
                read_only: None,
            }),
            ..Volume::default()
        })
        .collect();
    if !matches!(
        spec.restart,
        crate::containers::RestartPolicy::Always | crate::containers::RestartPolicy::UnlessStopped
    ) {
        warnings.push(format!(
            "container `{}`: a Deployment always restarts its pods; restart policy `{}` is not \
             kept",
            spec.name,
            serde_json::to_value(spec.restart)
                .ok()
                .and_then(|value| value.as_str().map(str::to_owned))
                .unwrap_or_default()
        ));
    }
    // A claim on one node cannot be attached to a second pod elsewhere while
    // the first runs: containers with data are replaced stop-first.
    let strategy = if spec.mounts.is_empty() {
        DeploymentStrategy {
            type_: Some("RollingUpdate".to_owned()),
            rolling_update: Some(RollingUpdateDeployment {
                max_surge: Some(IntOrString::Int(1)),
                max_unavailable: Some(IntOrString::Int(0)),
            }),
        }
    } else {
        DeploymentStrategy {
            type_: Some("Recreate".to_owned()),
            rolling_update: None,
        }
    };
    Deployment {
        metadata: metadata(name),
        spec: DeploymentSpec {
            replicas: Some(i32::try_from(spec.replicas).unwrap_or(i32::MAX)),
            selector: LabelSelector {
                match_labels: Some(BTreeMap::from([(NAME_LABEL.to_owned(), name.to_owned())])),
                match_expressions: None,
            },
            strategy: Some(strategy),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(name)),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    affinity: affinity(spec, warnings),
                    // The pause process becomes PID 1 and reaps zombies: Docker's `init`.
                    share_process_namespace: spec.init.then_some(true),
                    termination_grace_period_seconds: Some(i64::from(spec.stop_timeout)),
                    volumes: (!volumes.is_empty()).then_some(volumes),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        },
        ..Deployment::default()
    }
}

fn service(spec: &ContainerSpec, name: &str) -> Service {
    Service {
        metadata: metadata(name),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".to_owned()),
            selector: Some(BTreeMap::from([(NAME_LABEL.to_owned(), name.to_owned())])),
            ports: Some(
                spec.ports
                    .iter()
                    .map(|port| ServicePort {
                        name: Some(port_name(port)),
                        port: i32::from(port.container_port),
                        protocol: Some(protocol(port.protocol)),
                        target_port: Some(IntOrString::Int(i32::from(port.container_port))),
                        ..ServicePort::default()
                    })
                    .collect(),
            ),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// The Ingress of a proxied container: its proxy path to its first port,
/// with the prefix stripped as gen_config's nginx location does.
fn ingress(spec: &ContainerSpec, name: &str, proxy_path: &str) -> Option<Ingress> {
    let port = spec.ports.first()?;
    let prefix = proxy_path.trim_end_matches('/');
    let mut annotations = BTreeMap::new();
    let (path, path_type) = if prefix.is_empty() {
        ("/".to_owned(), "Prefix")
    } else {
        annotations.insert(
            "nginx.ingress.kubernetes.io/use-regex".to_owned(),
            "true".to_owned(),
        );
        annotations.insert(
            "nginx.ingress.kubernetes.io/rewrite-target".to_owned(),
            "/$2".to_owned(),
        );
        (format!("{prefix}(/|$)(.*)"), "ImplementationSpecific")
    };
    if !spec.allowed_networks.is_empty() {
        annotations.insert(
            "nginx.ingress.kubernetes.io/whitelist-source-range".to_owned(),
            spec.allowed_networks.join(","),
        );
    }
    let mut meta = metadata(name);
    meta.annotations = (!annotations.is_empty()).then_some(annotations);
    Some(Ingress {
        metadata: meta,
        spec: Some(IngressSpec {
            ingress_class_name: Some(INGRESS_CLASS.to_owned()),
            rules: Some(vec![IngressRule {
                host: None,
                http: Some(HTTPIngressRuleValue {
                    paths: vec![HTTPIngressPath {
                        path: Some(path),
                        path_type: path_type.to_owned(),
                        backend: IngressBackend {
                            service: Some(IngressServiceBackend {
                                name: name.to_owned(),
                                port: Some(ServiceBackendPort {
                                    name: None,
                                    number: Some(i32::from(port.container_port)),
                                }),
                            }),
                            resource: None,
                        },
                    }],
                }),
            }]),
            ..IngressSpec::default()
        }),
        ..Ingress::default()
    })
}

/// The Kubernetes objects of the declared Docker containers, and what could
/// not be carried over (LXC containers, placements, restart policies).
///
/// # Errors
/// A container name is not a Kubernetes name once converted, or two
/// containers convert to the same name.
pub fn manifests(desired: &[ContainerSpec]) -> Result<(Manifests, Vec<String>), ExportError> {
    let mut manifests = Manifests::default();
    let mut warnings = Vec::new();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut errors = Vec::new();
    for spec in desired {
        if spec.technology == Technology::Lxc {
            warnings.push(super::lxc_skipped(&spec.name, "Kubernetes"));
            continue;
        }
        let name = match object_name(&spec.name) {
            Ok(name) => name,
            Err(error) => {
                errors.push(error);
                continue;
            }
        };
        if let Some(other) = seen.insert(name.clone(), spec.name.clone()) {
            errors.push(ExportError::Name {
                name: spec.name.clone(),
                detail: format!("it becomes `{name}`, like container `{other}`"),
            });
            continue;
        }
        for (index, mount) in spec.mounts.iter().enumerate() {
            manifests
                .claims
                .push(claim(&name, index, &mount.host_dir, spec.replicas));
        }
        manifests
            .deployments
            .push(deployment(spec, &name, &mut warnings));
        if !spec.ports.is_empty() {
            manifests.services.push(service(spec, &name));
        }
        if let Some(ingress) = spec
            .proxy_path
            .as_deref()
            .and_then(|path| ingress(spec, &name, path))
        {
            manifests.ingresses.push(ingress);
        }
    }
    match errors.len() {
        0 => Ok((manifests, warnings)),
        1 => Err(errors.remove(0)),
        _ => Err(ExportError::Several(errors)),
    }
}

/// The Kubernetes export as multi-document YAML.
///
/// # Errors
/// See [`manifests`].
pub fn export(desired: &[ContainerSpec]) -> Result<Exported, ExportError> {
    let (manifests, warnings) = manifests(desired)?;
    Ok(Exported {
        text: manifests.to_yaml()?,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containers::{Healthcheck, Mount, RestartPolicy};
    use crate::runtime::fake::{loopback_port, spec};

    fn web() -> ContainerSpec {
        let mut web = spec("my_web.app", "httpd:2.4");
        web.ports.push(loopback_port(80, 8081));
        web.mounts.push(Mount {
            host_dir: "/srv/web".to_owned(),
            container_dir: "/usr/local/apache2/htdocs".to_owned(),
            read_only: false,
        });
        web.environment = vec![("A".to_owned(), "1".to_owned())];
        web.command = Some(vec!["httpd".to_owned(), "-f".to_owned()]);
        web.proxy_path = Some("/web".to_owned());
        web.allowed_networks = vec!["192.168.0.0/24".to_owned()];
        web.replicas = 2;
        web.placement = vec![
            "node.labels.site==lyon".to_owned(),
            "node.hostname!=old".to_owned(),
        ];
        web.healthcheck = Some(Healthcheck {
            command: "true".to_owned(),
            interval_seconds: 30,
        });
        web
    }

    #[test]
    fn a_proxied_container_with_data_gets_a_claim_a_deployment_a_service_and_an_ingress() {
        let (manifests, warnings) = manifests(&[web()]).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(manifests.claims.len(), 1);
        assert_eq!(manifests.deployments.len(), 1);
        assert_eq!(manifests.services.len(), 1);
        assert_eq!(manifests.ingresses.len(), 1);

        let claim = &manifests.claims[0];
        assert_eq!(claim.metadata.name.as_deref(), Some("my-web-app-data-1"));
        assert_eq!(
            claim.metadata.labels.as_ref().unwrap()[NAME_LABEL],
            "my-web-app",
            "a claim is labelled with its container"
        );
        let claim_spec = claim.spec.as_ref().unwrap();
        assert_eq!(
            claim_spec.access_modes,
            Some(vec!["ReadWriteMany".to_owned()])
        );

        let deployment = &manifests.deployments[0];
        let spec = &deployment.spec;
        assert_eq!(spec.replicas, Some(2));
        assert_eq!(
            spec.strategy.as_ref().unwrap().type_.as_deref(),
            Some("Recreate")
        );
        let pod = spec.template.spec.as_ref().unwrap();
        assert_eq!(pod.share_process_namespace, Some(true));
        assert_eq!(pod.termination_grace_period_seconds, Some(10));
        let container = &pod.containers[0];
        assert_eq!(
            container.image.as_deref(),
            Some("localhost:5000/brise-demo/httpd:2.4")
        );
        assert_eq!(
            container.args,
            Some(vec!["httpd".to_owned(), "-f".to_owned()])
        );
        assert_eq!(container.command, None);
        assert_eq!(
            container.volume_mounts.as_ref().unwrap()[0].mount_path,
            "/usr/local/apache2/htdocs"
        );
        let terms = &pod
            .affinity
            .as_ref()
            .unwrap()
            .node_affinity
            .as_ref()
            .unwrap()
            .required_during_scheduling_ignored_during_execution
            .as_ref()
            .unwrap()
            .node_selector_terms[0];
        let expressions = terms.match_expressions.as_ref().unwrap();
        assert_eq!(
            (
                expressions[0].key.as_str(),
                expressions[0].operator.as_str()
            ),
            ("site", "In")
        );
        assert_eq!(
            (
                expressions[1].key.as_str(),
                expressions[1].operator.as_str()
            ),
            ("kubernetes.io/hostname", "NotIn")
        );

        let ingress = &manifests.ingresses[0];
        let annotations = ingress.metadata.annotations.as_ref().unwrap();
        assert_eq!(
            annotations["nginx.ingress.kubernetes.io/rewrite-target"],
            "/$2"
        );
        assert_eq!(
            annotations["nginx.ingress.kubernetes.io/whitelist-source-range"],
            "192.168.0.0/24"
        );
        let path = &ingress.spec.as_ref().unwrap().rules.as_ref().unwrap()[0]
            .http
            .as_ref()
            .unwrap()
            .paths[0];
        assert_eq!(path.path.as_deref(), Some("/web(/|$)(.*)"));
        let backend = path.backend.service.as_ref().unwrap();
        assert_eq!(backend.name, "my-web-app");
        assert_eq!(backend.port.as_ref().unwrap().number, Some(80));
    }

    #[test]
    fn the_yaml_round_trips_through_the_k8s_openapi_types() {
        let mut worker = spec("worker", "busybox");
        worker.restart = RestartPolicy::OnFailure;
        let (original, warnings) = manifests(&[web(), worker]).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let text = original.to_yaml().unwrap();
        assert!(text.contains("apiVersion: apps/v1"), "{text}");
        assert!(text.contains("kind: Ingress"), "{text}");
        let parsed = Manifests::from_yaml(&text).unwrap();
        assert_eq!(parsed, original);
    }

    #[test]
    fn a_container_without_data_rolls_start_first() {
        let (manifests, _) = manifests(&[spec("worker", "busybox")]).unwrap();
        let strategy = manifests.deployments[0].spec.strategy.clone().unwrap();
        assert_eq!(strategy.type_.as_deref(), Some("RollingUpdate"));
        assert_eq!(
            strategy.rolling_update.unwrap().max_unavailable,
            Some(IntOrString::Int(0))
        );
        assert!(manifests.services.is_empty(), "no port, no Service");
        assert!(manifests.ingresses.is_empty());
    }

    #[test]
    fn names_kubernetes_refuses_are_errors_naming_the_container() {
        assert_eq!(object_name("My_App.2").unwrap(), "my-app-2");
        for bad in ["-x", "x_", &"a".repeat(64)] {
            let error = object_name(bad).unwrap_err();
            assert!(error.to_string().contains(&format!("`{bad}`")), "{error}");
        }
        let error = manifests(&[spec("a_b", "busybox"), spec("a.b", "busybox")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "container `a.b` cannot be exported: it becomes `a-b`, like container `a_b`"
        );
    }

    #[test]
    fn placements_without_an_equivalent_are_warned_about() {
        let mut worker = spec("worker", "busybox");
        worker.placement = vec!["node.role==manager".to_owned(), "nonsense".to_owned()];
        let (_, warnings) = manifests(&[worker]).unwrap();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("no Kubernetes equivalent"));
    }
}
