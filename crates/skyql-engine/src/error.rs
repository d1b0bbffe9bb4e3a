//! The engine's single error type. Each variant is somebody's fault, and
//! `Error::fault` says whose: the user's statement, the remote API, a part
//! of StackQL skyql does not support yet, or skyql itself (a bug to report).

use thiserror::Error;

/// Whose fault an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The statement (syntax, names, parameters, values): the user fixes it.
    Statement,
    /// The remote API refused or failed, or answered something unusable.
    Remote,
    /// Valid StackQL that skyql does not do yet.
    Unsupported,
    /// A bug in skyql.
    Internal,
}

#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Registry(#[from] skyql_registry::Error),
    #[error(transparent)]
    Provider(#[from] skyql_provider::Error),
    /// SQLite refused or failed the statement (its message says why; the
    /// error itself is kept, with SQLite's code, for callers that map it).
    #[error("SQL error: {message}")]
    Sqlite {
        message: String,
        sqlite: rusqlite::Error,
    },
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
    /// A long-running operation finished with an error.
    #[error("operation {name} failed: {code}: {message}")]
    Operation {
        name: String,
        code: String,
        message: String,
    },
    /// The API answered something skyql cannot use (a paging token that
    /// repeats, an operation without a link to poll).
    #[error("{0}")]
    Remote(String),
    /// Valid StackQL that skyql does not do yet.
    #[error("{0} is not supported yet")]
    Unsupported(String),
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
    #[error("internal error: {0} (this is a bug in skyql, please report it)")]
    Internal(String),
}

impl Error {
    /// Whose fault the error is.
    pub fn fault(&self) -> Fault {
        match self {
            Error::Registry(_)
            | Error::Provider(_)
            | Error::Sqlite { .. }
            | Error::Syntax { .. }
            | Error::NoVerb { .. }
            | Error::MissingParams(_)
            | Error::BadParam(_)
            | Error::Mutation(_)
            | Error::Exec(_)
            | Error::LocalFiles(_) => Fault::Statement,
            Error::Client(_) | Error::Operation { .. } | Error::Remote(_) => Fault::Remote,
            Error::Unsupported(_) => Fault::Unsupported,
            Error::Partial { source, .. } => source.fault(),
            Error::Internal(_) => Fault::Internal,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        match e {
            // rusqlite repeats SQLite's message and code; the message says it all.
            rusqlite::Error::SqliteFailure(_, Some(ref msg)) => Error::Sqlite {
                message: msg.clone(),
                sqlite: e,
            },
            other => Error::Sqlite {
                message: other.to_string(),
                sqlite: other,
            },
        }
    }
}

impl From<skyql_client::Error> for Error {
    fn from(e: skyql_client::Error) -> Error {
        Error::Client(Box::new(e))
    }
}
