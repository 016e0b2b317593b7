//! `brise reconfigure`, in EOLE's order: lock → load and validate → plan the
//! containers (observe, host ports, every pull) → `preservice` hooks →
//! `pretemplate` → gen_config → `posttemplate` → converge the containers →
//! `postservice` → record `values.applied.yml`. Nothing changes before every
//! check passed; a failure names its step and keeps the previous record.
//! [`pipeline`] is the part after loading, with the engine and gen_config as
//! parameters so that tests drive it with a fake engine.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, anyhow};
use serde::Serialize;

use super::gen_config;
use crate::app::{Failure, Settings};
use crate::applied;
use crate::cli::{EngineArg, ReconfigureArgs};
use crate::containers::{self, ContainerSpec, Engine};
use crate::hooks::{self, Phase};
use crate::reconcile::{
    self, ApplyOptions, Entry, Images, Options, Outcome, Plan, PrepareError, Reporter, Status,
};
use crate::runtime::engines::Engines;
use crate::runtime::swarm::{self, PublishMode, SwarmOptions};
use crate::runtime::{PullEvent, PullProgress, Runtime, host, labels, lxc};

/// What the operator asked for.
#[derive(Debug, Clone)]
pub struct Request {
    pub dry_run: bool,
    pub json: bool,
    pub options: Options,
    pub parallel: usize,
    /// Root of the hook directories (`<dir>/<phase>.d`).
    pub hooks_dir: PathBuf,
    /// The values file (recorded as applied on success).
    pub values: PathBuf,
    /// UTC time stamp naming backups (`20261122T153000Z`).
    pub stamp: String,
    /// Only the containers whose name starts with this (internal testing).
    pub scope: Option<String>,
}

impl Request {
    #[must_use]
    pub fn from_args(settings: &Settings, args: &ReconfigureArgs, stamp: String) -> Self {
        Self {
            dry_run: args.dry_run,
            json: args.json,
            options: Options {
                fresh: args.fresh.iter().cloned().collect(),
                fresh_all: args.fresh_all,
                recreate: args.recreate.iter().cloned().collect(),
            },
            parallel: args.parallel.max(1),
            hooks_dir: settings.hooks_dir.clone(),
            values: settings.values.clone(),
            stamp,
            scope: args.scope.clone(),
        }
    }
}

/// gen_config as the pipeline sees it: render and install (or, on a dry run,
/// only plan) the files; a printable summary of what changed.
pub trait Generate: Send {
    /// # Errors
    /// The files are invalid or cannot be installed.
    fn generate(&mut self, dry_run: bool) -> Result<String, Failure>;

    /// The whole run succeeded: forget how to put the files back.
    ///
    /// # Errors
    /// The undo journal cannot be removed.
    fn commit(&mut self) -> Result<(), Failure> {
        Ok(())
    }

    /// A step after the install failed: put back the files as they were
    /// before it (and reload their services); `None` when nothing was pending.
    ///
    /// # Errors
    /// A file cannot be put back.
    fn undo(&mut self) -> Result<Option<crate::output::Undone>, Failure> {
        Ok(None)
    }
}

/// Where the pipeline writes what it does (the terminal, the web form's log).
pub trait Log: Send + Sync {
    /// One line of what is being done.
    fn line(&self, line: &str);

    /// A message about the run rather than its work (waiting for the lock).
    fn note(&self, line: &str) {
        self.line(line);
    }

    /// The plan (what will change and why), before anything changes.
    fn plan(&self, text: &str) {
        for line in text.lines() {
            self.line(line);
        }
    }
}

/// Standard output.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stdout;

impl Log for Stdout {
    fn line(&self, line: &str) {
        #[allow(clippy::print_stdout)]
        {
            println!("{line}");
        }
    }

    fn note(&self, line: &str) {
        super::locking::to_stderr(line);
    }
}

/// The JSON printed by `--dry-run --json`.
#[derive(Debug, Serialize)]
struct DryRun<'a> {
    files: &'a str,
    containers: &'a Plan,
}

/// Everything after loading: plan, hooks, gen_config, converge, record.
///
/// # Errors
/// The first failing step, with its name; containers that converged stay so.
pub async fn pipeline(
    request: &Request,
    desired: &[ContainerSpec],
    runtime: &dyn Runtime,
    generate: &mut dyn Generate,
    log: &dyn Log,
) -> Result<(), Failure> {
    let images = if request.dry_run {
        Images::LocalOnly
    } else {
        Images::Pull
    };
    let progress = TerminalProgress::new(log);
    let prepared = reconcile::prepare(
        runtime,
        desired,
        &request.options,
        images,
        request.parallel,
        &progress,
    )
    .await
    .map(|mut prepared| {
        if let Some(prefix) = &request.scope {
            prepared.plan.entries.retain(|e| e.name.starts_with(prefix));
        }
        prepared
    })
    .map_err(|error| match error {
        PrepareError::Observe(error) => Failure::system(error),
        PrepareError::Pull(_) => Failure::system(anyhow!("{error}\nno container was changed")),
    })?;
    progress.finish();

    if request.dry_run {
        let files = generate.generate(true)?;
        if request.json {
            let json = serde_json::to_string_pretty(&DryRun {
                files: &files,
                containers: &prepared.plan,
            })
            .context("cannot print the plan as JSON")
            .map_err(Failure::system)?;
            log.line(&json);
        } else {
            if !files.trim().is_empty() {
                log.line(files.trim_end());
            }
            log.line(prepared.plan.to_string().trim_end());
        }
        return if prepared.plan.conflicts.is_empty() {
            Ok(())
        } else {
            Err(Failure::Reported(1))
        };
    }

    if !prepared.plan.conflicts.is_empty() {
        return Err(Failure::invalid(anyhow!(
            "{}\nnothing was changed",
            refusal_text(&prepared.plan)
        )));
    }

    let changes = changes_text(&prepared.plan);
    if !changes.is_empty() {
        log.plan(&changes);
    }

    run_hooks(&request.hooks_dir, Phase::Preservice, log)?;
    run_hooks(&request.hooks_dir, Phase::Pretemplate, log)?;
    let files = generate.generate(false)?;
    if !files.trim().is_empty() {
        log.line(files.trim_end());
    }
    crate::crash::point("reconfigure.files-installed");
    match converge(request, desired, runtime, &prepared, log).await {
        Ok(()) => {
            generate.commit()?;
            crate::crash::point("reconfigure.files-committed");
            applied::record(&request.values).map_err(Failure::system)?;
            crate::crash::point("reconfigure.applied-recorded");
            Ok(())
        }
        Err(failure) => {
            report_undo(generate.undo(), log);
            Err(failure)
        }
    }
}

/// Say what putting the files back did after a failed step.
fn report_undo(undone: Result<Option<crate::output::Undone>, Failure>, log: &dyn Log) {
    match undone {
        Ok(None) => {}
        Ok(Some(undone)) => {
            let mut line = format!(
                "the generated files of the last successful run were put back ({} file(s)",
                undone.files.len()
            );
            if !undone.reloaded.is_empty() {
                line.push_str(&format!("; reloaded {}", undone.reloaded.join(", ")));
            }
            line.push(')');
            log.line(&line);
            for problem in &undone.reload_problems {
                log.line(&format!("warning: {problem}"));
            }
            log.line(
                "containers already changed by this run stay as they are; \
                 `brise rollback` re-applies the last configuration that applied",
            );
        }
        Err(Failure::Invalid(error) | Failure::System(error)) => {
            log.line(&format!(
                "putting the generated files back FAILED too: {error:#}"
            ));
        }
        Err(Failure::Reported(_)) => {}
    }
}

/// After the files are installed: hooks around the containers' convergence.
async fn converge(
    request: &Request,
    desired: &[ContainerSpec],
    runtime: &dyn Runtime,
    prepared: &reconcile::Prepared,
    log: &dyn Log,
) -> Result<(), Failure> {
    run_hooks(&request.hooks_dir, Phase::Posttemplate, log)?;

    if host::needs_forwarding(desired) && prepared.plan.changes().next().is_some() {
        match host::enable_ip_forward(Path::new(host::IP_FORWARD)) {
            Ok(true) => log.line("enabled net.ipv4.ip_forward"),
            Ok(false) => {}
            Err(error) => return Err(Failure::system(error)),
        }
    }

    let reporter = LogReporter { log };
    let report = reconcile::apply(
        &prepared.plan,
        runtime,
        &prepared.images,
        &ApplyOptions {
            parallel: request.parallel,
            backup_stamp: request.stamp.clone(),
        },
        &reporter,
    )
    .await
    .map_err(Failure::invalid)?;
    if prepared.plan.is_empty() {
        log.line(&prepared.plan.summary());
    }
    if !report.is_success() {
        let failed: Vec<String> = report.failures().map(|o| format!("`{}`", o.name)).collect();
        log.line(&format!(
            "reconfigure failed for {}; the values were not recorded as applied",
            failed.join(", ")
        ));
        return Err(Failure::Reported(2));
    }

    run_hooks(&request.hooks_dir, Phase::Postservice, log)?;
    Ok(())
}

/// The plan's lines that change something.
fn changes_text(plan: &Plan) -> String {
    let mut text = String::new();
    for line in plan.to_string().lines() {
        if !line.starts_with("nothing") {
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}

fn refusal_text(plan: &Plan) -> String {
    plan.conflicts
        .iter()
        .map(|c| format!("error: {c}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn run_hooks(root: &Path, phase: Phase, log: &dyn Log) -> Result<(), Failure> {
    let ran = hooks::run(root, phase).map_err(Failure::system)?;
    for hook in ran {
        log.line(&format!("{phase} hook {} done", hook.display()));
    }
    Ok(())
}

/// Prints every container's outcome as it finishes.
struct LogReporter<'a> {
    log: &'a dyn Log,
}

impl Reporter for LogReporter<'_> {
    fn started(&self, _entry: &Entry) {}

    fn finished(&self, outcome: &Outcome) {
        let line = match &outcome.status {
            Status::Done { backup: None } => {
                format!("{:<10} {}: done", outcome.action.to_string(), outcome.name)
            }
            Status::Done {
                backup: Some(backup),
            } => format!(
                "{:<10} {}: done (filesystem saved as `{backup}`)",
                outcome.action.to_string(),
                outcome.name
            ),
            Status::Failed { error, .. } => {
                format!(
                    "{:<10} {}: FAILED: {error}",
                    outcome.action.to_string(),
                    outcome.name
                )
            }
            Status::Skipped { because } => format!(
                "{:<10} {}: skipped: {because}",
                outcome.action.to_string(),
                outcome.name
            ),
        };
        self.log.line(&line);
    }
}

/// One spinner per image being pulled.
type Bars = Vec<(String, indicatif::ProgressBar)>;

/// Pull progress: a bar per image on a terminal, one line per pulled image otherwise.
struct TerminalProgress<'a> {
    log: &'a dyn Log,
    bars: Option<(indicatif::MultiProgress, Mutex<Bars>)>,
}

impl<'a> TerminalProgress<'a> {
    fn new(log: &'a dyn Log) -> Self {
        let bars = std::io::stderr()
            .is_terminal()
            .then(|| (indicatif::MultiProgress::new(), Mutex::new(Vec::new())));
        Self { log, bars }
    }

    fn finish(&self) {
        if let Some((_, bars)) = &self.bars {
            let bars = bars
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (_, bar) in bars.iter() {
                bar.finish();
            }
        }
    }
}

impl PullProgress for TerminalProgress<'_> {
    fn pull_event(&self, event: &PullEvent) {
        match &self.bars {
            Some((multi, bars)) => {
                let mut bars = bars
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let bar = if let Some((_, bar)) =
                    bars.iter().find(|(image, _)| *image == event.image)
                {
                    bar.clone()
                } else {
                    let bar = multi.add(indicatif::ProgressBar::new_spinner());
                    bar.set_prefix(format!("pull {}", event.image));
                    if let Ok(style) = indicatif::ProgressStyle::with_template("{prefix}: {msg}") {
                        bar.set_style(style);
                    }
                    bars.push((event.image.clone(), bar.clone()));
                    bar
                };
                let message = match (&event.layer, event.current, event.total) {
                    (Some(layer), Some(current), Some(total)) if total > 0 => {
                        format!("{layer} {} {}%", event.status, current * 100 / total)
                    }
                    (Some(layer), _, _) => format!("{layer} {}", event.status),
                    (None, _, _) => event.status.clone(),
                };
                bar.set_message(message);
            }
            None => {
                if event.status.starts_with("Status:") {
                    self.log.line(&format!(
                        "pull {}: {}",
                        event.image,
                        event.status.trim_start_matches("Status: ")
                    ));
                }
            }
        }
    }
}

/// The validated configuration: the declared containers and gen_config.
struct Loaded {
    desired: Vec<ContainerSpec>,
    generate: Box<dyn Generate>,
    /// Where the Docker containers run (`containers::engine`).
    engine: Engine,
    /// How Swarm publishes ports (`swarm::publish_mode`).
    swarm_publish_mode: PublishMode,
}

impl From<EngineArg> for Engine {
    fn from(engine: EngineArg) -> Self {
        match engine {
            EngineArg::Docker => Self::Docker,
            EngineArg::Swarm => Self::Swarm,
        }
    }
}

/// The Swarm services of the declared Docker containers: Swarm's errors
/// (service names) stop the run before anything changes; its warnings
/// (loopback publishing, node-local data, host-mode replicas) are printed.
///
/// # Errors
/// [`Failure::Invalid`] listing every container Swarm cannot run.
pub fn swarm_services(
    desired: &[ContainerSpec],
    options: &SwarmOptions,
    log: &dyn Log,
) -> Result<Vec<ContainerSpec>, Failure> {
    let checked = swarm::check(desired, options);
    for warning in &checked.warnings {
        log.line(&format!("warning: {warning}"));
    }
    if checked.errors.is_empty() {
        Ok(swarm::services(desired))
    } else {
        Err(Failure::invalid(anyhow!(
            "{}\nnothing was changed",
            checked
                .errors
                .iter()
                .map(|error| format!("error: {error}"))
                .collect::<Vec<_>>()
                .join("\n")
        )))
    }
}

/// Load dictionaries and values, validate them and the containers, and hash
/// the rendered files each container mounts. Every problem is printed.
fn load(settings: &Settings, root: &Path) -> Result<Loaded, Failure> {
    // Validation as `check` and `gen_config` do it: every problem printed.
    let config = gen_config::load_configuration(settings)?;
    let mut problems = Vec::new();
    let mut desired = containers::desired(&config).unwrap_or_else(|errors| {
        problems.extend(errors);
        Vec::new()
    });
    let engine = containers::engine(&config).unwrap_or_else(|error| {
        problems.push(error);
        Engine::Docker
    });
    let swarm_publish_mode = swarm::publish_mode(&config).unwrap_or_else(|error| {
        problems.push(error);
        PublishMode::default()
    });
    if !problems.is_empty() {
        for problem in &problems {
            eprintln_line(&format!("error: {problem}"));
        }
        eprintln_line("brise: the containers are invalid, nothing was changed");
        return Err(Failure::Reported(1));
    }
    let rendered = render_all(settings, &config)?;
    let files: Vec<(&Path, &[u8])> = rendered
        .files
        .iter()
        .map(|f| (f.path.as_path(), f.contents.as_bytes()))
        .collect();
    for spec in &mut desired {
        spec.rendered_hash = labels::rendered_hash(spec, &files);
    }
    let options = file_options(root);
    Ok(Loaded {
        desired,
        generate: Box::new(gen_config::Pipeline {
            config: Box::new(config),
            settings: settings.clone(),
            options,
        }),
        engine,
        swarm_publish_mode,
    })
}

/// How reconfigure installs the generated files.
fn file_options(root: &Path) -> gen_config::Options {
    gen_config::Options {
        root: root.to_owned(),
        dry_run: false,
        nginx: crate::output::NginxSettings {
            binary: std::env::var_os("BRISE_NGINX")
                .map_or_else(|| PathBuf::from("nginx"), PathBuf::from),
            conf: PathBuf::from("/etc/nginx/nginx.conf"),
        },
        reload: true,
        now: jiff::Timestamp::now(),
        commit: false,
    }
}

/// Take the run lock for `command` (unless `dry_run`) and undo what a killed
/// run left half-installed; the lock, held until the run ends.
///
/// # Errors
/// As [`super::locking::hold`] and [`super::locking::recover`].
pub fn lock_and_recover(
    settings: &Settings,
    root: &Path,
    command: &str,
    dry_run: bool,
    log: &dyn Log,
) -> Result<Option<crate::lock::RunLock>, Failure> {
    if dry_run {
        return Ok(None);
    }
    let say = |line: &str| log.note(line);
    let state_dir = super::locking::state_dir(settings, root);
    let lock = super::locking::hold(settings, &state_dir, command, &say)?;
    super::locking::recover(
        settings,
        root,
        &file_options(root).apply_options(),
        &|line: &str| log.line(line),
    )?;
    Ok(Some(lock))
}

/// Render every template in memory (gen_config renders again to install).
fn render_all(
    settings: &Settings,
    config: &dyn crate::render::Configuration,
) -> Result<crate::render::Rendered, Failure> {
    let invalid = |diagnostics: crate::diagnostic::Diagnostics| {
        super::loading::print_diagnostics(&diagnostics);
        Failure::Reported(1)
    };
    let templates = crate::render::load(
        &settings.templates,
        settings.templates_origin == crate::app::Origin::Default,
    )
    .map_err(|error| match error {
        crate::render::LoadError::Invalid(diagnostics) => invalid(diagnostics),
        e @ (crate::render::LoadError::NotUtf8 { .. }
        | crate::render::LoadError::TooLarge { .. }) => Failure::invalid(e),
        other => Failure::system(other),
    })?;
    let renderer = crate::render::Renderer::new(&templates).map_err(invalid)?;
    renderer.render(config).map_err(invalid)
}

fn eprintln_line(line: &str) {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("{line}");
    }
}

/// Refuse, before anything changes, what an engine cannot run as declared.
fn check_engines(desired: &[ContainerSpec]) -> Result<(), Failure> {
    let problems = lxc::check_specs(desired);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::invalid(anyhow!(
            "{}\nnothing was changed",
            problems.join("\n")
        )))
    }
}

/// The current UTC time as a backup stamp.
fn stamp_now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string()
}

/// A whole run on the real engines: load, validate, then [`pipeline`].
///
/// # Errors
/// As [`pipeline`], plus invalid configuration and unreachable engines.
pub async fn reconfigure(
    settings: &Settings,
    args: &ReconfigureArgs,
    log: &dyn Log,
) -> Result<(), Failure> {
    let _lock = lock_and_recover(settings, &args.root, "reconfigure", args.dry_run, log)?;
    reconfigure_locked(settings, args, log).await
}

/// [`reconfigure`] with the run lock already held (`rollback`).
///
/// # Errors
/// As [`reconfigure`].
pub async fn reconfigure_locked(
    settings: &Settings,
    args: &ReconfigureArgs,
    log: &dyn Log,
) -> Result<(), Failure> {
    let loaded = load(settings, &args.root)?;
    let engine = args.engine.map_or(loaded.engine, Engine::from);
    let swarm_options = SwarmOptions {
        publish_mode: loaded.swarm_publish_mode,
        ..SwarmOptions::default()
    };
    let desired = match engine {
        Engine::Docker => loaded.desired,
        Engine::Swarm => swarm_services(&loaded.desired, &swarm_options, log)?,
    };
    check_engines(&desired)?;
    let request = Request::from_args(settings, args, stamp_now());
    let mut generate = loaded.generate;
    let engines = match engine {
        Engine::Docker => Engines::connect(&desired).await,
        Engine::Swarm => Engines::connect_swarm(&desired, swarm_options).await,
    }
    .map_err(Failure::system)?;
    let routed = engines.routed(&desired);
    pipeline(&request, &desired, &routed, generate.as_mut(), log).await
}

pub fn run(settings: &Settings, args: &ReconfigureArgs) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .map_err(Failure::system)?;
    runtime.block_on(reconfigure(settings, args, &Stdout))
}

/// The web form's "apply": a plain `reconfigure` of the saved values, its
/// plan and log streamed to the page.
#[derive(Debug, Clone)]
pub struct WebApplier {
    settings: Settings,
}

impl WebApplier {
    #[must_use]
    pub fn new(settings: Settings) -> Self {
        Self { settings }
    }
}

/// [`Log`] into the web form's run record.
struct SinkLog(crate::web::apply::LogSink);

impl Log for SinkLog {
    fn line(&self, line: &str) {
        self.0.log(line);
    }

    fn plan(&self, text: &str) {
        self.0.plan(text);
    }
}

#[async_trait::async_trait]
impl crate::web::apply::Applier for WebApplier {
    async fn apply(&self, log: crate::web::apply::LogSink) -> anyhow::Result<()> {
        let args = ReconfigureArgs {
            root: PathBuf::from("/"),
            dry_run: false,
            json: false,
            fresh: Vec::new(),
            fresh_all: false,
            recreate: Vec::new(),
            parallel: 4,
            engine: None,
            scope: None,
        };
        let settings = self.settings.clone();
        // On its own thread and runtime: the run blocks on files, hooks and
        // nginx, and the web server's workers must stay free.
        let outcome = tokio::task::spawn_blocking(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")
                .map_err(Failure::system)?;
            runtime.block_on(reconfigure(&settings, &args, &SinkLog(log)))
        })
        .await
        .context("the reconfigure task stopped")?;
        match outcome {
            Ok(()) => Ok(()),
            Err(Failure::Invalid(error) | Failure::System(error)) => Err(error),
            Err(Failure::Reported(code)) => Err(anyhow!(
                "reconfigure failed (exit status {code}); see the log above"
            )),
        }
    }
}
