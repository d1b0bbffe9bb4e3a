//! The server's error type: what stops it from starting. Errors of a
//! statement go to the client as PostgreSQL errors (`sqlstate.rs`) instead.

use std::net::SocketAddr;
use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error(
        "refusing to listen on {addr} without a password: anyone who can reach it could use your Google credentials; give --password-file FILE (clients then log in with SCRAM-SHA-256), or listen on 127.0.0.1"
    )]
    PasswordRequired { addr: SocketAddr },
    #[error("the password file is empty; put the password clients must give on its first line")]
    EmptyPassword,
    #[error(
        "cannot listen on {addr}: {source} (is another server using that port? pick another with --addr)"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS: {path}: {message}")]
    Tls { path: PathBuf, message: String },
    #[error("TLS setup failed: {0}")]
    TlsConfig(String),
    #[error(transparent)]
    Io(std::io::Error),
}
