//! `brise status`.

use crate::app::{Failure, Settings};
use crate::cli::StatusArgs;

pub fn run(_settings: &Settings, _args: &StatusArgs) -> Result<(), Failure> {
    Err(super::not_yet("status"))
}
