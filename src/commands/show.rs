//! `brise show`.

use crate::app::{Failure, Settings};
use crate::cli::ShowArgs;

pub fn run(_settings: &Settings, _args: &ShowArgs) -> Result<(), Failure> {
    Err(super::not_yet("show"))
}
