//! Pushdown beyond StackQL: WHERE conditions that a list method's `filter`
//! can evaluate server-side, and the columns a query reads as `readMask`.
//! SQLite still checks every row, so a pushdown may only drop rows SQLite
//! would drop too: time bounds are widened by a second, odd strings are not
//! pushed, and IN lists are left alone.
//!
//! Which resources and columns a filter takes is data: the registry's
//! `snapshot/pushdown.json` (the Discovery documents say it only in prose),
//! looked up once per table at registration and checked against the
//! documents by the engine's tests.

use crate::Error;
use rusqlite::types::ValueRef;
use serde::Deserialize;
use sqlparser::ast::{self, BinaryOperator, Expr, TableFactor};
use std::collections::HashMap;
use std::sync::OnceLock;

/// What one resource's list `filter` can carry, as declared in the
/// registry's `pushdown.json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourcePushdown {
    /// `json_extract(labels, '$.k') = 'v'` becomes `labels.k="v"`.
    pub labels: bool,
    pub columns: Vec<ColumnPushdown>,
}

/// One column a filter can test: the filter's name for it, the operators
/// it takes and the kind of value.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnPushdown {
    pub column: String,
    pub field: String,
    pub ops: Vec<Op>,
    pub kind: Kind,
}

/// How a value is written into a filter term, and which values are safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `UPPER_CASE` words only.
    Enum,
    /// Any text without quotes, backslashes, `*` or control characters.
    String,
    /// RFC 3339 instants, range operators only (widened by a second).
    Timestamp,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Declarations {
    #[serde(rename = "about")]
    _about: String,
    resources: HashMap<String, ResourcePushdown>,
}

fn declarations() -> Result<&'static HashMap<String, ResourcePushdown>, Error> {
    static PARSED: OnceLock<Result<Declarations, String>> = OnceLock::new();
    PARSED
        .get_or_init(|| {
            serde_json::from_str(skyql_registry::EMBEDDED_PUSHDOWN).map_err(|e| e.to_string())
        })
        .as_ref()
        .map(|d| &d.resources)
        .map_err(|e| Error::Internal(format!("the embedded pushdown.json does not parse: {e}")))
}

/// The pushdown declaration of a resource (`google.svc.res`), if it has
/// one; looked up once, when the resource's table is registered.
pub fn declaration(resource_id: &str) -> Result<Option<&'static ResourcePushdown>, Error> {
    Ok(declarations()?.get(resource_id))
}

/// Every declaration, for the tests that check them against the documents.
#[cfg(test)]
fn all_declarations() -> Result<Vec<(&'static str, &'static ResourcePushdown)>, Error> {
    let mut all: Vec<_> = declarations()?
        .iter()
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    all.sort_by_key(|(k, _)| *k);
    Ok(all)
}

impl ResourcePushdown {
    /// The declaration of `column`, when the filter takes it with `op`.
    pub fn column(&self, column: &str, op: Op) -> Option<&ColumnPushdown> {
        self.columns
            .iter()
            .find(|c| c.column == column && c.ops.contains(&op))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Op {
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
}

impl Op {
    pub fn code(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
        }
    }
}

impl ColumnPushdown {
    /// One AIP-160 term for `column op value`, or `None` when the value is
    /// not safe to push (SQLite will still filter).
    pub fn term(&self, op: Op, value: ValueRef<'_>) -> Option<String> {
        let ValueRef::Text(bytes) = value else {
            return None;
        };
        let text = std::str::from_utf8(bytes).ok()?;
        let field = &self.field;
        match self.kind {
            Kind::Enum => {
                let plain =
                    !text.is_empty() && text.bytes().all(|b| b.is_ascii_uppercase() || b == b'_');
                plain.then(|| format!("{field}{}\"{text}\"", op.code()))
            }
            Kind::String => {
                let plain = !text.is_empty()
                    && !text.contains(['"', '\\', '*'])
                    && !text.chars().any(char::is_control);
                plain.then(|| format!("{field}{}\"{text}\"", op.code()))
            }
            Kind::Timestamp => {
                let t = chrono::DateTime::parse_from_rfc3339(text)
                    .ok()?
                    .with_timezone(&chrono::Utc);
                // Text and time order can disagree on fractional seconds: widen.
                let (op, t) = match op {
                    Op::Gt | Op::Ge => (Op::Ge, t - chrono::Duration::seconds(1)),
                    Op::Lt | Op::Le => (Op::Le, t + chrono::Duration::seconds(1)),
                    _ => return None,
                };
                Some(format!(
                    "{field}{}\"{}\"",
                    op.code(),
                    t.format("%Y-%m-%dT%H:%M:%SZ")
                ))
            }
        }
    }
}

/// `labels.KEY="VALUE"` terms for conditions `json_extract(labels, '$.KEY') =
/// 'VALUE'` (or `labels ->> '$.KEY' = 'VALUE'`, either side of `=`) that
/// stand as top-level AND conjuncts of the WHERE clause of a SELECT from one
/// cloud resource and nothing else. SQLite never offers such expressions to
/// a virtual table, so the engine finds them in the statement's AST. Every
/// term it returns holds for every row the statement keeps (a conjunct
/// under OR or NOT is not top-level).
pub fn label_terms(select: &ast::Select) -> Vec<String> {
    let Some(refs) = single_resource_refs(select) else {
        return Vec::new();
    };
    let Some(selection) = &select.selection else {
        return Vec::new();
    };
    let conjuncts = crate::classify::conjuncts(selection);
    let ok = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    };
    conjuncts
        .into_iter()
        .filter_map(|c| label_condition(c, &refs))
        .filter(|(k, v)| !k.is_empty() && ok(k) && ok(v))
        .map(|(k, v)| format!("labels.{k}=\"{v}\""))
        .collect()
}

/// For a SELECT that reads exactly one cloud resource (`FROM google.svc.res
/// [AS] [alias]`, no joins), the names its columns may be qualified with.
fn single_resource_refs(select: &ast::Select) -> Option<Vec<String>> {
    let [from] = select.from.as_slice() else {
        return None;
    };
    if !from.joins.is_empty() {
        return None;
    }
    let TableFactor::Table { name, alias, .. } = &from.relation else {
        return None;
    };
    let table = crate::classify::name_of(name);
    crate::resource_id(&table)?;
    let mut refs = vec![table];
    if let Some(a) = alias {
        refs.push(a.name.value.clone());
    }
    Some(refs)
}

fn string_of(e: &Expr) -> Option<&str> {
    match e {
        Expr::Value(v) => match &v.value {
            ast::Value::SingleQuotedString(s) => Some(s),
            _ => None,
        },
        Expr::Nested(inner) => string_of(inner),
        _ => None,
    }
}

/// `labels` or `<ref>.labels`.
fn is_labels(e: &Expr, refs: &[String]) -> bool {
    match e {
        Expr::Identifier(i) => i.value == "labels",
        Expr::CompoundIdentifier(parts) => match parts.as_slice() {
            [a, l] => l.value == "labels" && refs.contains(&a.value),
            _ => false,
        },
        Expr::Nested(inner) => is_labels(inner, refs),
        _ => false,
    }
}

/// The label key an extraction reads: `json_extract(labels, '$.k')` or
/// `labels ->> '$.k'`.
fn extraction_key(e: &Expr, refs: &[String]) -> Option<String> {
    match e {
        Expr::Function(f)
            if crate::classify::name_of(&f.name).eq_ignore_ascii_case("json_extract") =>
        {
            let ast::FunctionArguments::List(list) = &f.args else {
                return None;
            };
            let args: Vec<&Expr> = list
                .args
                .iter()
                .map(|a| match a {
                    ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Some(e),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?;
            match args.as_slice() {
                [l, p] if is_labels(l, refs) => string_of(p)?.strip_prefix("$.").map(String::from),
                _ => None,
            }
        }
        Expr::BinaryOp {
            left,
            op: BinaryOperator::LongArrow,
            right,
        } if is_labels(left, refs) => string_of(right)?.strip_prefix("$.").map(String::from),
        Expr::Nested(inner) => extraction_key(inner, refs),
        _ => None,
    }
}

/// (key, value) of `extraction = 'v'` or `'v' = extraction`.
fn label_condition(e: &Expr, refs: &[String]) -> Option<(String, String)> {
    let Expr::BinaryOp {
        left,
        op: BinaryOperator::Eq,
        right,
    } = e
    else {
        return None;
    };
    if let (Some(k), Some(v)) = (extraction_key(left, refs), string_of(right)) {
        return Some((k, v.to_string()));
    }
    let (Some(k), Some(v)) = (extraction_key(right, refs), string_of(left)) else {
        return None;
    };
    Some((k, v.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(sql: &str) -> Vec<String> {
        crate::joins::parse_select(sql).map_or_else(Vec::new, |s| label_terms(&s))
    }

    #[test]
    fn label_conditions_only_from_top_level_and() {
        assert_eq!(
            labels(
                "SELECT name FROM google.aiplatform.custom_jobs j WHERE p = 'x' AND json_extract(labels, '$.team') = 'vision' AND 'prod' = j.labels ->> '$.env' ORDER BY name"
            ),
            ["labels.team=\"vision\"", "labels.env=\"prod\""]
        );
        assert!(
            labels("SELECT name FROM google.aiplatform.custom_jobs j WHERE p = 'x' OR json_extract(labels, '$.team') = 'vision'")
                .is_empty()
        );
        assert!(
            labels("SELECT name FROM google.aiplatform.custom_jobs j WHERE NOT json_extract(labels, '$.team') = 'vision'")
                .is_empty()
        );
        assert!(
            labels("SELECT json_extract(labels, '$.team') = 'vision' FROM google.aiplatform.custom_jobs j WHERE p = 'x'")
                .is_empty()
        );
        // Parentheses change nothing.
        assert_eq!(
            labels(
                "SELECT name FROM google.aiplatform.custom_jobs j WHERE (json_extract(labels, '$.team') = 'vision')"
            ),
            ["labels.team=\"vision\""]
        );
        // An OR elsewhere leaves a top-level condition standing.
        assert_eq!(
            labels(
                "SELECT name FROM google.aiplatform.custom_jobs j WHERE (a = 1 OR b = 2) AND j.labels ->> '$.team' = 'x'"
            ),
            ["labels.team=\"x\""]
        );
        // Not one resource: nothing.
        assert!(
            labels("SELECT name FROM t WHERE json_extract(labels, '$.team') = 'vision'").is_empty()
        );
        // Another table's labels: nothing.
        assert!(
            labels(
                "SELECT name FROM google.aiplatform.custom_jobs j WHERE k.labels ->> '$.team' = 'x'"
            )
            .is_empty()
        );
        assert!(
            labels("SELECT name FROM google.aiplatform.custom_jobs j WHERE json_extract(labels, '$.Team') = 'vision'").is_empty()
        );
        assert!(
            labels("SELECT name FROM google.aiplatform.custom_jobs j WHERE json_extract(labels, '$.team') = 'a\"b'").is_empty()
        );
    }

    #[test]
    fn only_a_select_of_one_resource() {
        let cond = "json_extract(labels, '$.team') = 'x'";
        for sql in [
            "SELECT name FROM google.aiplatform.custom_jobs j, t WHERE {c}",
            "SELECT name FROM google.aiplatform.custom_jobs j JOIN t ON 1 WHERE {c}",
            "SELECT name FROM (SELECT * FROM google.aiplatform.custom_jobs) WHERE {c}",
            "SELECT name FROM google.aiplatform.custom_jobs WHERE {c} UNION SELECT 'x'",
        ] {
            assert!(labels(&sql.replace("{c}", cond)).is_empty(), "{sql}");
        }
        for sql in [
            "SELECT name FROM google.aiplatform.custom_jobs WHERE {c}",
            "SELECT name FROM google.aiplatform.custom_jobs AS j WHERE {c}",
            "SELECT (SELECT 1 FROM t) FROM google.aiplatform.custom_jobs j WHERE {c}",
        ] {
            assert_eq!(
                labels(&sql.replace("{c}", cond)),
                ["labels.team=\"x\""],
                "{sql}"
            );
        }
    }

    /// Every declaration names a resource of the embedded documents whose
    /// list method takes a `filter`, and columns the resource's rows have.
    #[test]
    fn declarations_match_the_documents() {
        let home = tempfile::tempdir().expect("home");
        let registry = skyql_registry::Registry::open(home.path());
        let all = all_declarations().expect("pushdown.json parses");
        assert!(!all.is_empty());
        for (id, declared) in all {
            let (svc, name) = registry
                .resolve(id)
                .unwrap_or_else(|e| panic!("{id}: not a resource: {e}"));
            let r = svc
                .resources
                .iter()
                .find(|r| r.name == name)
                .unwrap_or_else(|| panic!("{id}: no resource {name}"));
            assert!(
                r.methods
                    .iter()
                    .any(|m| m.is_list() && m.param("filter").is_some()),
                "{id}: no list method takes a filter"
            );
            let shape = crate::shape::Shape::of(&svc, r);
            let field = |c: &str| {
                shape
                    .columns
                    .iter()
                    .any(|col| col.name == c && col.response)
            };
            for c in &declared.columns {
                assert!(field(&c.column), "{id}: no response field {}", c.column);
                assert!(!c.ops.is_empty(), "{id}.{}: no operators", c.column);
                if c.kind == Kind::Timestamp {
                    assert!(
                        c.ops
                            .iter()
                            .all(|o| matches!(o, Op::Gt | Op::Ge | Op::Lt | Op::Le)),
                        "{id}.{}: a timestamp is pushed as a range only",
                        c.column
                    );
                }
            }
            if declared.labels {
                assert!(field("labels"), "{id}: no labels field");
            }
        }
    }

    #[test]
    fn terms_are_safe() {
        let v = |s: &'static str| ValueRef::Text(s.as_bytes());
        let jobs = declaration("google.aiplatform.custom_jobs")
            .expect("declarations parse")
            .expect("custom_jobs is declared");
        let term = |column: &str, op: Op, value: ValueRef<'_>| {
            jobs.column(column, op).and_then(|c| c.term(op, value))
        };
        assert_eq!(
            term("state", Op::Eq, v("JOB_STATE_FAILED")).as_deref(),
            Some("state=\"JOB_STATE_FAILED\"")
        );
        assert_eq!(term("state", Op::Eq, v("failed")), None);
        assert_eq!(term("state", Op::Gt, v("JOB_STATE_FAILED")), None);
        assert_eq!(
            term("displayName", Op::Ne, v("a b")).as_deref(),
            Some("display_name!=\"a b\"")
        );
        assert_eq!(term("displayName", Op::Eq, v("a\"b")), None);
        assert_eq!(
            term("createTime", Op::Gt, v("2026-06-01T12:00:00.5Z")).as_deref(),
            Some("create_time>=\"2026-06-01T11:59:59Z\"")
        );
        assert_eq!(term("createTime", Op::Eq, v("2026-06-01T12:00:00Z")), None);
        assert_eq!(term("createTime", Op::Lt, v("2026-06-01")), None);
        assert_eq!(term("state", Op::Eq, ValueRef::Integer(3)), None);
        assert_eq!(term("name", Op::Eq, v("x")), None);
    }
}
