//! Connecting the engine to Google, or to an in-process emulator
//! (`--emulator`): the async runtime, the API client, its credentials.

use crate::Global;
use anyhow::{Context, Result};
use skyql_client::{AuthConfig, Client, ClientConfig, DryRunSink, Quotas};
use skyql_engine::Remote;
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Runtime;

/// Sample jobs the in-process emulator starts with.
pub const EMULATOR_SEED_JOBS: usize = 24;

/// Keeps the runtime (and the emulator, if any) alive as long as the engine.
pub struct Connection {
    pub runtime: Runtime,
    pub emulator: Option<skyql_emulator::Running>,
}

/// How to run the in-process emulator.
#[derive(Debug, Default, Clone)]
pub struct EmulatorOptions {
    /// Freeze its clock at this RFC 3339 time (reproducible output for tests).
    pub frozen_at: Option<String>,
}

/// The rate limits: Google's published quotas, `<home>/quotas.json` over
/// them if it exists, `--qps` over both.
fn quotas(global: &Global) -> Result<Quotas> {
    let path = crate::home(global).join("quotas.json");
    let mut q = match std::fs::read_to_string(&path) {
        Ok(text) => Quotas::from_json(&text, &path.display().to_string())?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Quotas::default(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    if global.qps.is_some() {
        q.qps = global.qps;
    }
    Ok(q)
}

pub fn connect(global: &Global, emulator: Option<EmulatorOptions>) -> Result<(Connection, Remote)> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let mut config = ClientConfig {
        endpoint: global.endpoint.clone(),
        concurrency: global.concurrency.max(1),
        timeout: Duration::from_secs(global.timeout.max(1)),
        dry_run: global.dry_run,
        // Exactly what would be sent, on stderr beside notices.
        dry_run_sink: Some(DryRunSink(Arc::new(|r| {
            crate::term::err_line(format_args!("[dry-run] {r}"))
        }))),
        max_response_bytes: crate::max_response_bytes(global),
        retry_deadline: Duration::from_secs(global.retry_deadline.max(1)),
        quotas: quotas(global)?,
        ..ClientConfig::default()
    };
    config.auth = match &global.auth {
        Some(text) => AuthConfig::from_stackql_json(text)?,
        None => AuthConfig::Default,
    };
    let running = if let Some(options) = emulator {
        let mut cfg = skyql_emulator::Config {
            seed_jobs: EMULATOR_SEED_JOBS,
            discovery: Some(skyql_registry::EMBEDDED_AIPLATFORM.to_string()),
            ..skyql_emulator::Config::default()
        };
        if let Some(at) = &options.frozen_at {
            let t = chrono::DateTime::parse_from_rfc3339(at).with_context(|| {
                format!("emulator time `{at}` is not RFC 3339, e.g. 2026-06-01T12:00:00Z")
            })?;
            cfg.start_time = Some(t.with_timezone(&chrono::Utc));
            cfg.clock = skyql_emulator::ClockMode::Frozen;
        }
        let running = runtime
            .block_on(skyql_emulator::spawn(cfg))
            .context("starting the in-process emulator")?;
        config.endpoint = Some(running.base_url.clone());
        config.auth = AuthConfig::ServiceAccountJson(running.key_json().to_string());
        Some(running)
    } else {
        None
    };
    let client = Client::new(config)?;
    let remote = Remote {
        client,
        rt: runtime.handle().clone(),
        await_timeout: Duration::from_secs(global.timeout.max(1) * 10),
    };
    Ok((
        Connection {
            runtime,
            emulator: running,
        },
        remote,
    ))
}
