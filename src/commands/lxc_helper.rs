//! `brise lxc-helper`: the single-threaded process that owns every liblxc call
//! (hidden; spawned by the LXC runtime, speaking its pipe protocol on standard
//! input and output).

use crate::app::Failure;

pub fn run() -> Result<(), Failure> {
    crate::runtime::lxc::helper::serve().map_err(Failure::system)
}
