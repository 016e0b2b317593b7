//! `brise passwd`.

use crate::app::{Failure, Settings};
use crate::cli::PasswdArgs;

pub fn run(_settings: &Settings, _args: &PasswdArgs) -> Result<(), Failure> {
    Err(super::not_yet("passwd"))
}
