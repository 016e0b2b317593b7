//! `brise check`: load dictionaries and values, print every error and warning
//! (mandatory variables without value are errors here); exit 1 on error.

use std::io::Write as _;

use crate::app::{Failure, Settings};
use crate::cli::CheckArgs;
use crate::commands::loading;

pub fn run(settings: &Settings, _args: &CheckArgs) -> Result<(), Failure> {
    let schema = loading::schema(settings)?;
    let mut err = std::io::stderr().lock();
    for warning in schema.warnings() {
        let _ = writeln!(err, "{warning}");
    }
    let raw = loading::raw_values(settings)?;
    let config = crate::values::resolve(&schema, &raw);
    let mut errors = 0usize;
    let mut warnings = schema.warnings().len();
    for issue in config.issues() {
        if issue.is_error() {
            errors += 1;
        } else {
            warnings += 1;
        }
        let _ = writeln!(err, "{}", loading::issue_diagnostic(&schema, &raw, issue));
    }
    if errors > 0 {
        let _ = writeln!(err, "brise: {errors} error(s), {warnings} warning(s)");
        return Err(Failure::Reported(1));
    }
    let variables = config
        .entries()
        .iter()
        .filter(|e| e.kind != crate::values::EntryKind::Family && config.get(&e.path).is_ok())
        .count();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "ok: {variables} variable(s), {warnings} warning(s)");
    loading::release_at_exit((schema, raw, config));
    Ok(())
}
