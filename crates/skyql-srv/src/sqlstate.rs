//! skyql's errors as PostgreSQL errors: a SQLSTATE saying what kind of
//! failure it is (so drivers raise the right exception class) and skyql's
//! full message, never shortened.

use pgwire::error::{ErrorInfo, PgWireError};
use skyql_engine::Error;

/// The PostgreSQL error for an engine error.
pub fn engine_error(e: &Error) -> PgWireError {
    user_error(engine_code(e), e.to_string())
}

pub fn user_error(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        code.into(),
        message,
    )))
}

fn engine_code(e: &Error) -> &'static str {
    match e {
        Error::Syntax { .. } => "42601",
        Error::Registry(_) | Error::Provider(_) => "42P01",
        Error::Sqlite { message, .. } => sqlite_code(message),
        Error::NoVerb { .. } => "0A000",
        Error::Client(c) => client_code(c),
        Error::MissingParams(_) => "42P02",
        Error::BadParam(_) => "22023",
        Error::Mutation(_) | Error::Exec(_) => "22023",
        Error::Operation { .. } => "38000",
        Error::Partial { source, .. } => engine_code(source),
        // A fan-out with failed parts fails as its first failure did.
        Error::Incomplete { first, .. } => engine_code(first),
        _ => "XX000",
    }
}

/// SQLite reports most failures as text; the start of it says which kind.
pub fn sqlite_code(msg: &str) -> &'static str {
    if msg.contains("no such table") {
        "42P01"
    } else if msg.contains("no such column") {
        "42703"
    } else if msg.contains("no such function") || msg.contains("wrong number of arguments") {
        "42883"
    } else if msg.contains("syntax error") || msg.contains("incomplete input") {
        "42601"
    } else if msg.contains("interrupted") {
        "57014"
    } else {
        "XX000"
    }
}

fn client_code(e: &skyql_client::Error) -> &'static str {
    // Retries that gave up fail as their last answer did.
    match e.root() {
        skyql_client::Error::Api { status, .. } | skyql_client::Error::Status { status, .. } => {
            match status {
                400 => "22023",
                401 => "28000",
                403 => "42501",
                404 => "42704",
                409 => "23505",
                429 => "53400",
                _ => "58000",
            }
        }
        skyql_client::Error::Auth { .. } => "28000",
        skyql_client::Error::Transport { .. } => "08006",
        _ => "58000",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denied() -> skyql_client::Error {
        skyql_client::Error::Api {
            method: "GET".into(),
            url: "https://example.invalid/v1/x".into(),
            status: 403,
            code: "PERMISSION_DENIED".into(),
            message: "denied".into(),
            details: Vec::new(),
        }
    }

    #[test]
    fn retries_and_fan_outs_keep_the_code_of_what_failed() {
        let gave_up = skyql_client::Error::GaveUp {
            attempts: 3,
            seconds: 1.5,
            last: Box::new(denied()),
        };
        assert_eq!(engine_code(&Error::Client(Box::new(denied()))), "42501");
        assert_eq!(engine_code(&Error::Client(Box::new(gave_up))), "42501");
        let incomplete = Error::Incomplete {
            message: "1 of 2 request groups failed".into(),
            first: Box::new(Error::Client(Box::new(denied()))),
        };
        assert_eq!(engine_code(&incomplete), "42501");
    }
}
