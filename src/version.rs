//! The version `brise --version` prints. Takes nothing at run time: it is fixed
//! at build time, from `BRISE_PACKAGE_VERSION` (set by `debian/rules` to the
//! Debian package version, e.g. `0.1.0-1`) or else Cargo's package version.

/// The Debian package version when built by `debian/rules`, else `Cargo.toml`'s.
pub const VERSION: &str = match option_env!("BRISE_PACKAGE_VERSION") {
    Some(version) => version,
    None => env!("CARGO_PKG_VERSION"),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_starts_with_the_cargo_version() {
        // debian/rules refuses to build when the package's upstream version and
        // Cargo's differ, so either way the printed version starts with Cargo's.
        assert!(VERSION.starts_with(env!("CARGO_PKG_VERSION")), "{VERSION}");
    }
}
