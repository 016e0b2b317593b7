//! The shipped templates rendered for the demonstration's configuration:
//! the nginx file of spec/seed-demo.md section 2, byte for byte.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::path::PathBuf;

use brise::render::{self, DynamicInstance, Renderer, TreeConfiguration};
use serde_json::{Value, json};

fn shipped() -> Renderer {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("templates");
    Renderer::new(&render::load(&[dir], false).unwrap()).unwrap()
}

/// One container family as the configuration core resolves it with the
/// shipped dictionary's defaults.
fn container(name: &str, repository: &str, overrides: Value) -> Value {
    let mut family = json!({
        "name": name,
        "technology": "docker",
        "registry": null,
        "repository": repository,
        "tag": null,
        "shared_dirs": [],
        "ports": [],
        "publish": "loopback",
        "persistent": false,
        "environment": [],
        "command": null,
        "restart": "unless-stopped",
        "proxy_path": format!("/{name}"),
        "allowed_networks": [],
        "depends_on": [],
        "init": true,
        "stop_timeout": 10,
        "healthcheck": null,
        "replicas": 1,
        "placement": []
    });
    if let (Some(family), Value::Object(overrides)) = (family.as_object_mut(), overrides) {
        family.extend(overrides);
    }
    family
}

fn configuration(containers: Vec<(&str, Value)>) -> TreeConfiguration {
    let mut family = serde_json::Map::new();
    family.insert("engine".into(), json!("docker"));
    family.insert("swarm_publish_mode".into(), json!("ingress"));
    family.insert(
        "names".into(),
        json!(containers.iter().map(|(id, _)| *id).collect::<Vec<_>>()),
    );
    let mut instances = Vec::new();
    for (identifier, value) in containers {
        let path = format!(
            "containers.container_{}",
            render::normalize_identifier(identifier)
        );
        family.insert(path.trim_start_matches("containers.").to_owned(), value);
        instances.push(DynamicInstance {
            identifier: identifier.to_owned(),
            path,
        });
    }
    TreeConfiguration {
        tree: json!({ "containers": family }),
        dynamic: vec![(
            "containers.container_{{ identifier }}".to_owned(),
            instances,
        )],
    }
}

fn demo() -> TreeConfiguration {
    configuration(vec![
        (
            "hello-world",
            container("hello-world", "hello-world", json!({})),
        ),
        (
            "my-apache-app",
            container(
                "my-apache-app",
                "httpd",
                json!({
                    "tag": "2.4",
                    "shared_dirs": [{"host_dir": "/var/eole-httpd/", "container_dir": "/usr/local/apache2/htdocs/"}],
                    "ports": [{"container_port": "80", "host_port": "8081"}],
                    "persistent": true
                }),
            ),
        ),
    ])
}

/// spec/seed-demo.md, section 2.
const SEED: &str = "\
location /my-apache-app {
    access_log /var/log/nginx/conteneur2-access.log;
    error_log /var/log/nginx/conteneur2-error.log;
    proxy_pass http://127.0.0.1:8081/;
    proxy_set_header    X-Forwarded-Proto $scheme;

    # ssh_eth0
    allow all;

    # Deny by default
    deny all;
}
";

#[test]
fn demo_renders_the_seed_nginx_file_byte_for_byte() {
    let rendered = shipped().render(&demo()).unwrap();
    let paths: Vec<_> = rendered.files.iter().map(|f| f.path.clone()).collect();
    assert_eq!(
        paths,
        vec![PathBuf::from("/etc/nginx/web.d/conteneurs2.conf")]
    );
    let file = &rendered.files[0];
    assert_eq!(file.contents, SEED);
    assert_eq!(
        (file.owner.as_str(), file.group.as_str(), file.mode),
        ("root", "root", 0o644)
    );
    assert_eq!(file.check, Some(render::Check::Nginx));
    assert_eq!(file.reload.as_deref(), Some("nginx"));
}

#[test]
fn container_without_host_port_gets_no_nginx_file() {
    let config = configuration(vec![(
        "hello-world",
        container("hello-world", "hello-world", json!({})),
    )]);
    assert!(shipped().render(&config).unwrap().files.is_empty());
}

#[test]
fn allowed_networks_give_one_allow_line_each() {
    let config = configuration(vec![(
        "app",
        container(
            "app",
            "httpd",
            json!({
                "ports": [{"container_port": "80", "host_port": "9000"}],
                "allowed_networks": ["192.168.0.0/24", "10.0.0.0/8"],
                "proxy_path": "/school/app"
            }),
        ),
    )]);
    let rendered = shipped().render(&config).unwrap();
    insta::assert_snapshot!(
        "nginx_location_allowed_networks",
        rendered.files[0].contents
    );
}

#[test]
fn publish_address_is_the_upstream_and_ipv6_gets_brackets() {
    let config = configuration(vec![
        (
            "v4",
            container(
                "v4",
                "httpd",
                json!({
                    "ports": [{"container_port": "80", "host_port": "9001"}],
                    "publish": "address",
                    "publish_address": "192.168.1.10"
                }),
            ),
        ),
        (
            "v6",
            container(
                "v6",
                "httpd",
                json!({
                    "ports": [{"container_port": "80", "host_port": "9002"}, {"container_port": "443", "host_port": "9443"}],
                    "publish": "address",
                    "publish_address": "fd00::10"
                }),
            ),
        ),
    ]);
    let rendered = shipped().render(&config).unwrap();
    insta::assert_snapshot!("nginx_location_publish_v4", rendered.files[0].contents);
    insta::assert_snapshot!("nginx_location_publish_v6", rendered.files[1].contents);
    assert_eq!(
        rendered.files[1].path,
        PathBuf::from("/etc/nginx/web.d/conteneurs2.conf")
    );
}

/// The demonstration as the configuration core resolves it from the shipped
/// dictionary and examples/demo/values.yml.
fn demo_from_core() -> brise::values::Config {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let schema = brise::dictionary::load_dirs(
        &[repo.join("dictionaries")],
        brise::app::Origin::Explicit,
        None,
        &[],
    )
    .unwrap();
    let raw = brise::values::RawValues::load_file(&repo.join("examples/demo/values.yml")).unwrap();
    let config = brise::values::resolve(&schema, &raw);
    assert!(
        config.issues().iter().all(|issue| !issue.is_error()),
        "{:?}",
        config.issues()
    );
    config
}

#[test]
fn the_core_resolves_the_demo_to_the_tree_these_tests_use() {
    use brise::render::Configuration;
    let core = demo_from_core();
    pretty_assertions::assert_eq!(Configuration::tree(&core), demo().tree);
    assert_eq!(
        core.dynamic_instances("containers.container_{{ identifier }}"),
        demo().dynamic_instances("containers.container_{{ identifier }}")
    );
}

#[test]
fn the_core_configuration_renders_the_seed_file() {
    let rendered = shipped().render(&demo_from_core()).unwrap();
    assert_eq!(rendered.files.len(), 1);
    assert_eq!(rendered.files[0].contents, SEED);
}

#[test]
fn demo_snapshot() {
    let rendered = shipped().render(&demo()).unwrap();
    insta::assert_snapshot!("nginx_location_demo", rendered.files[0].contents);
}
