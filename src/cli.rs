//! The command line as clap sees it (raw), and its conversion to a resolved
//! [`Settings`] that the rest of the program uses. Nothing past `app::run`
//! sees [`Cli`]. Help texts are the doc comments below: keep them true.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// brise: configuration generator for containerised services on school servers.
///
/// Dictionaries (Rougail 1.1 YAML) describe every setting; values.yml holds what
/// the administrator set; `gen_config` renders service configuration from
/// templates; `reconfigure` converges the containers to the declared state.
#[derive(Debug, Parser)]
#[command(
    name = "brise",
    version = crate::version::VERSION,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command: where dictionaries, templates and values are.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Directory of dictionaries, loaded in the given order (repeatable).
    /// Default: /usr/share/brise/dictionaries then /etc/brise/dictionaries.
    #[arg(long = "dictionaries", short = 'd', value_name = "DIR", global = true)]
    pub dictionaries: Vec<PathBuf>,

    /// Extra namespace NAME loaded from DIR, after the main one (repeatable).
    #[arg(long = "extra", value_name = "NAME=DIR", global = true)]
    pub extra: Vec<String>,

    /// Main namespace: every path is prefixed with it (`NAME.family.variable`).
    /// Default: no namespace.
    #[arg(long, value_name = "NAME", global = true)]
    pub namespace: Option<String>,

    /// Template directory, later ones override earlier ones by name (repeatable).
    /// Default: /usr/share/brise/templates then /etc/brise/templates.
    #[arg(long = "templates", short = 't', value_name = "DIR", global = true)]
    pub templates: Vec<PathBuf>,

    /// The values file (what the administrator set).
    #[arg(
        long,
        value_name = "FILE",
        global = true,
        env = "BRISE_VALUES",
        default_value = "/etc/brise/values.yml"
    )]
    pub values: PathBuf,

    /// State directory (manifest of generated files, lock, operation log).
    #[arg(
        long,
        value_name = "DIR",
        global = true,
        env = "BRISE_STATE_DIR",
        default_value = "/var/lib/brise"
    )]
    pub state_dir: PathBuf,

    /// Hook directories root (holds preservice.d, pretemplate.d, posttemplate.d, postservice.d).
    #[arg(
        long,
        value_name = "DIR",
        global = true,
        env = "BRISE_HOOKS_DIR",
        default_value = "/usr/share/brise/hooks"
    )]
    pub hooks_dir: PathBuf,

    /// Fail at once instead of waiting when another brise run holds the lock.
    #[arg(long, global = true)]
    pub no_wait: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load dictionaries and values, print every error and warning; exit 1 on error.
    Check(CheckArgs),
    /// Print every value (or the flat JSON view with --json).
    Show(ShowArgs),
    /// Print one value, or every `path=value` line with --list (EOLE's CreoleGet).
    Get(GetArgs),
    /// Validate and store a value, or return to the default (EOLE's CreoleSet).
    Set(SetArgs),
    /// Print Markdown documentation of the loaded dictionaries.
    Doc(DocArgs),
    /// Import an EOLE config.eol (JSON) into the values file.
    #[command(name = "import-eol")]
    ImportEol(ImportEolArgs),
    /// Render every template and install what changed (nginx files checked with `nginx -t`).
    #[command(name = "gen_config", alias = "gen-config")]
    GenConfig(GenConfigArgs),
    /// Run hooks and gen_config, then converge the containers to the declared state.
    Reconfigure(ReconfigureArgs),
    /// Show whether values differ from the last applied ones, and every container's state.
    Status(StatusArgs),
    /// Re-apply the last configuration that applied successfully (values.applied.yml).
    Rollback(RollbackArgs),
    /// Serve the web configuration form.
    Serve(ServeArgs),
    /// Set the password of a web form user (argon2 hash file).
    Passwd(PasswdArgs),
    /// Export the declared containers for another orchestrator.
    Export(ExportArgs),
    /// Generate man pages or shell completions from this command line definition.
    #[command(hide = true)]
    Generate(GenerateArgs),
    /// For internal use only: the single-threaded liblxc helper process.
    #[command(name = "lxc-helper", hide = true)]
    LxcHelper,
}

#[derive(Debug, Args)]
pub struct CheckArgs {}

/// Which variables a view shows: EOLE's basique / normal / expert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    Basic,
    Standard,
    Advanced,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Print the flat JSON view (one key per variable path).
    #[arg(long)]
    pub json: bool,
    /// Show only the variables of this mode and lower ones.
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,
    /// Print secret values in clear (root only).
    #[arg(long)]
    pub show_secrets: bool,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// Variable path.
    #[arg(required_unless_present = "list", conflicts_with = "list")]
    pub variable: Option<String>,
    /// Print every `path=value` line.
    #[arg(long)]
    pub list: bool,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// Variable path.
    pub variable: String,
    /// New value (several for a multi-valued variable).
    // `id = "value"`: the id `values` is the global `--values FILE`, and two
    // arguments sharing an id make clap panic when `set` is parsed.
    #[arg(
        id = "value",
        value_name = "VALUE",
        required_unless_present = "default",
        conflicts_with = "default",
        num_args = 0..
    )]
    pub values: Vec<String>,
    /// Return the variable to its default value.
    #[arg(long)]
    pub default: bool,
}

#[derive(Debug, Args)]
pub struct DocArgs {}

#[derive(Debug, Args)]
pub struct ImportEolArgs {
    /// The config.eol file (JSON `{"var": {"val": …, "owner": …}}`).
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct GenConfigArgs {
    /// Write under this root instead of / (tests, chroots).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// Write nothing; list what would change.
    #[arg(long)]
    pub dry_run: bool,
    /// Print unified diffs of what changes.
    #[arg(long)]
    pub diff: bool,
    /// The nginx program used to check (`nginx -t`) and reload the nginx files.
    #[arg(
        long,
        value_name = "PROGRAM",
        env = "BRISE_NGINX",
        default_value = "nginx"
    )]
    pub nginx: PathBuf,
    /// nginx main configuration file (resolved under --root); the candidate
    /// files are checked in a copy of its directory.
    #[arg(long, value_name = "FILE", default_value = "/etc/nginx/nginx.conf")]
    pub nginx_conf: PathBuf,
    /// Write the files but reload no service.
    #[arg(long)]
    pub no_reload: bool,
}

#[derive(Debug, Args)]
pub struct ReconfigureArgs {
    /// Write generated files under this root instead of / (tests, chroots).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run, print the plan as JSON.
    #[arg(long)]
    pub json: bool,
    /// Recreate these non-persistent containers from their image.
    #[arg(long, value_name = "NAME", num_args = 1..)]
    pub fresh: Vec<String>,
    /// Recreate every non-persistent container from its image.
    #[arg(long)]
    pub fresh_all: bool,
    /// Recreate these persistent containers (their filesystem is saved first).
    #[arg(long, value_name = "NAME", num_args = 1..)]
    pub recreate: Vec<String>,
    /// How many containers are converged at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub parallel: usize,
    /// Run the Docker containers on this engine instead of the one the
    /// configuration chooses (`containers.engine`).
    #[arg(long, value_enum, value_name = "ENGINE")]
    pub engine: Option<EngineArg>,
    /// For internal testing only: consider only the containers whose name
    /// starts with PREFIX (tests share one engine).
    #[arg(long, value_name = "PREFIX", hide = true)]
    pub scope: Option<String>,
}

/// Where the containers of technology `docker` run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    /// One Docker engine on this machine.
    Docker,
    /// Docker Swarm services (this machine must be a Swarm manager).
    Swarm,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Write generated files under this root instead of / (tests, chroots).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// For internal testing only: consider only the containers whose name
    /// starts with PREFIX (tests share one engine).
    #[arg(long, value_name = "PREFIX", hide = true)]
    pub scope: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on (this machine only by default; put an
    /// https reverse proxy in front to reach it from elsewhere).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8470")]
    pub listen: std::net::SocketAddr,
    /// The users file written by `brise passwd`.
    #[arg(
        long,
        value_name = "FILE",
        env = "BRISE_WEB_USERS",
        default_value = "/etc/brise/web-users"
    )]
    pub users_file: PathBuf,
    /// For internal testing only (with --scope or --runtime fake): the apply
    /// button writes generated files under this root instead of /.
    #[arg(long, value_name = "DIR", default_value = "/", hide = true)]
    pub root: PathBuf,
    /// For internal testing only (with --scope or --runtime fake): the nginx
    /// program checking and reloading the nginx files.
    #[arg(long, value_name = "PROGRAM", default_value = "nginx", hide = true)]
    pub nginx: PathBuf,
    /// For internal testing only (with --scope or --runtime fake): nginx main
    /// configuration file (resolved under --root).
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/etc/nginx/nginx.conf",
        hide = true
    )]
    pub nginx_conf: PathBuf,
    /// For internal testing only: apply against this runtime instead of the real engines.
    #[arg(long, value_enum, hide = true, default_value = "real")]
    pub runtime: ServeRuntime,
    /// For internal testing only: the apply button sees only the managed
    /// containers whose name starts with PREFIX (tests on a shared engine).
    #[arg(long, value_name = "PREFIX", hide = true)]
    pub scope: Option<String>,
}

/// What the web form's apply button drives (internal testing switch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServeRuntime {
    /// The real engines (Docker, LXC), as `brise reconfigure`.
    Real,
    /// For internal testing only: an in-memory runtime.
    Fake,
}

#[derive(Debug, Args)]
pub struct PasswdArgs {
    /// User name.
    #[arg(default_value = "admin")]
    pub user: String,
    /// Remove the user instead of setting a password.
    #[arg(long)]
    pub delete: bool,
    /// The users file read by `brise serve` (created mode 0600 if missing).
    #[arg(
        long,
        value_name = "FILE",
        env = "BRISE_WEB_USERS",
        default_value = "/etc/brise/web-users"
    )]
    pub users_file: PathBuf,
}

/// Target format of `brise export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Compose,
    Kubernetes,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to export to: a Compose file (docker-compose, `docker stack
    /// deploy`) or Kubernetes objects (Deployments, Services,
    /// PersistentVolumeClaims, Ingresses).
    #[arg(value_enum)]
    pub format: ExportFormat,
    /// Write to this file (atomically) instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// What `brise generate` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenerateWhat {
    Man,
    Completions,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Man pages or shell completions.
    #[arg(value_enum)]
    pub what: GenerateWhat,
    /// Output directory.
    pub dir: PathBuf,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }
}
