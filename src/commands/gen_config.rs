//! `brise gen_config`.

use crate::app::{Failure, Settings};
use crate::cli::GenConfigArgs;

pub fn run(_settings: &Settings, _args: &GenConfigArgs) -> Result<(), Failure> {
    Err(super::not_yet("gen_config"))
}
