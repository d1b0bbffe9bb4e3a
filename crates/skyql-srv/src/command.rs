//! What a statement asks of the server, from its parsed AST: session
//! commands answered here (transactions, SET/SHOW, cursors), skyql
//! statements for the engine, and everything else for the catalog.

use sqlparser::ast::{CloseCursor, FetchDirection, Set, Statement as Ast, Value};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// A skyql statement (SHOW SERVICES, DESCRIBE, EXEC, or SQL naming a resource).
    Engine,
    /// SQL naming no resource: answered from the catalog database.
    Catalog,
    Begin,
    Commit,
    Rollback,
    Set {
        name: String,
        value: String,
    },
    Show(String),
    Declare {
        name: String,
        query: String,
    },
    /// `None`: all remaining rows.
    Fetch {
        name: String,
        count: Option<usize>,
    },
    /// `None`: all cursors.
    Close(Option<String>),
    /// Accepted and ignored (DISCARD, DEALLOCATE, SAVEPOINT, ...), with its tag.
    Accept(&'static str),
    /// `RESET name`; `None`: `RESET ALL`.
    Reset(Option<String>),
    /// A PostgreSQL feature skyql does not have, by name.
    Unsupported(&'static str),
}

/// Classifies one statement. `names_resource` says whether it names a
/// skyql resource (the translator finds those).
pub fn classify(text: &str, names_resource: bool) -> Command {
    if let Ok(stmts) = skyql_engine::split_statements(text)
        && let Some(stmt) = stmts.first()
    {
        let first = match stmt.tokens.first() {
            Some(sqlparser::tokenizer::Token::Word(w)) => w.value.to_ascii_uppercase(),
            _ => String::new(),
        };
        if skyql_engine::is_metadata(stmt) || first == "EXEC" {
            return Command::Engine;
        }
    }
    let parsed = Parser::parse_sql(&PostgreSqlDialect {}, text);
    let Ok(mut stmts) = parsed else {
        return if names_resource {
            Command::Engine
        } else {
            Command::Catalog
        };
    };
    if stmts.len() != 1 {
        return if names_resource {
            Command::Engine
        } else {
            Command::Catalog
        };
    }
    match stmts.remove(0) {
        Ast::StartTransaction { .. } => Command::Begin,
        Ast::Commit { .. } => Command::Commit,
        Ast::Rollback {
            savepoint: None, ..
        } => Command::Rollback,
        Ast::Rollback { .. } => Command::Accept("ROLLBACK"),
        Ast::Savepoint { .. } => Command::Accept("SAVEPOINT"),
        Ast::ReleaseSavepoint { .. } => Command::Accept("RELEASE"),
        Ast::Discard { .. } => Command::Accept("DISCARD ALL"),
        Ast::Deallocate { .. } => Command::Accept("DEALLOCATE"),
        Ast::Set(set) => set_command(set),
        Ast::Reset(r) => Command::Reset(match r.reset {
            sqlparser::ast::Reset::ConfigurationParameter(name) => {
                Some(name.to_string().to_ascii_lowercase())
            }
            _ => None,
        }),
        Ast::UNLISTEN { .. } => Command::Accept("UNLISTEN"),
        Ast::LISTEN { .. } => Command::Unsupported("LISTEN"),
        Ast::NOTIFY { .. } => Command::Unsupported("NOTIFY"),
        Ast::Copy { .. } => Command::Unsupported("COPY"),
        Ast::ShowVariable { variable } => Command::Show(
            variable
                .iter()
                .map(|i| i.value.to_ascii_lowercase())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Ast::Declare { stmts, .. } => match stmts.first() {
            Some(d) if d.for_query.is_some() => Command::Declare {
                name: d.names.first().map(|n| n.value.clone()).unwrap_or_default(),
                query: query_after_for(text),
            },
            _ => Command::Catalog,
        },
        Ast::Fetch {
            name, direction, ..
        } => Command::Fetch {
            name: name.value,
            count: fetch_count(&direction),
        },
        Ast::Close { cursor } => Command::Close(match cursor {
            CloseCursor::All => None,
            CloseCursor::Specific { name } => Some(name.value),
        }),
        _ if names_resource => Command::Engine,
        _ => Command::Catalog,
    }
}

fn set_command(set: Set) -> Command {
    match set {
        Set::SingleAssignment {
            variable, values, ..
        } => Command::Set {
            name: variable.to_string().to_ascii_lowercase(),
            value: values
                .iter()
                .map(|v| match v {
                    sqlparser::ast::Expr::Value(v) => match &v.value {
                        Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s.clone(),
                        other => other.to_string(),
                    },
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", "),
        },
        Set::SetTimeZone { value, .. } => Command::Set {
            name: "timezone".into(),
            value: value.to_string().trim_matches('\'').to_string(),
        },
        Set::SetNames { charset_name, .. } => Command::Set {
            name: "client_encoding".into(),
            value: charset_name.value,
        },
        _ => Command::Accept("SET"),
    }
}

fn fetch_count(d: &FetchDirection) -> Option<usize> {
    let n = |v: &sqlparser::ast::ValueWithSpan| match &v.value {
        Value::Number(n, _) => n.parse::<usize>().ok(),
        _ => None,
    };
    match d {
        FetchDirection::Count { limit } => n(limit),
        FetchDirection::Forward { limit: Some(l) } => n(l),
        FetchDirection::Next | FetchDirection::Forward { limit: None } => Some(1),
        _ => None,
    }
}

/// The query of `DECLARE name CURSOR ... FOR query`, as written.
fn query_after_for(text: &str) -> String {
    use sqlparser::tokenizer::{Token, Tokenizer};
    let dialect = PostgreSqlDialect {};
    let Ok(toks) = Tokenizer::new(&dialect, text).tokenize_with_location() else {
        return String::new();
    };
    let mut line_starts = vec![0];
    line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    for t in &toks {
        if let Token::Word(w) = &t.token
            && w.quote_style.is_none()
            && w.value.eq_ignore_ascii_case("FOR")
        {
            let loc = t.span.end;
            let Some(&start) = line_starts.get(loc.line.saturating_sub(1) as usize) else {
                break;
            };
            let at = text[start..]
                .char_indices()
                .nth(loc.column.saturating_sub(1) as usize)
                .map_or(text.len(), |(i, _)| start + i);
            return text[at..].trim().to_string();
        }
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_commands() {
        assert_eq!(classify("BEGIN", false), Command::Begin);
        assert_eq!(
            classify("START TRANSACTION ISOLATION LEVEL REPEATABLE READ", false),
            Command::Begin
        );
        assert_eq!(classify("COMMIT TRANSACTION", false), Command::Commit);
        assert_eq!(
            classify("SET extra_float_digits = 3", false),
            Command::Set {
                name: "extra_float_digits".into(),
                value: "3".into()
            }
        );
        assert_eq!(
            classify("SET search_path = pg_catalog", false),
            Command::Set {
                name: "search_path".into(),
                value: "pg_catalog".into()
            }
        );
        assert_eq!(
            classify("SHOW transaction isolation level", false),
            Command::Show("transaction isolation level".into())
        );
        assert_eq!(
            classify(
                "DECLARE c1 CURSOR FOR\nSELECT \"name\" FROM \"aiplatform\".\"custom_jobs\"",
                true
            ),
            Command::Declare {
                name: "c1".into(),
                query: "SELECT \"name\" FROM \"aiplatform\".\"custom_jobs\"".into()
            }
        );
        assert_eq!(
            classify("FETCH 100 FROM c1", false),
            Command::Fetch {
                name: "c1".into(),
                count: Some(100)
            }
        );
        assert_eq!(
            classify("CLOSE c1", false),
            Command::Close(Some("c1".into()))
        );
        assert_eq!(classify("RESET ALL", false), Command::Reset(None));
        assert_eq!(
            classify("RESET search_path", false),
            Command::Reset(Some("search_path".into()))
        );
        assert_eq!(classify("LISTEN x", false), Command::Unsupported("LISTEN"));
        assert_eq!(classify("ABORT TRANSACTION", false), Command::Rollback);
        assert_eq!(classify("END", false), Command::Commit);
    }

    #[test]
    fn skyql_and_catalog_statements() {
        assert_eq!(classify("SHOW SERVICES IN google", false), Command::Engine);
        assert_eq!(
            classify("EXEC google.aiplatform.custom_jobs.cancel @x='1'", true),
            Command::Engine
        );
        assert_eq!(classify("SELECT version()", false), Command::Catalog);
        assert_eq!(
            classify("SELECT name FROM google.aiplatform.custom_jobs", true),
            Command::Engine
        );
    }
}
