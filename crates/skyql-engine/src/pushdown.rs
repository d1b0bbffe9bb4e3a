//! Pushdown beyond StackQL: WHERE conditions that a list method's `filter`
//! can evaluate server-side, and the columns a query reads as `readMask`.
//! SQLite still checks every row, so a pushdown may only drop rows SQLite
//! would drop too: time bounds are widened by a second, odd strings are not
//! pushed, and IN lists are left alone.

use rusqlite::types::ValueRef;
use sqlparser::tokenizer::Token;

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
/// 'VALUE'` (or `labels ->> '$.KEY' = 'VALUE'`) that stand as top-level AND
/// conjuncts of the outermost WHERE. SQLite never offers such expressions to
/// a virtual table, so the engine finds them in the tokens. It gives up (no
/// terms) at any OR or NOT in that WHERE, so every term it returns must hold
/// for every row the statement keeps.
pub fn label_terms(tokens: &[Token]) -> Vec<String> {
    let word = |t: &Token, w: &str| matches!(t, Token::Word(x) if x.quote_style.is_none() && x.value.eq_ignore_ascii_case(w));
    let mut depth = 0i32;
    let mut start = None;
    for (i, t) in tokens.iter().enumerate() {
        match t {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ if depth == 0 && word(t, "WHERE") => {
                start = Some(i + 1);
                break;
            }
            _ => {}
        }
    }
    let Some(start) = start else {
        return Vec::new();
    };
    let mut end = tokens.len();
    depth = 0;
    for (i, t) in tokens.iter().enumerate().skip(start) {
        match t {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ if depth == 0
                && [
                    "GROUP",
                    "ORDER",
                    "LIMIT",
                    "HAVING",
                    "WINDOW",
                    "UNION",
                    "EXCEPT",
                    "INTERSECT",
                    "RETURNING",
                ]
                .iter()
                .any(|k| word(t, k)) =>
            {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let clause = &tokens[start..end];
    if clause.iter().any(|t| word(t, "OR") || word(t, "NOT")) {
        return Vec::new();
    }
    let mut terms = Vec::new();
    depth = 0;
    let mut i = 0;
    while i < clause.len() {
        if depth == 0
            && let Some((len, key, value)) = label_condition(&clause[i..])
        {
            let ok = |s: &str| {
                s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
            };
            if !key.is_empty() && ok(&key) && ok(&value) {
                terms.push(format!("labels.{key}=\"{value}\""));
            }
            i += len;
            continue;
        }
        match clause[i] {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    terms
}

/// True when the outermost FROM names exactly one table, a cloud resource
/// (`FROM google.svc.res [AS] [alias]`): then `labels` in the outermost WHERE
/// can only be that resource's column.
pub fn single_resource_from(tokens: &[Token]) -> bool {
    let word = |t: &Token, w: &str| matches!(t, Token::Word(x) if x.quote_style.is_none() && x.value.eq_ignore_ascii_case(w));
    let mut depth = 0i32;
    let Some(from) = tokens.iter().position(|t| {
        match t {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ => {}
        }
        depth == 0 && word(t, "FROM")
    }) else {
        return false;
    };
    let rest = &tokens[from + 1..];
    let len = rest
        .iter()
        .position(|t| word(t, "WHERE"))
        .unwrap_or(rest.len());
    match &rest[..len] {
        [
            Token::Word(p),
            Token::Period,
            Token::Word(_),
            Token::Period,
            Token::Word(_),
            tail @ ..,
        ] if p.value.eq_ignore_ascii_case(skyql_provider::PROVIDER) => match tail {
            [] => true,
            [Token::Word(a)] => a.quote_style.is_none() || a.quote_style == Some('"'),
            [Token::Word(k), Token::Word(_)] => word(&Token::Word(k.clone()), "AS"),
            _ => false,
        },
        _ => false,
    }
}

/// Matches `json_extract([t.]labels, '$.k') = 'v'` or `[t.]labels ->> '$.k' = 'v'`
/// (either side of `=`); returns (tokens used, key, value).
fn label_condition(t: &[Token]) -> Option<(usize, String, String)> {
    let labels_ref = |t: &[Token]| -> Option<usize> {
        match t {
            [Token::Word(a), Token::Period, Token::Word(l), ..]
                if a.quote_style.is_none() && l.value == "labels" =>
            {
                Some(3)
            }
            [Token::Word(l), ..] if l.value == "labels" => Some(1),
            _ => None,
        }
    };
    let path_key = |t: &Token| match t {
        Token::SingleQuotedString(p) => p.strip_prefix("$.").map(String::from),
        _ => None,
    };
    // The extraction, then `= 'v'`.
    let extraction = |t: &[Token]| -> Option<(usize, String)> {
        if let [Token::Word(f), Token::LParen, rest @ ..] = t
            && f.value.eq_ignore_ascii_case("json_extract")
        {
            let n = labels_ref(rest)?;
            if let [Token::Comma, p, Token::RParen, ..] = &rest[n..] {
                return Some((2 + n + 3, path_key(p)?));
            }
            return None;
        }
        let n = labels_ref(t)?;
        if let [Token::LongArrow, p, ..] = &t[n..] {
            return Some((n + 2, path_key(p)?));
        }
        None
    };
    if let Some((n, key)) = extraction(t)
        && let [Token::Eq, Token::SingleQuotedString(v), ..] = &t[n..]
    {
        return Some((n + 2, key, v.clone()));
    }
    if let [Token::SingleQuotedString(v), Token::Eq, rest @ ..] = t
        && let Some((n, key)) = extraction(rest)
    {
        return Some((2 + n, key, v.clone()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(sql: &str) -> Vec<String> {
        let stmts = crate::split_statements(sql).expect("split");
        label_terms(&stmts[0].tokens)
    }

    #[test]
    fn label_conditions_only_from_top_level_and() {
        assert_eq!(
            labels(
                "SELECT name FROM t WHERE p = 'x' AND json_extract(labels, '$.team') = 'vision' AND 'prod' = j.labels ->> '$.env' ORDER BY name"
            ),
            ["labels.team=\"vision\"", "labels.env=\"prod\""]
        );
        assert!(
            labels("SELECT name FROM t WHERE p = 'x' OR json_extract(labels, '$.team') = 'vision'")
                .is_empty()
        );
        assert!(
            labels("SELECT name FROM t WHERE NOT json_extract(labels, '$.team') = 'vision'")
                .is_empty()
        );
        assert!(
            labels("SELECT json_extract(labels, '$.team') = 'vision' FROM t WHERE p = 'x'")
                .is_empty()
        );
        assert!(
            labels("SELECT name FROM t WHERE (json_extract(labels, '$.team') = 'vision')")
                .is_empty()
        );
        assert!(
            labels("SELECT name FROM t WHERE json_extract(labels, '$.Team') = 'vision'").is_empty()
        );
        assert!(
            labels("SELECT name FROM t WHERE json_extract(labels, '$.team') = 'a\"b'").is_empty()
        );
    }

    #[test]
    fn one_resource_in_from() {
        let from = |sql: &str| {
            let stmts = crate::split_statements(sql).expect("split");
            single_resource_from(&stmts[0].tokens)
        };
        assert!(from(
            "SELECT name FROM google.aiplatform.custom_jobs WHERE x = 1"
        ));
        assert!(from(
            "SELECT name FROM google.aiplatform.custom_jobs AS j WHERE x = 1"
        ));
        assert!(from(
            "SELECT (SELECT 1 FROM t) FROM google.aiplatform.custom_jobs j"
        ));
        assert!(!from(
            "SELECT name FROM google.aiplatform.custom_jobs j, t WHERE x = 1"
        ));
        assert!(!from(
            "SELECT name FROM google.aiplatform.custom_jobs j JOIN t ON 1 WHERE x = 1"
        ));
        assert!(!from(
            "SELECT name FROM (SELECT * FROM google.aiplatform.custom_jobs) WHERE x = 1"
        ));
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
