//! For internal testing only: an [`Applier`] composing the pipeline of
//! `commands::reconfigure` (plan, hooks, gen_config, converge the containers,
//! record `values.applied.yml`) with what tests need and the command has no
//! option for: an in-memory engine, a scope restricting the managed
//! containers seen on a shared engine, a root and an nginx of their own.
//! Production applies go through `commands::reconfigure::WebApplier`, the
//! command's own `reconfigure`.

use std::sync::Arc;

use anyhow::{Context as _, anyhow};

use crate::app::{Failure, Settings};
use crate::commands::gen_config::{self, Pipeline};
use crate::commands::reconfigure::{self, Log, Request};
use crate::containers::ImageRef;
use crate::containers::{self, ContainerSpec, Technology};
use crate::output::NginxSettings;
use crate::reconcile::Options;
use crate::runtime::docker::{DockerRuntime, endpoint_from};
use crate::runtime::fake::FakeRuntime;
use crate::runtime::{
    EngineInfo, Labels, ObservedContainer, PullProgress, Recreated, Runtime, RuntimeError,
};
use crate::values;

use super::apply::{Applier, LogSink};
use super::loader;

/// Which engine the apply button drives.
#[derive(Debug, Clone)]
pub enum Engine {
    /// The Docker daemon of `DOCKER_HOST` (default: the local socket).
    Docker,
    /// For internal testing only: an in-memory engine, kept across applies.
    Fake(Arc<FakeRuntime>),
}

/// For internal testing only: a runtime that sees, among the managed
/// containers, only those whose name starts with a prefix, so that a test
/// applying for real on a shared engine never plans to remove the containers
/// of others.
#[derive(Debug)]
pub struct Scoped<'a> {
    inner: &'a dyn Runtime,
    prefix: &'a str,
}

#[async_trait::async_trait]
impl Runtime for Scoped<'_> {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    async fn ping(&self) -> Result<EngineInfo, RuntimeError> {
        self.inner.ping().await
    }

    async fn list_managed(&self) -> Result<Vec<ObservedContainer>, RuntimeError> {
        let all = self.inner.list_managed().await?;
        Ok(all
            .into_iter()
            .filter(|c| c.name.starts_with(self.prefix))
            .collect())
    }

    async fn inspect(&self, name: &str) -> Result<Option<ObservedContainer>, RuntimeError> {
        self.inner.inspect(name).await
    }

    async fn local_image(&self, image: &ImageRef) -> Result<Option<String>, RuntimeError> {
        self.inner.local_image(image).await
    }

    async fn pull(
        &self,
        image: &ImageRef,
        progress: &dyn PullProgress,
    ) -> Result<String, RuntimeError> {
        self.inner.pull(image, progress).await
    }

    async fn create(&self, spec: &ContainerSpec, labels: &Labels) -> Result<String, RuntimeError> {
        self.inner.create(spec, labels).await
    }

    async fn start(&self, name: &str) -> Result<(), RuntimeError> {
        self.inner.start(name).await
    }

    async fn stop(&self, name: &str, timeout_seconds: u32) -> Result<(), RuntimeError> {
        self.inner.stop(name, timeout_seconds).await
    }

    async fn remove(&self, name: &str) -> Result<(), RuntimeError> {
        self.inner.remove(name).await
    }

    async fn backup(&self, name: &str, stamp: &str) -> Result<String, RuntimeError> {
        self.inner.backup(name, stamp).await
    }

    async fn recreate(
        &self,
        spec: &ContainerSpec,
        labels: &Labels,
        backup_stamp: Option<&str>,
    ) -> Result<Recreated, RuntimeError> {
        self.inner.recreate(spec, labels, backup_stamp).await
    }
}

/// Where generated files go and how nginx is checked and reloaded.
#[derive(Debug, Clone)]
pub struct Target {
    /// Write under this root instead of `/` (tests, chroots).
    pub root: std::path::PathBuf,
    pub nginx: NginxSettings,
    /// For internal testing only: see only the managed containers named with this prefix.
    pub scope: Option<String>,
}

/// `reconfigure` for the web form.
#[derive(Debug)]
pub struct ReconfigureApplier {
    settings: Settings,
    target: Target,
    engine: Engine,
}

impl ReconfigureApplier {
    #[must_use]
    pub const fn new(settings: Settings, target: Target, engine: Engine) -> Self {
        Self {
            settings,
            target,
            engine,
        }
    }
}

/// The pipeline's log into the run record: the plan, then the steps.
struct RunLog<'a>(&'a LogSink);

impl Log for RunLog<'_> {
    fn line(&self, line: &str) {
        self.0.log(line);
    }

    fn plan(&self, text: &str) {
        self.0.plan(text);
    }
}

/// The saved configuration, validated, and what to run.
struct Loaded {
    desired: Vec<ContainerSpec>,
    config: values::Config,
}

fn load(settings: &Settings) -> anyhow::Result<Loaded> {
    let schema = crate::dictionary::load_dirs(
        &settings.dictionaries,
        settings.dictionaries_origin,
        settings.namespace.as_deref(),
        &settings.extra_namespaces,
    )
    .context("cannot load the dictionaries")?;
    let saved = loader::load_values(&settings.values).context("cannot read the values")?;
    let config = values::resolve(&schema, &saved.raw);
    let errors: Vec<String> = config.errors().map(ToString::to_string).collect();
    if !errors.is_empty() {
        return Err(anyhow!(
            "the saved configuration has errors, nothing was changed:\n{}",
            errors.join("\n")
        ));
    }
    let desired = containers::desired(&config).map_err(|errors| {
        anyhow!(
            "the containers are not valid, nothing was changed:\n{}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })?;
    let unsupported: Vec<String> = desired
        .iter()
        .filter(|s| s.technology != Technology::Docker)
        .map(|s| format!("`{}`", s.name))
        .collect();
    if !unsupported.is_empty() {
        return Err(anyhow!(
            "containers {} use a technology the web form cannot apply yet; nothing was changed",
            unsupported.join(", ")
        ));
    }
    Ok(Loaded { desired, config })
}

fn failure_text(failure: Failure) -> anyhow::Error {
    match failure {
        Failure::Invalid(error) | Failure::System(error) => error,
        Failure::Reported(code) => anyhow!("reconfigure stopped (exit code {code}); see the log"),
    }
}

fn stamp(now: jiff::Timestamp) -> String {
    now.strftime("%Y%m%dT%H%M%SZ").to_string()
}

impl ReconfigureApplier {
    /// The whole run, on the calling thread (the pipeline's future is not
    /// `Send`: it runs on a runtime of its own, as the command does).
    async fn run(&self, log: &LogSink) -> anyhow::Result<()> {
        // The command's run lock and recovery, as `reconfigure` takes them.
        let _lock = reconfigure::lock_and_recover(
            &self.settings,
            &self.target.root,
            "reconfigure",
            false,
            &RunLog(log),
        )
        .map_err(failure_text)?;
        let loaded = load(&self.settings)?;
        let docker;
        let runtime: &dyn Runtime = match &self.engine {
            Engine::Fake(fake) => fake.as_ref(),
            Engine::Docker => {
                let endpoint = endpoint_from(std::env::var("DOCKER_HOST").ok().as_deref());
                docker = DockerRuntime::connect(&endpoint)
                    .await
                    .with_context(|| format!("cannot reach the Docker engine at `{endpoint}`"))?;
                &docker
            }
        };
        let scoped;
        let runtime: &dyn Runtime = match &self.target.scope {
            Some(prefix) => {
                scoped = Scoped {
                    inner: runtime,
                    prefix,
                };
                &scoped
            }
            None => runtime,
        };
        let now = jiff::Timestamp::now();
        let request = |dry_run| Request {
            dry_run,
            json: false,
            options: Options::default(),
            parallel: 4,
            hooks_dir: self.settings.hooks_dir.clone(),
            values: self.settings.values.clone(),
            stamp: stamp(now),
            // The runtime itself is scoped above: it never observes the others.
            scope: None,
        };
        let mut generate = Pipeline {
            config: Box::new(loaded.config),
            settings: self.settings.clone(),
            options: gen_config::Options {
                root: self.target.root.clone(),
                dry_run: false,
                nginx: self.target.nginx.clone(),
                reload: true,
                now,
                commit: false,
            },
        };
        // The pipeline writes the plan first, then what it does.
        reconfigure::pipeline(
            &request(false),
            &loaded.desired,
            runtime,
            &mut generate,
            &RunLog(log),
        )
        .await
        .map_err(failure_text)?;
        log.log("reconfigure: done");
        Ok(())
    }
}

#[async_trait::async_trait]
impl Applier for ReconfigureApplier {
    async fn apply(&self, log: LogSink) -> anyhow::Result<()> {
        let this = Self {
            settings: self.settings.clone(),
            target: self.target.clone(),
            engine: self.engine.clone(),
        };
        tokio::task::spawn_blocking(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the apply's async runtime")?;
            runtime.block_on(this.run(&log))
        })
        .await
        .context("the apply stopped")?
    }
}
