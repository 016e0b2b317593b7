//! The audit trail: every request that changes something (sign in and out,
//! save, apply) and every refused login is logged with the user, on the
//! `brise::audit` tracing target (journald under systemd). Never logs values.

use std::net::IpAddr;

/// Something a user did.
pub fn action(user: &str, address: Option<IpAddr>, what: &str) {
    match address {
        Some(address) => tracing::info!(target: "brise::audit", user = ?user, %address, "{what}"),
        None => tracing::info!(target: "brise::audit", user = ?user, "{what}"),
    }
}

/// Something refused to someone (the user name is what they typed, so it is
/// logged escaped).
pub fn refused(user: &str, address: Option<IpAddr>, what: &str) {
    match address {
        Some(address) => tracing::warn!(target: "brise::audit", user = ?user, %address, "{what}"),
        None => tracing::warn!(target: "brise::audit", user = ?user, "{what}"),
    }
}
