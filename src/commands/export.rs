//! `brise export compose|kubernetes [--output FILE]`: the declared containers
//! (validated as `reconfigure` validates them) as a Compose file or as
//! Kubernetes objects, on standard output or written atomically to a file.
//! Warnings about what does not carry over go to standard error.

use std::io::Write as _;

use anyhow::{Context as _, anyhow};

use crate::app::{Failure, Settings};
use crate::cli::{ExportArgs, ExportFormat};
use crate::commands::loading;
use crate::containers::{self, ContainerSpec};
use crate::export::{self, Target};
use crate::output::atomic;
use crate::render::Configuration;
use crate::values::Config;

impl From<ExportFormat> for Target {
    fn from(format: ExportFormat) -> Self {
        match format {
            ExportFormat::Compose => Self::Compose,
            ExportFormat::Kubernetes => Self::Kubernetes,
        }
    }
}

/// Load dictionaries and values; a configuration with errors exports nothing
/// (every error is printed with its location, exit 1).
fn load_configuration(settings: &Settings) -> Result<Config, Failure> {
    let (schema, raw, config) = loading::configuration(settings)?;
    let errors: Vec<_> = config.errors().collect();
    if errors.is_empty() {
        return Ok(config);
    }
    let mut err = std::io::stderr().lock();
    for issue in &errors {
        let _ = writeln!(err, "{}", loading::issue_diagnostic(&schema, &raw, issue));
    }
    let _ = writeln!(
        err,
        "brise: {} error(s) in the configuration: nothing was exported",
        errors.len()
    );
    Err(Failure::Reported(1))
}

/// The declared containers of a configuration, every cross-container error at once.
///
/// # Errors
/// [`Failure::Invalid`] listing every invalid container setting.
pub fn desired(config: &dyn Configuration) -> Result<Vec<ContainerSpec>, Failure> {
    containers::desired(config).map_err(|errors| {
        Failure::invalid(anyhow!(
            "{}\nnothing was exported",
            errors
                .iter()
                .map(|error| format!("error: {error}"))
                .collect::<Vec<_>>()
                .join("\n")
        ))
    })
}

/// Export `desired` as `args` asks: the text on standard output, or written to `--output`.
///
/// # Errors
/// A container cannot be exported (invalid), or the file cannot be written (system).
pub fn write(desired: &[ContainerSpec], args: &ExportArgs) -> Result<(), Failure> {
    let exported = export::export(desired, args.format.into()).map_err(Failure::invalid)?;
    for warning in &exported.warnings {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("brise: warning: {warning}");
        }
    }
    match &args.output {
        Some(path) => atomic::write(path, exported.text.as_bytes(), None)
            .with_context(|| format!("cannot write the export to `{}`", path.display()))
            .map_err(Failure::system),
        None => {
            #[allow(clippy::print_stdout)]
            {
                print!("{}", exported.text);
            }
            Ok(())
        }
    }
}

pub fn run(settings: &Settings, args: &ExportArgs) -> Result<(), Failure> {
    let config = load_configuration(settings)?;
    let desired = desired(&config)?;
    write(&desired, args)
}
