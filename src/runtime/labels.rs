//! brise's ownership labels and the spec hash. Every object a runtime creates
//! carries [`Labels`]; an object without `brise.managed=true` is foreign and
//! never touched. The spec hash is a sha256 of a canonical, versioned
//! serialisation of an explicit list of [`ContainerSpec`] fields: what the
//! container runs, never policy (persistence, dependencies, proxy settings).
//! Pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::containers::{
    ContainerSpec, Healthcheck, ImageRef, Mount, PortMapping, RestartPolicy, Technology,
};

/// `brise.managed=true` marks every object brise created.
pub const MANAGED: &str = "brise.managed";
/// The container's name as declared.
pub const NAME: &str = "brise.name";
/// [`spec_hash`] of the spec it was created from.
pub const SPEC_HASH: &str = "brise.spec-hash";
/// The image id it was created from (`sha256:…`).
pub const IMAGE_DIGEST: &str = "brise.image-digest";
/// `true` when the container is persistent (kept when undeclared, recreated only on request).
pub const PERSISTENT: &str = "brise.persistent";
/// Version of this label schema.
pub const LABELS_VERSION: &str = "brise.labels-version";

/// Bumped whenever the hash input changes, so that old and new hashes never collide.
const SPEC_HASH_VERSION: &str = "brise-spec-v1";

/// brise's labels on one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Labels {
    pub name: String,
    pub spec_hash: String,
    /// Absent on an object whose image digest was not recorded.
    pub image_digest: Option<String>,
    pub persistent: bool,
}

impl Labels {
    /// The labels of a container about to be created from `spec` and image `image_digest`.
    #[must_use]
    pub fn for_spec(spec: &ContainerSpec, image_digest: Option<&str>) -> Self {
        Self {
            name: spec.name.clone(),
            spec_hash: spec_hash(spec),
            image_digest: image_digest.map(str::to_owned),
            persistent: spec.persistent,
        }
    }

    /// As engine labels (key → value).
    #[must_use]
    pub fn to_map(&self) -> BTreeMap<String, String> {
        let mut map = BTreeMap::new();
        map.insert(MANAGED.to_owned(), "true".to_owned());
        map.insert(LABELS_VERSION.to_owned(), "1".to_owned());
        map.insert(NAME.to_owned(), self.name.clone());
        map.insert(SPEC_HASH.to_owned(), self.spec_hash.clone());
        if let Some(digest) = &self.image_digest {
            map.insert(IMAGE_DIGEST.to_owned(), digest.clone());
        }
        map.insert(PERSISTENT.to_owned(), self.persistent.to_string());
        map
    }

    /// brise's labels among an object's labels; `None` unless `brise.managed=true`.
    /// `fallback_name` is used when `brise.name` is missing.
    #[must_use]
    pub fn from_map<'a, I>(labels: I, fallback_name: &str) -> Option<Self>
    where
        I: IntoIterator<Item = (&'a String, &'a String)>,
    {
        let mut managed = false;
        let mut name = None;
        let mut spec_hash = String::new();
        let mut image_digest = None;
        let mut persistent = false;
        for (key, value) in labels {
            match key.as_str() {
                MANAGED => managed = value == "true",
                NAME => name = Some(value.clone()),
                SPEC_HASH => spec_hash.clone_from(value),
                IMAGE_DIGEST => image_digest = Some(value.clone()),
                PERSISTENT => persistent = value == "true",
                _ => {}
            }
        }
        managed.then(|| Self {
            name: name.unwrap_or_else(|| fallback_name.to_owned()),
            spec_hash,
            image_digest,
            persistent,
        })
    }
}

/// The fields of a spec that decide what runs, in a fixed order.
#[derive(Serialize)]
struct HashInput<'a> {
    version: &'static str,
    name: &'a str,
    technology: Technology,
    image: &'a ImageRef,
    ports: &'a [PortMapping],
    mounts: &'a [Mount],
    environment: &'a [(String, String)],
    command: Option<&'a [String]>,
    restart: RestartPolicy,
    init: bool,
    stop_timeout: u32,
    healthcheck: Option<&'a Healthcheck>,
    replicas: u32,
    placement: &'a [String],
    rendered_hash: Option<&'a str>,
}

/// Hex sha256 of what the container runs. Two specs that differ only in policy
/// (`persistent`, `depends_on`, proxy path and networks, position) hash alike.
#[must_use]
pub fn spec_hash(spec: &ContainerSpec) -> String {
    let input = HashInput {
        version: SPEC_HASH_VERSION,
        name: &spec.name,
        technology: spec.technology,
        image: &spec.image,
        ports: &spec.ports,
        mounts: &spec.mounts,
        environment: &spec.environment,
        command: spec.command.as_deref(),
        restart: spec.restart,
        init: spec.init,
        stop_timeout: spec.stop_timeout,
        healthcheck: spec.healthcheck.as_ref(),
        replicas: spec.replicas,
        placement: &spec.placement,
        rendered_hash: spec.rendered_hash.as_deref(),
    };
    // Serialising plain structs, strings and numbers to JSON cannot fail; an
    // empty input would still hash deterministically.
    let bytes = serde_json::to_vec(&input).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

/// Hex sha256 of the rendered files (path, contents) that lie inside one of
/// the spec's mounted host directories, so that a changed configuration file
/// recreates the container that reads it; `None` when no rendered file is
/// mounted into it. `files` need not be sorted.
#[must_use]
pub fn rendered_hash(spec: &ContainerSpec, files: &[(&std::path::Path, &[u8])]) -> Option<String> {
    let mut mounted: Vec<&(&std::path::Path, &[u8])> = files
        .iter()
        .filter(|(path, _)| {
            spec.mounts
                .iter()
                .any(|m| path.starts_with(std::path::Path::new(&m.host_dir)))
        })
        .collect();
    if mounted.is_empty() {
        return None;
    }
    mounted.sort_by(|a, b| a.0.cmp(b.0));
    let mut hasher = Sha256::new();
    for (path, contents) in mounted {
        let path = path.as_os_str().as_encoded_bytes();
        hasher.update((path.len() as u64).to_le_bytes());
        hasher.update(path);
        hasher.update((contents.len() as u64).to_le_bytes());
        hasher.update(contents);
    }
    Some(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;
    use crate::containers::Protocol;

    pub(crate) fn spec() -> ContainerSpec {
        ContainerSpec {
            name: "my-apache-app".to_owned(),
            identifier: "web".to_owned(),
            index: 2,
            technology: Technology::Docker,
            image: ImageRef {
                registry: None,
                repository: "httpd".to_owned(),
                tag: "2.4".to_owned(),
            },
            ports: vec![PortMapping {
                container_port: 80,
                host_port: 8081,
                protocol: Protocol::Tcp,
                host_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            }],
            mounts: vec![Mount {
                host_dir: "/var/eole-httpd/".to_owned(),
                container_dir: "/usr/local/apache2/htdocs/".to_owned(),
                read_only: false,
            }],
            environment: vec![],
            command: None,
            restart: RestartPolicy::UnlessStopped,
            persistent: true,
            init: true,
            stop_timeout: 10,
            depends_on: vec![],
            proxy_path: Some("/my-apache-app".to_owned()),
            allowed_networks: vec![],
            healthcheck: None,
            replicas: 1,
            placement: vec![],
            rendered_hash: None,
        }
    }

    #[test]
    fn spec_hash_is_stable_for_a_given_spec() {
        // A change of this value means every deployed container would be recreated:
        // bump SPEC_HASH_VERSION deliberately instead.
        assert_eq!(spec_hash(&spec()), spec_hash(&spec()));
        assert_eq!(spec_hash(&spec()).len(), 64);
        insta::assert_snapshot!(spec_hash(&spec()));
    }

    #[test]
    fn policy_fields_do_not_change_the_spec_hash() {
        let mut other = spec();
        other.persistent = false;
        other.depends_on = vec!["db".to_owned()];
        other.proxy_path = None;
        other.allowed_networks = vec!["10.0.0.0/8".to_owned()];
        other.index = 7;
        other.identifier = "other".to_owned();
        assert_eq!(spec_hash(&spec()), spec_hash(&other));
    }

    #[test]
    fn what_the_container_runs_changes_the_spec_hash() {
        let base = spec_hash(&spec());
        type Change = Box<dyn Fn(&mut ContainerSpec)>;
        let changes: Vec<Change> = vec![
            Box::new(|s| s.image.tag = "2.5".to_owned()),
            Box::new(|s| s.image.registry = Some("localhost:5000".to_owned())),
            Box::new(|s| s.ports[0].host_port = 8082),
            Box::new(|s| s.ports[0].host_ip = IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            Box::new(|s| s.mounts[0].read_only = true),
            Box::new(|s| s.environment.push(("A".to_owned(), "1".to_owned()))),
            Box::new(|s| s.command = Some(vec!["sh".to_owned()])),
            Box::new(|s| s.restart = RestartPolicy::Always),
            Box::new(|s| s.init = false),
            Box::new(|s| s.stop_timeout = 3),
            Box::new(|s| s.rendered_hash = Some("abc".to_owned())),
            Box::new(|s| {
                s.healthcheck = Some(Healthcheck {
                    command: "true".to_owned(),
                    interval_seconds: 5,
                });
            }),
        ];
        for change in changes {
            let mut changed = spec();
            change(&mut changed);
            assert_ne!(spec_hash(&changed), base, "{changed:?}");
        }
    }

    #[test]
    fn rendered_hash_covers_only_files_inside_mounted_directories() {
        use std::path::Path;
        let web = spec();
        let inside = Path::new("/var/eole-httpd/index.html");
        let outside = Path::new("/etc/nginx/web.d/conteneurs2.conf");
        assert_eq!(rendered_hash(&web, &[(outside, b"x")]), None);
        let one = rendered_hash(&web, &[(inside, b"a"), (outside, b"x")]).unwrap();
        assert_eq!(
            rendered_hash(&web, &[(inside, b"a"), (outside, b"y")]).unwrap(),
            one
        );
        assert_ne!(rendered_hash(&web, &[(inside, b"b")]).unwrap(), one);
        // A sibling directory with a common prefix is not inside.
        assert_eq!(
            rendered_hash(&web, &[(Path::new("/var/eole-httpd2/a"), b"a")]),
            None
        );
    }

    #[test]
    fn labels_round_trip_through_engine_labels() {
        let labels = Labels::for_spec(&spec(), Some("sha256:abc"));
        let map: std::collections::HashMap<String, String> = labels.to_map().into_iter().collect();
        assert_eq!(Labels::from_map(&map, "ignored"), Some(labels));
    }

    #[test]
    fn objects_without_the_managed_label_are_foreign() {
        let mut map = std::collections::HashMap::new();
        map.insert(NAME.to_owned(), "web".to_owned());
        assert_eq!(Labels::from_map(&map, "web"), None);
        map.insert(MANAGED.to_owned(), "false".to_owned());
        assert_eq!(Labels::from_map(&map, "web"), None);
    }
}
