//! The shipped container dictionary through the configuration core: it loads
//! cleanly, its modes are those of seed-demo.md, every French label names a
//! real path, and the per-field rules (absolute directories, repository, tag,
//! proxy path) refuse bad values.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::collections::BTreeMap;
use std::path::PathBuf;

use brise::dictionary::{self, Schema};
use brise::values::{self, RawValues};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn schema() -> Schema {
    dictionary::load_dirs(
        &[repo().join("dictionaries")],
        brise::app::Origin::Explicit,
        None,
        &[],
    )
    .unwrap()
}

const FAMILY: &str = "containers.container_{{ identifier }}";

#[test]
fn the_shipped_dictionary_loads_without_warnings() {
    let schema = schema();
    assert!(schema.warnings().is_empty(), "{:?}", schema.warnings());
}

#[test]
fn modes_follow_the_demonstration_form() {
    let schema = schema();
    let mode = |name: &str| {
        let id = schema
            .lookup(&format!("{FAMILY}.{name}"))
            .unwrap_or_else(|| panic!("no `{name}`"));
        schema.node(id).mode.as_str()
    };
    assert_eq!(mode("name"), "basic");
    for standard in [
        "technology",
        "registry",
        "repository",
        "tag",
        "shared_dirs.host_dir",
        "shared_dirs.container_dir",
        "ports.container_port",
        "ports.host_port",
        "persistent",
        "publish",
        "restart",
        "proxy_path",
        "allowed_networks",
    ] {
        assert_eq!(mode(standard), "standard", "{standard}");
    }
    for advanced in [
        "init",
        "stop_timeout",
        "healthcheck",
        "replicas",
        "placement",
    ] {
        assert_eq!(mode(advanced), "advanced", "{advanced}");
    }
}

#[test]
fn every_french_label_names_a_path_of_the_dictionary() {
    let schema = schema();
    let text = std::fs::read_to_string(repo().join("dictionaries/i18n/fr.yml")).unwrap();
    let labels: BTreeMap<String, BTreeMap<String, String>> = serde_saphyr::from_str(&text).unwrap();
    assert!(labels.len() > 20);
    for (path, label) in &labels {
        assert!(
            schema.lookup(path).is_some(),
            "fr.yml: `{path}` is not in the dictionary"
        );
        assert!(
            label.contains_key("description"),
            "fr.yml: `{path}` has no description"
        );
        for key in label.keys() {
            assert!(
                key == "description" || key == "help",
                "fr.yml: `{path}`: unknown key `{key}`"
            );
        }
    }
    // And every variable of a container has its French label.
    for name in [
        "name",
        "technology",
        "registry",
        "repository",
        "tag",
        "persistent",
        "proxy_path",
    ] {
        assert!(
            labels.contains_key(&format!("{FAMILY}.{name}")),
            "no French label for `{name}`"
        );
    }
}

/// The errors the core reports for one container with one field set.
fn errors_with(field: &str, value: &str) -> Vec<String> {
    let repository = if field == "repository" {
        String::new()
    } else {
        "    repository: httpd\n".to_owned()
    };
    let text = format!(
        "containers:\n  names: [my-apache-app]\n  container_my_apache_app:\n{repository}    ports:\n      - container_port: 80\n        host_port: 8081\n    {field}: {value}\n"
    );
    let raw = RawValues::parse(&text, &PathBuf::from("values.yml")).unwrap();
    let config = values::resolve(&schema(), &raw);
    config
        .issues()
        .iter()
        .filter(|issue| issue.is_error())
        .map(|issue| format!("{} {}", issue.path, issue.message))
        .collect()
}

#[test]
fn a_minimal_container_is_valid() {
    assert_eq!(errors_with("tag", "\"2.4\""), Vec::<String>::new());
}

#[test]
fn per_field_rules_refuse_bad_values() {
    for (field, value) in [
        ("repository", "Not_A/Repo!"),
        ("tag", "\"-bad\""),
        ("registry", "\"https://hub\""),
        ("proxy_path", "\"/a path;\""),
        ("proxy_path", "relative"),
        ("name", "\"bad name\""),
        ("restart", "sometimes"),
        ("allowed_networks", "[10.1.2.3/8]"),
    ] {
        let errors = errors_with(field, value);
        assert!(
            errors
                .iter()
                .any(|error| error
                    .starts_with(&format!("containers.container_my_apache_app.{field}"))),
            "{field}: {value} was accepted: {errors:?}"
        );
    }
}

#[test]
fn a_container_directory_must_be_absolute() {
    let demo = std::fs::read_to_string(repo().join("examples/demo/values.yml")).unwrap();
    let text = demo.replace(
        "container_dir: /usr/local/apache2/htdocs/",
        "container_dir: htdocs",
    );
    let raw = RawValues::parse(&text, &PathBuf::from("values.yml")).unwrap();
    let config = values::resolve(&schema(), &raw);
    let errors: Vec<_> = config.issues().iter().filter(|i| i.is_error()).collect();
    assert!(
        errors.iter().any(|error| error.path
            == "containers.container_my_apache_app.shared_dirs.container_dir"
            && error.message.contains("htdocs")),
        "{errors:?}"
    );
}
