//! `brise serve`.

use crate::app::{Failure, Settings};
use crate::cli::ServeArgs;

pub fn run(_settings: &Settings, _args: &ServeArgs) -> Result<(), Failure> {
    Err(super::not_yet("serve"))
}
