//! The `brise` binary: parse the command line (dispatching the EOLE names
//! `gen_config`, `reconfigure`, `CreoleGet`, `CreoleSet` on argv[0]), call the
//! library, and turn the outcome into an exit code. All logic is in the library.

use std::process::ExitCode;

use clap::Parser;

// The configuration commands build and drop hundreds of thousands of small
// values (a 10,000-variable dictionary is parsed on several threads):
// jemalloc does that markedly faster than glibc's malloc, for a lower peak
// memory than mimalloc (docs/PERFORMANCE.md).
#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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
