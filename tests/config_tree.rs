//! The library view others build on: the shipped container dictionary with the
//! demo values resolves, `tree()` has the shape templates and
//! `containers::desired` read (leaderships as rows keyed by short names), and
//! `dynamic_instances` lists the containers in identifier order.

use std::path::PathBuf;

use brise::app::Origin;
use brise::render::Configuration;
use brise::values::{self, RawValues};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_shipped_dictionary_and_demo_values_resolve_without_error() {
    let schema =
        brise::dictionary::load_dirs(&[root().join("dictionaries")], Origin::Explicit, None, &[])
            .unwrap();
    let raw = RawValues::load_file(&root().join("examples/demo/values.yml")).unwrap();
    let config = values::resolve(&schema, &raw);
    let errors: Vec<_> = config.errors().collect();
    assert!(errors.is_empty(), "{errors:?}");

    let instances = config
        .dynamic_instances("containers.container_{{ identifier }}")
        .unwrap();
    let names: Vec<(&str, &str)> = instances
        .iter()
        .map(|i| (i.identifier.as_str(), i.path.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("hello-world", "containers.container_hello_world"),
            ("my-apache-app", "containers.container_my_apache_app"),
        ]
    );

    let tree = config.tree();
    let app = &tree["containers"]["container_my_apache_app"];
    assert_eq!(app["repository"], serde_json::json!("httpd"));
    assert_eq!(app["proxy_path"], serde_json::json!("/my-apache-app"));
    assert_eq!(
        app["ports"],
        serde_json::json!([{"container_port": "80", "host_port": "8081"}])
    );
    assert_eq!(
        app["shared_dirs"],
        serde_json::json!([{"host_dir": "/var/eole-httpd/", "container_dir": "/usr/local/apache2/htdocs/"}])
    );

    let specs = brise::containers::desired(&config).unwrap();
    assert_eq!(specs.len(), 2);
}

#[test]
fn an_unknown_dynamic_family_has_no_instances() {
    let schema =
        brise::dictionary::load_dirs(&[root().join("dictionaries")], Origin::Explicit, None, &[])
            .unwrap();
    let config = values::resolve(&schema, &RawValues::default());
    assert!(
        config
            .dynamic_instances("containers.nothing_{{ identifier }}")
            .is_none()
    );
    assert_eq!(config.namespace(), None);
}
