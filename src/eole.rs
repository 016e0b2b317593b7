//! EOLE command names. The Debian package installs `gen_config`, `reconfigure`,
//! `CreoleGet` and `CreoleSet` as links to `brise`; this module turns such an
//! invocation (argv[0] + EOLE's argument shapes) into the equivalent `brise`
//! command line. Pure: takes and returns the argument vector.

use std::ffi::OsString;
use std::path::Path;

/// Rewrite `argv` when the program was called by one of its EOLE names:
/// `CreoleGet VAR` → `brise get VAR`, `CreoleGet --list` → `brise get --list`,
/// `CreoleSet VAR VALUE…` → `brise set VAR VALUE…`, `CreoleSet VAR --default`,
/// `gen_config ARGS` → `brise gen_config ARGS`, `reconfigure ARGS` → `brise reconfigure ARGS`.
/// Any other name is returned unchanged.
#[must_use]
pub fn rewrite_args(argv: Vec<OsString>) -> Vec<OsString> {
    let Some(program) = argv.first() else {
        return argv;
    };
    let name = Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let subcommand = match name.as_str() {
        "CreoleGet" => "get",
        "CreoleSet" => "set",
        "gen_config" => "gen_config",
        "reconfigure" => "reconfigure",
        _ => return argv,
    };
    let mut out = Vec::with_capacity(argv.len() + 1);
    out.push(OsString::from("brise"));
    out.push(OsString::from(subcommand));
    out.extend(argv.into_iter().skip(1));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn creoleget_becomes_get() {
        assert_eq!(
            rewrite_args(args(&["/usr/bin/CreoleGet", "nom_machine"])),
            args(&["brise", "get", "nom_machine"])
        );
        assert_eq!(
            rewrite_args(args(&["CreoleGet", "--list"])),
            args(&["brise", "get", "--list"])
        );
    }

    #[test]
    fn creoleset_default_keeps_its_flag() {
        assert_eq!(
            rewrite_args(args(&["/usr/sbin/CreoleSet", "activer_nut", "--default"])),
            args(&["brise", "set", "activer_nut", "--default"])
        );
    }

    #[test]
    fn eole_commands_keep_their_options() {
        assert_eq!(
            rewrite_args(args(&["/usr/sbin/reconfigure", "--dry-run"])),
            args(&["brise", "reconfigure", "--dry-run"])
        );
        assert_eq!(
            rewrite_args(args(&["gen_config", "--diff"])),
            args(&["brise", "gen_config", "--diff"])
        );
    }

    // See: #7 (CreoleSet panicked: `set`'s values and the global `--values` shared an id)
    #[test]
    fn eole_argument_shapes_parse_into_their_brise_commands() {
        use clap::Parser as _;

        use crate::cli::{Cli, Command};

        let parse = |argv: &[&str]| Cli::try_parse_from(rewrite_args(args(argv))).unwrap();
        match parse(&["/usr/sbin/CreoleSet", "containers.names", "a", "b"]).command {
            Command::Set(set) => {
                assert_eq!(set.variable, "containers.names");
                assert_eq!(set.values, ["a", "b"]);
                assert!(!set.default);
            }
            other => panic!("CreoleSet parsed as {other:?}"),
        }
        match parse(&["CreoleSet", "containers.engine", "--default"]).command {
            Command::Set(set) => assert!(set.default && set.values.is_empty()),
            other => panic!("CreoleSet --default parsed as {other:?}"),
        }
        match parse(&["CreoleGet", "containers.engine"]).command {
            Command::Get(get) => assert_eq!(get.variable.as_deref(), Some("containers.engine")),
            other => panic!("CreoleGet parsed as {other:?}"),
        }
        match parse(&["CreoleGet", "--list"]).command {
            Command::Get(get) => assert!(get.list),
            other => panic!("CreoleGet --list parsed as {other:?}"),
        }
        match parse(&["gen_config", "--dry-run"]).command {
            Command::GenConfig(gen_config) => assert!(gen_config.dry_run),
            other => panic!("gen_config parsed as {other:?}"),
        }
        match parse(&["reconfigure", "--dry-run"]).command {
            Command::Reconfigure(reconfigure) => assert!(reconfigure.dry_run),
            other => panic!("reconfigure parsed as {other:?}"),
        }
        let cli = parse(&["CreoleSet", "--values", "/tmp/v.yml", "a.b", "c"]);
        assert_eq!(cli.global.values, std::path::Path::new("/tmp/v.yml"));
    }

    #[test]
    fn brise_itself_is_left_alone() {
        let argv = args(&["/usr/sbin/brise", "show", "--json"]);
        assert_eq!(rewrite_args(argv.clone()), argv);
    }
}
