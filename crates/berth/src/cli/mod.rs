//! The docker-compatible command line: clap definitions and dispatch.

pub mod container;
pub mod image;
pub mod opts;
pub mod reference;
pub mod stream;
pub mod system;
pub mod usage;

use std::sync::Arc;
use std::time::Duration;

use berth_client::Client;
use clap::{ArgAction, Args, Parser, Subcommand};

use crate::format::template::{Ctx, TemplateError};
use opts::ContainerOpts;

/// A command's failure: the exit code and what to print on stderr (may be empty).
#[derive(Debug)]
pub struct Failure {
    /// Exit code.
    pub code: i32,
    /// Message (printed with a newline unless empty).
    pub msg: String,
}

impl Failure {
    /// Exit code 1 with a message.
    pub fn msg(msg: impl Into<String>) -> Self {
        Failure {
            code: 1,
            msg: msg.into(),
        }
    }
}

impl From<berth_client::Error> for Failure {
    fn from(e: berth_client::Error) -> Self {
        Failure::msg(e.to_string())
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::msg(e.to_string())
    }
}

impl Failure {
    /// docker's failure for a `--format` template error of a command.
    pub fn template(ctx: Ctx) -> impl Fn(TemplateError) -> Failure {
        move |e| {
            let (code, msg) = ctx.failure(&e);
            Failure { code, msg }
        }
    }
}

/// Go's wording of an I/O error (`no such file or directory`), as docker prints it.
pub fn io_msg(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "is a directory".into(),
        _ => {
            // "Not a directory (os error 20)" → "not a directory".
            let s = e.to_string();
            let s = s.split(" (os error").next().unwrap_or(&s).to_string();
            let mut c = s.chars();
            match c.next() {
                Some(f) => f.to_lowercase().chain(c).collect(),
                None => s,
            }
        }
    }
}

/// Result of a command: the exit code.
pub type Res = Result<i32, Failure>;

#[derive(Parser, Debug)]
#[command(
    name = "berth",
    about = "A self-sufficient runtime for containers",
    version,
    disable_help_subcommand = true
)]
pub struct Cli {
    /// Daemon socket to connect to
    #[arg(short = 'H', long = "host")]
    pub host: Option<String>,
    /// Set the logging level ("debug", "info", "warn", "error", "fatal")
    #[arg(short = 'l', long = "log-level", default_value = "info")]
    pub log_level: String,
    /// Enable debug mode
    #[arg(short = 'D', long = "debug")]
    pub debug: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// `run` flags.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    #[command(flatten)]
    pub opts: ContainerOpts,
    /// Run container in background and print container ID
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys")]
    pub detach_keys: Option<String>,
    /// Proxy received signals to the process
    #[arg(long = "sig-proxy", default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub sig_proxy: bool,
    /// IMAGE [COMMAND] [ARG...]
    #[arg(
        trailing_var_arg = true,
        required = true,
        value_name = "IMAGE [COMMAND] [ARG...]"
    )]
    pub args: Vec<String>,
}

/// `create` flags.
#[derive(Args, Debug, Clone)]
pub struct CreateArgs {
    #[command(flatten)]
    pub opts: ContainerOpts,
    /// IMAGE [COMMAND] [ARG...]
    #[arg(
        trailing_var_arg = true,
        required = true,
        value_name = "IMAGE [COMMAND] [ARG...]"
    )]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct StartArgs {
    /// Attach STDOUT/STDERR and forward signals
    #[arg(short = 'a', long)]
    pub attach: bool,
    /// Attach container's STDIN
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys")]
    pub detach_keys: Option<String>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct StopArgs {
    /// Signal to send to the container
    #[arg(short = 's', long)]
    pub signal: Option<String>,
    /// Seconds to wait before killing the container
    #[arg(
        short = 't',
        long = "timeout",
        alias = "time",
        allow_hyphen_values = true
    )]
    pub time: Option<i64>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct KillArgs {
    /// Signal to send to the container
    #[arg(short = 's', long)]
    pub signal: Option<String>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL)
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Remove anonymous volumes associated with the container
    #[arg(short = 'v', long)]
    pub volumes: bool,
    /// Remove the specified link
    #[arg(short = 'l', long)]
    pub link: bool,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only display container IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Show n last created containers (includes all states)
    #[arg(short = 'n', long = "last", default_value_t = -1, allow_hyphen_values = true)]
    pub last: i64,
    /// Show the latest created container (includes all states)
    #[arg(short = 'l', long)]
    pub latest: bool,
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter")]
    pub filter: Vec<String>,
    /// Format output using a custom template
    #[arg(long)]
    pub format: Option<String>,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Display total file sizes
    #[arg(short = 's', long)]
    pub size: bool,
}

#[derive(Args, Debug, Clone)]
pub struct LogsArgs {
    /// Show extra details provided to logs
    #[arg(long)]
    pub details: bool,
    /// Follow log output
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Show logs since timestamp or relative
    #[arg(long)]
    pub since: Option<String>,
    /// Number of lines to show from the end of the logs
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    /// Show timestamps
    #[arg(short = 't', long)]
    pub timestamps: bool,
    /// Show logs before a timestamp or relative
    #[arg(long)]
    pub until: Option<String>,
    pub container: String,
}

#[derive(Args, Debug, Clone)]
pub struct ExecArgs {
    /// Detached mode: run command in the background
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys")]
    pub detach_keys: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file")]
    pub env_file: Vec<String>,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Give extended privileges to the command
    #[arg(long)]
    pub privileged: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Username or UID (format: "<name|uid>[:<group|gid>]")
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    /// CONTAINER COMMAND [ARG...]
    #[arg(trailing_var_arg = true, required = true, num_args = 2.., value_name = "CONTAINER COMMAND [ARG...]")]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct AttachArgs {
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys")]
    pub detach_keys: Option<String>,
    /// Do not attach STDIN
    #[arg(long = "no-stdin")]
    pub no_stdin: bool,
    /// Proxy all received signals to the process
    #[arg(long = "sig-proxy", default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub sig_proxy: bool,
    pub container: String,
}

#[derive(Args, Debug, Clone)]
pub struct InspectArgs {
    /// Format output using a custom template
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Display total file sizes if the type is container
    #[arg(short = 's', long)]
    pub size: bool,
    /// Return JSON for specified type
    #[arg(long = "type")]
    pub kind: Option<String>,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct NamesArgs {
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct RestartArgs {
    /// Signal to send to the container
    #[arg(short = 's', long)]
    pub signal: Option<String>,
    /// Seconds to wait before killing the container
    #[arg(
        short = 't',
        long = "timeout",
        alias = "time",
        allow_hyphen_values = true
    )]
    pub time: Option<i64>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct TopArgs {
    pub container: String,
    /// [ps OPTIONS]
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    pub container: String,
}

#[derive(Args, Debug, Clone, Default)]
pub struct ImagesArgs {
    /// Show all images (default hides intermediate images)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only show image IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Show digests
    #[arg(long)]
    pub digests: bool,
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter")]
    pub filter: Vec<String>,
    /// Format output using a custom template
    #[arg(long)]
    pub format: Option<String>,
    /// [REPOSITORY[:TAG]]
    pub reference: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct RmiArgs {
    /// Force removal of the image
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Do not delete untagged parents
    #[arg(long = "no-prune")]
    pub no_prune: bool,
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct TagArgs {
    pub source: String,
    pub target: String,
}

#[derive(Args, Debug, Clone)]
pub struct HistoryArgs {
    /// Print sizes and dates in human readable format
    #[arg(short = 'H', long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub human: bool,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only show image IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Format output using a custom template
    #[arg(long)]
    pub format: Option<String>,
    pub image: String,
}

#[derive(Args, Debug, Clone)]
pub struct ImportArgs {
    /// Apply Dockerfile instruction to the created image
    #[arg(short = 'c', long = "change")]
    pub change: Vec<String>,
    /// Set commit message for imported image
    #[arg(short = 'm', long)]
    pub message: Option<String>,
    /// Set platform if server is multi-platform capable
    #[arg(long)]
    pub platform: Option<String>,
    /// file|URL|-
    pub source: String,
    /// [REPOSITORY[:TAG]]
    pub reference: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct EventsArgs {
    /// Show all events created since timestamp
    #[arg(long)]
    pub since: Option<String>,
    /// Stream events until this timestamp
    #[arg(long)]
    pub until: Option<String>,
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter")]
    pub filter: Vec<String>,
    /// Format output using a custom template
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct FormatArgs {
    /// Format output using a custom template
    #[arg(short = 'f', long)]
    pub format: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct DaemonArgs {
    /// Daemon socket(s) to listen on
    #[arg(short = 'H', long = "host")]
    pub host: Vec<String>,
    /// Root directory of persistent state
    #[arg(
        long = "data-root",
        env = "BERTH_DATA_ROOT",
        default_value = "/var/lib/berth"
    )]
    pub data_root: String,
    /// Root directory for execution state files
    #[arg(
        long = "exec-root",
        env = "BERTH_EXEC_ROOT",
        default_value = "/run/berth"
    )]
    pub exec_root: String,
    /// Set the logging level
    #[arg(short = 'l', long = "log-level")]
    pub log_level: Option<String>,
    /// Enable debug mode
    #[arg(short = 'D', long = "debug")]
    pub debug: bool,
}

/// Container commands, top level and under `container`.
#[derive(Subcommand, Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum ContainerCmd {
    /// Create and run a new container from an image
    #[command(disable_help_flag = true)]
    Run(RunArgs),
    /// Create a new container
    #[command(disable_help_flag = true)]
    Create(CreateArgs),
    /// Start one or more stopped containers
    Start(StartArgs),
    /// Stop one or more running containers
    Stop(StopArgs),
    /// Kill one or more running containers
    Kill(KillArgs),
    /// Restart one or more containers
    Restart(RestartArgs),
    /// Remove one or more containers
    Rm(RmArgs),
    /// Fetch the logs of a container
    Logs(LogsArgs),
    /// Execute a command in a running container
    Exec(ExecArgs),
    /// Attach local standard input, output, and error streams to a running container
    Attach(AttachArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(NamesArgs),
    /// Rename a container
    Rename { container: String, new_name: String },
    /// Pause all processes within one or more containers
    Pause(NamesArgs),
    /// Unpause all processes within one or more containers
    Unpause(NamesArgs),
    /// Display the running processes of a container
    Top(TopArgs),
    /// Export a container's filesystem as a tar archive
    Export(ExportArgs),
}

#[derive(Subcommand, Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum ContainerSub {
    #[command(flatten)]
    Common(ContainerCmd),
    /// List containers
    #[command(visible_aliases = ["ps", "list"])]
    Ls(PsArgs),
    /// Display detailed information on one or more containers
    Inspect(InspectArgs),
}

#[derive(Subcommand, Debug, Clone)]
pub enum ImageSub {
    /// List images
    #[command(visible_alias = "list")]
    Ls(ImagesArgs),
    /// Display detailed information on one or more images
    Inspect(InspectArgs),
    /// Remove one or more images
    #[command(visible_alias = "remove")]
    Rm(RmiArgs),
    /// Show the history of an image
    History(HistoryArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(TagArgs),
    /// Import the contents from a tarball to create a filesystem image
    Import(ImportArgs),
}

#[derive(Subcommand, Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Command {
    #[command(flatten)]
    Container(ContainerCmd),
    /// List containers
    Ps(PsArgs),
    /// Return low-level information on Docker objects
    Inspect(InspectArgs),
    /// List images
    Images(ImagesArgs),
    /// Remove one or more images
    Rmi(RmiArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(TagArgs),
    /// Show the history of an image
    History(HistoryArgs),
    /// Import the contents from a tarball to create a filesystem image
    Import(ImportArgs),
    /// Get real time events from the server
    Events(EventsArgs),
    /// Show the berth version information
    Version(FormatArgs),
    /// Display system-wide information
    Info(FormatArgs),
    /// Manage containers
    #[command(name = "container", subcommand)]
    ContainerGroup(ContainerSub),
    /// Manage images
    #[command(name = "image", subcommand)]
    ImageGroup(ImageSub),
    /// Run the engine daemon
    Daemon(DaemonArgs),
}

/// The clap command, with pflag's rule that a repeated flag takes the last value.
fn command() -> clap::Command {
    fn last_wins(c: clap::Command) -> clap::Command {
        c.args_override_self(true).mut_subcommands(last_wins)
    }
    last_wins(<Cli as clap::CommandFactory>::command())
}

/// Parses, runs, returns the exit code.
pub fn main(args: Vec<String>) -> i32 {
    let parsed = command()
        .try_get_matches_from(&args)
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => {
            let root = command();
            return match usage::translate(&e, &args, &root) {
                None => {
                    let _ = e.print();
                    0
                }
                Some(err) => {
                    if !err.text.is_empty() {
                        eprintln!("{}", err.text);
                    }
                    err.code
                }
            };
        }
    };
    let level = if cli.debug {
        "debug".to_string()
    } else {
        cli.log_level.clone()
    };
    if let Command::Daemon(d) = &cli.command {
        return system::daemon(d.clone(), &level);
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("berth: {e}");
            return 1;
        }
    };
    let code = rt.block_on(dispatch(cli));
    rt.shutdown_timeout(Duration::from_millis(100));
    code
}

async fn dispatch(cli: Cli) -> i32 {
    let debug = cli.debug;
    let result = async {
        let client = Arc::new(connect(cli.host.as_deref()).await?);
        match cli.command {
            Command::Container(c) | Command::ContainerGroup(ContainerSub::Common(c)) => {
                container::run_cmd(&client, c).await
            }
            Command::Ps(a) | Command::ContainerGroup(ContainerSub::Ls(a)) => {
                container::ps(&client, a).await
            }
            Command::Inspect(a) => container::inspect(&client, a, None).await,
            Command::ContainerGroup(ContainerSub::Inspect(a)) => {
                container::inspect(&client, a, Some("container")).await
            }
            Command::Images(a) | Command::ImageGroup(ImageSub::Ls(a)) => {
                image::images(&client, a).await
            }
            Command::ImageGroup(ImageSub::Inspect(a)) => {
                container::inspect(&client, a, Some("image")).await
            }
            Command::Rmi(a) | Command::ImageGroup(ImageSub::Rm(a)) => image::rmi(&client, a).await,
            Command::Tag(a) | Command::ImageGroup(ImageSub::Tag(a)) => image::tag(&client, a).await,
            Command::History(a) | Command::ImageGroup(ImageSub::History(a)) => {
                image::history(&client, a).await
            }
            Command::Import(a) | Command::ImageGroup(ImageSub::Import(a)) => {
                image::import(&client, a).await
            }
            Command::Events(a) => system::events(&client, a).await,
            Command::Version(a) => system::version(&client, a).await,
            Command::Info(a) => system::info(&client, a, debug).await,
            Command::Daemon(_) => Ok(0),
        }
    }
    .await;
    match result {
        Ok(code) => code,
        Err(f) => {
            if !f.msg.is_empty() {
                eprintln!("{}", f.msg);
            }
            if f.code == 0 {
                1
            } else {
                f.code
            }
        }
    }
}

/// A client of the chosen host; starts the daemon when the default socket is absent.
async fn connect(host_flag: Option<&str>) -> Result<Client, Failure> {
    let host = berth_client::resolve_host(host_flag);
    let client = Client::new(&host)?;
    if host == berth_client::default_host() && client.connect_raw().await.is_err() {
        system::autostart(&client).await?;
    }
    Ok(client)
}
