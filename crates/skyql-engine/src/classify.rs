//! What a statement is, from sqlparser's AST rather than from its first
//! word (metadata statements, which are not SQL, are recognised before:
//! `meta.rs`): an EXEC, a read, or a mutation with its verb,
//! its RETURNING list, whether it awaits operations, and (where its WHERE
//! names the resource's key outright) the request it comes down to.
//!
//! Two pieces of StackQL's grammar are not SQL, so the tokenizer handles
//! them before the parser sees the statement: `REPLACE <table> SET ... WHERE
//! ...` (an UPDATE that runs the resource's replace method) and
//! `EXEC <method> @p = 'v'` (see `exec.rs`).

use crate::Error;
use crate::statement::Statement;
use sqlparser::ast::{
    self, AssignmentTarget, BinaryOperator, Expr, FromTable, ObjectName, SetExpr, TableFactor,
    TableObject,
};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

/// A statement's kind, and what the engine needs to run it.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// `EXEC service.resource.method @param = ...`.
    Exec,
    /// A query (SELECT, WITH, VALUES).
    Read(Read),
    Mutation(Mutation),
    /// Anything else SQLite runs as it is (CREATE TEMP TABLE, PRAGMA, ...).
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    /// The outermost query has a LIMIT (a join then reads only what it needs).
    pub has_limit: bool,
    /// The outermost query's SELECT, as parsed here, when its body is one
    /// (not a set operation or VALUES): the join and label rewrites read it
    /// rather than parsing the statement again.
    pub select: Option<Box<ast::Select>>,
}

impl Read {
    /// A read of `q` (the outermost query of the statement).
    fn of(q: ast::Query) -> Read {
        let has_limit = query_has_limit(&q);
        let select = match *q.body {
            SetExpr::Select(select) => Some(select),
            _ => None,
        };
        Read { has_limit, select }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Insert,
    Update,
    Replace,
    Delete,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Insert => "INSERT",
            Verb::Update => "UPDATE",
            Verb::Replace => "REPLACE",
            Verb::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Mutation {
    pub verb: Verb,
    /// The statement for SQLite: RETURNING removed, `REPLACE` spelled
    /// `UPDATE`; resource names not yet quoted.
    pub sql: String,
    /// The RETURNING list as written (any expressions, aliases).
    pub returning: Option<String>,
    /// `/*+ AWAIT */`: wait for the operations the calls return.
    pub awaits: bool,
    /// The table it changes, as written (`google.svc.res`).
    pub table: String,
    /// For UPDATE, REPLACE and DELETE: `column = constant` conditions when
    /// they are the whole WHERE clause (ANDed), and the SET list; the engine
    /// sends the request directly if they name every required parameter.
    pub direct: Option<Direct>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Direct {
    /// Column and constant (as text) of each `=` in the WHERE clause.
    pub keys: Vec<(String, String)>,
    /// Column and value expression (SQL text) of each SET.
    pub set: Vec<(String, String)>,
}

/// Classifies a statement (the caller has already checked for metadata).
pub fn classify(stmt: &Statement) -> Result<Kind, Error> {
    let first = match stmt.tokens.first() {
        Some(Token::Word(w)) if w.quote_style.is_none() => w.value.to_ascii_uppercase(),
        _ => String::new(),
    };
    if first == "EXEC" {
        return Ok(Kind::Exec);
    }
    let awaits = stmt.hints.iter().any(|h| h == "AWAIT");
    // `REPLACE t SET ...` (not `REPLACE INTO`): an UPDATE by another method.
    let is_replace_set = first == "REPLACE"
        && !matches!(stmt.tokens.get(1), Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("INTO"));
    let text = if is_replace_set {
        let at = stmt.spans.first().map_or(0, |s| s.end);
        format!("UPDATE{}", &stmt.text[at..])
    } else {
        stmt.text.clone()
    };
    let parsed = match Parser::parse_sql(&SQLiteDialect {}, &text) {
        Ok(mut v) if v.len() == 1 => v.remove(0),
        Ok(_) => return Ok(Kind::Other),
        Err(e) => {
            // SQLite knows more syntax than sqlparser: leave reads and
            // anything else to SQLite's own error; a mutation must be understood.
            if matches!(first.as_str(), "INSERT" | "UPDATE" | "DELETE" | "REPLACE") {
                return Err(parse_error(stmt, &e.to_string()));
            }
            return Ok(if matches!(first.as_str(), "SELECT" | "WITH" | "VALUES") {
                Kind::Read(Read {
                    has_limit: true,
                    select: None,
                })
            } else {
                Kind::Other
            });
        }
    };
    let parsed = match parsed {
        ast::Statement::Query(q) => return Ok(Kind::Read(Read::of(*q))),
        other => other,
    };
    let (verb, table, returning, direct) = match &parsed {
        ast::Statement::Insert(ins) => {
            let table = match &ins.table {
                TableObject::TableName(n) => name_of(n),
                _ => String::new(),
            };
            let verb = if ins.replace_into || first == "REPLACE" {
                Verb::Replace
            } else {
                Verb::Insert
            };
            (verb, table, ins.returning.is_some(), None)
        }
        ast::Statement::Update(u) => {
            let table = match &u.table.relation {
                TableFactor::Table { name, .. } => name_of(name),
                _ => String::new(),
            };
            let direct = if u.from.is_none() && u.table.joins.is_empty() {
                direct_of(u.selection.as_ref(), &u.assignments)
            } else {
                None
            };
            let verb = if is_replace_set {
                Verb::Replace
            } else {
                Verb::Update
            };
            (verb, table, u.returning.is_some(), direct)
        }
        ast::Statement::Delete(d) => {
            let tables = match &d.from {
                FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
            };
            let table = match tables.first().map(|t| &t.relation) {
                Some(TableFactor::Table { name, .. }) => name_of(name),
                _ => String::new(),
            };
            let direct = if tables.len() == 1 && tables[0].joins.is_empty() && d.using.is_none() {
                direct_of(d.selection.as_ref(), &[])
            } else {
                None
            };
            (Verb::Delete, table, d.returning.is_some(), direct)
        }
        _ => return Ok(Kind::Other),
    };
    // The RETURNING list as written: everything after the last top-level
    // RETURNING keyword (the AST says there is one).
    let (sql, returning) = if returning {
        match returning_at(stmt) {
            Some(pos) => {
                let cut = stmt.spans[pos].start;
                let list = stmt.text[stmt.spans[pos].end..].trim().to_string();
                let head = &stmt.text[..cut];
                let head = if is_replace_set {
                    let at = stmt.spans.first().map_or(0, |s| s.end);
                    format!("UPDATE{}", &head[at.min(head.len())..])
                } else {
                    head.to_string()
                };
                (head, Some(list))
            }
            None => (text, None),
        }
    } else {
        (text, None)
    };
    Ok(Kind::Mutation(Mutation {
        verb,
        sql,
        returning,
        awaits,
        table,
        direct,
    }))
}

fn parse_error(stmt: &Statement, msg: &str) -> Error {
    // sqlparser says "... at Line: L, Column: C".
    let num = |key: &str| -> Option<u64> {
        let rest = &msg[msg.find(key)? + key.len()..];
        rest.trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    };
    let line = num("Line:").unwrap_or(1);
    let column = num("Column:").unwrap_or(1);
    let message = msg
        .split(" at Line:")
        .next()
        .unwrap_or(msg)
        .trim_start_matches("sql parser error: ")
        .to_string();
    Error::Syntax {
        line: stmt.line + line.saturating_sub(1),
        column,
        message,
    }
}

/// The index of the last RETURNING keyword outside parentheses.
fn returning_at(stmt: &Statement) -> Option<usize> {
    let mut depth = 0i32;
    let mut found = None;
    for (i, t) in stmt.tokens.iter().enumerate() {
        match t {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            Token::Word(w)
                if depth == 0
                    && w.quote_style.is_none()
                    && w.value.eq_ignore_ascii_case("RETURNING") =>
            {
                found = Some(i);
            }
            _ => {}
        }
    }
    found
}

fn query_has_limit(q: &ast::Query) -> bool {
    if q.limit_clause.is_some() || q.fetch.is_some() {
        return true;
    }
    match q.body.as_ref() {
        SetExpr::Query(inner) => query_has_limit(inner),
        _ => false,
    }
}

/// The top-level AND conjuncts of a condition (parentheses looked through).
pub fn conjuncts(e: &Expr) -> Vec<&Expr> {
    fn walk<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
        match e {
            Expr::BinaryOp {
                left,
                op: BinaryOperator::And,
                right,
            } => {
                walk(left, out);
                walk(right, out);
            }
            Expr::Nested(inner) => walk(inner, out),
            other => out.push(other),
        }
    }
    let mut out = Vec::new();
    walk(e, &mut out);
    out
}

/// `a.b.c` or `"a.b.c"` as `a.b.c`.
pub fn name_of(n: &ObjectName) -> String {
    n.0.iter()
        .filter_map(|p| p.as_ident().map(|i| i.value.clone()))
        .collect::<Vec<_>>()
        .join(".")
}

/// The column a condition names: `col` or `alias.col`.
fn column_of(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) => Some(i.value.clone()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.clone()),
        Expr::Nested(inner) => column_of(inner),
        _ => None,
    }
}

/// A constant as the text a request parameter takes.
fn constant_of(e: &Expr) -> Option<String> {
    match e {
        Expr::Value(v) => match &v.value {
            ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => {
                Some(s.clone())
            }
            ast::Value::Number(n, _) => Some(n.to_string()),
            _ => None,
        },
        Expr::Nested(inner) => constant_of(inner),
        _ => None,
    }
}

/// The WHERE clause as `column = constant` pairs if it is nothing else.
fn keys_of(e: &Expr, out: &mut Vec<(String, String)>) -> bool {
    match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => keys_of(left, out) && keys_of(right, out),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => {
            let pair = match (column_of(left), constant_of(right)) {
                (Some(c), Some(v)) => Some((c, v)),
                _ => match (column_of(right), constant_of(left)) {
                    (Some(c), Some(v)) => Some((c, v)),
                    _ => None,
                },
            };
            match pair {
                Some((c, v)) if !out.iter().any(|(k, _)| *k == c) => {
                    out.push((c, v));
                    true
                }
                _ => false,
            }
        }
        Expr::Nested(inner) => keys_of(inner, out),
        _ => false,
    }
}

fn direct_of(selection: Option<&Expr>, assignments: &[ast::Assignment]) -> Option<Direct> {
    let mut keys = Vec::new();
    if !keys_of(selection?, &mut keys) {
        return None;
    }
    let mut set = Vec::new();
    for a in assignments {
        let AssignmentTarget::ColumnName(n) = &a.target else {
            return None;
        };
        set.push((n.0.last()?.as_ident()?.value.clone(), a.value.to_string()));
    }
    Some(Direct { keys, set })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(sql: &str) -> Kind {
        let s = crate::split_statements(sql).expect("split");
        classify(&s[0]).expect("classify")
    }

    fn mutation(sql: &str) -> Mutation {
        match kind(sql) {
            Kind::Mutation(m) => m,
            other => panic!("{sql}: {other:?}"),
        }
    }

    #[test]
    fn reads_and_others() {
        assert!(matches!(
            kind("SELECT * FROM t"),
            Kind::Read(Read {
                has_limit: false,
                ..
            })
        ));
        assert!(matches!(
            kind("WITH x AS (SELECT 1) SELECT * FROM x LIMIT 3"),
            Kind::Read(Read {
                has_limit: true,
                ..
            })
        ));
        assert_eq!(kind("EXEC google.a.b.c @x='1'"), Kind::Exec);
        assert_eq!(kind("CREATE TEMP TABLE t(a)"), Kind::Other);
        // A select named `returning` or `insert` is still a read.
        assert!(matches!(
            kind("SELECT 'DELETE' AS \"update\" FROM t"),
            Kind::Read(Read {
                has_limit: false,
                ..
            })
        ));
    }

    #[test]
    fn mutations_with_returning_and_await() {
        let m = mutation(
            "UPDATE /*+ AWAIT */ google.storage.buckets SET labels = '{\"a\":\"b\"}' \
             WHERE bucket = 'x' RETURNING name, json_extract(iamConfiguration, '$.publicAccessPrevention') AS ic",
        );
        assert_eq!(m.verb, Verb::Update);
        assert!(m.awaits);
        assert_eq!(m.table, "google.storage.buckets");
        assert_eq!(
            m.returning.as_deref(),
            Some("name, json_extract(iamConfiguration, '$.publicAccessPrevention') AS ic")
        );
        assert!(!m.sql.contains("RETURNING"), "{}", m.sql);
        let d = m.direct.expect("direct");
        assert_eq!(d.keys, [("bucket".to_string(), "x".to_string())]);
        assert_eq!(d.set[0].0, "labels");

        let m = mutation(
            "REPLACE google.storage.buckets SET storageClass = 'NEARLINE' WHERE bucket = 'b' RETURNING *",
        );
        assert_eq!(m.verb, Verb::Replace);
        assert!(
            m.sql.starts_with("UPDATE google.storage.buckets SET"),
            "{}",
            m.sql
        );
        assert_eq!(m.returning.as_deref(), Some("*"));

        let m = mutation(
            "DELETE FROM google.compute.disks WHERE project = 'p' AND zone = 'z' AND disk = 'd'",
        );
        assert_eq!(m.verb, Verb::Delete);
        assert_eq!(m.direct.expect("direct").keys.len(), 3);
        // Anything but ANDed equalities needs the rows first.
        let m = mutation(
            "DELETE FROM google.compute.disks WHERE project = 'p' AND zone = 'z' AND sizeGb > 50",
        );
        assert_eq!(m.direct, None);
        let m = mutation("DELETE FROM google.compute.disks WHERE project = 'p' OR zone = 'z'");
        assert_eq!(m.direct, None);

        let m = mutation("INSERT INTO google.a.b (x) SELECT 'a' RETURNING upper(name) AS n");
        assert_eq!(m.verb, Verb::Insert);
        assert_eq!(m.returning.as_deref(), Some("upper(name) AS n"));
        assert_eq!(m.sql, "INSERT INTO google.a.b (x) SELECT 'a' ");
    }

    #[test]
    fn a_mutation_that_does_not_parse_is_a_syntax_error() {
        let s =
            crate::split_statements("SELECT 1;\nUPDATE google.a.b SET WHERE x = 1").expect("split");
        let e = classify(&s[1]).expect_err("bad").to_string();
        assert!(e.starts_with("syntax error at line 2"), "{e}");
    }
}
