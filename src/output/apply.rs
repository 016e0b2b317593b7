//! A [`Plan`] → the files on disk: the nginx gate first (nothing is written if
//! nginx refuses), then hand-edited files kept aside, changed files written
//! atomically with owner and mode, undeclared files removed, the manifest
//! saved, and each affected service reloaded once.

use std::fmt;
use std::path::{Path, PathBuf};

use super::OutputError;
use super::atomic;
use super::journal;
use super::nginx::{self, Candidate, NginxSettings, ReloadOutcome};
use super::plan::{Action, Plan, plural};
use crate::command::{self, Invocation};
use crate::render::Check;

/// How to apply a plan.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub nginx: NginxSettings,
    /// Reload the services whose files changed.
    pub reload: bool,
    /// Now, for the names of kept-aside files.
    pub now: jiff::Timestamp,
}

/// One thing that was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    Created(PathBuf),
    Updated(PathBuf),
    Attributes(PathBuf),
    Removed(PathBuf),
    /// A hand-edited file renamed aside: (path, new name).
    KeptAside(PathBuf, PathBuf),
    Reloaded(String),
    /// The service's files changed but it does not run (or `--root` is not `/`).
    NotReloaded(String, String),
}

/// What applying a plan did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub done: Vec<Done>,
    pub unchanged: usize,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for done in &self.done {
            match done {
                Done::Created(path) => writeln!(f, "created {}", path.display())?,
                Done::Updated(path) => writeln!(f, "updated {}", path.display())?,
                Done::Attributes(path) => {
                    writeln!(f, "set owner, group and mode of {}", path.display())?;
                }
                Done::Removed(path) => writeln!(f, "removed {}", path.display())?,
                Done::KeptAside(path, kept) => writeln!(
                    f,
                    "kept aside {} as {} (edited by hand since brise wrote it)",
                    path.display(),
                    kept.display()
                )?,
                Done::Reloaded(service) => writeln!(f, "reloaded {service}")?,
                Done::NotReloaded(service, why) => {
                    writeln!(f, "did not reload {service}: {why}")?;
                }
            }
        }
        if self.done.is_empty() {
            writeln!(
                f,
                "nothing to do: {} generated file{} up to date",
                self.unchanged,
                plural(self.unchanged)
            )?;
        }
        Ok(())
    }
}

/// Run the checks of the plan's candidate files (the nginx gate) without
/// writing anything.
pub fn check(plan: &Plan, nginx: &NginxSettings) -> Result<(), OutputError> {
    if !plan.touches(Check::Nginx) {
        return Ok(());
    }
    let candidates: Vec<Candidate<'_>> = plan
        .changed()
        .filter(|change| change.changes_contents() && change.check == Some(Check::Nginx))
        .map(|change| Candidate {
            live_path: &change.real_path,
            contents: change.after.as_deref(),
        })
        .collect();
    nginx::check(nginx, &plan.root, &candidates)?;
    Ok(())
}

/// Apply the plan and commit it. On any check failure nothing is written;
/// on a failure half-way every file is put back as it was.
pub fn apply(plan: &Plan, options: &ApplyOptions) -> Result<Report, OutputError> {
    let report = apply_uncommitted(plan, options)?;
    journal::commit(&plan.manifest_path)?;
    Ok(report)
}

/// [`apply`], leaving the undo journal for the caller, who commits it
/// ([`journal::commit`]) when the whole run succeeded or restores it
/// ([`journal::restore`]) when a later step failed.
pub fn apply_uncommitted(plan: &Plan, options: &ApplyOptions) -> Result<Report, OutputError> {
    check(plan, &options.nginx)?;
    let mut report = Report {
        done: Vec::new(),
        unchanged: plan.changes.len() - plan.changed().count(),
    };
    if plan.is_empty() && !plan.manifest_changed {
        return Ok(report);
    }
    let kept: Vec<(PathBuf, PathBuf)> = plan
        .changed()
        .filter(|change| change.hand_edited)
        .map(|change| {
            (
                change.real_path.clone(),
                kept_aside_name(&change.real_path, options.now),
            )
        })
        .collect();
    journal::begin(plan, &kept)?;
    match install(plan, options, &kept, &mut report) {
        Ok(()) => Ok(report),
        Err(error) => match undo(&plan.manifest_path, &plan.root, options) {
            Ok(undone) => {
                let undone = undone.unwrap_or_default();
                Err(OutputError::RolledBack {
                    source: Box::new(error),
                    files: undone.files.len(),
                    reloaded: undone.reload_problems,
                })
            }
            Err(undo) => Err(OutputError::RollbackFailed {
                source: Box::new(error),
                undo: Box::new(undo),
            }),
        },
    }
}

/// What [`undo`] put back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Undone {
    /// Real paths put back (or removed, when the install had created them).
    pub files: Vec<PathBuf>,
    /// Services reloaded after their files were put back.
    pub reloaded: Vec<String>,
    /// Reloads that failed.
    pub reload_problems: Vec<String>,
}

/// Put back the files of the install journal beside `manifest_path` (an
/// install not committed: a later step failed, or the run was killed) and
/// reload their services; `None` when no install is pending.
///
/// # Errors
/// The journal is damaged or a file cannot be put back.
pub fn undo(
    manifest_path: &Path,
    root: &Path,
    options: &ApplyOptions,
) -> Result<Option<Undone>, OutputError> {
    let Some(restored) = journal::restore(&journal::dir_of(manifest_path))? else {
        return Ok(None);
    };
    let mut undone = Undone {
        files: restored.files,
        ..Undone::default()
    };
    if options.reload {
        for service in &restored.services {
            match reload(service, root, options) {
                Ok(Done::Reloaded(service)) => undone.reloaded.push(service),
                Ok(_) => {}
                Err(error) => undone.reload_problems.push(error.to_string()),
            }
        }
    }
    Ok(Some(undone))
}

fn install(
    plan: &Plan,
    options: &ApplyOptions,
    kept: &[(PathBuf, PathBuf)],
    report: &mut Report,
) -> Result<(), OutputError> {
    for change in plan.changed() {
        if change.hand_edited {
            let aside = kept
                .iter()
                .find(|(path, _)| *path == change.real_path)
                .map_or_else(
                    || kept_aside_name(&change.real_path, options.now),
                    |(_, aside)| aside.clone(),
                );
            atomic::rename(&change.real_path, &aside)?;
            let logical = change
                .path
                .with_file_name(aside.file_name().unwrap_or_default());
            report
                .done
                .push(Done::KeptAside(change.path.clone(), logical));
        }
        match change.action {
            Action::Create | Action::Update => {
                atomic::write(
                    &change.real_path,
                    change.after.as_deref().unwrap_or_default(),
                    change.attributes,
                )?;
                report.done.push(if change.action == Action::Create {
                    Done::Created(change.path.clone())
                } else {
                    Done::Updated(change.path.clone())
                });
            }
            Action::Attributes => {
                if let Some(attributes) = change.attributes {
                    atomic::set_attributes(&change.real_path, attributes)?;
                }
                crate::crash::point("output.attributes-set");
                report.done.push(Done::Attributes(change.path.clone()));
            }
            Action::Remove => {
                if !change.hand_edited {
                    std::fs::remove_file(&change.real_path).map_err(|source| {
                        OutputError::Remove {
                            path: change.real_path.clone(),
                            source,
                        }
                    })?;
                    if let Some(parent) = change.real_path.parent() {
                        atomic::sync_dir(parent)?;
                    }
                    crate::crash::point("output.removed");
                }
                report.done.push(Done::Removed(change.path.clone()));
            }
            Action::Unchanged => {}
        }
    }
    if plan.manifest_changed {
        atomic::write(
            &plan.manifest_path,
            plan.manifest.to_json().as_bytes(),
            None,
        )?;
        crate::crash::point("output.manifest-written");
    }
    if options.reload {
        for service in plan.services_to_reload() {
            report.done.push(reload(&service, &plan.root, options)?);
            crate::crash::point("output.reloaded");
        }
    }
    Ok(())
}

fn reload(service: &str, root: &Path, options: &ApplyOptions) -> Result<Done, OutputError> {
    if service == "nginx" {
        return Ok(match nginx::reload(&options.nginx, root)? {
            ReloadOutcome::Reloaded => Done::Reloaded(service.to_owned()),
            ReloadOutcome::NotRunning => {
                Done::NotReloaded(service.to_owned(), "it is not running".to_owned())
            }
            ReloadOutcome::NoConfiguration => Done::NotReloaded(
                service.to_owned(),
                format!(
                    "no nginx configuration at `{}`",
                    options.nginx.conf.display()
                ),
            ),
        });
    }
    if root != Path::new("/") {
        return Ok(Done::NotReloaded(
            service.to_owned(),
            "files written under --root".to_owned(),
        ));
    }
    let invocation = Invocation::new("systemctl").args(["try-reload-or-restart", service]);
    command::run(&invocation).map_err(|source| OutputError::Reload {
        service: service.to_owned(),
        source,
    })?;
    Ok(Done::Reloaded(service.to_owned()))
}

/// `conteneurs2.conf` → `conteneurs2.conf.kept-20260512T103000Z` (with a
/// counter if that name is taken). Never ends in `.conf`, so an
/// `include *.conf` does not load it.
fn kept_aside_name(path: &Path, now: jiff::Timestamp) -> PathBuf {
    let stamp = now.strftime("%Y%m%dT%H%M%SZ").to_string();
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let mut candidate = path.with_file_name(format!("{name}.kept-{stamp}"));
    let mut counter = 1;
    while candidate.exists() {
        candidate = path.with_file_name(format!("{name}.kept-{stamp}-{counter}"));
        counter += 1;
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_aside_names_carry_the_time_and_never_collide() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("conteneurs2.conf");
        let now: jiff::Timestamp = "2026-05-12T10:30:00Z".parse().unwrap();
        let first = kept_aside_name(&path, now);
        assert_eq!(
            first.file_name().unwrap(),
            "conteneurs2.conf.kept-20260512T103000Z"
        );
        atomic::write(&first, b"x", None).unwrap();
        assert_eq!(
            kept_aside_name(&path, now).file_name().unwrap(),
            "conteneurs2.conf.kept-20260512T103000Z-1"
        );
    }

    #[test]
    fn report_says_nothing_to_do_when_nothing_was_done() {
        let report = Report {
            done: vec![],
            unchanged: 1,
        };
        assert_eq!(
            report.to_string(),
            "nothing to do: 1 generated file up to date\n"
        );
    }
}
