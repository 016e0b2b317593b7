//! `brise doc`.

use crate::app::{Failure, Settings};
use crate::cli::DocArgs;

pub fn run(_settings: &Settings, _args: &DocArgs) -> Result<(), Failure> {
    Err(super::not_yet("doc"))
}
