//! `brise rollback`: re-apply the last configuration that applied
//! successfully. Under the run lock, the values file becomes
//! `values.applied.yml` again (the replaced values are kept beside it as
//! `<name>.before-rollback.yml`), then the run is an ordinary `reconfigure`
//! (same checks, same file journal, same containers' convergence). Refused,
//! changing nothing, when no reconfigure succeeded yet.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};

use super::reconfigure::{self, Log, Stdout};
use crate::app::{Failure, Settings};
use crate::applied;
use crate::cli::{ReconfigureArgs, RollbackArgs};
use crate::output::atomic::{self, FileAttributes};

/// `values.yml` → `values.before-rollback.yml`, in the same directory.
#[must_use]
pub fn kept_path(values: &Path) -> PathBuf {
    let stem = values
        .file_stem()
        .map_or_else(|| "values".into(), |s| s.to_string_lossy().into_owned());
    values.with_file_name(format!("{stem}.before-rollback.yml"))
}

/// Read a file; `None` when it does not exist.
fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, Failure> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(Failure::system(
            anyhow::Error::new(error).context(format!("cannot read `{}`", path.display())),
        )),
    }
}

/// Owner-only attributes for a values file: the owner of `like` if it exists.
fn private_like(like: &Path) -> Option<FileAttributes> {
    std::fs::metadata(like).ok().map(|metadata| FileAttributes {
        mode: 0o600,
        ..FileAttributes::of(&metadata)
    })
}

/// Put the applied values back in the values file (keeping the replaced ones).
fn restore_values(values: &Path, log: &dyn Log) -> Result<(), Failure> {
    let record = applied::record_path(values);
    let Some(applied_bytes) = read_optional(&record)? else {
        return Err(Failure::invalid(anyhow!(
            "nothing to roll back to: `{}` does not exist (no reconfigure succeeded yet); nothing was changed",
            record.display()
        )));
    };
    let current = read_optional(values)?;
    if current.as_deref() == Some(applied_bytes.as_slice()) {
        log.line(&format!(
            "the values in `{}` are those last applied; applying them again",
            values.display()
        ));
        return Ok(());
    }
    if let Some(current) = current {
        let kept = kept_path(values);
        atomic::write(&kept, &current, private_like(values))
            .with_context(|| format!("cannot keep the current values as `{}`", kept.display()))
            .map_err(Failure::system)?;
        log.line(&format!(
            "the current values are kept in `{}`",
            kept.display()
        ));
    }
    let attributes = private_like(values).or_else(|| private_like(&record));
    atomic::write(values, &applied_bytes, attributes)
        .with_context(|| format!("cannot write `{}`", values.display()))
        .map_err(Failure::system)?;
    crate::crash::point("rollback.values-restored");
    log.line(&format!(
        "`{}` holds the last applied values again (from `{}`)",
        values.display(),
        record.display()
    ));
    Ok(())
}

/// The whole rollback; see the module documentation.
///
/// # Errors
/// Nothing to roll back to (exit 1), or as `reconfigure`.
pub async fn rollback(
    settings: &Settings,
    args: &RollbackArgs,
    log: &dyn Log,
) -> Result<(), Failure> {
    let _lock = reconfigure::lock_and_recover(settings, &args.root, "rollback", false, log)?;
    restore_values(&settings.values, log)?;
    let reconfigure_args = ReconfigureArgs {
        root: args.root.clone(),
        dry_run: false,
        json: false,
        fresh: Vec::new(),
        fresh_all: false,
        recreate: Vec::new(),
        parallel: 4,
        engine: None,
        scope: args.scope.clone(),
    };
    reconfigure::reconfigure_locked(settings, &reconfigure_args, log).await
}

pub fn run(settings: &Settings, args: &RollbackArgs) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .map_err(Failure::system)?;
    runtime.block_on(rollback(settings, args, &Stdout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replaced_values_are_kept_beside_the_values_file() {
        assert_eq!(
            kept_path(Path::new("/etc/brise/values.yml")),
            Path::new("/etc/brise/values.before-rollback.yml")
        );
    }
}
