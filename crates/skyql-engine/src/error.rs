//! The engine's single error type.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Registry(#[from] skyql_registry::Error),
    #[error(transparent)]
    Provider(#[from] skyql_provider::Error),
    #[error("SQL error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("syntax error at line {line}, column {column}: {message}")]
    Syntax {
        line: u64,
        column: u64,
        message: String,
    },
    #[error("{resource} has no {verb} method; `SHOW METHODS IN {resource}` lists what it has")]
    NoVerb {
        resource: String,
        verb: &'static str,
    },
    #[error("internal error: {0}")]
    Internal(String),
}
