//! `brise generate man|completions DIR`: man pages and shell completions from
//! the clap definition, so they never drift from `--help` (used by debian/rules).

use std::fs;

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
        GenerateWhat::Man => clap_mangen::generate_to(command, &args.dir)
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
