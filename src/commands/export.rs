//! `brise export`.

use crate::app::{Failure, Settings};
use crate::cli::ExportArgs;

pub fn run(_settings: &Settings, _args: &ExportArgs) -> Result<(), Failure> {
    Err(super::not_yet("export"))
}
