//! `brise get`.

use crate::app::{Failure, Settings};
use crate::cli::GetArgs;

pub fn run(_settings: &Settings, _args: &GetArgs) -> Result<(), Failure> {
    Err(super::not_yet("get"))
}
