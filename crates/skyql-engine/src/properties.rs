//! Property tests (proptest; `cargo fuzz` needs a nightly toolchain) of the
//! code that takes arbitrary input: the statement splitter, the rewrite of
//! resource names, and the JSON-to-row conversion. Case counts are bounded
//! for CI; `PROPTEST_CASES=N` runs longer (see BENCHMARKS.md). Failing seeds
//! are kept in `proptest-regressions/` beside the sources.

use crate::exec::object_table;
use crate::statement::split_statements;
use crate::value::json_to_sql;
use proptest::prelude::*;
use rusqlite::types::Value as Sql;
use serde_json::Value;
use sqlparser::dialect::SQLiteDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

/// One registry (the embedded snapshot, an empty home) for every case.
fn registry() -> &'static skyql_registry::Registry {
    static REGISTRY: std::sync::OnceLock<(tempfile::TempDir, skyql_registry::Registry)> =
        std::sync::OnceLock::new();
    &REGISTRY
        .get_or_init(|| {
            let home = tempfile::tempdir().expect("home");
            let registry = skyql_registry::Registry::open(home.path());
            (home, registry)
        })
        .1
}

/// The tokens of a text, whitespace and comments left out.
fn tokens(sql: &str) -> Vec<Token> {
    Tokenizer::new(&SQLiteDialect {}, sql)
        .tokenize()
        .unwrap_or_default()
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect()
}

/// Script fragments that exercise the splitter's rules: strings and
/// comments holding `;`, triggers, NULs, multi-byte text, hints.
const PIECES: &[&str] = &[
    "SELECT",
    " ",
    "\n",
    "1",
    "x",
    ",",
    "(",
    ")",
    "+",
    ";",
    "'a;b'",
    "'it''s'",
    "\"q;\"",
    "-- c;\n",
    "/* ; */",
    "/*+ AWAIT */",
    "\0",
    "é",
    "日本",
    "CREATE TRIGGER tr AFTER INSERT ON t BEGIN ",
    "END",
    "CASE WHEN 1 THEN 2 END",
    "INSERT INTO t VALUES (1)",
    "google.aiplatform.custom_jobs",
    "FROM",
    "WHERE",
    "=",
    "IN",
    "[b]",
    "`c`",
    "0x1F",
    "1e9",
    "\t",
    "\r\n",
];

fn script() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(prop::sample::select(PIECES), 0..40).prop_map(|v| v.concat()),
        any::<String>(),
    ]
}

/// Arbitrary JSON, a few levels deep.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn config() -> ProptestConfig {
    ProptestConfig {
        // Bounded for CI; PROPTEST_CASES overrides it.
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(256),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Splitting never panics; spans lie on character boundaries inside the
    /// text; no statement holds a NUL; and SQLite consumes every statement
    /// it accepts exactly as written (never a shorter prefix).
    #[test]
    fn statements_reach_sqlite_whole(sql in script()) {
        let Ok(stmts) = split_statements(&sql) else { return Ok(()); };
        let conn = rusqlite::Connection::open_in_memory().expect("sqlite");
        for s in stmts {
            prop_assert!(!s.text.contains('\0'));
            prop_assert_eq!(s.tokens.len(), s.spans.len());
            for r in &s.spans {
                prop_assert!(r.start <= r.end && r.end <= s.text.len());
                prop_assert!(s.text.is_char_boundary(r.start) && s.text.is_char_boundary(r.end));
            }
            match conn.prepare(&s.text) {
                Ok(p) if p.parameter_count() == 0 => {
                    let consumed = p.expanded_sql();
                    prop_assert_eq!(consumed.as_deref(), Some(s.text.as_str()));
                }
                Err(rusqlite::Error::MultipleStatement) => {
                    prop_assert!(false, "two statements in one: {:?}", s.text);
                }
                _ => {}
            }
        }
    }

    /// The rewrite never panics and never changes the statement's tokens
    /// beyond swapping each `google.svc.res` (five tokens) for one quoted
    /// name: nothing is lost, and no quoted name merges with a neighbour.
    #[test]
    fn rewrite_keeps_the_tokens(sql in script()) {
        let Ok(stmts) = split_statements(&sql) else { return Ok(()); };
        for s in stmts {
            let Ok(r) = crate::rewrite::rewrite(&s, registry()) else { continue; };
            let before = tokens(&s.text);
            let after = tokens(&r.sql);
            let is_name = |t: &Token| matches!(t, Token::Word(w) if w.quote_style == Some('"') && w.value == "google.aiplatform.custom_jobs");
            let swapped = after.iter().filter(|t| is_name(t)).count()
                - before.iter().filter(|t| is_name(t)).count();
            prop_assert_eq!(after.len() + 4 * swapped, before.len(), "{:?} became {:?}", s.text, r.sql);
        }
    }

    /// JSON becomes SQLite values without loss: strings and integers exactly,
    /// objects and arrays as their exact JSON text.
    #[test]
    fn json_to_sql_keeps_the_value(v in json()) {
        match (&v, json_to_sql(Some(&v))) {
            (Value::Null, Sql::Null) => {}
            (Value::Bool(b), Sql::Integer(i)) => prop_assert_eq!(i64::from(*b), i),
            (Value::String(s), Sql::Text(t)) => prop_assert_eq!(s, &t),
            (Value::Number(n), Sql::Integer(i)) => prop_assert_eq!(n.as_i64(), Some(i)),
            (Value::Number(n), Sql::Real(r)) => prop_assert_eq!(n.as_f64(), Some(r)),
            (Value::Array(_) | Value::Object(_), Sql::Text(t)) => {
                // The exact serialization (floats in shortest round-trip
                // form), and valid JSON for SQLite's json functions.
                prop_assert_eq!(&t, &v.to_string());
                prop_assert!(serde_json::from_str::<Value>(&t).is_ok());
            }
            (v, other) => prop_assert!(false, "{v} became {other:?}"),
        }
    }

    /// A result cell keeps the JSON it came from: the same value back,
    /// except integers past i64, which become the nearest float.
    #[test]
    fn cells_keep_the_json(v in json()) {
        let back = crate::Cell::from_json(Some(&v)).to_json();
        match (&v, &back) {
            (Value::Number(n), Value::Number(b)) if n.as_i64().is_none() => {
                prop_assert_eq!(n.as_f64(), b.as_f64());
            }
            _ => prop_assert_eq!(&back, &v),
        }
    }

    /// Rows from JSON objects: one per non-empty object, one column per key.
    #[test]
    fn object_rows_keep_every_key(objects in prop::collection::vec(json(), 0..8)) {
        let table = object_table(&objects);
        let nonempty = objects.iter().filter(|o| o.as_object().is_some_and(|m| !m.is_empty())).count();
        prop_assert_eq!(table.rows.len(), nonempty);
        for o in objects.iter().filter_map(Value::as_object) {
            for k in o.keys() {
                prop_assert!(table.columns.contains(k));
            }
        }
        for row in &table.rows {
            prop_assert_eq!(row.len(), table.columns.len());
        }
    }
}
