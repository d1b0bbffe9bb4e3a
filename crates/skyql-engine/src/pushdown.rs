//! Pushdown beyond StackQL: WHERE conditions that a list method's `filter`
//! can evaluate server-side, and the columns a query reads as `readMask`.
//! SQLite still checks every row, so a pushdown may only drop rows SQLite
//! would drop too: time bounds are widened by a second, odd strings are not
//! pushed, and IN lists are left alone.

use rusqlite::types::ValueRef;

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

    pub fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "=" => Op::Eq,
            "!=" => Op::Ne,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "<" => Op::Lt,
            "<=" => Op::Le,
            _ => return None,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

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
