//! `brise show`: every value (`--json`: the flat JSON of spec part B, byte for
//! byte; `--mode`: only variables of that mode and lower ones). Secrets are
//! masked unless `--show-secrets` and running as root.

use std::io::Write as _;

use crate::app::{Failure, Settings};
use crate::cli::{ModeArg, ShowArgs};
use crate::commands::loading;
use crate::dictionary::Mode;
use crate::values::FlatValue;

pub fn run(settings: &Settings, args: &ShowArgs) -> Result<(), Failure> {
    if args.show_secrets && !loading::is_root() {
        return Err(Failure::invalid(anyhow::anyhow!(
            "`--show-secrets` is only allowed to root"
        )));
    }
    let (schema, raw, config) = loading::configuration(settings)?;
    // A value that cannot be calculated makes the whole view wrong: show nothing.
    let broken: Vec<_> = config
        .issues()
        .iter()
        .filter(|i| i.kind == crate::values::IssueKind::Calculation)
        .collect();
    if !broken.is_empty() {
        let mut err = std::io::stderr().lock();
        for issue in &broken {
            let _ = writeln!(err, "{}", loading::issue_diagnostic(&schema, &raw, issue));
        }
        let _ = writeln!(err, "brise: {} value(s) cannot be calculated", broken.len());
        return Err(Failure::Reported(1));
    }
    let mode = args.mode.map(|m| match m {
        ModeArg::Basic => Mode::Basic,
        ModeArg::Standard => Mode::Standard,
        ModeArg::Advanced => Mode::Advanced,
    });
    let mut out = std::io::stdout().lock();
    if args.json {
        let _ = out.write_all(config.flat_json(mode, args.show_secrets).as_bytes());
    } else {
        for (path, value) in config.flat_filtered(mode, args.show_secrets) {
            match value {
                FlatValue::Value(v) => {
                    let _ = writeln!(out, "{path}: {}", v.python_repr());
                }
                FlatValue::Rows(rows) => {
                    let _ = writeln!(out, "{path}:");
                    for row in rows {
                        let cells: Vec<String> = row
                            .iter()
                            .map(|(k, v)| {
                                format!(
                                    "{}: {}",
                                    k.rsplit('.').next().unwrap_or(k),
                                    v.python_repr()
                                )
                            })
                            .collect();
                        let _ = writeln!(out, "  - {}", cells.join(", "));
                    }
                }
            }
        }
    }
    let errors = config.errors().count();
    if errors > 0 {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "brise: the configuration has {errors} error(s), run `brise check`"
        );
    }
    loading::release_at_exit((schema, raw, config));
    Ok(())
}
