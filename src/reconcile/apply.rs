//! Carry a [`Plan`] out through a [`Runtime`]: removals and stops first, then
//! creations, recreations and starts, in parallel (bounded) and in
//! `depends_on` order. A failing container is named with its step; the others
//! go on; the containers that depend on it are skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;

use futures_util::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;

use super::plan::{Action, Conflict, Entry, Plan};
use crate::runtime::{Labels, Runtime, RuntimeError, Step, host, image_reference};

/// Stop timeout given to containers that are no longer declared.
const DEFAULT_STOP_TIMEOUT: u32 = 10;

/// How to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyOptions {
    /// How many containers are converged at once (at least 1).
    pub parallel: usize,
    /// UTC time stamp naming backups (`20261122T153000Z`), read by the caller.
    pub backup_stamp: String,
}

/// Receives progress (the terminal, a log, the web form's stream).
pub trait Reporter: Send + Sync {
    fn started(&self, _entry: &Entry) {}
    fn finished(&self, _outcome: &Outcome) {}
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Reporter for Silent {}

/// What became of one container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum Status {
    Done {
        /// The backup kept before a recreate.
        backup: Option<String>,
    },
    Failed {
        step: Step,
        error: String,
    },
    /// Not attempted because a container it depends on failed.
    Skipped {
        because: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub name: String,
    pub action: Action,
    #[serde(flatten)]
    pub status: Status,
}

/// Every container's outcome, in the order they finished.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub outcomes: Vec<Outcome>,
}

impl Report {
    #[must_use]
    pub fn is_success(&self) -> bool {
        self.outcomes
            .iter()
            .all(|o| matches!(o.status, Status::Done { .. }))
    }

    /// The outcomes that are not done.
    pub fn failures(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes
            .iter()
            .filter(|o| !matches!(o.status, Status::Done { .. }))
    }

    /// The outcome of container `name`.
    #[must_use]
    pub fn outcome(&self, name: &str) -> Option<&Outcome> {
        self.outcomes.iter().find(|o| o.name == name)
    }
}

/// The plan has conflicts: nothing was applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", conflicts_text(.0))]
pub struct Refused(pub Vec<Conflict>);

fn conflicts_text(conflicts: &[Conflict]) -> String {
    conflicts
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

type Running<'a> = FuturesUnordered<Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>>;

/// Apply `plan`. `images` maps image references to the ids just pulled
/// (recorded in the labels of created containers).
///
/// # Errors
/// [`Refused`] when the plan has conflicts; then nothing is done.
pub async fn apply(
    plan: &Plan,
    runtime: &dyn Runtime,
    images: &BTreeMap<String, String>,
    options: &ApplyOptions,
    reporter: &dyn Reporter,
) -> Result<Report, Refused> {
    if !plan.conflicts.is_empty() {
        return Err(Refused(plan.conflicts.clone()));
    }
    let parallel = options.parallel.max(1);
    let mut report = Report::default();
    let context = Context {
        runtime,
        images,
        options,
        reporter,
    };

    // Phase 1: what goes away (frees names and host ports for phase 2).
    let mut leaving = futures_util::stream::iter(
        plan.changes()
            .filter(|e| matches!(e.action, Action::Stop | Action::Remove)),
    )
    .map(|entry| context.execute(entry))
    .buffer_unordered(parallel);
    while let Some(outcome) = leaving.next().await {
        report.outcomes.push(outcome);
    }
    drop(leaving);

    // Phase 2: what comes (or comes back), dependencies first.
    let mut pending: Vec<&Entry> = plan
        .changes()
        .filter(|e| matches!(e.action, Action::Create | Action::Recreate | Action::Start))
        .collect();
    let in_phase: BTreeSet<&str> = pending.iter().map(|e| e.name.as_str()).collect();
    let mut finished: BTreeMap<String, bool> = BTreeMap::new();
    let mut running: Running<'_> = FuturesUnordered::new();
    loop {
        // Launch what is ready, skip what cannot run; repeat while that changes anything.
        let mut progressed = true;
        while progressed {
            progressed = false;
            let mut index = 0;
            while index < pending.len() {
                let entry = pending[index];
                let deps: Vec<&str> = entry
                    .depends_on
                    .iter()
                    .map(String::as_str)
                    .filter(|d| in_phase.contains(d))
                    .collect();
                if let Some(failed) = deps.iter().find(|d| finished.get(**d) == Some(&false)) {
                    let outcome = Outcome {
                        name: entry.name.clone(),
                        action: entry.action,
                        status: Status::Skipped {
                            because: format!("container `{failed}` it depends on failed"),
                        },
                    };
                    reporter.finished(&outcome);
                    finished.insert(entry.name.clone(), false);
                    report.outcomes.push(outcome);
                    pending.remove(index);
                    progressed = true;
                } else if running.len() < parallel
                    && deps.iter().all(|d| finished.get(*d) == Some(&true))
                {
                    running.push(Box::pin(context.execute(entry)));
                    pending.remove(index);
                    progressed = true;
                } else {
                    index += 1;
                }
            }
        }
        if let Some(outcome) = running.next().await {
            finished.insert(
                outcome.name.clone(),
                matches!(outcome.status, Status::Done { .. }),
            );
            report.outcomes.push(outcome);
        } else {
            // Nothing runs and nothing could start: what remains waits on itself.
            for entry in pending.drain(..) {
                let outcome = Outcome {
                    name: entry.name.clone(),
                    action: entry.action,
                    status: Status::Skipped {
                        because: "its dependencies form a cycle".to_owned(),
                    },
                };
                reporter.finished(&outcome);
                report.outcomes.push(outcome);
            }
            break;
        }
    }
    Ok(report)
}

/// What every container task borrows.
#[derive(Clone, Copy)]
struct Context<'a> {
    runtime: &'a dyn Runtime,
    images: &'a BTreeMap<String, String>,
    options: &'a ApplyOptions,
    reporter: &'a dyn Reporter,
}

impl Context<'_> {
    async fn execute(self, entry: &Entry) -> Outcome {
        self.reporter.started(entry);
        let status = match self.step(entry).await {
            Ok(backup) => Status::Done { backup },
            Err(error) => {
                let step = match &error {
                    RuntimeError::Container { step, .. } => *step,
                    RuntimeError::Pull { .. } => Step::Pull,
                    RuntimeError::EngineUnreachable { .. }
                    | RuntimeError::List { .. }
                    | RuntimeError::Foreign { .. } => step_of(entry.action),
                };
                Status::Failed {
                    step,
                    error: error.to_string(),
                }
            }
        };
        let outcome = Outcome {
            name: entry.name.clone(),
            action: entry.action,
            status,
        };
        self.reporter.finished(&outcome);
        outcome
    }

    /// Run one entry; the backup kept, if any.
    async fn step(self, entry: &Entry) -> Result<Option<String>, RuntimeError> {
        let runtime = self.runtime;
        match (entry.action, &entry.spec) {
            (Action::Nothing, _) => Ok(None),
            (Action::Stop, spec) => {
                let timeout = spec
                    .as_ref()
                    .map_or(DEFAULT_STOP_TIMEOUT, |s| s.stop_timeout);
                runtime.stop(&entry.name, timeout).await?;
                Ok(None)
            }
            (Action::Remove, spec) => {
                let timeout = spec
                    .as_ref()
                    .map_or(DEFAULT_STOP_TIMEOUT, |s| s.stop_timeout);
                runtime.stop(&entry.name, timeout).await?;
                runtime.remove(&entry.name).await?;
                Ok(None)
            }
            (Action::Start, _) => {
                runtime.start(&entry.name).await?;
                Ok(None)
            }
            (Action::Create | Action::Recreate, None) => Err(RuntimeError::container(
                &entry.name,
                step_of(entry.action),
                "the plan has no declared spec for it",
            )),
            (Action::Create, Some(spec)) => {
                host::ensure_mount_dirs(spec)
                    .map_err(|e| RuntimeError::container(&spec.name, Step::PrepareHost, e))?;
                let labels = self.labels(spec);
                runtime.create(spec, &labels).await?;
                runtime.start(&spec.name).await?;
                Ok(None)
            }
            (Action::Recreate, Some(spec)) => {
                host::ensure_mount_dirs(spec)
                    .map_err(|e| RuntimeError::container(&spec.name, Step::PrepareHost, e))?;
                let labels = self.labels(spec);
                let stamp = entry.backup.then_some(self.options.backup_stamp.as_str());
                let recreated = runtime.recreate(spec, &labels, stamp).await?;
                Ok(recreated.backup)
            }
        }
    }

    fn labels(self, spec: &crate::containers::ContainerSpec) -> Labels {
        let digest = self.images.get(&image_reference(&spec.image));
        Labels::for_spec(spec, digest.map(String::as_str))
    }
}

fn step_of(action: Action) -> Step {
    match action {
        Action::Create => Step::Create,
        Action::Recreate => Step::Create,
        Action::Start | Action::Nothing => Step::Start,
        Action::Stop => Step::Stop,
        Action::Remove => Step::Remove,
    }
}
