//! Starting the emulator and the server, and finding the clients (what
//! a missing one means, and running one, is `pg_cluster.rs`'s, shared
//! with skyql-export's tests).

use skyql_client::{AuthConfig, Client, ClientConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const PROJECT: &str = "demo-project";

pub struct Srv {
    pub rt: tokio::runtime::Runtime,
    pub addr: SocketAddr,
    pub logs: Arc<Mutex<Vec<String>>>,
    pub registry: Arc<skyql_registry::Registry>,
    pub client: Client,
    /// The emulator's `http://127.0.0.1:PORT`.
    pub base_url: String,
    _home: tempfile::TempDir,
    _emulator: skyql_emulator::Running,
}

#[derive(Default)]
pub struct Options {
    pub password: Option<String>,
    pub tls: Option<skyql_srv::TlsFiles>,
    pub latency: Duration,
    pub on_error: skyql_engine::OnError,
    /// Seeded projects `demo-project-1` … (the emulator's `--seed-projects`).
    pub seed_projects: usize,
    /// Projects whose API answers 403 SERVICE_DISABLED.
    pub disable_service_for: Vec<String>,
}

pub fn start() -> Srv {
    start_with(Options::default())
}

pub fn start_with(opts: Options) -> Srv {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let emulator = rt
        .block_on(skyql_emulator::spawn(skyql_emulator::Config {
            seed_jobs: 24,
            discovery: Some(skyql_registry::EMBEDDED_AIPLATFORM.to_string()),
            latency: opts.latency,
            seed_projects: opts.seed_projects,
            disable_service_for: opts.disable_service_for,
            ..skyql_emulator::Config::default()
        }))
        .expect("emulator");
    let client = Client::new(ClientConfig {
        endpoint: Some(emulator.base_url.clone()),
        auth: AuthConfig::ServiceAccountJson(emulator.key_json().to_string()),
        ..ClientConfig::default()
    })
    .expect("client");
    let home = tempfile::tempdir().expect("home");
    let registry = Arc::new(skyql_registry::Registry::open(home.path()));
    let logs = Arc::new(Mutex::new(Vec::new()));
    let sink = logs.clone();
    let config = skyql_srv::Config {
        on_error: opts.on_error,
        addr: "127.0.0.1:0".parse().expect("addr"),
        password: opts.password,
        tls: opts.tls,
        registry: registry.clone(),
        client: client.clone(),
        await_timeout: Duration::from_secs(30),
        log: Arc::new(move |l: &str| {
            if let Ok(mut v) = sink.lock() {
                v.push(l.to_string());
            }
        }),
    };
    let server = rt.block_on(skyql_srv::Server::bind(config)).expect("bind");
    let addr = server.local_addr().expect("addr");
    rt.spawn(server.serve());
    Srv {
        rt,
        addr,
        logs,
        registry,
        client,
        base_url: emulator.base_url.clone(),
        _home: home,
        _emulator: emulator,
    }
}

impl Srv {
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// skyql's own answer to a statement, from an engine outside the server.
    pub fn engine_count(&self, sql: &str) -> i64 {
        let registry = self.registry.clone();
        let remote = skyql_engine::Remote {
            client: self.client.clone(),
            rt: self.rt.handle().clone(),
            await_timeout: Duration::from_secs(30),
        };
        let sql = sql.to_string();
        std::thread::spawn(move || {
            let mut engine = skyql_engine::Engine::with_remote(registry, remote);
            let t = engine.execute_script(&sql).expect("engine");
            match t
                .last()
                .and_then(|t| t.rows.first())
                .and_then(|r| r.first())
            {
                Some(skyql_engine::Cell::Integer(n)) => *n,
                other => panic!("not a count: {other:?}"),
            }
        })
        .join()
        .expect("engine thread")
    }
}

/// A program on PATH or at one of `paths`.
pub fn which(name: &str, paths: &[&str]) -> Option<PathBuf> {
    for p in paths {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Some(p);
        }
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The workspace's target folder (where xtask installs client libraries).
pub fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target")
}
