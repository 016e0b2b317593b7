//! `brise get VAR` (one value; list items one per line) and `brise get --list`
//! (`path=value` lines, EOLE's `CreoleGet --list`). A secret set by the
//! administrator or calculated is masked in the list and only root can `get` it.

use std::io::Write as _;

use crate::app::{Failure, Settings};
use crate::cli::GetArgs;
use crate::commands::loading;
use crate::dictionary::Value;

pub fn run(settings: &Settings, args: &GetArgs) -> Result<(), Failure> {
    let (_, _, config) = loading::configuration(settings)?;
    let mut out = std::io::stdout().lock();
    if args.list {
        for line in config.list_lines() {
            let _ = writeln!(out, "{line}");
        }
        return Ok(());
    }
    let Some(path) = &args.variable else {
        return Err(Failure::invalid(anyhow::anyhow!(
            "give a variable path or `--list`"
        )));
    };
    let value = config.get(path).map_err(Failure::invalid)?;
    let secret = config.entry(path).is_some_and(|e| config.masks(e));
    if secret && !loading::is_root() {
        return Err(Failure::invalid(anyhow::anyhow!(
            "`{path}` is a secret, only root can read it"
        )));
    }
    match value {
        Value::List(items) => {
            for item in items {
                let _ = writeln!(out, "{}", item.display());
            }
        }
        other => {
            let _ = writeln!(out, "{}", other.display());
        }
    }
    Ok(())
}
