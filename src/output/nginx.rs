//! The nginx gate: candidate files are checked by the real `nginx -t` before
//! they replace the live ones, on a mirror of the nginx configuration tree (a
//! temporary copy with the candidates in place and the live paths rewritten
//! to the copy), so a failing configuration is never on the live paths. Also
//! the reload of a running nginx. nginx runs through `crate::command`.

use std::path::{Path, PathBuf};

use thiserror::Error;

use super::plan::under_root;
use crate::command::{self, CommandError, Invocation};

/// Where nginx and its main configuration are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NginxSettings {
    /// The nginx program (`nginx`, found in `PATH`).
    pub binary: PathBuf,
    /// Main configuration file on the server (resolved under `--root`).
    pub conf: PathBuf,
}

impl Default for NginxSettings {
    fn default() -> Self {
        Self {
            binary: PathBuf::from("nginx"),
            conf: PathBuf::from("/etc/nginx/nginx.conf"),
        }
    }
}

/// A file of the new configuration: its live path and its new bytes
/// (`None`: the file is removed).
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub live_path: &'a Path,
    pub contents: Option<&'a [u8]>,
}

#[derive(Debug, Error)]
pub enum NginxError {
    #[error("nginx refused the new configuration{}: {message}", .file.as_ref().map(|f| format!(" (in `{}`)", f.display())).unwrap_or_default())]
    Refused {
        /// nginx's own message, with the live paths.
        message: String,
        /// The file nginx points at, when it names one.
        file: Option<PathBuf>,
    },
    #[error("cannot prepare the nginx check in `{path}`: {source}")]
    Mirror {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the nginx configuration directory `{path}` is too big to be checked in a copy (over {MAX_MIRROR_FILES} files or {} MiB): give the main file with --nginx-conf",
        MAX_MIRROR_BYTES / 1024 / 1024
    )]
    TooBig { path: PathBuf },
    #[error("cannot run nginx to check the new configuration: {0}")]
    Run(#[source] CommandError),
    #[error("nginx was not reloaded: {0}")]
    Reload(#[source] CommandError),
}

/// Was nginx reloaded?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadOutcome {
    Reloaded,
    /// No running nginx for this configuration: it reads the files when it starts.
    NotRunning,
    /// No nginx main configuration (under `--root`): no nginx to reload.
    NoConfiguration,
}

/// Check the nginx configuration as it would be with `candidates` installed.
pub fn check(
    settings: &NginxSettings,
    root: &Path,
    candidates: &[Candidate<'_>],
) -> Result<(), NginxError> {
    let temp = tempfile::Builder::new()
        .prefix("brise-nginx-check-")
        .tempdir()
        .map_err(|source| NginxError::Mirror {
            path: std::env::temp_dir(),
            source,
        })?;
    let live_conf = under_root(root, &settings.conf);
    let (test_conf, mirrors) = if live_conf.is_file() {
        mirror_tree(&live_conf, temp.path(), candidates)?
    } else {
        standalone(temp.path(), candidates)?
    };
    let invocation = Invocation::new(&settings.binary)
        .arg("-t")
        .arg("-q")
        .arg("-c")
        .arg(&test_conf);
    let output = command::output(&invocation).map_err(NginxError::Run)?;
    if output.status.success() {
        return Ok(());
    }
    let mut message = output.stderr.trim().to_owned();
    // Longest mirror first, so nested directories map back correctly.
    let mut mirrors = mirrors;
    mirrors.sort_by_key(|(_, mirror)| std::cmp::Reverse(mirror.as_os_str().len()));
    for (live, mirror) in &mirrors {
        message = message.replace(&*mirror.to_string_lossy(), &live.to_string_lossy());
    }
    let message = tidy(&message);
    let file = offending_file(&message);
    Err(NginxError::Refused { message, file })
}

/// nginx's lines without their `nginx: `, time stamp and `pid#tid: `
/// prefixes, and without the closing `… test failed` line.
fn tidy(stderr: &str) -> String {
    let prefix = regex::Regex::new(
        r"^(nginx: )?(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} )?(\[[a-z]+\] )(\d+#\d+: )?",
    );
    stderr
        .lines()
        .filter(|line| !(line.contains("configuration file") && line.ends_with("test failed")))
        .map(|line| match &prefix {
            Ok(prefix) => prefix.replace(line, "$3").into_owned(),
            Err(_) => line.to_owned(),
        })
        .map(|line| line.strip_prefix("nginx: ").unwrap_or(&line).to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `… in /etc/nginx/web.d/conteneurs2.conf:3` → the file.
fn offending_file(message: &str) -> Option<PathBuf> {
    message.lines().find_map(|line| {
        let (_, rest) = line.rsplit_once(" in /")?;
        let (path, line_number) = rest.rsplit_once(':')?;
        line_number
            .chars()
            .all(|c| c.is_ascii_digit())
            .then(|| PathBuf::from(format!("/{path}")))
    })
}

/// Copy the live configuration directory (and the directory of any candidate
/// outside it) into `temp`, rewrite live paths to the copies, put the
/// candidates in place. Returns the main file of the copy and the
/// (live, mirror) directory pairs.
fn mirror_tree(
    live_conf: &Path,
    temp: &Path,
    candidates: &[Candidate<'_>],
) -> Result<(PathBuf, Vec<(PathBuf, PathBuf)>), NginxError> {
    let conf_dir = live_conf.parent().unwrap_or(Path::new("/")).to_owned();
    let mut mirrors = vec![(conf_dir.clone(), temp.join("conf"))];
    for candidate in candidates {
        if mirrors
            .iter()
            .any(|(live, _)| candidate.live_path.starts_with(live))
        {
            continue;
        }
        let dir = candidate
            .live_path
            .parent()
            .unwrap_or(Path::new("/"))
            .to_owned();
        let mirror = temp.join(format!("extra-{}", mirrors.len()));
        mirrors.push((dir, mirror));
    }
    // Rewrite the longest live paths first (`/etc/nginx/web.d` before `/etc/nginx`).
    let mut rewrites: Vec<(String, String)> = mirrors
        .iter()
        .map(|(live, mirror)| {
            (
                live.to_string_lossy().into_owned(),
                mirror.to_string_lossy().into_owned(),
            )
        })
        .collect();
    rewrites.sort_by_key(|(live, _)| std::cmp::Reverse(live.len()));
    let mut budget = Budget::default();
    for (live, mirror) in &mirrors {
        copy_tree(live, mirror, &rewrites, &mut budget)?;
    }
    for candidate in candidates {
        let Some((live, mirror)) = mirrors
            .iter()
            .filter(|(live, _)| candidate.live_path.starts_with(live))
            .max_by_key(|(live, _)| live.as_os_str().len())
        else {
            continue;
        };
        let relative = candidate
            .live_path
            .strip_prefix(live)
            .unwrap_or(candidate.live_path);
        let target = mirror.join(relative);
        match candidate.contents {
            Some(contents) => {
                if let Some(parent) = target.parent() {
                    create_dir(parent)?;
                }
                let text = rewrite(&String::from_utf8_lossy(contents), &rewrites);
                write_file(&target, text.as_bytes())?;
            }
            None => {
                if target.exists() {
                    std::fs::remove_file(&target).map_err(|source| NginxError::Mirror {
                        path: target.clone(),
                        source,
                    })?;
                }
            }
        }
    }
    let relative = live_conf.strip_prefix(&conf_dir).unwrap_or(live_conf);
    Ok((temp.join("conf").join(relative), mirrors))
}

/// No nginx configuration to check against (a `--root` without one): check
/// the candidates alone, inside a minimal `server` block.
fn standalone(
    temp: &Path,
    candidates: &[Candidate<'_>],
) -> Result<(PathBuf, Vec<(PathBuf, PathBuf)>), NginxError> {
    let dir = temp.join("candidates");
    create_dir(&dir)?;
    let mut mirrors = Vec::new();
    let mut includes = String::new();
    for (position, candidate) in candidates.iter().enumerate() {
        let Some(contents) = candidate.contents else {
            continue;
        };
        let path = dir.join(format!("{position}.conf"));
        write_file(&path, contents)?;
        includes.push_str(&format!("        include {};\n", path.display()));
        mirrors.push((candidate.live_path.to_owned(), path));
    }
    let conf = temp.join("nginx.conf");
    let text = format!(
        "error_log {temp}/error.log;\npid {temp}/nginx.pid;\nevents {{}}\nhttp {{\n    access_log off;\n    server {{\n        listen 127.0.0.1:1;\n{includes}    }}\n}}\n",
        temp = temp.display()
    );
    write_file(&conf, text.as_bytes())?;
    Ok((conf, mirrors))
}

/// How much a mirror may copy: an nginx configuration is small; a main file
/// placed in a big directory (`/etc/nginx.conf`) must not copy all of `/etc`.
#[derive(Debug)]
struct Budget {
    files: usize,
    bytes: u64,
}

const MAX_MIRROR_FILES: usize = 5_000;
const MAX_MIRROR_BYTES: u64 = 64 * 1024 * 1024;

impl Default for Budget {
    fn default() -> Self {
        Self {
            files: MAX_MIRROR_FILES,
            bytes: MAX_MIRROR_BYTES,
        }
    }
}

fn copy_tree(
    from: &Path,
    to: &Path,
    rewrites: &[(String, String)],
    budget: &mut Budget,
) -> Result<(), NginxError> {
    create_dir(to)?;
    let read = match std::fs::read_dir(from) {
        Ok(read) => read,
        // A directory the new files create: nothing to copy yet.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(NginxError::Mirror {
                path: from.to_owned(),
                source,
            });
        }
    };
    for child in read {
        let child = child.map_err(|source| NginxError::Mirror {
            path: from.to_owned(),
            source,
        })?;
        let path = child.path();
        // Follow symbolic links (sites-enabled → sites-available); skip dangling ones.
        let Ok(metadata) = std::fs::metadata(&path) else {
            continue;
        };
        let target = to.join(child.file_name());
        if metadata.is_dir() {
            copy_tree(&path, &target, rewrites, budget)?;
        } else if metadata.is_file() {
            budget.files = budget.files.checked_sub(1).ok_or_else(|| too_big(from))?;
            budget.bytes = budget
                .bytes
                .checked_sub(metadata.len())
                .ok_or_else(|| too_big(from))?;
            let bytes = std::fs::read(&path).map_err(|source| NginxError::Mirror {
                path: path.clone(),
                source,
            })?;
            match String::from_utf8(bytes) {
                Ok(text) => write_file(&target, rewrite(&text, rewrites).as_bytes())?,
                Err(not_text) => write_file(&target, not_text.as_bytes())?,
            }
        }
    }
    Ok(())
}

fn too_big(dir: &Path) -> NginxError {
    NginxError::TooBig {
        path: dir.to_owned(),
    }
}

/// Replace each live directory by its mirror where it appears as a path
/// (followed by `/`, a separator, a quote or the end).
fn rewrite(text: &str, rewrites: &[(String, String)]) -> String {
    let mut text = text.to_owned();
    for (live, mirror) in rewrites {
        if live == "/" {
            continue;
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(position) = rest.find(live.as_str()) {
            let after = &rest[position + live.len()..];
            let boundary = after
                .chars()
                .next()
                .is_none_or(|c| matches!(c, '/' | ';' | '"' | '\'' | '*') || c.is_whitespace());
            out.push_str(&rest[..position]);
            out.push_str(if boundary { mirror } else { live });
            rest = after;
        }
        out.push_str(rest);
        text = out;
    }
    text
}

fn create_dir(dir: &Path) -> Result<(), NginxError> {
    std::fs::create_dir_all(dir).map_err(|source| NginxError::Mirror {
        path: dir.to_owned(),
        source,
    })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), NginxError> {
    use std::io::Write;
    std::fs::File::create(path)
        .and_then(|mut file| file.write_all(bytes))
        .map_err(|source| NginxError::Mirror {
            path: path.to_owned(),
            source,
        })
}

/// Reload the nginx that runs with this configuration, if one does.
pub fn reload(settings: &NginxSettings, root: &Path) -> Result<ReloadOutcome, NginxError> {
    let live_conf = under_root(root, &settings.conf);
    if !live_conf.is_file() {
        return Ok(ReloadOutcome::NoConfiguration);
    }
    if !is_running(&live_conf) {
        return Ok(ReloadOutcome::NotRunning);
    }
    let invocation = Invocation::new(&settings.binary)
        .arg("-c")
        .arg(&live_conf)
        .args(["-s", "reload"]);
    command::run(&invocation).map_err(NginxError::Reload)?;
    Ok(ReloadOutcome::Reloaded)
}

/// Is the master process named by the configuration's pid file alive?
fn is_running(live_conf: &Path) -> bool {
    let pid_file = std::fs::read_to_string(live_conf)
        .ok()
        .and_then(|text| pid_directive(&text))
        .map_or_else(|| PathBuf::from("/run/nginx.pid"), PathBuf::from);
    let Ok(text) = std::fs::read_to_string(pid_file) else {
        return false;
    };
    let Ok(pid) = text.trim().parse::<i32>() else {
        return false;
    };
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}

/// The `pid` directive of a main configuration file.
fn pid_directive(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let line = line.split('#').next()?.trim();
        let value = line.strip_prefix("pid")?;
        if !value.starts_with(char::is_whitespace) {
            return None;
        }
        let value = value.trim().strip_suffix(';')?.trim();
        Some(value.trim_matches(|c| c == '"' || c == '\'').to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrite_replaces_whole_path_prefixes_only() {
        let rewrites = vec![("/etc/nginx".to_owned(), "/tmp/m".to_owned())];
        assert_eq!(
            rewrite(
                "include /etc/nginx/web.d/*.conf;\ninclude /etc/nginx-other/x;\nroot /etc/nginx;",
                &rewrites
            ),
            "include /tmp/m/web.d/*.conf;\ninclude /etc/nginx-other/x;\nroot /tmp/m;"
        );
    }

    #[test]
    fn nginx_messages_lose_their_time_stamps_and_pids() {
        assert_eq!(
            tidy(
                "nginx: 2026/11/22 17:09:23 [emerg] 793#793: unknown directive \"x\" in /a.conf:3\nnginx: configuration file /etc/nginx/nginx.conf test failed\n"
            ),
            "[emerg] unknown directive \"x\" in /a.conf:3"
        );
        assert_eq!(tidy("nginx: [warn] something\n"), "[warn] something");
    }

    #[test]
    fn mirroring_stops_at_a_budget() {
        let live = tempfile::tempdir().unwrap();
        for name in ["a.conf", "b.conf", "c.conf"] {
            write_file(&live.path().join(name), b"x").unwrap();
        }
        let mirror = tempfile::tempdir().unwrap();
        let mut budget = Budget {
            files: 2,
            bytes: 1000,
        };
        let error = copy_tree(live.path(), mirror.path(), &[], &mut budget).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("is too big to be checked in a copy"),
            "{error}"
        );
        let mut budget = Budget::default();
        copy_tree(live.path(), &mirror.path().join("ok"), &[], &mut budget).unwrap();
        assert_eq!(budget.files, MAX_MIRROR_FILES - 3);
    }

    #[test]
    fn offending_file_is_taken_from_the_message() {
        assert_eq!(
            offending_file(
                "[emerg] unknown directive \"bogus\" in /etc/nginx/web.d/conteneurs2.conf:3\nconfiguration file /etc/nginx/nginx.conf test failed"
            ),
            Some(PathBuf::from("/etc/nginx/web.d/conteneurs2.conf"))
        );
        assert_eq!(offending_file("[emerg] something else"), None);
    }

    #[test]
    fn pid_directive_is_read_from_the_main_file() {
        assert_eq!(
            pid_directive("user www-data;\npid /run/nginx.pid;\n").as_deref(),
            Some("/run/nginx.pid")
        );
        assert_eq!(pid_directive("# pid /x;\nevents {}\n"), None);
        assert_eq!(pid_directive("pidfile x;\n"), None);
    }

    #[test]
    fn no_running_nginx_means_nothing_to_reload() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("nginx.conf");
        write_file(
            &conf,
            format!("pid {}/none.pid;\n", dir.path().display()).as_bytes(),
        )
        .unwrap();
        let settings = NginxSettings {
            binary: PathBuf::from("/nonexistent/nginx"),
            conf,
        };
        assert_eq!(
            reload(&settings, Path::new("/")).unwrap(),
            ReloadOutcome::NotRunning
        );
    }

    #[test]
    fn no_configuration_under_the_root_means_no_nginx_to_reload() {
        let root = tempfile::tempdir().unwrap();
        let settings = NginxSettings {
            binary: PathBuf::from("/nonexistent/nginx"),
            ..NginxSettings::default()
        };
        assert_eq!(
            reload(&settings, root.path()).unwrap(),
            ReloadOutcome::NoConfiguration
        );
    }
}
