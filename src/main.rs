//! The `brise` binary: parse the command line (dispatching the EOLE names
//! `gen_config`, `reconfigure`, `CreoleGet`, `CreoleSet` on argv[0]), call the
//! library, and turn the outcome into an exit code. All logic is in the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    if brise::crash::list_if_asked() {
        return ExitCode::SUCCESS;
    }
    let args = brise::eole::rewrite_args(std::env::args_os().collect());
    let cli = brise::cli::Cli::parse_from(args);
    match brise::app::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            failure.report();
            ExitCode::from(failure.exit_code())
        }
    }
}
