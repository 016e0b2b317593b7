//! `brise generate man|completions DIR`: man pages and shell completions from
//! the clap definition, so they never drift from `--help` (used by debian/rules).
//! Man pages are in section 8 (system administration): brise is in /usr/sbin.

use std::fs;
use std::path::Path;

use anyhow::Context as _;
use clap::CommandFactory;
use clap_complete::Shell;

use crate::app::Failure;
use crate::cli::{Cli, GenerateArgs, GenerateWhat};

pub fn run(args: &GenerateArgs) -> Result<(), Failure> {
    fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create `{}`", args.dir.display()))
        .map_err(Failure::system)?;
    let command = Cli::command();
    match args.what {
        GenerateWhat::Man => write_man_pages(command, &args.dir)
            .with_context(|| format!("cannot write man pages into `{}`", args.dir.display()))
            .map_err(Failure::system),
        GenerateWhat::Completions => {
            for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
                clap_complete::generate_to(shell, &mut Cli::command(), "brise", &args.dir)
                    .with_context(|| {
                        format!(
                            "cannot write {shell} completions into `{}`",
                            args.dir.display()
                        )
                    })
                    .map_err(Failure::system)?;
            }
            Ok(())
        }
    }
}

/// Section of the man pages: administration commands.
const MAN_SECTION: &str = "8";

/// One page per visible command (`brise.8`, `brise-get.8`, …), like
/// `clap_mangen::generate_to` but in [`MAN_SECTION`].
fn write_man_pages(command: clap::Command, dir: &Path) -> std::io::Result<()> {
    fn write(command: clap::Command, dir: &Path) -> std::io::Result<()> {
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            write(sub.clone(), dir)?;
        }
        clap_mangen::Man::new(command)
            .section(MAN_SECTION)
            .generate_to(dir)?;
        Ok(())
    }
    let mut command = command.disable_help_subcommand(true);
    command.build();
    write(command, dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn man_pages_are_written_in_section_8_for_every_visible_command() {
        let dir = tempfile::tempdir().unwrap();
        write_man_pages(Cli::command(), dir.path()).unwrap();
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert!(names.contains(&"brise.8".to_owned()), "{names:?}");
        assert!(
            names.contains(&"brise-gen_config.8".to_owned()),
            "{names:?}"
        );
        assert!(names.contains(&"brise-get.8".to_owned()), "{names:?}");
        assert!(
            !names.iter().any(|n| n.starts_with("brise-generate")),
            "{names:?}"
        );
        assert!(
            !names.iter().any(|n| n.starts_with("brise-lxc-helper")),
            "{names:?}"
        );
        let page = fs::read_to_string(dir.path().join("brise-set.8")).unwrap();
        assert!(page.contains(".TH brise-set 8"), "{page}");
    }
}
