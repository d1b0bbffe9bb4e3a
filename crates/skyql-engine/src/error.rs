//! The engine's single error type.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Registry(#[from] skyql_registry::Error),
    #[error(transparent)]
    Provider(#[from] skyql_provider::Error),
    #[error("SQL error: {0}")]
    Sqlite(String),
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
    /// Boxed: API errors are large and rare.
    #[error(transparent)]
    Client(Box<skyql_client::Error>),
    #[error("{0}")]
    MissingParams(String),
    /// A parameter value that cannot be used (a path value of `.`, `..`,
    /// empty; a parameter given twice).
    #[error("{0}")]
    BadParam(String),
    #[error("{0}")]
    Mutation(String),
    #[error("{0}")]
    Exec(String),
    #[error("operation {name} failed: code {code}: {message}")]
    Operation {
        name: String,
        code: i64,
        message: String,
    },
    #[error(
        "{source} ({done} earlier {verb} call(s) of this statement had already succeeded and are not undone)"
    )]
    Partial {
        done: usize,
        verb: String,
        source: Box<Error>,
    },
    /// SQL that would reach the local file system, refused by default.
    #[error(
        "{0} is refused: statements may not read or write local files; \
         the CLI allows them with --allow-local-files (never in srv)"
    )]
    LocalFiles(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        match e {
            // rusqlite repeats SQLite's message and code; the message says it all.
            rusqlite::Error::SqliteFailure(_, Some(msg)) => Error::Sqlite(msg),
            other => Error::Sqlite(other.to_string()),
        }
    }
}

impl From<skyql_client::Error> for Error {
    fn from(e: skyql_client::Error) -> Error {
        Error::Client(Box::new(e))
    }
}
