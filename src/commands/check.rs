//! `brise check`.

use crate::app::{Failure, Settings};
use crate::cli::CheckArgs;

pub fn run(_settings: &Settings, _args: &CheckArgs) -> Result<(), Failure> {
    Err(super::not_yet("check"))
}
