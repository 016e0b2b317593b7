//! `brise lxc-helper`: the single-threaded process that owns every liblxc call.

use crate::app::Failure;

pub fn run() -> Result<(), Failure> {
    Err(super::not_yet("lxc-helper"))
}
