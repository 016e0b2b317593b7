//! Helpers of the real-engine tests: a per-test [`Scope`] (name prefix, the
//! runtime, cleanup of every managed container bearing the prefix), ports, HTTP.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::time::Duration;

use brise::command::{self, Invocation};
use brise::containers::ContainerSpec;
use brise::reconcile::{
    self, ApplyOptions, Images, Options, Plan, PrepareError, Prepared, Refused, Report, Silent,
};
use brise::runtime::docker::{DockerRuntime, endpoint_from};
use brise::runtime::{NoProgress, Runtime};

/// One test's view of the engine: its name prefix and its runtime.
pub(crate) struct Scope {
    pub(crate) prefix: String,
    pub(crate) runtime: DockerRuntime,
}

impl Scope {
    /// Connect to the real engine (panics, failing the test, when none answers).
    pub(crate) async fn new(test: &str) -> Self {
        let endpoint = endpoint_from(std::env::var("DOCKER_HOST").ok().as_deref());
        let runtime = DockerRuntime::connect(&endpoint).await.unwrap_or_else(|e| {
            panic!("these tests need dockerd (scripts/setup-test-env.sh): {e}")
        });
        let prefix = format!("brise-t{}-{test}", std::process::id());
        Self { prefix, runtime }
    }

    pub(crate) fn name(&self, name: &str) -> String {
        format!("{}-{name}", self.prefix)
    }

    /// Prepare, keeping only this test's containers in the plan (the engine is shared).
    pub(crate) async fn prepare(
        &self,
        desired: &[ContainerSpec],
        options: &Options,
    ) -> Result<Prepared, PrepareError> {
        let mut prepared = reconcile::prepare(
            &self.runtime,
            desired,
            options,
            Images::Pull,
            4,
            &NoProgress,
        )
        .await?;
        self.keep_own(&mut prepared.plan);
        Ok(prepared)
    }

    pub(crate) async fn apply(&self, prepared: &Prepared) -> Result<Report, Refused> {
        reconcile::apply(
            &prepared.plan,
            &self.runtime,
            &prepared.images,
            &ApplyOptions {
                parallel: 4,
                backup_stamp: "20261122T153000Z".to_owned(),
            },
            &Silent,
        )
        .await
    }

    /// Prepare and apply; panics on a conflict or a pull failure.
    pub(crate) async fn run(&self, desired: &[ContainerSpec], options: &Options) -> (Plan, Report) {
        let prepared = self.prepare(desired, options).await.unwrap();
        let report = self.apply(&prepared).await.unwrap();
        (prepared.plan, report)
    }

    fn keep_own(&self, plan: &mut Plan) {
        let prefix = format!("{}-", self.prefix);
        plan.entries.retain(|e| e.name.starts_with(&prefix));
    }

    pub(crate) async fn ids(&self, desired: &[ContainerSpec]) -> Vec<String> {
        let mut ids = Vec::new();
        for spec in desired {
            ids.push(self.runtime.inspect(&spec.name).await.unwrap().unwrap().id);
        }
        ids
    }

    /// Wait (up to 20 s) for a container to stop running.
    pub(crate) async fn wait_exited(&self, name: &str) {
        for _ in 0..200 {
            let container = self.runtime.inspect(name).await.unwrap().unwrap();
            if !container.state.is_up() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("container `{name}` still runs after 20 s");
    }

    /// Remove every container bearing this test's prefix.
    pub(crate) async fn cleanup(&self) {
        let prefix = format!("{}-", self.prefix);
        for container in self.runtime.list_managed().await.unwrap() {
            if container.name.starts_with(&prefix) {
                self.runtime.remove(&container.name).await.unwrap();
            }
        }
    }
}

impl Drop for Scope {
    /// Also when the test failed half-way: remove what bears the prefix.
    fn drop(&mut self) {
        let filter = format!("name=^{}-", self.prefix);
        let Ok(output) = command::run(
            &Invocation::new(docker_program()).args(["ps", "-aq", "--filter", &filter]),
        ) else {
            return;
        };
        let ids: Vec<&str> = output.stdout.split_whitespace().collect();
        if !ids.is_empty() {
            let _ = command::run(
                &Invocation::new(docker_program())
                    .args(["rm", "-f"])
                    .args(ids),
            );
        }
    }
}

fn docker_program() -> &'static str {
    if std::path::Path::new("/usr/bin/docker").exists() {
        "/usr/bin/docker"
    } else {
        "docker"
    }
}

/// Run Debian's docker client (panics with its error on failure).
pub(crate) fn docker_cli(args: &[&str]) -> String {
    command::run(&Invocation::new(docker_program()).args(args))
        .unwrap_or_else(|e| panic!("{e}"))
        .stdout
}

/// Tag `source` as `target` and push it to the local registry.
pub(crate) fn push_as(source: &str, target: &str) {
    docker_cli(&["pull", "-q", source]);
    docker_cli(&["tag", source, target]);
    docker_cli(&["push", "-q", target]);
}

/// A TCP port free on 127.0.0.1 right now.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET path` on 127.0.0.1:port (retrying up to 10 s while the server starts); the response.
pub(crate) async fn http_get(port: u16, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut last = String::new();
    for _ in 0..100 {
        match tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            Ok(mut stream) => {
                let request = format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n");
                if stream.write_all(request.as_bytes()).await.is_ok() {
                    let mut response = String::new();
                    if stream.read_to_string(&mut response).await.is_ok() && !response.is_empty() {
                        return response;
                    }
                }
            }
            Err(error) => last = error.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no HTTP answer on 127.0.0.1:{port}{path}: {last}");
}

pub(crate) fn names(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}
