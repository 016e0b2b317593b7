//! `brise set`.

use crate::app::{Failure, Settings};
use crate::cli::SetArgs;

pub fn run(_settings: &Settings, _args: &SetArgs) -> Result<(), Failure> {
    Err(super::not_yet("set"))
}
