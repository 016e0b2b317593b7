//! `brise import_eol`.

use crate::app::{Failure, Settings};
use crate::cli::ImportEolArgs;

pub fn run(_settings: &Settings, _args: &ImportEolArgs) -> Result<(), Failure> {
    Err(super::not_yet("import_eol"))
}
