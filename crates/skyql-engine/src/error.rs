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
    /// Request groups of a fan-out failed: the message names them and the
    /// rows that had come back; `first` is the first group's own error.
    #[error("{message}")]
    Incomplete { message: String, first: Box<Error> },
}

impl Error {
    /// A syntax error at token `token` of `stmt` (its end, if past the
    /// last token): the line and column come from the token's span.
    pub fn syntax_at(stmt: &crate::Statement, token: usize, message: impl Into<String>) -> Error {
        let at = stmt
            .spans
            .get(token)
            .map_or(stmt.text.len(), |s| s.start)
            .min(stmt.text.len());
        let before = stmt.text.get(..at).unwrap_or(&stmt.text);
        let line = stmt.line + before.matches('\n').count() as u64;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
        Error::Syntax {
            line,
            column,
            message: message.into(),
        }
    }

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
            Error::Incomplete { first, .. } => first.fault(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_point_at_the_token() {
        let s = crate::split_statements("SELECT 1;\nSHOW METHODS\n  google.a.b").expect("split");
        let e = Error::syntax_at(&s[1], 2, "expected IN").to_string();
        assert_eq!(e, "syntax error at line 3, column 3: expected IN");
        let e = Error::syntax_at(&s[1], 99, "at the end").to_string();
        assert_eq!(e, "syntax error at line 3, column 13: at the end");
    }

    #[test]
    fn faults_are_named() {
        assert_eq!(Error::Internal("x".into()).fault(), Fault::Internal);
        assert!(
            Error::Internal("x".into())
                .to_string()
                .contains("this is a bug in skyql")
        );
        assert_eq!(Error::Remote("x".into()).fault(), Fault::Remote);
        assert_eq!(Error::MissingParams("x".into()).fault(), Fault::Statement);
        let partial = Error::Partial {
            done: 1,
            verb: "DELETE".into(),
            source: Box::new(Error::Remote("x".into())),
        };
        assert_eq!(partial.fault(), Fault::Remote);
    }
}
