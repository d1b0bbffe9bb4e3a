//! The crate's error: what went wrong starting the emulator, and whose fault it is.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user named a service no pinned or pulled document describes.
    #[error("no Discovery document for service `{name}`{hint}")]
    UnknownService { name: String, hint: String },
    /// A document could not be read or is not a Discovery document.
    #[error("cannot use the Discovery document {origin}: {message}")]
    Document { origin: String, message: String },
    /// A file the user named could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The seed file is not what `--seed` expects.
    #[error("the seed file {path} is not valid: {message}")]
    Seed { path: PathBuf, message: String },
    /// The state file cannot be read or written.
    #[error("the state file {path} cannot be used: {message}")]
    StateFile { path: PathBuf, message: String },
    /// Bad settings (a fault rate outside 0..1, no services).
    #[error("{0}")]
    Config(String),
    /// The shared emulator machinery (keys, control, the listener) refused to start.
    #[error(transparent)]
    Shared(#[from] skyql_emulator::Error),
}
