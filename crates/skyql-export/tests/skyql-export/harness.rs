//! The emulator, an engine in front of it, and a run of a statement
//! exported into a folder.

use skyql_client::{AuthConfig, Client, ClientConfig};
use skyql_engine::{Engine, Remote, Table};
use skyql_export::{Format, Manifest, OnError, Run, Shard};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub const PROJECT: &str = "demo-project";

/// The jobs of both seeded locations, with columns of every type: text,
/// JSON, timestamp, and expressions giving integers, reals and booleans.
pub const JOBS: &str = "SELECT name, displayName, state, labels, createTime, \
     locationsId, length(displayName) AS name_length, length(name) / 4.0 AS quarter, \
     state = 'JOB_STATE_SUCCEEDED' AS succeeded \
     FROM google.aiplatform.custom_jobs \
     WHERE projectsId = 'demo-project' AND locationsId IN ('us-central1', 'europe-west4') \
     ORDER BY name";

pub struct Emulator {
    pub engine: Engine,
    _emulator: skyql_emulator::Running,
    _rt: tokio::runtime::Runtime,
    _home: tempfile::TempDir,
}

/// The emulator (24 seeded jobs in `demo-project`; the credentials may use
/// only that project) and an engine talking to it.
pub fn start() -> Emulator {
    start_with(skyql_emulator::Config {
        seed_jobs: 24,
        projects: vec![PROJECT.to_string()],
        ..skyql_emulator::Config::default()
    })
}

/// The emulator configured so, serving the embedded aiplatform document.
pub fn start_with(config: skyql_emulator::Config) -> Emulator {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let emulator = rt
        .block_on(skyql_emulator::spawn(skyql_emulator::Config {
            discovery: Some(skyql_registry::EMBEDDED_AIPLATFORM.to_string()),
            ..config
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
    let remote = Remote {
        client,
        rt: rt.handle().clone(),
        await_timeout: Duration::from_secs(30),
    };
    Emulator {
        engine: Engine::with_remote(registry, remote),
        _rt: rt,
        _home: home,
        _emulator: emulator,
    }
}

impl Emulator {
    /// The engine's own result of a statement.
    pub fn query(&mut self, sql: &str) -> Table {
        let mut tables = self.engine.execute_script(sql).expect("statement");
        tables.pop().expect("a result")
    }

    /// Runs `sql` as `skyql export` does without the engine's request
    /// groups (one statement-level group) and writes shard `shard` into `dir`.
    pub fn export(&mut self, sql: &str, shard: Shard, format: Format, dir: &Path) -> Manifest {
        let started_at = chrono::Utc::now();
        let outcome = self
            .engine
            .execute_script(sql)
            .map_err(|e| e.to_string())
            .and_then(|t| skyql_export::single_result(t).map_err(|e| e.to_string()));
        let run = Run {
            statement: sql.to_string(),
            shard,
            format,
            on_error: OnError::Fail,
            started_at,
            outcome,
            groups: None,
        };
        skyql_export::write(dir, &run).expect("export written")
    }

    /// Runs one statement as `skyql export --shard --on-error` does: the
    /// engine splits the fan-out and reports every request group.
    pub fn export_sharded(
        &mut self,
        sql: &str,
        shard: Shard,
        on_error: &str,
        dir: &Path,
    ) -> Manifest {
        let policy: skyql_engine::OnError = on_error.parse().expect("policy");
        self.engine.set_on_error(policy.clone());
        self.engine.set_shard(Some(shard.into()));
        let started_at = chrono::Utc::now();
        let stmt = skyql_engine::split_statements(sql)
            .expect("split")
            .pop()
            .expect("one statement");
        let outcome = self.engine.execute(&stmt).map_err(|e| e.to_string());
        let groups = self
            .engine
            .last_report()
            .map(|r| skyql_export::groups_of(r, shard));
        let run = Run {
            statement: sql.to_string(),
            shard,
            format: Format::Parquet,
            on_error: (&policy).into(),
            started_at,
            outcome,
            groups,
        };
        skyql_export::write(dir, &run).expect("export written")
    }
}
