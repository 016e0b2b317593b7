//! The application shell: turns the parsed command line into [`Settings`],
//! dispatches to the command, and defines the exit-code policy in one place
//! (0 success or nothing to do, 1 invalid input, 2 runtime or system failure).

use std::path::PathBuf;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::commands;

/// Shipped dictionaries, loaded first.
pub const SHIPPED_DICTIONARIES: &str = "/usr/share/brise/dictionaries";
/// Local dictionaries, loaded after the shipped ones (may `redefine`).
pub const LOCAL_DICTIONARIES: &str = "/etc/brise/dictionaries";
/// Shipped templates and their catalogue.
pub const SHIPPED_TEMPLATES: &str = "/usr/share/brise/templates";
/// Local templates, overriding shipped ones by name.
pub const LOCAL_TEMPLATES: &str = "/etc/brise/templates";

/// Where a directory list came from: defaults may be absent on disk, explicit ones may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Default,
    Explicit,
}

/// The resolved global settings every command works with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub dictionaries: Vec<PathBuf>,
    pub dictionaries_origin: Origin,
    pub extra_namespaces: Vec<(String, PathBuf)>,
    pub namespace: Option<String>,
    pub templates: Vec<PathBuf>,
    pub templates_origin: Origin,
    pub values: PathBuf,
    pub state_dir: PathBuf,
    pub hooks_dir: PathBuf,
    pub no_wait: bool,
}

impl TryFrom<GlobalArgs> for Settings {
    type Error = Failure;

    fn try_from(args: GlobalArgs) -> Result<Self, Failure> {
        let (dictionaries, dictionaries_origin) = if args.dictionaries.is_empty() {
            (
                vec![
                    PathBuf::from(SHIPPED_DICTIONARIES),
                    PathBuf::from(LOCAL_DICTIONARIES),
                ],
                Origin::Default,
            )
        } else {
            (args.dictionaries, Origin::Explicit)
        };
        let (templates, templates_origin) = if args.templates.is_empty() {
            (
                vec![
                    PathBuf::from(SHIPPED_TEMPLATES),
                    PathBuf::from(LOCAL_TEMPLATES),
                ],
                Origin::Default,
            )
        } else {
            (args.templates, Origin::Explicit)
        };
        let mut extra_namespaces = Vec::with_capacity(args.extra.len());
        for extra in args.extra {
            let Some((name, dir)) = extra.split_once('=') else {
                return Err(Failure::invalid(anyhow::anyhow!(
                    "`--extra {extra}`: expected NAME=DIR"
                )));
            };
            if name.is_empty() || dir.is_empty() {
                return Err(Failure::invalid(anyhow::anyhow!(
                    "`--extra {extra}`: expected NAME=DIR"
                )));
            }
            extra_namespaces.push((name.to_owned(), PathBuf::from(dir)));
        }
        Ok(Self {
            dictionaries,
            dictionaries_origin,
            extra_namespaces,
            namespace: args.namespace,
            templates,
            templates_origin,
            values: args.values,
            state_dir: args.state_dir,
            hooks_dir: args.hooks_dir,
            no_wait: args.no_wait,
        })
    }
}

/// Why a command failed, and so which exit code it gets.
#[derive(Debug)]
pub enum Failure {
    /// Invalid input (dictionary, values, template, arguments): exit 1.
    Invalid(anyhow::Error),
    /// The system or a runtime failed (engine, nginx, filesystem): exit 2.
    System(anyhow::Error),
    /// The command already printed what went wrong; exit with this code.
    Reported(u8),
}

impl Failure {
    pub fn invalid(error: impl Into<anyhow::Error>) -> Self {
        Self::Invalid(error.into())
    }

    pub fn system(error: impl Into<anyhow::Error>) -> Self {
        Self::System(error.into())
    }

    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Invalid(_) => 1,
            Self::System(_) => 2,
            Self::Reported(code) => *code,
        }
    }

    /// Print the error and its causes on standard error.
    pub fn report(&self) {
        match self {
            Self::Invalid(error) | Self::System(error) => {
                #[allow(clippy::print_stderr)]
                {
                    eprintln!("brise: {error:#}");
                }
            }
            Self::Reported(_) => {}
        }
    }
}

/// Run one command line.
pub fn run(cli: Cli) -> Result<(), Failure> {
    let settings = Settings::try_from(cli.global)?;
    match cli.command {
        Command::Check(args) => commands::check::run(&settings, &args),
        Command::Show(args) => commands::show::run(&settings, &args),
        Command::Get(args) => commands::get::run(&settings, &args),
        Command::Set(args) => commands::set::run(&settings, &args),
        Command::Doc(args) => commands::doc::run(&settings, &args),
        Command::ImportEol(args) => commands::import_eol::run(&settings, &args),
        Command::GenConfig(args) => commands::gen_config::run(&settings, &args),
        Command::Reconfigure(args) => commands::reconfigure::run(&settings, &args),
        Command::Status(args) => commands::status::run(&settings, &args),
        Command::Rollback(args) => commands::rollback::run(&settings, &args),
        Command::Serve(args) => commands::serve::run(&settings, &args),
        Command::Passwd(args) => commands::passwd::run(&settings, &args),
        Command::Export(args) => commands::export::run(&settings, &args),
        Command::Generate(args) => commands::generate::run(&args),
        Command::LxcHelper => commands::lxc_helper::run(),
    }
}
