//! `skyql emulator`: runs the local Vertex AI CustomJob emulator (crate `skyql-emulator`)
//! as a foreground server, or with `--services compute,storage,...` the Discovery-driven
//! emulator of those APIs (crate `skyql-discovery-emulator`). The first line on stdout is the base URL, exactly
//! `http://HOST:PORT`, so that scripts and tests can start it on port 0 and read where it
//! listens; credential files are written before that line appears.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use skyql_emulator::{ClockMode, Config};

/// Options of `skyql emulator`.
#[derive(clap::Args, Debug)]
pub struct EmulatorArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8089")]
    pub addr: SocketAddr,
    /// Write a service-account key file (token_uri pointing at the emulator) here.
    #[arg(long, value_name = "FILE")]
    pub credentials_out: Option<PathBuf>,
    /// Write an authorized_user credentials file (refresh-token grant) here.
    #[arg(long, value_name = "FILE")]
    pub authorized_user_out: Option<PathBuf>,
    /// Seed this many sample jobs in project demo-project (us-central1 and europe-west4),
    /// or in each project of --seed-projects.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub seed_jobs: usize,
    /// Seed projects demo-project-1 … demo-project-N in an organisation with folders,
    /// listed by an emulated Resource Manager v3 (projects.list/search) on the same port.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub seed_projects: usize,
    /// Requests per minute per project and service (a token bucket on the emulator's
    /// clock); over it, 429 RATE_LIMIT_EXCEEDED with Retry-After.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub project_quota: Option<u32>,
    /// Projects whose Vertex AI API is disabled: 403 SERVICE_DISABLED (ids or numbers).
    #[arg(long, value_delimiter = ',', value_name = "P1,P2")]
    pub disable_service_for: Vec<String>,
    /// Projects the credentials may not use: 403 PERMISSION_DENIED (ids or numbers);
    /// Resource Manager still lists them.
    #[arg(long, value_delimiter = ',', value_name = "P1,P2")]
    pub deny_project: Vec<String>,
    /// Projects the credentials may use, comma-separated ids or numbers (default: all).
    #[arg(long, value_delimiter = ',', value_name = "P1,P2")]
    pub projects: Vec<String>,
    /// The job clock: real, or frozen (moves only with POST /emulator/clock:advance).
    #[arg(long, default_value = "real", value_parser = ["real", "frozen"])]
    pub clock: String,
    /// Delay every response by this many milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,
    /// Answer this fraction (0 to 1) of API requests with 429 or 503.
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub fault_rate: f64,
    /// Seed of the fault sequence (the same seed gives the same faults).
    #[arg(long, default_value_t = 0, value_name = "S")]
    pub fault_seed: u64,
    /// Keep jobs, operations and the signing key in this file across restarts.
    #[arg(long, value_name = "FILE")]
    pub state_file: Option<PathBuf>,
    /// Lifetime of issued access tokens, in seconds.
    #[arg(long, default_value_t = 3600, value_name = "SECS")]
    pub token_lifetime_secs: u64,
    /// An aiplatform v1 Discovery document to serve at /$discovery/rest (default: the
    /// embedded snapshot).
    #[arg(long, value_name = "FILE")]
    pub discovery: Option<PathBuf>,
    /// Delete operations start unfinished and report done on this many-th poll.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub operation_polls: u32,
    /// Seconds a new job stays pending.
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    pub pending_secs: u64,
    /// Seconds a new job runs before it succeeds (or fails).
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub running_secs: u64,
    /// Serve these Google APIs from their Discovery documents instead of Vertex AI:
    /// comma-separated names (`compute`, `cloudkms:v1` for one version), or `all` for
    /// every pinned or pulled document.
    #[arg(long, value_delimiter = ',', value_name = "SVC,...")]
    pub services: Vec<String>,
    /// With --services: the folder of pinned Discovery documents
    /// (`<service>.<version>.json`, as `cargo xtask fetch-discovery` writes them); pulled
    /// documents in the skyql home are used first.
    #[arg(long, value_name = "DIR", env = "SKYQL_DISCOVERY_DIR")]
    pub discovery_dir: Option<PathBuf>,
    /// With --services: resources to start with, JSON per collection (see docs/emulator.md).
    #[arg(long, value_name = "FILE", requires = "services")]
    pub seed: Option<PathBuf>,
    /// With --services: seconds a long-running operation takes (PENDING for the first
    /// quarter, then RUNNING, then DONE).
    #[arg(long, default_value_t = 1.0, value_name = "SECS")]
    pub operation_secs: f64,
}

/// Runs the emulator until SIGINT or SIGTERM; `home` is the skyql home (pulled documents).
pub fn run(args: EmulatorArgs, embedded_discovery: Option<String>, home: &Path) -> Result<()> {
    if !(0.0..=1.0).contains(&args.fault_rate) {
        bail!(
            "--fault-rate {} is out of range: give a fraction between 0 and 1",
            args.fault_rate
        );
    }
    if !args.services.is_empty() {
        return run_discovery(args, home);
    }
    let discovery =
        match &args.discovery {
            Some(path) => Some(std::fs::read_to_string(path).with_context(|| {
                format!("cannot read the Discovery document {}", path.display())
            })?),
            None => embedded_discovery,
        };
    let clock: ClockMode = args.clock.parse().map_err(anyhow::Error::msg)?;
    block_on(serve(args, clock, discovery))
}

/// Runs one of the emulators on a multi-threaded runtime until it stops,
/// giving what is left of its tasks a second to end.
fn block_on(serve: impl std::future::Future<Output = Result<()>>) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(serve);
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

async fn serve(args: EmulatorArgs, clock: ClockMode, discovery: Option<String>) -> Result<()> {
    let config = Config {
        addr: args.addr,
        projects: args.projects.clone(),
        clock,
        seed_jobs: args.seed_jobs,
        seed_projects: args.seed_projects,
        project_quota: args.project_quota,
        disable_service_for: args.disable_service_for.clone(),
        deny_projects: args.deny_project.clone(),
        pending: Duration::from_secs(args.pending_secs),
        running: Duration::from_secs(args.running_secs),
        latency: Duration::from_millis(args.latency_ms),
        fault_rate: args.fault_rate,
        fault_seed: args.fault_seed,
        state_file: args.state_file.clone(),
        token_lifetime: Duration::from_secs(args.token_lifetime_secs.max(1)),
        discovery,
        operation_polls: args.operation_polls,
        ..Config::default()
    };
    config.validate().context("invalid emulator options")?;
    let running = skyql_emulator::spawn(config).await.map_err(|e| {
        let busy = matches!(e, skyql_emulator::Error::Bind { .. });
        start_failure(e, busy, &args.addr)
    })?;
    let projects = if args.seed_projects > 0 {
        format!(
            " in {} projects, with Resource Manager v3 listing them",
            args.seed_projects
        )
    } else {
        String::new()
    };
    let base_url = &running.base_url;
    announce(
        &args,
        base_url,
        &running.key_json(),
        &running.authorized_user_json(),
    )?;
    serve_until_stopped(&format!(
        "the Vertex AI CustomJob API at {base_url} ({} jobs{projects})",
        running.emulator.job_count()
    ))
    .await;
    let emulator = running.emulator.clone();
    running.shutdown().await?;
    // The emulator never prints; state-file failures are reported here.
    let report = emulator.persistence();
    if report.failures > 0 {
        crate::term::err_line(format_args!(
            "skyql emulator: {} write(s) of the state file failed; the last: {}",
            report.failures,
            report.last_error.as_deref().unwrap_or("unknown")
        ));
    }
    Ok(())
}

/// `--services`: the Discovery-driven emulator.
fn run_discovery(args: EmulatorArgs, home: &Path) -> Result<()> {
    if args.discovery.is_some() || args.seed_jobs > 0 || args.operation_polls > 0 {
        bail!(
            "--discovery, --seed-jobs and --operation-polls belong to the Vertex AI emulator; with --services use --discovery-dir, --seed and --operation-secs"
        );
    }
    if args.seed_projects > 0
        || args.project_quota.is_some()
        || !args.disable_service_for.is_empty()
        || !args.deny_project.is_empty()
    {
        bail!(
            "--seed-projects, --project-quota, --disable-service-for and --deny-project belong to the Vertex AI emulator (not yet to --services)"
        );
    }
    if !args.operation_secs.is_finite() || !(0.0..=3600.0).contains(&args.operation_secs) {
        bail!(
            "--operation-secs {} is out of range: give a number of seconds between 0 and 3600",
            args.operation_secs
        );
    }
    let clock: ClockMode = args.clock.parse().map_err(anyhow::Error::msg)?;
    let registry = skyql_registry::Registry::open(home);
    let sources = skyql_discovery_emulator::Sources {
        registry: Some(&registry),
        discovery_dir: args.discovery_dir.as_deref(),
    };
    let apis = skyql_discovery_emulator::load(&args.services, &sources)?;
    block_on(serve_discovery(args, clock, apis))
}

async fn serve_discovery(
    args: EmulatorArgs,
    clock: ClockMode,
    apis: Vec<skyql_discovery_emulator::Api>,
) -> Result<()> {
    let names: Vec<String> = apis.iter().map(|a| a.id()).collect();
    let config = skyql_discovery_emulator::Config {
        addr: args.addr,
        clock,
        operation_duration: Duration::from_secs_f64(args.operation_secs),
        latency: Duration::from_millis(args.latency_ms),
        fault_rate: args.fault_rate,
        fault_seed: args.fault_seed,
        state_file: args.state_file.clone(),
        seed_file: args.seed.clone(),
        token_lifetime: Duration::from_secs(args.token_lifetime_secs.max(1)),
        ..skyql_discovery_emulator::Config::default()
    };
    let running = skyql_discovery_emulator::spawn(config, apis)
        .await
        .map_err(|e| {
            let busy = matches!(
                e,
                skyql_discovery_emulator::Error::Shared(skyql_emulator::Error::Bind { .. })
            );
            start_failure(e, busy, &args.addr)
        })?;
    let base_url = running.base_url.clone();
    announce(
        &args,
        &base_url,
        &running.emulator.service_account_key_json(&base_url),
        &running.emulator.authorized_user_json(&base_url),
    )?;
    let shown = if names.len() > 8 {
        format!("{} and {} more", names[..8].join(", "), names.len() - 8)
    } else {
        names.join(", ")
    };
    serve_until_stopped(&format!(
        "{shown} at {base_url} ({} resources)",
        running.emulator.item_count()
    ))
    .await;
    running.shutdown().await?;
    Ok(())
}

/// Writes the credential files asked for, then the base URL as the first line on stdout
/// (scripts and tests read it to find the emulator).
fn announce(
    args: &EmulatorArgs,
    base_url: &str,
    key: &serde_json::Value,
    authorized_user: &serde_json::Value,
) -> Result<()> {
    if let Some(path) = &args.credentials_out {
        write_secret(path, key)?;
    }
    if let Some(path) = &args.authorized_user_out {
        write_secret(path, authorized_user)?;
    }
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{base_url}").context("cannot write to stdout")?;
    out.flush().context("cannot write to stdout")?;
    Ok(())
}

/// Writes a credentials file readable by its owner only.
fn write_secret(path: &Path, value: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value)? + "\n";
    crate::term::write_private(path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Says what is served on stderr and waits for SIGINT or SIGTERM.
async fn serve_until_stopped(what: &str) {
    crate::term::err_line(format_args!(
        "skyql emulator: serving {what}; stop with Ctrl-C"
    ));
    shutdown_signal().await;
    crate::term::err_line("skyql emulator: stopping");
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A failed start, with the hint about a busy address only when listening
/// is what failed (a bad seed or state file says so itself).
fn start_failure(
    e: impl std::error::Error + Send + Sync + 'static,
    busy: bool,
    addr: &std::net::SocketAddr,
) -> anyhow::Error {
    let e = anyhow::Error::new(e);
    if busy {
        e.context(format!(
            "cannot serve on {addr}: is another emulator running? Try --addr 127.0.0.1:0"
        ))
    } else {
        e.context("cannot start the emulator")
    }
}
