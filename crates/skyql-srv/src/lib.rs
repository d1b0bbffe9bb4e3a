//! `skyql srv`: a PostgreSQL wire-protocol server in front of the engine, so
//! that psql, drivers (JDBC, psycopg, node-postgres, pgx), BI tools and
//! PostgreSQL itself (`postgres_fdw`) can query Google Cloud with SQL.
//!
//! Each connection gets its own engine session on its own thread (the engine
//! blocks on HTTP work, which must never happen on a runtime worker); the
//! wire protocol is `pgwire`'s. What clients ask before their own queries
//! (catalog tables, `version()`, `SET`, transactions, cursors) is answered
//! here, never by the engine. Library code never prints: every log line goes
//! through the [`Log`] sink the caller provides.

mod auth;
mod catalog;
mod command;
mod connection;
mod encode;
mod error;
mod handler;
mod pg_client;
mod session;
mod sqlstate;
mod translate;

pub use error::Error;

use skyql_client::Client;
use skyql_registry::Registry;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Where log lines go (the CLI prints them on standard error).
pub type Log = Arc<dyn Fn(&str) + Send + Sync>;

/// A certificate and its private key, both PEM files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// How to run the server.
pub struct Config {
    pub addr: SocketAddr,
    /// The password clients must give (SCRAM-SHA-256); `None`: no password,
    /// which is only allowed on a loopback address.
    pub password: Option<String>,
    pub tls: Option<TlsFiles>,
    pub registry: Arc<Registry>,
    /// The API client every session's engine uses.
    pub client: Client,
    /// How long `/*+ AWAIT */` waits for an operation.
    pub await_timeout: Duration,
    /// What a statement does when part of its fan-out failed (`--on-error`):
    /// fail (the default), or return what came back with a NOTICE naming
    /// what is missing or skipped.
    pub on_error: skyql_engine::OnError,
    pub log: Log,
}

/// What every connection shares.
pub(crate) struct Shared {
    pub registry: Arc<Registry>,
    pub client: Client,
    pub await_timeout: Duration,
    pub on_error: skyql_engine::OnError,
    pub rt: tokio::runtime::Handle,
    pub log: Log,
    pub catalog: catalog::CatalogData,
    pub cancels: Arc<pgwire::api::ConnectionManager>,
    /// Each live connection's cancel key, by process id, for
    /// `pg_cancel_backend(pid)`.
    pub backends:
        std::sync::Mutex<std::collections::HashMap<i32, pgwire::messages::startup::SecretKey>>,
}

impl Shared {
    /// Cancels the running statement of connection `pid` (`pg_cancel_backend`).
    pub fn cancel_backend(&self, pid: i32) -> bool {
        let key = self.backends.lock().ok().and_then(|b| b.get(&pid).cloned());
        let Some(key) = key else {
            return false;
        };
        let cancels = self.cancels.clone();
        self.rt
            .spawn(async move { cancels.cancel(pid, &key).await });
        true
    }
}

/// A bound server, ready to serve.
pub struct Server {
    listener: TcpListener,
    shared: Arc<Shared>,
    startup: auth::Startup,
    tls: Option<pgwire::tokio::TlsAcceptor>,
}

impl Server {
    /// Checks the configuration (a password off loopback, readable TLS
    /// files) and binds the address. Must run inside a tokio runtime.
    pub async fn bind(config: Config) -> Result<Server, Error> {
        if !config.addr.ip().is_loopback() && config.password.is_none() {
            return Err(Error::PasswordRequired { addr: config.addr });
        }
        if let Some(p) = &config.password
            && p.is_empty()
        {
            return Err(Error::EmptyPassword);
        }
        let tls = match &config.tls {
            Some(files) => Some(auth::tls_acceptor(files)?),
            None => None,
        };
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|e| Error::Bind {
                addr: config.addr,
                source: e,
            })?;
        let cancels = Arc::new(pgwire::api::ConnectionManager::new());
        let startup = auth::Startup::new(config.password.clone(), cancels.clone());
        let shared = Arc::new(Shared {
            catalog: catalog::CatalogData::new(config.registry.clone()),
            registry: config.registry,
            client: config.client,
            await_timeout: config.await_timeout,
            on_error: config.on_error.clone(),
            rt: tokio::runtime::Handle::current(),
            log: config.log,
            cancels,
            backends: std::sync::Mutex::new(std::collections::HashMap::new()),
        });
        Ok(Server {
            listener,
            shared,
            startup,
            tls,
        })
    }

    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        self.listener.local_addr().map_err(Error::Io)
    }

    /// Accepts connections until the task is dropped; each connection is
    /// served on its own task, and its failure ends only itself.
    pub async fn serve(self) -> Result<(), Error> {
        let Server {
            listener,
            shared,
            startup,
            tls,
        } = self;
        let startup = Arc::new(startup);
        loop {
            let (socket, peer) = match listener.accept().await {
                Ok(x) => x,
                Err(e) => {
                    (shared.log)(&format!("accepting a connection failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let shared = shared.clone();
            let startup = startup.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                connection::serve(socket, peer, tls, shared, startup).await;
            });
        }
    }
}
