//! A request through a real nginx reaching a container that brise created:
//! our own nginx instance (temporary prefix, random 127.0.0.1 port) serving
//! the demonstration's `location` (seed-demo.md §2) in a `web.d` directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod docker_common;

use brise::command::{self, Invocation};
use brise::reconcile::Options;
use brise::runtime::fake::{loopback_port, spec};
use docker_common::{Scope, free_port, http_get};

/// An nginx started on a private prefix, stopped (by its own pid file) on drop.
struct Nginx {
    prefix: tempfile::TempDir,
}

impl Nginx {
    fn start(port: u16, locations: &[(&str, String)]) -> Self {
        let prefix = tempfile::tempdir().unwrap();
        let root = prefix.path();
        std::fs::create_dir_all(root.join("web.d")).unwrap();
        std::fs::create_dir_all(root.join("logs")).unwrap();
        for (name, body) in locations {
            brise::output::atomic::write(&root.join("web.d").join(name), body.as_bytes(), None)
                .unwrap();
        }
        let conf = format!(
            "pid {root}/nginx.pid;\nerror_log {root}/logs/error.log;\nevents {{}}\nhttp {{\n    access_log {root}/logs/access.log;\n    client_body_temp_path {root}/body;\n    proxy_temp_path {root}/proxy;\n    fastcgi_temp_path {root}/fastcgi;\n    uwsgi_temp_path {root}/uwsgi;\n    scgi_temp_path {root}/scgi;\n    server {{\n        listen 127.0.0.1:{port};\n        include {root}/web.d/*.conf;\n    }}\n}}\n",
            root = root.display()
        );
        brise::output::atomic::write(&root.join("nginx.conf"), conf.as_bytes(), None).unwrap();
        let nginx = Self { prefix };
        command::run(&nginx.invocation(&["-t", "-q"])).unwrap_or_else(|e| panic!("{e}"));
        command::run(&nginx.invocation(&[])).unwrap_or_else(|e| panic!("{e}"));
        nginx
    }

    fn invocation(&self, args: &[&str]) -> Invocation {
        let root = self.prefix.path();
        Invocation::new("/usr/sbin/nginx")
            .arg("-p")
            .arg(root)
            .arg("-c")
            .arg(root.join("nginx.conf"))
            .args(args)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = command::run(&self.invocation(&["-s", "quit"]));
    }
}

#[tokio::test]
#[ignore = "needs docker and nginx"]
async fn a_request_through_nginx_reaches_the_container() {
    let scope = Scope::new("nginx").await;
    let app_port = free_port();
    let mut web = spec(&scope.name("my-apache-app"), "httpd:2.4");
    web.ports.push(loopback_port(80, app_port));
    web.persistent = true;
    let (_, report) = scope.run(&[web.clone()], &Options::default()).await;
    assert!(report.is_success(), "{report:?}");

    let logs = tempfile::tempdir().unwrap();
    // The demonstration's location, byte for byte but for the port and the log paths.
    let location = format!(
        "location /my-apache-app {{\n    access_log {logs}/conteneur2-access.log;\n    error_log {logs}/conteneur2-error.log;\n    proxy_pass http://127.0.0.1:{app_port}/;\n    proxy_set_header    X-Forwarded-Proto $scheme;\n\n    # ssh_eth0\n    allow all;\n\n    # Deny by default\n    deny all;\n}}\n",
        logs = logs.path().display()
    );
    let proxy_port = free_port();
    let _nginx = Nginx::start(proxy_port, &[("conteneurs2.conf", location)]);
    let response = http_get(proxy_port, "/my-apache-app/").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("It works!"), "{response}");
    scope.cleanup().await;
}
