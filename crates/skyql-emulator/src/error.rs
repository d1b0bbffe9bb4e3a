//! The crate's one error type, for what can go wrong outside a request: binding the
//! address, the signing key, the state file.

use std::path::PathBuf;

/// An error starting or stopping the emulator.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Key(String),
    #[error("state file {}: {message}", path.display())]
    StateFile { path: PathBuf, message: String },
    #[error("invalid emulator configuration: {0}")]
    Config(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}
