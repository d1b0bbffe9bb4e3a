//! A local emulator of the Vertex AI CustomJob REST API (aiplatform v1), faithful enough
//! that Google's own client libraries (REST transport) and skyql cannot tell it from the
//! real service. It exists so that everything in skyql can be tried and tested offline.
//!
//! # Surface
//! Under `/v1` (and `/ui` for locations and operations, as Google's REST transports use):
//! `projects.locations` list/get; `customJobs` create, get, list, cancel, delete; the
//! operations of a location and of a custom job: get, list, cancel, delete, wait. Test
//! support lives under `/emulator/` ([`control`]: stats, clock, reset, faults, latency);
//! the token endpoint is `POST /token`; the metadata server's routes are under
//! `/computeMetadata/v1/` ([`auth::Auth`]); `GET /$discovery/rest?version=v1` serves the
//! Discovery document the emulator was given. Under `/v3`, Resource Manager's projects,
//! folders and organizations (list, search, get) over the seeded organisation ([`org`]).
//!
//! # Rules worth knowing
//! - Names use the project number, a stable 12-digit number derived from the project id
//!   ([`project_number`]); lookups accept either. Job and operation ids have 19 digits.
//! - Lifecycle on the emulator clock (see [`jobs`]): `PENDING` for [`Config::pending`]
//!   (5 s), `RUNNING` for [`Config::running`] (30 s), then `SUCCEEDED`; a job labelled
//!   `emulator-outcome: failed` ends `FAILED` with `error.code = 3`. Cancel: `CANCELLING`
//!   at once, `CANCELLED` 2 s later with `error.code = 1`. Cancelling a finished job and
//!   deleting an unfinished one are 400 `FAILED_PRECONDITION`.
//! - Delete returns a location-scoped operation; with [`Config::operation_polls`] = N > 0
//!   the operation starts unfinished and reports `done` on its N-th `get` (a `wait`
//!   finishes it). The job is removed at once.
//! - `list`: newest first; `pageSize` defaults to 100 and is capped at 100; page tokens
//!   are HMAC-sealed and bound to the parent and filter; the filter is the AIP-160 subset
//!   of [`filter`]; `readMask` restricts fields; no jobs gives `{}`. `fields` (AIP-157)
//!   selects parts of any response, or is 400.
//! - Wire: proto3 JSON ([`wire`], [`schema::message_json`]): fields in field-number
//!   order, defaults left out, Durations with 0/3/6/9 fractional digits; `google.rpc.Status`
//!   errors ([`status`]); camelCase out, snake_case in; int64 as strings; RFC 3339 UTC
//!   times; enums as names (as numbers under `$alt=json;enum-encoding=int`). Output is
//!   pretty-printed, as Google's is, unless `prettyPrint=false`.
//! - Auth (see [`auth`]): a bearer token on every API request (401 otherwise), 403 for
//!   projects outside [`Config::projects`]. Bodies over [`Config::body_limit`] get 400
//!   ("Request payload size exceeds the limit").
//! - Quotas ([`quota`]): [`Config::project_quota`] requests per minute per (service,
//!   project), on the emulator clock, else 429 `RATE_LIMIT_EXCEEDED` with `Retry-After`;
//!   [`Config::disable_service_for`] gives 403 `SERVICE_DISABLED`,
//!   [`Config::deny_projects`] 403 `IAM_PERMISSION_DENIED`.
//! - Faults: [`Config::latency`] delays every response except `/emulator/`;
//!   [`Config::fault_rate`] answers that fraction of API requests with 429 (with
//!   `Retry-After: 1`) or 503, reproducibly from [`Config::fault_seed`]; both can be
//!   changed while running.
//! - It never prints: state-file failures are counted in [`Emulator::persistence`] and
//!   `GET /emulator/stats`. Every numeric option is bounded ([`Config::validate`]).
//!
//! # Use
//! ```no_run
//! # async fn demo() -> Result<(), skyql_emulator::Error> {
//! let running = skyql_emulator::spawn(skyql_emulator::Config {
//!     seed_jobs: 10,
//!     ..Default::default()
//! })
//! .await?;
//! println!("{} {}", running.base_url, running.key_json());
//! running.shutdown().await?;
//! # Ok(()) }
//! ```

pub mod auth;
pub mod clock;
pub mod control;
mod crm;
mod error;
mod fields;
pub mod files;
pub mod filter;
pub mod ids;
pub mod jobs;
mod methods;
pub mod org;
mod paging;
pub mod quota;
mod routing;
pub mod schema;
pub mod seed;
mod server;
pub mod serving;
mod state;
pub mod status;
pub mod store;
pub mod wire;

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

pub use clock::ClockMode;
pub use control::PersistenceReport;
pub use error::Error;
pub use ids::project_number;
pub use methods::locations::LOCATIONS;
pub use seed::SEED_PROJECT;

use auth::{Auth, Keys, RefreshCreds};
use clock::Clock;
use control::Control;
use paging::PageTokens;
use state::Inner;
use store::Store;

/// The most jobs `--seed-jobs` may ask for.
pub const MAX_SEED_JOBS: usize = 1_000_000;
/// The longest token lifetime, job phase or other duration the emulator accepts (ten
/// years): longer ones are a mistake and would overflow its microsecond clock.
pub const MAX_DURATION: Duration = Duration::from_secs(10 * 365 * 86_400);

/// Everything the emulator can be told. `Default` is a fresh, unseeded emulator on
/// `127.0.0.1:0` with a real clock and no faults.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where [`spawn`] listens.
    pub addr: SocketAddr,
    /// The base URL clients use, if known in advance (used in the key file and to accept
    /// JWTs addressed to it); [`spawn`] fills it in.
    pub base_url: Option<String>,
    /// Projects the credentials may use (ids or numbers); empty means all.
    pub projects: Vec<String>,
    pub clock: ClockMode,
    /// The emulator clock's start; default: now, to the second.
    pub start_time: Option<chrono::DateTime<chrono::Utc>>,
    /// Jobs seeded in `demo-project`, or in each seeded project (ignored when a state file
    /// is restored).
    pub seed_jobs: usize,
    /// Projects `demo-project-1` … `demo-project-N` in the organisation ([`org`]), each
    /// with `seed_jobs` jobs; 0: the one `demo-project`.
    pub seed_projects: usize,
    /// Requests per minute per (service, consumer project) ([`quota`]); `None`: no quota.
    pub project_quota: Option<u32>,
    /// Projects (ids or numbers) whose Vertex AI API is disabled: 403 `SERVICE_DISABLED`.
    pub disable_service_for: Vec<String>,
    /// Projects (ids or numbers) the credentials may not use: 403 `PERMISSION_DENIED`
    /// (`IAM_PERMISSION_DENIED`), though Resource Manager still lists them.
    pub deny_projects: Vec<String>,
    /// How long a new job stays pending.
    pub pending: Duration,
    /// How long a new job runs.
    pub running: Duration,
    /// Added to every response.
    pub latency: Duration,
    /// Fraction (0..1) of API requests answered 429 or 503.
    pub fault_rate: f64,
    pub fault_seed: u64,
    /// Jobs, operations and the signing key survive restarts in this file.
    pub state_file: Option<PathBuf>,
    /// Lifetime of issued access tokens (real time).
    pub token_lifetime: Duration,
    /// The aiplatform v1 Discovery document served at `/$discovery/rest`.
    pub discovery: Option<String>,
    /// Delete operations report `done` on this many-th `operations.get` (0: at once).
    pub operation_polls: u32,
    /// Largest accepted request body.
    pub body_limit: usize,
    /// A PKCS#8 PEM RSA key to sign with (default: a new 2048-bit key; a state file's key
    /// wins over both).
    pub signing_key_pem: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            base_url: None,
            projects: Vec::new(),
            clock: ClockMode::Real,
            start_time: None,
            seed_jobs: 0,
            seed_projects: 0,
            project_quota: None,
            disable_service_for: Vec::new(),
            deny_projects: Vec::new(),
            pending: Duration::from_secs(5),
            running: Duration::from_secs(30),
            latency: Duration::ZERO,
            fault_rate: 0.0,
            fault_seed: 0,
            state_file: None,
            token_lifetime: Duration::from_secs(3600),
            discovery: None,
            operation_polls: 0,
            body_limit: 1 << 20,
            signing_key_pem: None,
        }
    }
}

/// The emulator: cheap to clone, all clones share one state.
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

impl Config {
    /// Checks every number against its bounds: the fault rate is a fraction, seeded jobs
    /// at most [`MAX_SEED_JOBS`], durations at most [`MAX_DURATION`], the token lifetime at
    /// least a second, the body limit at least a byte.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |m: String| Err(Error::Config(m));
        if !(0.0..=1.0).contains(&self.fault_rate) {
            return bad(format!(
                "fault rate {} is not between 0 and 1",
                self.fault_rate
            ));
        }
        if self.seed_projects > org::MAX_SEED_PROJECTS {
            return bad(format!(
                "{} seed projects asked; the emulator seeds at most {}",
                self.seed_projects,
                org::MAX_SEED_PROJECTS
            ));
        }
        let total_jobs = self.seed_jobs.saturating_mul(self.seed_projects.max(1));
        if total_jobs > MAX_SEED_JOBS {
            return bad(format!(
                "{total_jobs} seed jobs asked ({} per project); the emulator seeds at most {MAX_SEED_JOBS} in all",
                self.seed_jobs
            ));
        }
        for (what, d) in [
            ("pending duration", self.pending),
            ("running duration", self.running),
            ("token lifetime", self.token_lifetime),
        ] {
            if d > MAX_DURATION {
                return bad(format!(
                    "the {what} of {} s is longer than the {} s the emulator allows",
                    d.as_secs(),
                    MAX_DURATION.as_secs()
                ));
            }
        }
        if self.latency > Duration::from_millis(control::MAX_LATENCY_MS) {
            return bad(format!(
                "the latency of {} ms is over the {} ms the emulator allows",
                self.latency.as_millis(),
                control::MAX_LATENCY_MS
            ));
        }
        if self.token_lifetime < Duration::from_secs(1) {
            return bad("the token lifetime must be at least one second".into());
        }
        if self.body_limit == 0 {
            return bad("the body limit must be at least one byte".into());
        }
        Ok(())
    }
}

/// Hosts whose service URL a self-signed JWT may name: Vertex AI's (global, regional)
/// and Resource Manager's.
fn served_host(host: &str) -> bool {
    auth::is_aiplatform_host(host) || host == crm::SERVICE
}

impl Emulator {
    /// Builds the emulator: restores the state file if there is one, else creates the
    /// signing key and seeds jobs.
    pub fn new(config: Config) -> Result<Self, Error> {
        config.validate()?;
        let control = Control::new(config.latency, config.fault_rate, config.fault_seed)?;
        let default_project = config
            .projects
            .iter()
            .find(|p| !ids::is_number(p))
            .cloned()
            .unwrap_or_else(|| SEED_PROJECT.to_string());
        let snapshot = match &config.state_file {
            Some(p) => store::read_snapshot(p)?,
            None => None,
        };
        let start_us = clock::start_us(config.start_time);
        let clock = Clock::new(config.clock, start_us);
        let mut store = Store::default();
        let mut projects = BTreeMap::new();
        projects.insert(project_number(SEED_PROJECT), SEED_PROJECT.to_string());
        let organisation = org::Org::new(config.seed_projects, start_us);
        for p in &organisation.projects {
            projects.insert(p.number, p.id.clone());
        }
        for p in &config.projects {
            if !ids::is_number(p) {
                projects.insert(project_number(p), p.clone());
            }
        }
        let (keys, refresh, page_secret, tokens) = match snapshot {
            Some(snap) => {
                let keys = Keys::new(Some(&snap.signing_key_pem), &default_project)?;
                let secret = STANDARD
                    .decode(&snap.page_secret)
                    .map_err(|e| Error::StateFile {
                        path: config.state_file.clone().unwrap_or_default(),
                        message: format!("bad page secret: {e}"),
                    })?;
                clock.set_now_us(snap.clock_now_us);
                store.seq = snap.seq;
                for job in snap.jobs {
                    store.insert_job(job);
                }
                for op in snap.operations {
                    store.insert_op(op);
                }
                projects.extend(snap.projects);
                (keys, snap.refresh, secret, snap.tokens)
            }
            None => {
                let keys = Keys::new(config.signing_key_pem.as_deref(), &default_project)?;
                let secret = auth::random_token(32).into_bytes();
                if config.seed_projects == 0 {
                    let seeded = seed::seed_jobs(config.seed_jobs, start_us, 0);
                    store.seq = seeded.len() as u64;
                    for job in seeded {
                        store.insert_job(job);
                    }
                } else {
                    for p in &organisation.projects {
                        let seeded =
                            seed::seed_project_jobs(&p.id, config.seed_jobs, start_us, store.seq);
                        store.seq += seeded.len() as u64;
                        for job in seeded {
                            store.insert_job(job);
                        }
                    }
                }
                store.generation = 1;
                (keys, RefreshCreds::generate(), secret, BTreeMap::new())
            }
        };
        let allowed = (!config.projects.is_empty()).then(|| {
            let ids: HashSet<String> = config.projects.iter().cloned().collect();
            let numbers: HashSet<u64> = config
                .projects
                .iter()
                .map(|p| {
                    if ids::is_number(p) {
                        p.parse().unwrap_or(0)
                    } else {
                        project_number(p)
                    }
                })
                .collect();
            (ids, numbers)
        });
        let numbers = |list: &[String]| -> HashSet<u64> {
            list.iter()
                .map(|p| {
                    if ids::is_number(p) {
                        p.parse().unwrap_or(0)
                    } else {
                        project_number(p)
                    }
                })
                .collect()
        };
        let disabled = numbers(&config.disable_service_for);
        let denied = numbers(&config.deny_projects);
        let auth = Auth::new(
            keys,
            refresh,
            config.token_lifetime,
            config.base_url.clone(),
            served_host,
        );
        auth.tokens.import(tokens);
        let locations = config
            .discovery
            .as_deref()
            .and_then(methods::locations::from_discovery)
            .unwrap_or_else(|| LOCATIONS.iter().map(|l| l.to_string()).collect());
        let quotas = quota::Quotas::new(config.project_quota);
        let inner = Inner {
            config,
            auth,
            clock,
            control,
            store: RwLock::new(store),
            projects: RwLock::new(projects),
            allowed,
            page_secret_b64: STANDARD.encode(&page_secret),
            pages: PageTokens::new(page_secret),
            state_writer: files::StateWriter::default(),
            locations,
            org: organisation,
            quotas,
            disabled,
            denied,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The service-account key file (`--credentials-out`) for an emulator at `base_url`.
    pub fn service_account_key_json(&self, base_url: &str) -> Value {
        self.inner.auth.keys.service_account_json(base_url)
    }

    /// The `authorized_user` credentials file for an emulator at `base_url`.
    pub fn authorized_user_json(&self, base_url: &str) -> Value {
        self.inner.auth.refresh.json(base_url)
    }

    /// Issues an access token directly (for in-process callers that skip OAuth).
    pub fn issue_access_token(&self) -> String {
        let token = self.inner.auth.issue();
        // The state file keeps issued tokens, as it does for the token route's.
        self.inner.touch();
        token
    }

    /// The number of jobs held.
    pub fn job_count(&self) -> usize {
        self.inner.store.read().map(|s| s.job_count).unwrap_or(0)
    }

    /// How state-file writes have gone (failures are never printed by the emulator).
    pub fn persistence(&self) -> PersistenceReport {
        self.inner.control.persistence()
    }

    /// The router serving everything; mount it on any listener.
    pub fn router(&self) -> axum::Router {
        axum::Router::new()
            .fallback(server::handle)
            .with_state(self.inner.clone())
    }

    /// Serves on `listener` until `shutdown` completes, then writes the state file.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        serving::serve(self, listener, shutdown).await
    }

    /// Writes the state file now (if there is one and anything changed).
    pub async fn flush(&self) {
        self.inner.persist().await;
    }
}

impl serving::Serve for Emulator {
    fn router(&self) -> axum::Router {
        Emulator::router(self)
    }
    async fn flush(&self) {
        Emulator::flush(self).await;
    }
}

/// The Vertex AI emulator running on its own listener. Dropping it stops the server.
pub type Running = serving::Running<Emulator>;

impl serving::Running<Emulator> {
    /// The service-account key file content for this emulator.
    pub fn key_json(&self) -> Value {
        self.emulator.service_account_key_json(&self.base_url)
    }

    /// The `authorized_user` file content for this emulator.
    pub fn authorized_user_json(&self) -> Value {
        self.emulator.authorized_user_json(&self.base_url)
    }
}

/// Binds `config.addr` on the current tokio runtime and serves in a background task.
pub async fn spawn(mut config: Config) -> Result<Running, Error> {
    let (listener, addr) = serving::bind(config.addr).await?;
    config
        .base_url
        .get_or_insert_with(|| format!("http://{addr}"));
    let emulator = Emulator::new(config)?;
    emulator.flush().await;
    Ok(serving::start(emulator, listener, addr))
}
