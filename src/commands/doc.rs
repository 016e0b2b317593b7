//! `brise doc`: Markdown documentation of the loaded dictionaries on standard output.

use std::io::Write as _;

use crate::app::{Failure, Settings};
use crate::cli::DocArgs;
use crate::commands::loading;

pub fn run(settings: &Settings, _args: &DocArgs) -> Result<(), Failure> {
    let schema = loading::schema(settings)?;
    let mut out = std::io::stdout().lock();
    out.write_all(crate::doc::markdown(&schema).as_bytes())
        .map_err(Failure::system)?;
    Ok(())
}
