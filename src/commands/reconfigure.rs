//! `brise reconfigure`.

use crate::app::{Failure, Settings};
use crate::cli::ReconfigureArgs;

pub fn run(_settings: &Settings, _args: &ReconfigureArgs) -> Result<(), Failure> {
    Err(super::not_yet("reconfigure"))
}
