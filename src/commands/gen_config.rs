//! `brise gen_config`: validate the configuration (dictionaries, values, the
//! checks across containers), render every template in memory, then plan and
//! install only what changed behind the nginx gate. [`generate`] is the same
//! work without printing, for `reconfigure`.

use std::path::PathBuf;

use super::loading;
use crate::app::{Failure, Settings};
use crate::cli::GenConfigArgs;
use crate::containers;
use crate::diagnostic::Diagnostics;
use crate::output::{self, ApplyOptions, NginxSettings, OutputError, Plan, Report};
use crate::render::{self, Configuration, Rendered, Renderer};
use crate::values::Config;

/// How to run gen_config.
#[derive(Debug, Clone)]
pub struct Options {
    /// Write under this root instead of `/`.
    pub root: PathBuf,
    /// Plan and check only.
    pub dry_run: bool,
    pub nginx: NginxSettings,
    /// Reload the services whose files changed.
    pub reload: bool,
    /// Now, for the names of kept-aside files.
    pub now: jiff::Timestamp,
    /// Forget the undo journal once the files are installed (gen_config);
    /// `reconfigure` keeps it until the containers converged, to put the
    /// files back if they do not.
    pub commit: bool,
}

impl Options {
    #[must_use]
    pub fn from_args(args: &GenConfigArgs, now: jiff::Timestamp) -> Self {
        Self {
            root: args.root.clone(),
            dry_run: args.dry_run,
            nginx: NginxSettings {
                binary: args.nginx.clone(),
                conf: args.nginx_conf.clone(),
            },
            reload: !args.no_reload,
            now,
            commit: true,
        }
    }
}

impl Options {
    /// How to install (and undo) the files.
    #[must_use]
    pub fn apply_options(&self) -> ApplyOptions {
        ApplyOptions {
            nginx: self.nginx.clone(),
            reload: self.reload,
            now: self.now,
        }
    }
}

/// Why gen_config stopped.
#[derive(Debug)]
pub enum GenConfigError {
    /// Dictionaries, values or templates are invalid: every problem, with its location.
    Invalid(Diagnostics),
    /// Settings that span several containers are invalid.
    Containers(Vec<containers::ValidationError>),
    /// Installing the files failed (nginx refused them, an I/O error, …).
    Output(OutputError),
    /// Anything else (unreadable directories, …).
    System(anyhow::Error),
}

impl std::fmt::Display for GenConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Invalid(diagnostics) => write!(f, "{diagnostics}"),
            Self::Containers(errors) => {
                for (i, error) in errors.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "error: {error}")?;
                }
                Ok(())
            }
            Self::Output(error) => write!(f, "{error}"),
            Self::System(error) => write!(f, "{error:#}"),
        }
    }
}

impl From<GenConfigError> for Failure {
    fn from(error: GenConfigError) -> Self {
        match error {
            GenConfigError::Invalid(_) | GenConfigError::Containers(_) => {
                #[allow(clippy::print_stderr)]
                {
                    eprintln!("{error}");
                }
                Self::Reported(1)
            }
            GenConfigError::Output(error) if error.is_invalid_configuration() => {
                Self::invalid(error)
            }
            GenConfigError::Output(error) => Self::system(error),
            GenConfigError::System(error) => Self::system(error),
        }
    }
}

/// What a gen_config run found and did.
#[derive(Debug)]
pub struct Generated {
    pub rendered: Rendered,
    pub plan: Plan,
    /// `None` with `--dry-run`.
    pub report: Option<Report>,
    /// With `--dry-run`: why the checks (`nginx -t`) refused the new files.
    pub refused: Option<OutputError>,
}

/// Load and validate the configuration, then [`generate_for`]. Dictionary
/// and value errors are printed on standard error (exit 1).
pub fn generate(settings: &Settings, options: &Options) -> Result<Generated, Failure> {
    let config = load_configuration(settings)?;
    Ok(generate_for(&config, settings, options)?)
}

/// [`generate`] for an already loaded and validated configuration.
pub fn generate_for(
    config: &dyn Configuration,
    settings: &Settings,
    options: &Options,
) -> Result<Generated, GenConfigError> {
    containers::desired(config).map_err(GenConfigError::Containers)?;
    let templates = render::load(
        &settings.templates,
        settings.templates_origin == crate::app::Origin::Default,
    )
    .map_err(|error| match error {
        render::LoadError::Invalid(diagnostics) => GenConfigError::Invalid(diagnostics),
        e @ (render::LoadError::NotUtf8 { .. } | render::LoadError::TooLarge { .. }) => {
            GenConfigError::Invalid(Diagnostics(vec![crate::diagnostic::Diagnostic::error(
                None,
                e.to_string(),
            )]))
        }
        other => GenConfigError::System(other.into()),
    })?;
    let renderer = Renderer::new(&templates).map_err(GenConfigError::Invalid)?;
    let rendered = renderer.render(config).map_err(GenConfigError::Invalid)?;
    let plan = output::plan(&rendered, &options.root, &settings.state_dir)
        .map_err(GenConfigError::Output)?;
    if options.dry_run {
        let refused = output::check(&plan, &options.nginx).err();
        return Ok(Generated {
            rendered,
            plan,
            report: None,
            refused,
        });
    }
    let install = if options.commit {
        output::apply
    } else {
        output::apply_uncommitted
    };
    let report = install(&plan, &options.apply_options()).map_err(GenConfigError::Output)?;
    Ok(Generated {
        rendered,
        plan,
        report: Some(report),
        refused: None,
    })
}

/// Load the dictionaries and values and validate them, as `brise check`
/// does: every error and warning printed, exit 1 on error.
pub fn load_configuration(settings: &Settings) -> Result<Config, Failure> {
    let (schema, raw, config) = loading::configuration(settings)?;
    for warning in schema.warnings() {
        print_error(&warning.to_string());
    }
    let mut errors = 0_usize;
    for issue in config.issues() {
        if issue.is_error() {
            errors += 1;
        }
        print_error(&loading::issue_diagnostic(&schema, &raw, issue).to_string());
    }
    if errors > 0 {
        print_error(&format!(
            "brise: {errors} error(s) in the configuration, nothing was rendered"
        ));
        return Err(Failure::Reported(1));
    }
    Ok(config)
}

fn print_error(line: &str) {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("{line}");
    }
}

pub fn run(settings: &Settings, args: &GenConfigArgs) -> Result<(), Failure> {
    let options = Options::from_args(args, jiff::Timestamp::now());
    let _lock = if options.dry_run {
        None
    } else {
        let lock = super::locking::hold(
            settings,
            &super::locking::state_dir(settings, &options.root),
            "gen_config",
            &super::locking::to_stderr,
        )?;
        super::locking::recover(
            settings,
            &options.root,
            &options.apply_options(),
            &super::locking::to_stderr,
        )?;
        Some(lock)
    };
    let config = load_configuration(settings)?;
    let generated = generate_for(&config, settings, &options)?;
    let mut out = String::new();
    if args.diff {
        // A template may write a secret into a file: never into the terminal.
        let mut diff = generated.plan.diff();
        for secret in config.secret_values() {
            diff = diff.replace(&secret, crate::values::SECRET_MASK);
        }
        out.push_str(&diff);
    }
    match &generated.report {
        Some(report) => out.push_str(&report.to_string()),
        None => out.push_str(&generated.plan.describe()),
    }
    #[allow(clippy::print_stdout)]
    {
        print!("{out}");
    }
    match generated.refused {
        Some(error) => Err(GenConfigError::Output(error).into()),
        None => Ok(()),
    }
}

/// gen_config for `reconfigure`'s pipeline: a validated configuration with
/// the settings and options to render and install it.
pub struct Pipeline {
    pub config: Box<dyn Configuration + Send>,
    pub settings: Settings,
    pub options: Options,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    fn manifest_path(&self) -> PathBuf {
        output::under_root(
            &self.options.root,
            &self.settings.state_dir.join(output::manifest::FILE_NAME),
        )
    }
}

impl super::reconfigure::Generate for Pipeline {
    fn generate(&mut self, dry_run: bool) -> Result<String, Failure> {
        let options = Options {
            dry_run,
            commit: false,
            ..self.options.clone()
        };
        let generated = generate_for(self.config.as_ref(), &self.settings, &options)?;
        if let Some(error) = generated.refused {
            return Err(GenConfigError::Output(error).into());
        }
        Ok(match &generated.report {
            Some(report) => report.to_string(),
            None => generated.plan.describe(),
        })
    }

    fn commit(&mut self) -> Result<(), Failure> {
        output::journal::commit(&self.manifest_path())
            .map_err(|error| Failure::system(OutputError::from(error)))
    }

    fn undo(&mut self) -> Result<Option<output::Undone>, Failure> {
        output::undo(
            &self.manifest_path(),
            &self.options.root,
            &self.options.apply_options(),
        )
        .map_err(Failure::system)
    }
}
