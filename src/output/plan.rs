//! Rendered files + what is on disk + the manifest → a [`Plan`]: for every
//! file, create, update, fix owner/mode, leave alone or remove, and whether it
//! was edited by hand since brise last wrote it (then it is kept aside, never
//! silently lost). Reads the disk, writes nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::OutputError;
use super::atomic::FileAttributes;
use super::manifest::{self, Manifest, ManifestEntry};
use crate::render::{Check, Rendered};

/// What happens to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Not on disk yet.
    Create,
    /// On disk with other bytes.
    Update,
    /// Same bytes, other owner, group or mode.
    Attributes,
    /// Same bytes and attributes: not touched (its mtime is kept).
    Unchanged,
    /// Generated before, no longer declared.
    Remove,
}

/// One file of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Path on the server (without `--root`).
    pub path: PathBuf,
    /// Path written (under `--root`).
    pub real_path: PathBuf,
    pub action: Action,
    /// The bytes on disk now, if any.
    pub before: Option<Vec<u8>>,
    /// The bytes to install (none for a removal).
    pub after: Option<Vec<u8>>,
    /// Owner, group and mode to install (none for a removal).
    pub attributes: Option<FileAttributes>,
    /// The file on disk differs from what brise last wrote (or brise never
    /// wrote it): it is renamed aside before being replaced or removed.
    pub hand_edited: bool,
    pub check: Option<Check>,
    pub reload: Option<String>,
    pub template: String,
}

impl FileChange {
    /// Does this change touch the file on disk?
    #[must_use]
    pub fn changes_contents(&self) -> bool {
        matches!(
            self.action,
            Action::Create | Action::Update | Action::Remove
        )
    }
}

/// Everything `gen_config` would do to the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub root: PathBuf,
    /// The manifest file (under `--root`).
    pub manifest_path: PathBuf,
    /// The manifest once the plan is applied.
    pub manifest: Manifest,
    /// Whether the manifest on disk differs from [`Plan::manifest`].
    pub manifest_changed: bool,
    /// One entry per declared file and per file to remove, by path.
    pub changes: Vec<FileChange>,
}

/// `path` (absolute on the server) under `root`.
#[must_use]
pub fn under_root(root: &Path, path: &Path) -> PathBuf {
    root.join(path.strip_prefix("/").unwrap_or(path))
}

/// Compare the rendered files with the disk and the manifest.
pub fn plan(rendered: &Rendered, root: &Path, state_dir: &Path) -> Result<Plan, OutputError> {
    let manifest_path = under_root(root, &state_dir.join(manifest::FILE_NAME));
    let previous = Manifest::load(&manifest_path)?;
    let mut accounts = Accounts::default();
    let mut changes = Vec::new();
    let mut next = Manifest::default();
    for file in &rendered.files {
        let real_path = under_root(root, &file.path);
        let attributes = FileAttributes {
            uid: accounts.uid(&file.owner, &file.path)?,
            gid: accounts.gid(&file.group, &file.path)?,
            mode: file.mode,
        };
        let after = file.contents.as_bytes();
        let on_disk = read_existing(&real_path)?;
        let (action, hand_edited) = match &on_disk {
            None => (Action::Create, false),
            Some((bytes, current)) if bytes.as_slice() == after => {
                if *current == attributes {
                    (Action::Unchanged, false)
                } else {
                    (Action::Attributes, false)
                }
            }
            Some((bytes, _)) => {
                let written_by_brise = previous
                    .files
                    .get(&file.path)
                    .is_some_and(|entry| entry.sha256 == manifest::checksum(bytes));
                (Action::Update, !written_by_brise)
            }
        };
        next.files.insert(
            file.path.clone(),
            ManifestEntry {
                sha256: manifest::checksum(after),
                template: file.template.clone(),
                check: file.check,
                reload: file.reload.clone(),
            },
        );
        changes.push(FileChange {
            path: file.path.clone(),
            real_path,
            action,
            before: on_disk.map(|(bytes, _)| bytes),
            after: Some(after.to_vec()),
            attributes: Some(attributes),
            hand_edited,
            check: file.check,
            reload: file.reload.clone(),
            template: file.template.clone(),
        });
    }
    for (path, entry) in &previous.files {
        if next.files.contains_key(path) {
            continue;
        }
        let real_path = under_root(root, path);
        // Already gone: only the manifest forgets it.
        let Some((bytes, _)) = read_existing(&real_path)? else {
            continue;
        };
        changes.push(FileChange {
            path: path.clone(),
            real_path,
            action: Action::Remove,
            hand_edited: manifest::checksum(&bytes) != entry.sha256,
            before: Some(bytes),
            after: None,
            attributes: None,
            check: entry.check,
            reload: entry.reload.clone(),
            template: entry.template.clone(),
        });
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Plan {
        root: root.to_owned(),
        manifest_path,
        manifest_changed: next != previous,
        manifest: next,
        changes,
    })
}

/// The bytes and attributes of a file, `None` when absent.
fn read_existing(path: &Path) -> Result<Option<(Vec<u8>, FileAttributes)>, OutputError> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(OutputError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    if !metadata.is_file() {
        return Err(OutputError::NotAFile {
            path: path.to_owned(),
        });
    }
    let bytes = std::fs::read(path).map_err(|source| OutputError::Read {
        path: path.to_owned(),
        source,
    })?;
    Ok(Some((bytes, FileAttributes::of(&metadata))))
}

/// User and group names resolved once each (numeric ids accepted).
#[derive(Default)]
struct Accounts {
    users: HashMap<String, u32>,
    groups: HashMap<String, u32>,
}

impl Accounts {
    fn uid(&mut self, name: &str, file: &Path) -> Result<u32, OutputError> {
        if let Some(uid) = self.users.get(name) {
            return Ok(*uid);
        }
        let uid = match name.parse::<u32>() {
            Ok(uid) => uid,
            Err(_) => match nix::unistd::User::from_name(name) {
                Ok(Some(user)) => user.uid.as_raw(),
                Ok(None) | Err(_) => {
                    return Err(OutputError::UnknownUser {
                        name: name.to_owned(),
                        path: file.to_owned(),
                    });
                }
            },
        };
        self.users.insert(name.to_owned(), uid);
        Ok(uid)
    }

    fn gid(&mut self, name: &str, file: &Path) -> Result<u32, OutputError> {
        if let Some(gid) = self.groups.get(name) {
            return Ok(*gid);
        }
        let gid = match name.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => match nix::unistd::Group::from_name(name) {
                Ok(Some(group)) => group.gid.as_raw(),
                Ok(None) | Err(_) => {
                    return Err(OutputError::UnknownGroup {
                        name: name.to_owned(),
                        path: file.to_owned(),
                    });
                }
            },
        };
        self.groups.insert(name.to_owned(), gid);
        Ok(gid)
    }
}

impl Plan {
    /// The changes that do something.
    pub fn changed(&self) -> impl Iterator<Item = &FileChange> {
        self.changes
            .iter()
            .filter(|change| change.action != Action::Unchanged)
    }

    /// Nothing to write, remove or fix.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.changed().next().is_none()
    }

    /// Does a file checked by `check` change (created, updated or removed)?
    #[must_use]
    pub fn touches(&self, check: Check) -> bool {
        self.changed()
            .any(|change| change.changes_contents() && change.check == Some(check))
    }

    /// Services to reload: those of the files whose contents change.
    #[must_use]
    pub fn services_to_reload(&self) -> BTreeSet<String> {
        self.changed()
            .filter(|change| change.changes_contents())
            .filter_map(|change| change.reload.clone())
            .collect()
    }

    /// What would be done, one line per file (`--dry-run`).
    #[must_use]
    pub fn describe(&self) -> String {
        let mut text = String::new();
        for change in self.changed() {
            let path = change.path.display();
            if change.hand_edited {
                let _ = writeln!(
                    text,
                    "keep aside {path} (edited by hand since brise wrote it)"
                );
            }
            let _ = match change.action {
                Action::Create => writeln!(text, "create {path}"),
                Action::Update => writeln!(text, "update {path}"),
                Action::Attributes => writeln!(text, "set owner, group and mode of {path}"),
                Action::Remove if change.hand_edited => Ok(()),
                Action::Remove => writeln!(text, "remove {path}"),
                Action::Unchanged => Ok(()),
            };
        }
        for service in self.services_to_reload() {
            let _ = writeln!(text, "reload {service}");
        }
        let unchanged = self.changes.len() - self.changed().count();
        if self.is_empty() {
            let _ = writeln!(
                text,
                "nothing to do: {unchanged} generated file{} up to date",
                plural(unchanged)
            );
        }
        text
    }

    /// Unified diffs of every content change (`--diff`).
    #[must_use]
    pub fn diff(&self) -> String {
        let mut text = String::new();
        for change in self.changed().filter(|change| change.changes_contents()) {
            let before = change
                .before
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            let after = change
                .after
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            let path = change.path.display().to_string();
            let old = if change.before.is_some() {
                format!("a{path}")
            } else {
                "/dev/null".to_owned()
            };
            let new = if change.after.is_some() {
                format!("b{path}")
            } else {
                "/dev/null".to_owned()
            };
            let diff = similar::TextDiff::from_lines(before.as_ref(), after.as_ref());
            let _ = write!(text, "{}", diff.unified_diff().header(&old, &new));
        }
        text
    }

    /// Paths by action, for tests and reports.
    #[must_use]
    pub fn by_action(&self) -> BTreeMap<Action, Vec<PathBuf>> {
        let mut map: BTreeMap<Action, Vec<PathBuf>> = BTreeMap::new();
        for change in &self.changes {
            map.entry(change.action)
                .or_default()
                .push(change.path.clone());
        }
        map
    }
}

pub(crate) fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::RenderedFile;

    fn me() -> (String, String) {
        (
            nix::unistd::getuid().as_raw().to_string(),
            nix::unistd::getgid().as_raw().to_string(),
        )
    }

    fn file(path: &str, contents: &str) -> RenderedFile {
        let (owner, group) = me();
        RenderedFile {
            path: PathBuf::from(path),
            contents: contents.to_owned(),
            owner,
            group,
            mode: 0o644,
            check: Some(Check::Nginx),
            reload: Some("nginx".to_owned()),
            template: "t".to_owned(),
            instance: None,
        }
    }

    fn rendered(files: Vec<RenderedFile>) -> Rendered {
        Rendered { files }
    }

    fn state() -> &'static Path {
        Path::new("/var/lib/brise")
    }

    #[test]
    fn first_run_creates_everything() {
        let root = tempfile::tempdir().unwrap();
        let plan = plan(
            &rendered(vec![file("/etc/a.conf", "a\n")]),
            root.path(),
            state(),
        )
        .unwrap();
        assert_eq!(plan.changes[0].action, Action::Create);
        assert_eq!(plan.changes[0].real_path, root.path().join("etc/a.conf"));
        assert!(plan.manifest_changed);
        assert_eq!(plan.describe(), "create /etc/a.conf\nreload nginx\n");
        assert_eq!(
            plan.diff(),
            "--- /dev/null\n+++ b/etc/a.conf\n@@ -0,0 +1 @@\n+a\n"
        );
    }

    #[test]
    fn a_file_brise_never_wrote_is_kept_aside() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("etc")).unwrap();
        std::fs::File::create(root.path().join("etc/a.conf")).unwrap();
        let plan = plan(
            &rendered(vec![file("/etc/a.conf", "a\n")]),
            root.path(),
            state(),
        )
        .unwrap();
        assert_eq!(plan.changes[0].action, Action::Update);
        assert!(plan.changes[0].hand_edited);
    }

    #[test]
    fn unknown_owner_is_an_error_naming_the_file() {
        let root = tempfile::tempdir().unwrap();
        let mut wanted = file("/etc/a.conf", "a");
        wanted.owner = "no-such-user-brise".to_owned();
        let error = plan(&rendered(vec![wanted]), root.path(), state()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown user `no-such-user-brise` (owner of `/etc/a.conf`)"
        );
    }

    #[test]
    fn nothing_to_do_is_said_plainly() {
        let root = tempfile::tempdir().unwrap();
        let plan = plan(&rendered(vec![]), root.path(), state()).unwrap();
        assert!(plan.is_empty());
        assert_eq!(
            plan.describe(),
            "nothing to do: 0 generated files up to date\n"
        );
    }
}
