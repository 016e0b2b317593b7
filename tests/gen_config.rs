//! `brise gen_config` end to end: the real binary, the shipped dictionary and
//! templates, the demonstration's values, a test root, and the real nginx
//! (`nginx -t`, and a private nginx serving a real proxied request).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use common::brise::Server;
use common::nginx::{self, Nginx};

const SEED_FILE: &str = "/etc/nginx/web.d/conteneurs2.conf";

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

/// The demo with the apache container's host port replaced.
fn demo_on_port(port: u16) -> String {
    std::fs::read_to_string(common::brise::repo().join("examples/demo/values.yml"))
        .unwrap()
        .replace("host_port: 8081", &format!("host_port: {port}"))
}

#[test]
#[ignore = "needs nginx"]
fn demo_renders_the_seed_file_byte_for_byte() {
    let server = Server::new().demo();
    server
        .gen_config(&["--no-reload"])
        .success()
        .stdout("created /etc/nginx/web.d/conteneurs2.conf\n");
    assert_eq!(server.read(SEED_FILE), SEED);
    let metadata = std::fs::metadata(server.path(SEED_FILE)).unwrap();
    assert_eq!(metadata.permissions().mode() & 0o7777, 0o644);
    assert!(
        !server.path("/etc/nginx/web.d/conteneurs1.conf").exists(),
        "hello-world publishes no port: no nginx file"
    );
    let manifest = server.read("/var/lib/brise/generated-files.json");
    assert!(manifest.contains(SEED_FILE), "{manifest}");
}

#[test]
#[ignore = "needs nginx"]
fn dry_run_lists_and_diff_shows_without_writing() {
    let server = Server::new().demo();
    let outcome = server.gen_config(&["--dry-run", "--diff"]);
    outcome.success();
    assert_eq!(
        outcome.stdout,
        format!(
            "--- /dev/null\n+++ b{SEED_FILE}\n@@ -0,0 +1,12 @@\n{}create {SEED_FILE}\nreload nginx\n",
            SEED.lines()
                .map(|line| format!("+{line}\n"))
                .collect::<String>()
        )
    );
    assert!(
        server.snapshot().is_empty(),
        "dry run wrote {:?}",
        server.snapshot()
    );
    // After a real run, a change shows as a diff of the live file.
    server.gen_config(&["--no-reload"]).success();
    let server = server.values(&demo_on_port(8090));
    server
        .gen_config(&["--dry-run", "--diff"])
        .success()
        .stdout(&format!(
            "--- a{SEED_FILE}\n+++ b{SEED_FILE}\n@@ -1,7 +1,7 @@\n location /my-apache-app {{\n     access_log /var/log/nginx/conteneur2-access.log;\n     error_log /var/log/nginx/conteneur2-error.log;\n-    proxy_pass http://127.0.0.1:8081/;\n+    proxy_pass http://127.0.0.1:8090/;\n     proxy_set_header    X-Forwarded-Proto $scheme;\n \n     # ssh_eth0\nupdate {SEED_FILE}\nreload nginx\n"
        ));
    assert_eq!(server.read(SEED_FILE), SEED, "dry run changed nothing");
}

#[test]
#[ignore = "needs nginx"]
fn a_second_run_changes_nothing_and_keeps_mtimes() {
    let server = Server::new().demo();
    server.gen_config(&["--no-reload"]).success();
    let before = std::fs::metadata(server.path(SEED_FILE)).unwrap();
    let snapshot = server.snapshot();
    std::thread::sleep(std::time::Duration::from_millis(20));
    server
        .gen_config(&[])
        .success()
        .stdout("nothing to do: 1 generated file up to date\n");
    let after = std::fs::metadata(server.path(SEED_FILE)).unwrap();
    assert_eq!(before.modified().unwrap(), after.modified().unwrap());
    assert_eq!(before.ino(), after.ino());
    assert_eq!(server.snapshot(), snapshot);
}

#[test]
#[ignore = "needs nginx"]
fn a_container_without_ports_any_more_loses_its_file() {
    let server = Server::new().demo();
    server.gen_config(&["--no-reload"]).success();
    let values = std::fs::read_to_string(server.values_path()).unwrap();
    let values = values.replace(
        "    ports:\n      - container_port: 80\n        host_port: 8081\n",
        "",
    );
    let server = server.values(&values);
    server
        .gen_config(&["--no-reload"])
        .success()
        .stdout("removed /etc/nginx/web.d/conteneurs2.conf\n");
    assert!(!server.path(SEED_FILE).exists());
}

#[test]
#[ignore = "needs nginx"]
fn a_hand_edited_file_is_kept_aside_and_reported() {
    let server = Server::new().demo();
    server.gen_config(&["--no-reload"]).success();
    common::brise::write(&server.path(SEED_FILE), "# my own location\n");
    let server = server.values(&demo_on_port(8090));
    let outcome = server.gen_config(&["--no-reload"]);
    outcome.success();
    let (kept_line, rest) = outcome.stdout.split_once('\n').unwrap();
    assert!(
        kept_line.starts_with(&format!("kept aside {SEED_FILE} as {SEED_FILE}.kept-"))
            && kept_line.ends_with(" (edited by hand since brise wrote it)"),
        "{}",
        outcome.stdout
    );
    assert_eq!(rest, format!("updated {SEED_FILE}\n"));
    let kept = kept_line
        .split(" as ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert_eq!(server.read(kept), "# my own location\n");
    assert!(server.read(SEED_FILE).contains("127.0.0.1:8090"));
}

#[test]
fn a_template_error_names_the_file_and_changes_nothing() {
    let server = Server::new().demo().local_templates(&[(
        "nginx/conteneurs.conf.tera",
        "location {{ this.proxy_path }} {\n    proxy_pass http://127.0.0.1:{{ this.ports[0].host_prt }}/;\n}\n",
    )]);
    let broken = server.local_templates[0].join("nginx/conteneurs.conf.tera");
    let outcome = server.gen_config(&["--no-reload"]);
    outcome.failure(1);
    let first = outcome.stderr.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("{}:2:", broken.display())),
        "{}",
        outcome.stderr
    );
    assert!(
        first.contains("error: `this.ports[0].host_prt` is not defined"),
        "{first}"
    );
    assert!(
        first.contains("(rendering template `nginx_container_location` for `containers.container_my_apache_app`)"),
        "{first}"
    );
    assert!(server.snapshot().is_empty(), "nothing written");
}

#[test]
fn a_catalogue_error_points_at_its_line() {
    let server = Server::new().demo().local_templates(&[(
        "containers.yml",
        "nginx_container_location:\n  source: nginx/conteneurs.conf.tera\n  target: /etc/nginx/web.d/c.conf\n  mode: \"0999\"\n",
    )]);
    let catalogue = server.local_templates[0].join("containers.yml");
    let outcome = server.gen_config(&[]);
    outcome.failure(1);
    assert_eq!(
        outcome.stderr,
        format!(
            "{}:4:9: error: mode `0999` must be octal permission bits written as a string, like \"0644\"\n  |\n4 |   mode: \"0999\"\n  |         ^\n",
            catalogue.display()
        )
    );
    assert!(server.snapshot().is_empty());
}

#[test]
fn a_host_port_declared_twice_is_refused_before_anything_is_rendered() {
    let values = format!(
        "{}  container_web:\n    repository: nginx\n    ports:\n      - container_port: 80\n        host_port: 8081\n",
        std::fs::read_to_string(common::brise::repo().join("examples/demo/values.yml"))
            .unwrap()
            .replace("    - my-apache-app\n", "    - my-apache-app\n    - web\n")
    );
    let server = Server::new().values(&values);
    let outcome = server.gen_config(&[]);
    outcome.failure(1);
    assert_eq!(
        outcome.stderr,
        "error: `containers.container_web.ports.host_port` (row 1): host port 8081 is already declared by `containers.container_my_apache_app.ports.host_port` (row 1)\n"
    );
    assert!(server.snapshot().is_empty());
}

#[test]
fn invalid_values_are_reported_and_nothing_is_rendered() {
    let values = std::fs::read_to_string(common::brise::repo().join("examples/demo/values.yml"))
        .unwrap()
        .replace(
            "container_dir: /usr/local/apache2/htdocs/",
            "container_dir: htdocs",
        );
    let server = Server::new().values(&values);
    let outcome = server.gen_config(&[]);
    outcome.failure(1);
    assert!(
        outcome
            .stderr
            .contains("containers.container_my_apache_app.shared_dirs.container_dir"),
        "{}",
        outcome.stderr
    );
    assert!(server.snapshot().is_empty());
}

#[test]
#[ignore = "needs nginx"]
fn nginx_refusing_a_file_keeps_the_previous_one() {
    let server = Server::new().demo();
    let _nginx = Nginx::configure(&server.root());
    server.gen_config(&["--no-reload"]).success();
    let snapshot = server.snapshot();
    let server = server.local_templates(&[(
        "nginx/conteneurs.conf.tera",
        "location {{ this.proxy_path }} {\n    proxy_pass http://127.0.0.1:{{ this.ports[0].host_port }}/;\n    not_a_directive on;\n}\n",
    )]);
    let outcome = server.gen_config(&[]);
    outcome.failure(1);
    let live = server.path(SEED_FILE);
    assert!(
        outcome.stderr.starts_with(&format!(
            "brise: nginx refused the new configuration (in `{}`): [emerg] unknown directive \"not_a_directive\" in {}:3",
            live.display(),
            live.display()
        )),
        "{}",
        outcome.stderr
    );
    assert_eq!(
        server.snapshot(),
        snapshot,
        "previous file kept, nothing written"
    );
    assert_eq!(server.read(SEED_FILE), SEED);
}

#[test]
#[ignore = "needs nginx"]
fn a_running_nginx_is_not_reloaded_and_keeps_serving_when_nginx_refuses_the_new_file() {
    let backend_port = nginx::free_port();
    nginx::backend(backend_port, "previous location");
    let server = Server::new().values(&demo_on_port(backend_port));
    let mut nginx = Nginx::configure(&server.root());
    nginx.start();
    server
        .gen_config(&[])
        .success()
        .stdout("created /etc/nginx/web.d/conteneurs2.conf\nreloaded nginx\n");
    wait_until_served(&nginx, "/my-apache-app/", "previous location //\n");
    assert_eq!(nginx.reloads(), 1, "the first run reloaded nginx once");
    let snapshot = server.snapshot();
    let server = server.local_templates(&[(
        "nginx/conteneurs.conf.tera",
        "location {{ this.proxy_path }} {\n    proxy_pass http://127.0.0.1:{{ this.ports[0].host_port }}/;\n    not_a_directive on;\n}\n",
    )]);
    let outcome = server.gen_config(&[]);
    outcome.failure(1);
    let live = server.path(SEED_FILE);
    assert!(
        outcome.stderr.contains(&format!(
            "[emerg] unknown directive \"not_a_directive\" in {}:3",
            live.display()
        )),
        "nginx's message with the live file: {}",
        outcome.stderr
    );
    assert!(
        !outcome.stdout.contains("reloaded"),
        "nothing reloaded: {}",
        outcome.stdout
    );
    assert_eq!(server.snapshot(), snapshot, "previous files kept");
    assert_eq!(nginx.reloads(), 1, "nginx was not told to reload");
    let (status, body) = nginx.get("/my-apache-app/").unwrap();
    assert!(status.contains("200"), "{status}");
    assert_eq!(body, "previous location //\n");
}

#[test]
#[ignore = "needs root"]
fn owner_group_and_mode_come_from_the_catalogue() {
    assert!(nix::unistd::geteuid().is_root(), "this test needs root");
    let server = Server::new().demo().local_templates(&[(
        "local.yml",
        "motd:\n  source: motd.tera\n  target: /etc/brise-motd\n  owner: www-data\n  group: adm\n  mode: \"0640\"\n",
    ), ("motd.tera", "{{ containers.names | length }} containers\n")]);
    server.gen_config(&["--no-reload"]).success();
    assert_eq!(server.read("/etc/brise-motd"), "2 containers\n");
    let metadata = std::fs::metadata(server.path("/etc/brise-motd")).unwrap();
    let www = nix::unistd::User::from_name("www-data").unwrap().unwrap();
    let adm = nix::unistd::Group::from_name("adm").unwrap().unwrap();
    assert_eq!(
        (metadata.uid(), metadata.gid()),
        (www.uid.as_raw(), adm.gid.as_raw())
    );
    assert_eq!(metadata.permissions().mode() & 0o7777, 0o640);
}

#[test]
#[ignore = "needs nginx"]
fn a_real_request_goes_through_the_rendered_location() {
    let backend_port = nginx::free_port();
    nginx::backend(backend_port, "hello from the container");
    let server = Server::new().values(&demo_on_port(backend_port));
    let mut nginx = Nginx::configure(&server.root());
    nginx.start();
    let outcome = server.gen_config(&[]);
    outcome
        .success()
        .stdout("created /etc/nginx/web.d/conteneurs2.conf\nreloaded nginx\n");
    // proxy_pass with a URI: nginx replaces `/my-apache-app` by `/`.
    wait_until_served(&nginx, "/my-apache-app/", "hello from the container //\n");
    // A second run changes nothing and does not reload.
    server
        .gen_config(&[])
        .success()
        .stdout("nothing to do: 1 generated file up to date\n");
    assert_eq!(nginx.reloads(), 1);
}

/// Wait until nginx answers `path` with 200 and `body` (a reload takes effect
/// asynchronously).
fn wait_until_served(nginx: &Nginx, path: &str, body: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut last = None;
    loop {
        if let Some((status, got)) = nginx.get(path) {
            if status.contains("200") && got == body {
                // Served by the new configuration: no old worker left to
                // answer a later request with the previous one.
                nginx.wait_for_old_workers();
                return;
            }
            last = Some((status, got));
        }
        assert!(
            std::time::Instant::now() < deadline,
            "nginx never answered {path} with 200 and {body:?}; last answer: {last:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
