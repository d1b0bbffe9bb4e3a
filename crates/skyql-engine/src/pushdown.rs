//! Pushdown beyond StackQL: WHERE conditions that a list method's `filter`
//! can evaluate server-side, and the columns a query reads as `readMask`.
//! SQLite still checks every row, so a pushdown may only drop rows SQLite
//! would drop too: time bounds are widened by a second, odd strings are not
//! pushed, and IN lists are left alone.

use crate::statement::Statement;
use rusqlite::types::ValueRef;
use sqlparser::ast::{self, BinaryOperator, Expr, SetExpr, TableFactor};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;

/// Resources whose list `filter` takes `display_name`, `state` and
/// `create_time` (the aiplatform job lists; the Discovery document says so
/// in prose only, hence this list).
const FILTERABLE: &[(&str, &str)] = &[
    ("aiplatform", "batch_prediction_jobs"),
    ("aiplatform", "custom_jobs"),
    ("aiplatform", "data_labeling_jobs"),
    ("aiplatform", "hyperparameter_tuning_jobs"),
    ("aiplatform", "model_deployment_monitoring_jobs"),
    ("aiplatform", "nas_jobs"),
    ("aiplatform", "pipeline_jobs"),
    ("aiplatform", "training_pipelines"),
];

pub fn filterable(service: &str, resource: &str) -> bool {
    FILTERABLE.contains(&(service, resource))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
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

/// Whether a constraint `column op ?` can be pushed at all.
pub fn pushable(column: &str, op: Op) -> bool {
    match column {
        "state" | "displayName" => matches!(op, Op::Eq | Op::Ne),
        "createTime" => matches!(op, Op::Gt | Op::Ge | Op::Lt | Op::Le),
        _ => false,
    }
}

/// One AIP-160 term for `column op value`, or `None` when the value is not
/// safe to push (SQLite will still filter).
pub fn term(column: &str, op: Op, value: ValueRef<'_>) -> Option<String> {
    let ValueRef::Text(bytes) = value else {
        return None;
    };
    let text = std::str::from_utf8(bytes).ok()?;
    match column {
        "state" => {
            let plain =
                !text.is_empty() && text.bytes().all(|b| b.is_ascii_uppercase() || b == b'_');
            plain.then(|| format!("state{}\"{text}\"", op.code()))
        }
        "displayName" => {
            let plain = !text.is_empty()
                && !text.contains(['"', '\\', '*'])
                && !text.chars().any(char::is_control);
            plain.then(|| format!("display_name{}\"{text}\"", op.code()))
        }
        "createTime" => {
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
                "create_time{}\"{}\"",
                op.code(),
                t.format("%Y-%m-%dT%H:%M:%SZ")
            ))
        }
        _ => None,
    }
}

/// `labels.KEY="VALUE"` terms for conditions `json_extract(labels, '$.KEY') =
/// 'VALUE'` (or `labels ->> '$.KEY' = 'VALUE'`, either side of `=`) that
/// stand as top-level AND conjuncts of the WHERE clause of a SELECT from one
/// cloud resource and nothing else. SQLite never offers such expressions to
/// a virtual table, so the engine finds them in the statement's AST. Every
/// term it returns holds for every row the statement keeps (a conjunct
/// under OR or NOT is not top-level).
pub fn label_terms(stmt: &Statement) -> Vec<String> {
    let Some((select, refs)) = single_resource_select(stmt) else {
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

/// The SELECT of a statement that reads exactly one cloud resource (`FROM
/// google.svc.res [AS] [alias]`, no joins, no set operations), and the names
/// its columns may be qualified with.
fn single_resource_select(stmt: &Statement) -> Option<(ast::Select, Vec<String>)> {
    let mut parsed = Parser::parse_sql(&SQLiteDialect {}, &stmt.text).ok()?;
    let ast::Statement::Query(q) = parsed.pop()? else {
        return None;
    };
    let SetExpr::Select(select) = *q.body else {
        return None;
    };
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
    Some((*select, refs))
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
        let stmts = crate::split_statements(sql).expect("split");
        label_terms(&stmts[0])
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

    #[test]
    fn terms_are_safe() {
        let v = |s: &'static str| ValueRef::Text(s.as_bytes());
        assert_eq!(
            term("state", Op::Eq, v("JOB_STATE_FAILED")).as_deref(),
            Some("state=\"JOB_STATE_FAILED\"")
        );
        assert_eq!(term("state", Op::Eq, v("failed")), None);
        assert_eq!(
            term("displayName", Op::Ne, v("a b")).as_deref(),
            Some("display_name!=\"a b\"")
        );
        assert_eq!(term("displayName", Op::Eq, v("a\"b")), None);
        assert_eq!(
            term("createTime", Op::Gt, v("2026-06-01T12:00:00.5Z")).as_deref(),
            Some("create_time>=\"2026-06-01T11:59:59Z\"")
        );
        assert_eq!(term("createTime", Op::Lt, v("2026-06-01")), None);
        assert_eq!(term("state", Op::Eq, ValueRef::Integer(3)), None);
    }
}
