//! `brise rollback`.

use crate::app::{Failure, Settings};
use crate::cli::RollbackArgs;

pub fn run(_settings: &Settings, _args: &RollbackArgs) -> Result<(), Failure> {
    Err(super::not_yet("rollback"))
}
