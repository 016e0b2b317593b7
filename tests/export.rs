//! `export`: the declared containers of a configuration (the demo, plus
//! containers using what Compose and Kubernetes read differently) exported
//! as a Compose file checked by Debian's real `docker-compose config`, and as
//! Kubernetes objects read back through the `k8s-openapi` types.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
#![allow(clippy::disallowed_methods)] // fixtures are written with std::fs::write

use std::path::Path;

use brise::command::{self, Invocation};
use brise::containers::{self, CONTAINER_FAMILY, ContainerSpec};
use brise::export::{self, Target, kubernetes::Manifests};
use brise::render::{DynamicInstance, TreeConfiguration, normalize_identifier};
use serde_json::{Value, json};

/// A resolved configuration as the core gives it: the demo's two containers
/// and two more.
fn configuration() -> TreeConfiguration {
    let containers = vec![
        (
            "hello-world",
            json!({"name": "hello-world", "technology": "docker", "repository": "hello-world",
                   "tag": null, "ports": [], "shared_dirs": [], "publish": "loopback",
                   "persistent": false, "restart": "unless-stopped", "init": true,
                   "stop_timeout": 10, "replicas": 1, "placement": []}),
        ),
        (
            "my-apache-app",
            json!({"name": "my-apache-app", "technology": "docker", "registry": null,
                   "repository": "httpd", "tag": "2.4",
                   "shared_dirs": [{"host_dir": "/var/eole-httpd/",
                                    "container_dir": "/usr/local/apache2/htdocs/"}],
                   "ports": [{"container_port": "80", "host_port": "8081"}],
                   "publish": "loopback", "persistent": true, "restart": "unless-stopped",
                   "proxy_path": "/my-apache-app", "allowed_networks": ["192.168.0.0/24"],
                   "init": true, "stop_timeout": 10, "replicas": 1, "placement": []}),
        ),
        (
            "shop",
            json!({"name": "shop", "technology": "docker", "registry": "localhost:5000",
                   "repository": "brise-demo/busybox", "tag": "latest",
                   "ports": [{"container_port": "53", "host_port": "5353"}],
                   "publish": "all",
                   "environment": [{"name": "PRICE", "value": "$5 or ${CURRENCY}"}],
                   "command": "sh -c 'echo $HOME; sleep 1000'",
                   "restart": "no", "healthcheck": "true", "depends_on": ["my-apache-app"],
                   "init": false, "stop_timeout": 3, "replicas": 2,
                   "placement": ["node.labels.site==lyon"]}),
        ),
        (
            "vm",
            json!({"name": "vm", "technology": "lxc", "repository": "debian", "tag": "bookworm"}),
        ),
    ];
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

fn desired() -> Vec<ContainerSpec> {
    containers::desired(&configuration()).unwrap()
}

fn docker_compose() -> &'static str {
    let path = "/usr/bin/docker-compose";
    assert!(
        Path::new(path).is_file(),
        "docker-compose is required for this test: `{path}` not found (run scripts/setup-test-env.sh)"
    );
    path
}

// See: #8
#[test]
#[ignore = "needs docker-compose"]
fn the_compose_export_is_accepted_by_docker_compose_config() {
    let exported = export::export(&desired(), Target::Compose).unwrap();
    assert_eq!(exported.warnings.len(), 1, "{:?}", exported.warnings);
    assert!(exported.warnings[0].contains("`vm`"));
    let dir = tempfile::Builder::new()
        .prefix("brise-t-export-")
        .tempdir()
        .unwrap();
    let file = dir.path().join("docker-compose.yml");
    std::fs::write(&file, &exported.text).unwrap();
    let check = Invocation::new(docker_compose())
        .arg("--file")
        .arg(&file)
        .arg("config")
        .current_dir(dir.path());
    let output = match command::run(&check) {
        Ok(output) => output,
        Err(error) => panic!("{error}\n--- exported:\n{}", exported.text),
    };
    println!(
        "--- exported:\n{}--- docker-compose config:\n{}",
        exported.text, output.stdout
    );
    assert!(
        !output.stderr.contains("WARNING"),
        "docker-compose warns: {}\n--- exported:\n{}",
        output.stderr,
        exported.text
    );
    // What docker-compose understood, after its own parsing and interpolation.
    let config: Value = serde_saphyr::from_str(&output.stdout).unwrap();
    let services = &config["services"];
    let names: Vec<&str> = services
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, vec!["hello-world", "my-apache-app", "shop"]);
    let apache = &services["my-apache-app"];
    assert_eq!(apache["image"], "httpd:2.4");
    assert_eq!(apache["container_name"], "my-apache-app");
    assert_eq!(apache["ports"], json!(["127.0.0.1:8081:80/tcp"]));
    assert_eq!(apache["volumes"][0]["source"], "/var/eole-httpd");
    assert_eq!(apache["volumes"][0]["type"], "bind");
    assert_eq!(apache["init"], true);
    let shop = &services["shop"];
    // `config` prints values escaped again; an interpolated `${CURRENCY}`
    // would have been replaced, with a warning (checked above).
    assert_eq!(shop["environment"]["PRICE"], "$$5 or $${CURRENCY}");
    assert_eq!(
        shop["command"],
        json!(["sh", "-c", "echo $$HOME; sleep 1000"])
    );
    assert_eq!(shop["restart"], "no", "a string, not the YAML 1.1 boolean");
    assert_eq!(shop["deploy"]["replicas"], 2);
    assert_eq!(
        shop["deploy"]["update_config"],
        json!({"parallelism": 1, "delay": "2s", "failure_action": "rollback",
               "monitor": "5s", "max_failure_ratio": 0.0, "order": "start-first"})
    );
    assert_eq!(
        shop["deploy"]["restart_policy"],
        json!({"condition": "none", "delay": "5s"})
    );
    assert_eq!(
        shop["deploy"]["placement"]["constraints"],
        json!(["node.labels.site==lyon"])
    );
    assert_eq!(
        shop["depends_on"],
        json!({"my-apache-app": {"condition": "service_started"}})
    );
    assert_eq!(
        shop["ports"],
        json!([{"protocol": "tcp", "published": 5353, "target": 53}]),
        "published on every address"
    );
}

// See: #8
#[test]
fn the_kubernetes_export_round_trips_through_the_k8s_openapi_types() {
    let desired = desired();
    let exported = export::export(&desired, Target::Kubernetes).unwrap();
    let parsed = Manifests::from_yaml(&exported.text).unwrap();
    let (generated, warnings) = export::kubernetes::manifests(&desired).unwrap();
    assert_eq!(
        parsed, generated,
        "the YAML holds exactly the typed objects"
    );
    assert_eq!(parsed.to_yaml().unwrap(), exported.text);
    assert_eq!(warnings, exported.warnings);
    assert!(
        warnings.iter().any(|w| w.contains("`vm`")),
        "the LXC container is reported: {warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("`shop`") && w.contains("restart")),
        "{warnings:?}"
    );
    let deployments: Vec<&str> = parsed
        .deployments
        .iter()
        .map(|d| d.metadata.name.as_deref().unwrap())
        .collect();
    assert_eq!(deployments, vec!["hello-world", "my-apache-app", "shop"]);
    let services: Vec<&str> = parsed
        .services
        .iter()
        .map(|s| s.metadata.name.as_deref().unwrap())
        .collect();
    assert_eq!(services, vec!["my-apache-app", "shop"]);
    assert_eq!(parsed.claims.len(), 1, "one claim per shared directory");
    assert_eq!(
        parsed.ingresses.len(),
        2,
        "one Ingress per proxied container"
    );
    let text = &exported.text;
    for kind in ["PersistentVolumeClaim", "Deployment", "Service", "Ingress"] {
        assert!(text.contains(&format!("kind: {kind}\n")), "{kind}: {text}");
    }
}

// See: #8
#[test]
fn an_export_of_names_kubernetes_refuses_changes_nothing_and_names_them() {
    let mut desired = desired();
    desired[0].name = "Hello_World.".to_owned();
    let error = export::export(&desired, Target::Kubernetes).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("container `Hello_World.` cannot be exported: `hello-world-` is not"),
        "{error}"
    );
}

// See: #8
#[test]
fn the_export_command_writes_its_file_atomically() {
    let dir = tempfile::Builder::new()
        .prefix("brise-t-export-")
        .tempdir()
        .unwrap();
    let path = dir.path().join("out/kubernetes.yaml");
    let args = brise::cli::ExportArgs {
        format: brise::cli::ExportFormat::Kubernetes,
        output: Some(path.clone()),
    };
    let desired = brise::commands::export::desired(&configuration()).unwrap();
    brise::commands::export::write(&desired, &args).unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        written,
        export::export(&desired, Target::Kubernetes).unwrap().text
    );
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");
}

// See: #8
#[test]
fn invalid_containers_are_all_reported_and_nothing_is_exported() {
    let mut config = configuration();
    let family = config.tree["containers"].as_object_mut().unwrap();
    family["container_shop"]["ports"] = json!([{"container_port": "53", "host_port": "8081"}]);
    family["container_shop"]["publish"] = json!("loopback");
    family["container_hello_world"]["depends_on"] = json!(["nobody"]);
    let error = match brise::commands::export::desired(&config) {
        Err(brise::app::Failure::Invalid(error)) => format!("{error:#}"),
        other => panic!("{other:?}"),
    };
    assert!(
        error.contains("host port 8081 is already declared"),
        "{error}"
    );
    assert!(error.contains("no container is named `nobody`"), "{error}");
    assert!(error.ends_with("nothing was exported"), "{error}");
}

/// `brise --dictionaries <shipped> --values VALUES export ARGS…` (the real binary).
fn brise_export(values: &Path, args: &[&str]) -> brise::command::Output {
    let invocation = Invocation::new(env!("CARGO_BIN_EXE_brise"))
        .arg("--dictionaries")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("dictionaries"))
        .arg("--values")
        .arg(values)
        .arg("export")
        .args(args);
    command::output(&invocation).unwrap()
}

fn demo_values() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo/values.yml")
}

// See: #8
#[test]
#[ignore = "needs docker-compose"]
fn brise_export_compose_of_the_demo_is_accepted_by_docker_compose_config() {
    let output = brise_export(&demo_values(), &["compose"]);
    assert!(output.status.success(), "{}", output.stderr);
    let dir = tempfile::Builder::new()
        .prefix("brise-t-export-")
        .tempdir()
        .unwrap();
    let file = dir.path().join("docker-compose.yml");
    std::fs::write(&file, &output.stdout).unwrap();
    let check = Invocation::new(docker_compose())
        .arg("--file")
        .arg(&file)
        .arg("config")
        .arg("--services")
        .current_dir(dir.path());
    let services = command::run(&check).unwrap().stdout;
    assert_eq!(services, "hello-world\nmy-apache-app\n");
}

// See: #8
#[test]
fn brise_export_kubernetes_of_the_demo_writes_typed_objects_to_a_file() {
    let dir = tempfile::Builder::new()
        .prefix("brise-t-export-")
        .tempdir()
        .unwrap();
    let file = dir.path().join("brise.yaml");
    let output = brise_export(
        &demo_values(),
        &["kubernetes", "--output", file.to_str().unwrap()],
    );
    assert!(output.status.success(), "{}", output.stderr);
    assert_eq!(output.stdout, "", "written to the file only");
    let manifests = Manifests::from_yaml(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let names: Vec<&str> = manifests
        .deployments
        .iter()
        .map(|d| d.metadata.name.as_deref().unwrap())
        .collect();
    assert_eq!(names, vec!["hello-world", "my-apache-app"]);
    assert_eq!(manifests.claims.len(), 1);
    assert_eq!(manifests.ingresses.len(), 1);
}

// See: #8
#[test]
fn brise_export_of_invalid_values_prints_every_error_and_exports_nothing() {
    let dir = tempfile::Builder::new()
        .prefix("brise-t-export-")
        .tempdir()
        .unwrap();
    let values = dir.path().join("values.yml");
    std::fs::write(
        &values,
        "containers:\n  names: [a]\n  container_a:\n    repository: BAD\n",
    )
    .unwrap();
    let output = brise_export(&values, &["compose"]);
    assert_eq!(output.status.code(), Some(1), "{}", output.stderr);
    assert_eq!(output.stdout, "");
    assert!(
        output.stderr.contains(&format!(
            "{}:4:5: error: `containers.container_a.repository`",
            values.display()
        )),
        "{}",
        output.stderr
    );
    assert!(
        output.stderr.contains("nothing was exported"),
        "{}",
        output.stderr
    );
}
