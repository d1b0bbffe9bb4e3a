//! A stateful emulator of any Google REST API, driven by its Discovery document:
//! `skyql emulator --services compute,storage,cloudkms`. Where the Vertex AI emulator
//! (crate `skyql-emulator`) is written by hand for one API, this one reads each document
//! and serves every collection it describes, on one port.
//!
//! # What it does
//! - Routes by each document's `servicePath` and method paths ([`router`], [`route`]).
//! - Keeps resources per collection in memory ([`store`]): create/insert (unknown fields
//!   are a 400, [`schema`]), get, list (paging, `filter`, `orderBy`, [`filter`]), patch
//!   (`updateMask`), update, delete, children under their parent ([`crud`]).
//! - Sets the fields the server owns by API family ([`family`]): compute (ids, self links,
//!   `compute#operation`s on the emulator clock), storage (generations), AIP (names,
//!   times, `google.longrunning.Operation`s).
//! - IAM policies on every resource that has them ([`iam`]).
//! - Answers 501 for a custom method it does not model, naming it.
//! - Shares auth (token endpoint, self-signed JWTs, metadata server), the clock and the
//!   `/emulator/*` routes with the Vertex AI emulator (`skyql_emulator::auth`,
//!   `skyql_emulator::clock`, `skyql_emulator::control`).
//!
//! It must not depend on the engine or the client: it is the other side of the wire.

pub mod api;
pub mod crud;
mod custom;
pub mod enums;
mod error;
pub mod family;
pub mod filter;
pub mod google_error;
pub mod iam;
pub mod load;
pub mod route;
pub mod router;
pub mod schema;
pub mod seed;
mod server;
mod state_file;
pub mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::Value;
use skyql_emulator::ClockMode;
use skyql_emulator::auth::{Auth, Keys, RefreshCreds};
use skyql_emulator::clock::Clock;
use skyql_emulator::control::{Control, EmulatorState};
use skyql_emulator::files::StateWriter;

pub use api::{Api, Family, Role};
pub use error::Error;
pub use load::{Sources, load};

/// Everything the emulator can be told.
#[derive(Clone, Debug)]
pub struct Config {
    pub addr: SocketAddr,
    /// The base URL clients use, if known in advance; [`spawn`] fills it in.
    pub base_url: Option<String>,
    pub clock: ClockMode,
    /// The clock's start; default now, to the second.
    pub start_time: Option<chrono::DateTime<chrono::Utc>>,
    /// How long a long-running operation takes (PENDING for the first quarter).
    pub operation_duration: Duration,
    pub latency: Duration,
    pub fault_rate: f64,
    pub fault_seed: u64,
    /// Resources, the clock and the signing key survive restarts in this file.
    pub state_file: Option<PathBuf>,
    /// A `--seed` file (JSON per collection, see [`seed`]).
    pub seed_file: Option<PathBuf>,
    pub token_lifetime: Duration,
    pub body_limit: usize,
    /// A PKCS#8 PEM RSA key to sign with (default: a new key).
    pub signing_key_pem: Option<String>,
    /// The project of the emulator's service account.
    pub project: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            base_url: None,
            clock: ClockMode::Real,
            start_time: None,
            operation_duration: Duration::from_secs(1),
            latency: Duration::ZERO,
            fault_rate: 0.0,
            fault_seed: 0,
            state_file: None,
            seed_file: None,
            token_lifetime: Duration::from_secs(3600),
            body_limit: 8 << 20,
            signing_key_pem: None,
            project: skyql_emulator::SEED_PROJECT.to_string(),
        }
    }
}

/// Shared state behind every request.
pub struct State {
    pub config: Config,
    pub apis: Vec<Api>,
    pub router: router::Router,
    pub store: RwLock<store::Store>,
    pub clock: Clock,
    pub auth: Auth,
    pub control: Control,
    /// The `user` of compute operations (the service account's email).
    pub user: String,
    state_writer: StateWriter,
}

impl State {
    /// The store's key for an API (`compute:v1`).
    pub fn api_id(&self, api: &Api) -> String {
        api.id()
    }
}

impl EmulatorState for State {
    fn control(&self) -> &Control {
        &self.control
    }
    fn clock(&self) -> &Clock {
        &self.clock
    }
    fn clear(&self) {
        if let Ok(mut s) = self.store.write() {
            s.clear();
        }
    }
    fn touch(&self) {
        if let Ok(mut s) = self.store.write() {
            s.generation += 1;
        }
    }
    async fn persist(&self) {
        state_file::persist(self).await;
    }
}

/// The emulator: cheap to clone, all clones share one state.
#[derive(Clone)]
pub struct Emulator {
    state: Arc<State>,
}

/// Any Google host: self-signed JWTs may be addressed to any served API.
fn google_host(host: &str) -> bool {
    host == "googleapis.com" || host.ends_with(".googleapis.com")
}

impl Emulator {
    /// Builds the emulator over the given documents: restores the state file if there
    /// is one, else loads the seed file.
    pub fn new(config: Config, apis: Vec<Api>) -> Result<Self, Error> {
        if apis.is_empty() {
            return Err(Error::Config("no services to serve".into()));
        }
        let snapshot = match &config.state_file {
            Some(p) => state_file::read(p)?,
            None => None,
        };
        let start_us = skyql_emulator::clock::start_us(config.start_time);
        let clock = Clock::new(config.clock, start_us);
        let pem = snapshot
            .as_ref()
            .map(|s| s.signing_key_pem.clone())
            .or_else(|| config.signing_key_pem.clone());
        let keys = Keys::new(pem.as_deref(), &config.project)?;
        let refresh = snapshot
            .as_ref()
            .map(|s| s.refresh.clone())
            .unwrap_or_else(RefreshCreds::generate);
        let user = keys.client_email.clone();
        let auth = Auth::new(
            keys,
            refresh,
            config.token_lifetime,
            config.base_url.clone(),
            google_host,
        );
        let control = Control::new(config.latency, config.fault_rate, config.fault_seed)?;
        let router = router::Router::new(&apis);
        let mut state = State {
            config,
            apis,
            router,
            store: RwLock::new(store::Store::default()),
            clock,
            auth,
            control,
            user,
            state_writer: StateWriter::default(),
        };
        match snapshot {
            Some(snap) => {
                state.clock.set_now_us(snap.clock_now_us);
                state.auth.tokens.import(snap.tokens);
                state.store = RwLock::new(snap.store);
            }
            None => {
                if let Some(path) = state.config.seed_file.clone() {
                    seed::load_file(&state, &path)?;
                }
            }
        }
        if let Ok(mut s) = state.store.write() {
            s.generation = 1;
        }
        Ok(Self {
            state: Arc::new(state),
        })
    }

    /// The served documents.
    pub fn apis(&self) -> &[Api] {
        &self.state.apis
    }

    /// The service-account key file for an emulator at `base_url`.
    pub fn service_account_key_json(&self, base_url: &str) -> Value {
        self.state.auth.keys.service_account_json(base_url)
    }

    /// The `authorized_user` credentials file for an emulator at `base_url`.
    pub fn authorized_user_json(&self, base_url: &str) -> Value {
        self.state.auth.refresh.json(base_url)
    }

    /// Issues an access token directly (for in-process callers).
    pub fn issue_access_token(&self) -> String {
        let token = self.state.auth.issue();
        self.state.touch();
        token
    }

    /// The number of stored resources (operations included).
    pub fn item_count(&self) -> usize {
        self.state.store.read().map(|s| s.item_count()).unwrap_or(0)
    }

    /// The router serving everything.
    pub fn router(&self) -> axum::Router {
        axum::Router::new()
            .fallback(server::handle)
            .with_state(self.state.clone())
    }

    /// Writes the state file now (if there is one and anything changed).
    pub async fn flush(&self) {
        state_file::persist(&self.state).await;
    }
}

impl skyql_emulator::serving::Serve for Emulator {
    fn router(&self) -> axum::Router {
        Emulator::router(self)
    }

    async fn flush(&self) {
        Emulator::flush(self).await;
    }
}

/// A running emulator on its own listener (the shared serving loop of `skyql-emulator`).
/// Dropping it stops the server.
pub type Running = skyql_emulator::serving::Running<Emulator>;

/// Binds `config.addr` on the current tokio runtime and serves `apis` in a background task.
pub async fn spawn(mut config: Config, apis: Vec<Api>) -> Result<Running, Error> {
    let (listener, addr) = skyql_emulator::serving::bind(config.addr).await?;
    config
        .base_url
        .get_or_insert_with(|| format!("http://{addr}"));
    let emulator = Emulator::new(config, apis)?;
    emulator.flush().await;
    Ok(skyql_emulator::serving::start(emulator, listener, addr))
}
