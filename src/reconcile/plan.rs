//! The pure planner: desired specs + observed containers + image ids + the
//! operator's options → a [`Plan`] with one [`Entry`] per container (action and
//! reasons) and the [`Conflict`]s that forbid applying it. No I/O, no clock.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::containers::ContainerSpec;
use crate::runtime::host::PortInUse;
use crate::runtime::labels::spec_hash;
use crate::runtime::{ContainerState, ObservedContainer, image_reference};

/// What the operator asked for on top of the declared state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `--fresh NAME…`: recreate these non-persistent containers from their image.
    pub fresh: BTreeSet<String>,
    /// `--fresh-all`: recreate every non-persistent container.
    pub fresh_all: bool,
    /// `--recreate NAME…`: recreate these containers, saving their filesystem first.
    pub recreate: BTreeSet<String>,
}

/// What happens to one container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    Recreate,
    Start,
    Stop,
    Remove,
    Nothing,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Create => "create",
            Self::Recreate => "recreate",
            Self::Start => "start",
            Self::Stop => "stop",
            Self::Remove => "remove",
            Self::Nothing => "nothing",
        })
    }
}

/// Why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "reason")]
pub enum Reason {
    /// Declared, and no container has its name.
    NotPresent,
    /// What the container runs changed (image reference, ports, mounts, …).
    SpecHashChanged { from: String, to: String },
    /// The image reference now resolves to another image.
    ImageDigestChanged { from: String, to: String },
    /// Declared and present, but stopped (or dead).
    NotRunning { state: ContainerState },
    /// Present but no longer declared.
    NoLongerDeclared,
    /// `--fresh`/`--fresh-all`.
    FreshRequested,
    /// `--recreate`.
    RecreateRequested,
    /// Running with the declared spec and image.
    UpToDate,
    /// Ran to completion (exit status 0) with the declared spec and image,
    /// like hello-world: not restarted.
    Completed,
    /// No longer declared but persistent: kept (stopped), never removed by a plain run.
    PersistentKept,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPresent => f.write_str("not present"),
            Self::SpecHashChanged { from, to } => {
                write!(f, "spec hash changed ({} → {})", short(from), short(to))
            }
            Self::ImageDigestChanged { from, to } => {
                write!(f, "image digest changed ({} → {})", short(from), short(to))
            }
            Self::NotRunning { state } => write!(f, "not running ({state})"),
            Self::NoLongerDeclared => f.write_str("no longer declared"),
            Self::FreshRequested => f.write_str("fresh container requested"),
            Self::RecreateRequested => f.write_str("recreate requested"),
            Self::UpToDate => f.write_str("up to date"),
            Self::Completed => f.write_str("completed (exited with status 0)"),
            Self::PersistentKept => f.write_str("no longer declared, persistent: kept"),
        }
    }
}

/// A short form of a hash or image id for messages (`sha256:1234567890ab` → `1234567890ab`).
fn short(hash: &str) -> &str {
    let hash = hash.strip_prefix("sha256:").unwrap_or(hash);
    hash.get(..12).unwrap_or(hash)
}

/// One container's line of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub name: String,
    pub action: Action,
    pub reasons: Vec<Reason>,
    pub persistent: bool,
    /// Save the container's filesystem before removing it (`--recreate`).
    pub backup: bool,
    /// The image reference it will run (declared containers).
    pub image: Option<String>,
    /// Containers this one waits for.
    pub depends_on: Vec<String>,
    /// The declared spec (declared containers); not part of the printed plan.
    #[serde(skip)]
    pub spec: Option<ContainerSpec>,
}

/// Why the plan cannot be applied; nothing is changed while any remains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "conflict")]
pub enum Conflict {
    /// A container with a declared name exists without brise's labels.
    Foreign { name: String },
    /// A persistent container would have to be recreated.
    PersistentNeedsRecreate { name: String, reasons: Vec<Reason> },
    /// `--fresh` names a persistent container.
    FreshPersistent { name: String },
    /// `--fresh`/`--recreate` names no declared container.
    UnknownContainer { option: String, name: String },
    /// A declared host port is already used by something brise does not manage.
    PortInUse(PortInUse),
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Foreign { name } => write!(
                f,
                "a container named `{name}` exists but brise does not manage it (no `brise.managed` label): \
                 rename or remove it, or rename the container in the configuration"
            ),
            Self::PersistentNeedsRecreate { name, reasons } => {
                write!(
                    f,
                    "container `{name}` is persistent and must be recreated ("
                )?;
                for (i, reason) in reasons.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{reason}")?;
                }
                write!(
                    f,
                    "): a plain reconfigure never removes it; run `reconfigure --recreate {name}` \
                     to recreate it (its filesystem is saved first as a backup image)"
                )
            }
            Self::FreshPersistent { name } => write!(
                f,
                "`--fresh {name}`: container `{name}` is persistent; use `--recreate {name}` \
                 (its filesystem is saved first as a backup image)"
            ),
            Self::UnknownContainer { option, name } => {
                write!(
                    f,
                    "`{option} {name}`: no declared container is named `{name}`"
                )
            }
            Self::PortInUse(port) => write!(f, "{port}"),
        }
    }
}

/// Every container's action, and what forbids applying.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub entries: Vec<Entry>,
    pub conflicts: Vec<Conflict>,
}

impl Plan {
    /// No container needs anything done.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.iter().all(|e| e.action == Action::Nothing)
    }

    /// The entries that do something.
    pub fn changes(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.action != Action::Nothing)
    }

    /// One line: how many containers change, or that nothing does.
    #[must_use]
    pub fn summary(&self) -> String {
        let changes = self.changes().count();
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        if changes == 0 {
            let n = self.entries.len();
            format!("nothing to do: {n} container{} as declared", plural(n))
        } else {
            format!("{changes} container{} to change", plural(changes))
        }
    }

    /// The entry of container `name`.
    #[must_use]
    pub fn entry(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for conflict in &self.conflicts {
            writeln!(f, "conflict: {conflict}")?;
        }
        for entry in &self.entries {
            write!(f, "{:<10} {}", entry.action.to_string(), entry.name)?;
            let reasons: Vec<String> = entry.reasons.iter().map(ToString::to_string).collect();
            if !reasons.is_empty() {
                write!(f, ": {}", reasons.join(", "))?;
            }
            if entry.backup {
                f.write_str(" (filesystem saved first)")?;
            }
            writeln!(f)?;
        }
        if self.is_empty() {
            writeln!(f, "{}", self.summary())?;
        }
        Ok(())
    }
}

/// Decide, for every declared and every observed container, what to do.
///
/// `observed` holds the managed containers and any foreign one bearing a
/// declared name; `images` maps image references to the image id they resolve
/// to now (after a pull, or locally for a dry run; absent = unknown).
#[must_use]
pub fn plan(
    desired: &[ContainerSpec],
    observed: &[ObservedContainer],
    images: &BTreeMap<String, String>,
    options: &Options,
) -> Plan {
    let mut plan = Plan::default();
    let declared: BTreeSet<&str> = desired.iter().map(|s| s.name.as_str()).collect();
    for (option, names) in [
        ("--fresh", &options.fresh),
        ("--recreate", &options.recreate),
    ] {
        for name in names {
            if !declared.contains(name.as_str()) {
                plan.conflicts.push(Conflict::UnknownContainer {
                    option: option.to_owned(),
                    name: name.clone(),
                });
            }
        }
    }
    let by_name: BTreeMap<&str, &ObservedContainer> =
        observed.iter().map(|o| (o.name.as_str(), o)).collect();
    for spec in desired {
        let current = by_name.get(spec.name.as_str()).copied();
        plan_one(&mut plan, Some(spec), current, images, options);
    }
    for container in observed {
        if !declared.contains(container.name.as_str()) {
            plan_one(&mut plan, None, Some(container), images, options);
        }
    }
    plan
}

fn plan_one(
    plan: &mut Plan,
    spec: Option<&ContainerSpec>,
    current: Option<&ObservedContainer>,
    images: &BTreeMap<String, String>,
    options: &Options,
) {
    match (spec, current) {
        (None, None) => {}
        (Some(spec), None) => {
            plan.entries
                .push(entry(spec, Action::Create, vec![Reason::NotPresent], false))
        }
        (Some(spec), Some(current)) => match &current.labels {
            None => plan.conflicts.push(Conflict::Foreign {
                name: spec.name.clone(),
            }),
            Some(labels) => {
                let wanted = spec_hash(spec);
                let mut reasons = Vec::new();
                if labels.spec_hash != wanted {
                    reasons.push(Reason::SpecHashChanged {
                        from: labels.spec_hash.clone(),
                        to: wanted,
                    });
                }
                let running_image = current.image_id.as_ref().or(labels.image_digest.as_ref());
                if let (Some(from), Some(to)) =
                    (running_image, images.get(&image_reference(&spec.image)))
                    && from != to
                {
                    reasons.push(Reason::ImageDigestChanged {
                        from: from.clone(),
                        to: to.clone(),
                    });
                }
                if current.state == ContainerState::Dead {
                    reasons.push(Reason::NotRunning {
                        state: current.state.clone(),
                    });
                }
                let recreate_requested = options.recreate.contains(&spec.name);
                let fresh_requested = options.fresh_all || options.fresh.contains(&spec.name);
                if spec.persistent {
                    if options.fresh.contains(&spec.name) {
                        plan.conflicts.push(Conflict::FreshPersistent {
                            name: spec.name.clone(),
                        });
                    }
                    if recreate_requested {
                        reasons.push(Reason::RecreateRequested);
                        plan.entries
                            .push(entry(spec, Action::Recreate, reasons, true));
                    } else if reasons.is_empty() {
                        plan.entries.push(keep_or_start(spec, &current.state));
                    } else {
                        plan.conflicts.push(Conflict::PersistentNeedsRecreate {
                            name: spec.name.clone(),
                            reasons,
                        });
                    }
                } else {
                    if recreate_requested {
                        reasons.push(Reason::RecreateRequested);
                    } else if fresh_requested {
                        reasons.push(Reason::FreshRequested);
                    }
                    if reasons.is_empty() {
                        plan.entries.push(keep_or_start(spec, &current.state));
                    } else {
                        plan.entries.push(entry(
                            spec,
                            Action::Recreate,
                            reasons,
                            recreate_requested,
                        ));
                    }
                }
            }
        },
        (None, Some(current)) => match &current.labels {
            // Foreign and undeclared: not ours, not our business.
            None => {}
            Some(labels) => {
                let (action, reason) = if !labels.persistent {
                    (Action::Remove, Reason::NoLongerDeclared)
                } else if current.state.is_up() {
                    (Action::Stop, Reason::PersistentKept)
                } else {
                    (Action::Nothing, Reason::PersistentKept)
                };
                plan.entries.push(Entry {
                    name: current.name.clone(),
                    action,
                    reasons: vec![reason],
                    persistent: labels.persistent,
                    backup: false,
                    image: None,
                    depends_on: Vec::new(),
                    spec: None,
                });
            }
        },
    }
}

/// A declared container whose spec and image are current: start it if it is
/// stopped, unless it ran to completion.
fn keep_or_start(spec: &ContainerSpec, state: &ContainerState) -> Entry {
    let (action, reason) = match state {
        ContainerState::Running | ContainerState::Restarting | ContainerState::Paused => {
            (Action::Nothing, Reason::UpToDate)
        }
        ContainerState::Exited { code: 0 } => (Action::Nothing, Reason::Completed),
        ContainerState::Created
        | ContainerState::Exited { .. }
        | ContainerState::Dead
        | ContainerState::Stopped => (
            Action::Start,
            Reason::NotRunning {
                state: state.clone(),
            },
        ),
    };
    entry(spec, action, vec![reason], false)
}

fn entry(spec: &ContainerSpec, action: Action, reasons: Vec<Reason>, backup: bool) -> Entry {
    Entry {
        name: spec.name.clone(),
        action,
        reasons,
        persistent: spec.persistent,
        backup,
        image: Some(image_reference(&spec.image)),
        depends_on: spec.depends_on.clone(),
        spec: Some(spec.clone()),
    }
}
