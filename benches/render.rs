//! gen_config at scale: 1,000 container families → 1,000 nginx files.
//!
//! - `render/brise`: the shipped templates compiled once, the configuration
//!   converted once, every file rendered in memory (what `gen_config` does).
//! - `render/naive`: what a simple generator does for each file: parse the
//!   template again and convert the whole configuration into a fresh context.
//! - `no_change/plan`: render + compare with an up-to-date disk and manifest
//!   (the whole of a `gen_config` run that finds nothing to do; it writes nothing).
//!
//! Run: `cargo bench --bench render` (results in docs/PERFORMANCE.md).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // bench code

use std::path::{Path, PathBuf};

use brise::output::{self, ApplyOptions, NginxSettings};
use brise::render::{self, DynamicInstance, Renderer, TreeConfiguration};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

const CONTAINERS: usize = 1_000;

fn configuration(count: usize) -> TreeConfiguration {
    let mut family = serde_json::Map::new();
    let names: Vec<String> = (1..=count).map(|i| format!("app-{i}")).collect();
    family.insert("engine".into(), json!("docker"));
    family.insert("names".into(), json!(names));
    let mut instances = Vec::new();
    for (position, name) in names.iter().enumerate() {
        let path = format!(
            "containers.container_{}",
            render::normalize_identifier(name)
        );
        family.insert(
            path.trim_start_matches("containers.").to_owned(),
            json!({
                "name": name, "technology": "docker", "registry": null,
                "repository": "httpd", "tag": "2.4",
                "shared_dirs": [{"host_dir": format!("/srv/{name}"), "container_dir": "/usr/local/apache2/htdocs/"}],
                "ports": [{"container_port": "80", "host_port": (10_000 + position).to_string()}],
                "publish": "loopback", "persistent": false, "environment": [],
                "command": null, "restart": "unless-stopped",
                "proxy_path": format!("/{name}"),
                "allowed_networks": if position % 2 == 0 { json!([]) } else { json!(["192.168.0.0/24", "10.0.0.0/8"]) },
                "depends_on": [], "init": true, "stop_timeout": 10, "healthcheck": null,
                "replicas": 1, "placement": []
            }),
        );
        instances.push(DynamicInstance {
            identifier: name.clone(),
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

fn shipped_templates() -> render::TemplateSet {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("templates");
    render::load(&[dir], false).unwrap()
}

/// The naive way: for every file, a fresh tera with the template parsed again
/// and the whole configuration serialised into a new context.
fn naive(config: &TreeConfiguration, template: &str) -> Vec<(String, String)> {
    let instances = &config.dynamic[0].1;
    let mut files = Vec::new();
    for (position, instance) in instances.iter().enumerate() {
        let mut tera = tera::Tera::default();
        tera.autoescape_on(Vec::<&'static str>::new());
        tera.add_raw_template("t", template).unwrap();
        let mut context = tera::Context::from_serialize(&config.tree).unwrap();
        let this = render::configuration::lookup(&config.tree, &instance.path).unwrap();
        if this["ports"].as_array().is_none_or(Vec::is_empty) {
            continue;
        }
        context.insert("this", this);
        context.insert("index", &(position + 1));
        context.insert("identifier", &instance.identifier);
        files.push((
            format!("/etc/nginx/web.d/conteneurs{}.conf", position + 1),
            tera.render("t", &context).unwrap(),
        ));
    }
    files
}

fn benches(c: &mut Criterion) {
    let config = configuration(CONTAINERS);
    let set = shipped_templates();
    let template = set.sources["nginx/conteneurs.conf.tera"].text.clone();
    let renderer = Renderer::new(&set).unwrap();
    assert_eq!(renderer.render(&config).unwrap().files.len(), CONTAINERS);
    assert_eq!(naive(&config, &template).len(), CONTAINERS);

    let mut group = c.benchmark_group("render");
    group.sample_size(20);
    group.bench_function("brise_1000_files", |b| {
        b.iter(|| renderer.render(&config).unwrap());
    });
    group.bench_function("brise_including_template_load_1000_files", |b| {
        b.iter(|| {
            Renderer::new(&shipped_templates())
                .unwrap()
                .render(&config)
                .unwrap()
        });
    });
    group.finish();
    // Quadratic: the whole configuration is converted for every file.
    let mut group = c.benchmark_group("render");
    group.sample_size(10);
    group.bench_function("naive_1000_files", |b| {
        b.iter(|| naive(&config, &template));
    });
    group.finish();

    // An up-to-date root: a no-change run plans nothing and writes nothing.
    let root = tempfile::tempdir().unwrap();
    let state = Path::new("/var/lib/brise");
    let rendered = renderer.render(&config).unwrap();
    let mut first = output::plan(&rendered, root.path(), state).unwrap();
    // The first write is not what is measured: skip its nginx check (which
    // would open 2,000 log files under /var/log/nginx).
    for change in &mut first.changes {
        change.check = None;
    }
    let options = ApplyOptions {
        nginx: NginxSettings::default(),
        reload: false,
        now: jiff::Timestamp::UNIX_EPOCH,
    };
    output::apply(&first, &options).unwrap();
    let mut group = c.benchmark_group("no_change");
    group.sample_size(20);
    group.bench_function("render_and_plan_1000_files", |b| {
        b.iter(|| {
            let rendered = renderer.render(&config).unwrap();
            let plan = output::plan(&rendered, root.path(), state).unwrap();
            assert!(
                plan.is_empty() && !plan.manifest_changed,
                "a no-change run writes nothing"
            );
            plan
        });
    });
    group.finish();
}

criterion_group!(render_benches, benches);
criterion_main!(render_benches);
