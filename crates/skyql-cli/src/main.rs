//! The `skyql` binary: parses the command line and hands each subcommand to
//! its module. The only crate that touches the terminal.

mod emulator_cmd;
mod export_cmd;
mod output;
mod progress;
mod registry_cmd;
mod remote;
mod shell;
mod srv_cmd;
mod term;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use output::Format;
use skyql_engine::Engine;
use skyql_registry::Registry;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(
    name = "skyql",
    version,
    about = "Query, deploy and manage Google Cloud resources with SQL"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every subcommand accepts, before or after its name.
#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Output format: table, json, jsonl, csv, text or markdown.
    #[arg(long, short = 'o', global = true, env = "SKYQL_OUTPUT", value_enum)]
    pub output: Option<Format>,
    /// Credentials, as StackQL takes them: '{"google":{"type":"service_account","credentialsfilepath":"key.json"}}'.
    #[arg(long, global = true, env = "SKYQL_AUTH")]
    pub auth: Option<String>,
    /// Where pulled provider documents and history are kept.
    #[arg(long, global = true, env = "SKYQL_HOME")]
    pub home: Option<PathBuf>,
    /// Send all Google API traffic to this base URL (an emulator, say).
    #[arg(long, global = true, env = "SKYQL_GOOGLE_ENDPOINT")]
    pub endpoint: Option<String>,
    /// Requests in flight at once (1 to 1024).
    #[arg(long, global = true, env = "SKYQL_CONCURRENCY", default_value_t = 16,
          value_parser = bounded_usize::<1, 1024>)]
    pub concurrency: usize,
    /// Seconds before a request is abandoned (1 to 86400).
    #[arg(long, global = true, env = "SKYQL_TIMEOUT", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: u64,
    /// Largest API response or fetched document accepted, in MiB (1 to 4096).
    #[arg(long, global = true, env = "SKYQL_MAX_RESPONSE_MIB", default_value_t = 64,
          value_parser = bounded_usize::<1, 4096>)]
    pub max_response_mib: usize,
    /// Let SQL reach local files: ATTACH, DETACH, VACUUM INTO, load_extension
    /// (refused by default: a statement could otherwise write any file).
    #[arg(long, global = true, env = "SKYQL_ALLOW_LOCAL_FILES")]
    pub allow_local_files: bool,
    /// Print the HTTP requests instead of sending them.
    #[arg(long, global = true, env = "SKYQL_DRY_RUN")]
    pub dry_run: bool,
    /// No progress line and no note about retries on stderr (warnings about
    /// missing rows are still printed).
    #[arg(long, short = 'q', global = true, env = "SKYQL_QUIET")]
    pub quiet: bool,
    /// At most this many API requests a second in all (on top of the
    /// per-service and per-project quotas of <home>/quotas.json).
    #[arg(long, global = true, env = "SKYQL_QPS", value_parser = positive_f64)]
    pub qps: Option<f64>,
    /// Seconds a request keeps retrying transient failures (429, 503,
    /// broken connections) before its error is returned (1 to 86400).
    #[arg(long, global = true, env = "SKYQL_RETRY_DEADLINE", default_value_t = 120,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub retry_deadline: u64,
}

/// What a failed request group does to a statement.
#[derive(Args, Debug, Clone)]
pub struct OnErrorArg {
    /// When a request group of a fan-out fails: `fail` (the default: an
    /// error naming the groups), `warn` (return the rows that came back,
    /// warn about the rest) or `skip:CODES` (leave out groups that failed
    /// with these codes, e.g. skip:SERVICE_DISABLED,PERMISSION_DENIED).
    #[arg(long, value_name = "POLICY", env = "SKYQL_ON_ERROR", value_parser = parse_on_error)]
    pub on_error: Option<skyql_engine::OnError>,
}

fn parse_on_error(s: &str) -> Result<skyql_engine::OnError, String> {
    s.parse().map_err(|e: skyql_engine::Error| e.to_string())
}

fn parse_shard(s: &str) -> Result<skyql_engine::Shard, String> {
    s.parse().map_err(|e: skyql_engine::Error| e.to_string())
}

fn positive_f64(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!(
            "`{s}` is not a positive number of requests a second"
        )),
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run SQL statements and print their results.
    Exec(ExecArgs),
    /// An interactive SQL shell with history and multi-line input.
    Shell {
        /// Run against an in-process emulator seeded with sample jobs.
        #[arg(long)]
        emulator: bool,
        #[command(flatten)]
        on_error: OnErrorArg,
    },
    /// Manage provider documents.
    Registry {
        #[command(subcommand)]
        command: registry_cmd::RegistryCommand,
    },
    /// Print the generated reference page of a resource.
    Docs {
        /// provider.service.resource, e.g. google.aiplatform.custom_jobs
        resource: String,
    },
    /// Run a local emulator: Vertex AI by default, any Google API with --services.
    // Boxed: its options are many (clippy::large_enum_variant).
    Emulator(Box<emulator_cmd::EmulatorArgs>),
    /// Serve SQL over the PostgreSQL wire protocol (psql, drivers, postgres_fdw).
    Srv(srv_cmd::SrvArgs),
    /// Write a statement's rows as Parquet or JSONL files with a manifest
    /// (one shard with --shard I/N); --merge DIR checks a set of shards.
    Export(export_cmd::ExportArgs),
}

#[derive(Args, Debug)]
struct ExecArgs {
    /// SQL to run (several statements separated by `;`).
    query: Option<String>,
    /// Read SQL from this file (`-` for standard input).
    #[arg(long, short = 'i', conflicts_with = "query")]
    infile: Option<PathBuf>,
    /// Run against an in-process emulator seeded with sample jobs in project
    /// `demo-project` (us-central1 and europe-west4), instead of Google.
    #[arg(long)]
    emulator: bool,
    /// Testing aid: freeze the in-process emulator's clock at this RFC 3339
    /// time, so that seeded and created jobs have reproducible times.
    #[arg(
        long,
        hide = true,
        env = "SKYQL_EMULATOR_FROZEN_AT",
        requires = "emulator"
    )]
    emulator_frozen_at: Option<String>,
    #[command(flatten)]
    on_error: OnErrorArg,
    /// Read only part I of N of each statement's fan-out (its request
    /// groups split by a hash of their parameters), so that N machines
    /// together read it all, each group once.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    shard: Option<skyql_engine::Shard>,
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        // `skyql exec ... | head`: the reader has all it wanted.
        if let Some(code) = term::quiet_exit(&e) {
            std::process::exit(code);
        }
        let _ = std::io::stdout().flush();
        term::err_line(format_args!(
            "error: {}",
            output::visible(&term::error_line(&e), true)
        ));
        std::process::exit(1);
    }
}

/// A number between `MIN` and `MAX`, for flags that must stay in range.
fn bounded_usize<const MIN: usize, const MAX: usize>(s: &str) -> Result<usize, String> {
    let n: usize = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a whole number; give one from {MIN} to {MAX}"))?;
    if !(MIN..=MAX).contains(&n) {
        return Err(format!(
            "{n} is out of range; give a number from {MIN} to {MAX}"
        ));
    }
    Ok(n)
}

/// The response size cap in bytes.
pub fn max_response_bytes(global: &Global) -> usize {
    global.max_response_mib.saturating_mul(1 << 20)
}

fn run(cli: Cli) -> Result<()> {
    let global = cli.global;
    match cli.command {
        Command::Exec(args) => exec(&global, args),
        Command::Shell { emulator, on_error } => shell::run(
            &global,
            open_registry(&global)?,
            emulator,
            on_error.on_error.unwrap_or_default(),
        ),
        Command::Registry { command } => {
            registry_cmd::run(&global, open_registry(&global)?, command)
        }
        Command::Docs { resource } => {
            let registry = open_registry(&global)?;
            let (svc, name) = registry.resolve(&resource)?;
            let r = svc.resource(&name)?;
            term::out(skyql_engine::reference_page(&svc, r))?;
            Ok(())
        }
        Command::Srv(args) => srv_cmd::run(&global, open_registry(&global)?, args),
        Command::Export(args) => export_cmd::run(&global, args),
        Command::Emulator(args) => {
            let home = home(&global);
            emulator_cmd::run(
                *args,
                Some(skyql_registry::EMBEDDED_AIPLATFORM.to_string()),
                &home,
            )
        }
    }
}

/// The home folder: `--home`, `SKYQL_HOME`, else the user's data folder.
pub fn home(global: &Global) -> PathBuf {
    global
        .home
        .clone()
        .or_else(|| dirs::data_dir().map(|d| d.join("skyql")))
        .unwrap_or_else(|| PathBuf::from(".skyql"))
}

fn open_registry(global: &Global) -> Result<Arc<Registry>> {
    Ok(Arc::new(Registry::open(home(global))))
}

/// The largest script `-i` reads (`-i /dev/zero` must not fill memory).
const MAX_SCRIPT_BYTES: u64 = 256 << 20;

/// The SQL of a command: the query given, or the file (`-` for stdin), at
/// most [`MAX_SCRIPT_BYTES`] of it.
fn read_sql(query: Option<&str>, infile: Option<&std::path::Path>) -> Result<String> {
    let (reader, what): (Box<dyn std::io::Read>, String) = match (query, infile) {
        (Some(q), _) => return Ok(q.to_string()),
        (None, Some(path)) if path.as_os_str() == "-" => {
            (Box::new(std::io::stdin()), "standard input".into())
        }
        (None, Some(path)) => (
            Box::new(
                std::fs::File::open(path)
                    .with_context(|| format!("reading SQL from {}", path.display()))?,
            ),
            path.display().to_string(),
        ),
        (None, None) => anyhow::bail!(
            "nothing to run: give a query (skyql exec \"SHOW PROVIDERS\") or a file (-i FILE)"
        ),
    };
    let mut bytes = Vec::new();
    let mut limited = std::io::Read::take(reader, MAX_SCRIPT_BYTES + 1);
    std::io::Read::read_to_end(&mut limited, &mut bytes)
        .with_context(|| format!("reading SQL from {what}"))?;
    if bytes.len() as u64 > MAX_SCRIPT_BYTES {
        anyhow::bail!(
            "{what} holds more than {} MiB of SQL; split the script into smaller files",
            MAX_SCRIPT_BYTES >> 20
        );
    }
    String::from_utf8(bytes).with_context(|| format!("reading SQL from {what}: not UTF-8 text"))
}

fn exec(global: &Global, args: ExecArgs) -> Result<()> {
    let sql = read_sql(args.query.as_deref(), args.infile.as_deref())?;
    let statements = skyql_engine::split_statements(&sql)?;
    let registry = open_registry(global)?;
    // Only statements that may reach the cloud need a client and a runtime.
    let needs_remote = args.emulator || statements.iter().any(|s| !skyql_engine::is_metadata(s));
    let (connection, mut engine, client) = if needs_remote {
        let emulator = args.emulator.then(|| remote::EmulatorOptions {
            frozen_at: args.emulator_frozen_at.clone(),
        });
        let (connection, remote) = remote::connect(global, emulator)?;
        let client = remote.client.clone();
        (
            Some(connection),
            Engine::with_remote(registry, remote),
            Some(client),
        )
    } else {
        (None, Engine::new(registry), None)
    };
    engine.allow_local_files(global.allow_local_files);
    engine.set_on_error(args.on_error.on_error.clone().unwrap_or_default());
    engine.set_shard(args.shard);
    let format = output::Format::resolve(global.output);
    let show_progress = progress::enabled(global.quiet);
    let mut out = std::io::stdout().lock();
    for stmt in statements {
        let line = progress::ProgressLine::start(show_progress, engine.progress(), client.clone());
        let result = engine.execute(&stmt);
        line.finish();
        if result.is_err() {
            progress::after_statement(&engine, format, global.quiet);
        }
        let table = result?;
        output::write(&mut out, &table, format)?;
        out.flush()?;
        progress::after_statement(&engine, format, global.quiet);
        if let Some(notice) = &table.notice {
            out.flush()?;
            term::err_line(notice);
        }
    }
    out.flush()?;
    // Freeing a loaded service model costs milliseconds that a one-shot
    // command need not spend: the process ends here, the OS reclaims it all.
    std::mem::forget(engine);
    if let Some(c) = connection {
        c.runtime.shutdown_background();
    }
    Ok(())
}
