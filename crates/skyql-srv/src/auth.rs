//! Who may connect: no password on loopback (the default), SCRAM-SHA-256
//! against the `--password-file` password otherwise; and TLS with rustls
//! when given a certificate. The password never leaves this module: it is
//! not logged and not part of any message.

use crate::pg_client::{SendError, StartupClient};
use crate::{Error, TlsFiles};
use async_trait::async_trait;
use pgwire::api::auth::sasl::SASLAuthStartupHandler;
use pgwire::api::auth::sasl::scram::{ScramAuth, gen_salted_password};
use pgwire::api::auth::{
    AuthSource, DefaultServerParameterProvider, LoginInfo, Password, StartupHandler,
    finish_authentication, protocol_negotiation, save_startup_parameters_to_metadata,
};
use pgwire::api::{
    ConnectionGuard, ConnectionHandle, ConnectionManager, PidSecretKeyGenerator,
    RandomPidSecretKeyGenerator,
};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireFrontendMessage;
use pgwire::tokio::TlsAcceptor;
use pgwire::tokio::tokio_rustls::rustls;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::fmt::Debug;
use std::sync::Arc;

const SCRAM_ITERATIONS: usize = 4096;

/// What the server reports about itself at start-up. PostgreSQL 15
/// compatible: clients (pgjdbc, postgres_fdw) read the leading version.
fn parameters() -> DefaultServerParameterProvider {
    let mut p = DefaultServerParameterProvider::default();
    p.server_version = "15.0 (skyql)".into();
    p.is_superuser = false;
    p.time_zone = "UTC".into();
    p
}

/// The start-up handler: trust (loopback, no password) or SCRAM.
pub enum Startup {
    Trust(Box<Trust>),
    Scram(Box<SASLAuthStartupHandler<DefaultServerParameterProvider>>),
}

impl Startup {
    pub fn new(password: Option<String>, cancels: Arc<ConnectionManager>) -> Startup {
        let Some(password) = password else {
            return Startup::Trust(Box::new(Trust {
                cancels,
                pids: RandomPidSecretKeyGenerator::default(),
                params: parameters(),
            }));
        };
        // No channel binding (SCRAM-SHA-256-PLUS): pgwire would offer it on
        // plain connections too, which clients rightly refuse.
        let mut scram = ScramAuth::new(Arc::new(FilePassword { password }));
        scram.set_iterations(SCRAM_ITERATIONS);
        let handler = SASLAuthStartupHandler::new(Arc::new(parameters()))
            .with_scram(scram)
            .with_connection_manager(cancels);
        Startup::Scram(Box::new(handler))
    }
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: StartupClient,
        PgWireError: From<SendError<C>>,
    {
        let trust = match self {
            Startup::Trust(t) => t,
            Startup::Scram(s) => return s.on_startup(client, message).await,
        };
        if let PgWireFrontendMessage::Startup(ref startup) = message {
            protocol_negotiation(client, startup).await?;
            save_startup_parameters_to_metadata(client, startup);
            let (pid, key) = trust.pids.generate(client);
            client.set_pid_and_secret_key(pid, key.clone());
            let (handle, guard) = trust.cancels.register(pid, key);
            client
                .session_extensions()
                .insert::<Arc<ConnectionHandle>>(handle);
            client.session_extensions().insert::<ConnectionGuard>(guard);
            finish_authentication(client, &trust.params).await?;
        }
        Ok(())
    }
}

/// No authentication: the start-up only registers the connection for
/// cancel requests.
pub struct Trust {
    cancels: Arc<ConnectionManager>,
    pids: RandomPidSecretKeyGenerator,
    params: DefaultServerParameterProvider,
}

/// The one password of `--password-file`, for any user name.
struct FilePassword {
    password: String,
}

impl Debug for FilePassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FilePassword(<hidden>)")
    }
}

#[async_trait]
impl AuthSource for FilePassword {
    async fn get_password(&self, _login: &LoginInfo) -> PgWireResult<Password> {
        let salt: [u8; 16] = rand_salt();
        let hashed = gen_salted_password(&self.password, &salt, SCRAM_ITERATIONS);
        Ok(Password::new(Some(salt.to_vec()), hashed))
    }
}

/// A fresh salt per login (the time and a counter, hashed by the SCRAM
/// key derivation itself; a salt needs to be unique, not secret).
fn rand_salt() -> [u8; 16] {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&t.to_le_bytes());
    out[8..].copy_from_slice(&n.to_le_bytes());
    out
}

/// A rustls acceptor from PEM certificate chain and key files.
pub fn tls_acceptor(files: &TlsFiles) -> Result<TlsAcceptor, Error> {
    for path in [&files.cert, &files.key] {
        std::fs::metadata(path).map_err(|e| Error::Tls {
            path: path.clone(),
            message: format!("cannot read it: {e}"),
        })?;
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| Error::Tls {
            path: files.cert.clone(),
            message: format!("not a PEM certificate file: {e}"),
        })?;
    if certs.is_empty() {
        return Err(Error::Tls {
            path: files.cert.clone(),
            message: "no certificate in the file".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| Error::Tls {
        path: files.key.clone(),
        message: format!("not a PEM private key file: {e}"),
    })?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| Error::TlsConfig(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| Error::TlsConfig(e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
