//! List filters and ordering over stored JSON.
//!
//! One parser takes both dialects the documents describe: AIP-160 (`a = "x" AND b > 3`,
//! `OR`, `NOT`, `-`, parentheses, `labels.env:*`, `*` wildcards in `=` values) and
//! compute's (`name = "x"`, `(a = b) (c != d)` with juxtaposition as AND, `eq`/`ne`
//! with a literal value). Anything else (functions, regular expressions) is refused with a
//! 400 that says what is supported: a filter is never silently ignored. The operators,
//! quoted strings and `*` wildcards are lexed and matched by the Vertex AI emulator's
//! filter pieces (`skyql_emulator::filter`).

use std::cmp::Ordering;

use serde_json::Value;

pub use skyql_emulator::filter::Op;
use skyql_emulator::filter::{glob, one_or_many, quoted};

use crate::schema::snake_to_camel;

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Cmp {
        field: Vec<String>,
        op: Op,
        value: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    Word(String),
    Quoted(String),
    Op(Op),
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            '"' | '\'' => {
                let (v, n) = quoted(&chars[i..]).ok_or("unterminated string")?;
                out.push(Tok::Quoted(v));
                i += n;
            }
            _ => {
                if let Some((op, n)) = Op::lex(&chars[i..]) {
                    out.push(Tok::Op(op));
                    i += n;
                    continue;
                }
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !"()=:!<>\"'".contains(chars[i])
                {
                    i += 1;
                }
                if start == i {
                    return Err(format!("unexpected character {c:?}"));
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

/// Nesting deeper than this (parentheses, NOT) is refused rather than recursed into.
const MAX_DEPTH: usize = 64;

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut parts = vec![self.and()?];
        while self.is_word("OR") {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(one_or_many(parts, Expr::Or))
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut parts = vec![self.unary()?];
        loop {
            if self.is_word("AND") {
                self.pos += 1;
                parts.push(self.unary()?);
                continue;
            }
            match self.peek() {
                None | Some(Tok::Close) => break,
                Some(Tok::Word(w)) if w == "OR" => break,
                _ => parts.push(self.unary()?),
            }
        }
        Ok(one_or_many(parts, Expr::And))
    }

    fn unary(&mut self) -> Result<Expr, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("nested more than {MAX_DEPTH} levels deep"));
        }
        let e = self.unary_inner();
        self.depth -= 1;
        e
    }

    fn unary_inner(&mut self) -> Result<Expr, String> {
        if self.is_word("NOT") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        match self.next() {
            Some(Tok::Open) => {
                let e = self.or()?;
                match self.next() {
                    Some(Tok::Close) => Ok(e),
                    _ => Err("missing ')'".into()),
                }
            }
            Some(Tok::Word(w)) => {
                let (negated, field) = match w.strip_prefix('-') {
                    Some(rest) if !rest.is_empty() => (true, rest.to_string()),
                    _ => (false, w),
                };
                let op = match self.next() {
                    Some(Tok::Op(op)) => op,
                    Some(Tok::Word(w)) if w == "eq" => Op::Eq,
                    Some(Tok::Word(w)) if w == "ne" => Op::Ne,
                    _ => return Err(format!("expected a comparison after {field}")),
                };
                let value = match self.next() {
                    Some(Tok::Word(v) | Tok::Quoted(v)) => v,
                    _ => return Err(format!("expected a value after {field}")),
                };
                if field.contains('(') {
                    return Err("functions are not supported".into());
                }
                let cmp = Expr::Cmp {
                    field: field.split('.').map(String::from).collect(),
                    op,
                    value,
                };
                Ok(if negated {
                    Expr::Not(Box::new(cmp))
                } else {
                    cmp
                })
            }
            other => Err(format!("unexpected {other:?}")),
        }
    }
}

/// Parses a filter; the error says what was wrong.
pub fn parse(s: &str) -> Result<Option<Expr>, String> {
    let toks = tokenize(s)?;
    if toks.is_empty() {
        return Ok(None);
    }
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let e = p.or()?;
    if p.pos < p.toks.len() {
        return Err("unexpected text after the expression".into());
    }
    Ok(Some(e))
}

/// The value at a filter's field path. Each segment is the key as written
/// (a map key such as a label's `cost_center` is never renamed), else its
/// camelCase form (filters write fields in snake_case: `display_name`).
fn lookup<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = v;
    for p in path {
        cur = match cur.get(p) {
            Some(next) => next,
            None => cur.get(snake_to_camel(p))?,
        };
    }
    Some(cur)
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn compare(a: &str, b: &str) -> Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.cmp(b),
    }
}

/// Whether a stored item passes the filter.
pub fn matches(e: &Expr, item: &Value) -> bool {
    match e {
        Expr::And(v) => v.iter().all(|e| matches(e, item)),
        Expr::Or(v) => v.iter().any(|e| matches(e, item)),
        Expr::Not(e) => !matches(e, item),
        Expr::Cmp { field, op, value } => {
            let Some(actual) = lookup(item, field) else {
                return *op == Op::Ne;
            };
            if *op == Op::Has {
                return match actual {
                    _ if value == "*" => !actual.is_null(),
                    Value::Array(a) => a.iter().filter_map(scalar).any(|s| s == *value),
                    Value::Object(m) => m.contains_key(value),
                    other => scalar(other).is_some_and(|s| s.contains(value.as_str())),
                };
            }
            let values: Vec<String> = match actual {
                Value::Array(a) => a.iter().filter_map(scalar).collect(),
                other => scalar(other).into_iter().collect(),
            };
            let test = |s: &String| match op {
                Op::Eq => glob(value, s),
                Op::Ne => !glob(value, s),
                Op::Lt => compare(s, value) == Ordering::Less,
                Op::Le => compare(s, value) != Ordering::Greater,
                Op::Gt => compare(s, value) == Ordering::Greater,
                Op::Ge => compare(s, value) != Ordering::Less,
                Op::Has => false,
            };
            if *op == Op::Ne {
                values.iter().all(test)
            } else {
                values.iter().any(test)
            }
        }
    }
}

/// A parsed `orderBy`: fields with descending flags.
pub fn parse_order(s: &str) -> Result<Vec<(Vec<String>, bool)>, String> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|part| {
            let words: Vec<&str> = part.split_whitespace().collect();
            let desc = match words.get(1).map(|w| w.to_ascii_lowercase()) {
                None => false,
                Some(w) if w == "asc" => false,
                Some(w) if w == "desc" => true,
                Some(w) => return Err(format!("unknown direction {w:?} (use asc or desc)")),
            };
            if words.len() > 2 {
                return Err(format!("cannot order by {part:?}"));
            }
            Ok((words[0].split('.').map(String::from).collect(), desc))
        })
        .collect()
}

/// Compares two items by an `orderBy`.
pub fn order(a: &Value, b: &Value, by: &[(Vec<String>, bool)]) -> Ordering {
    for (field, desc) in by {
        let x = lookup(a, field).and_then(scalar).unwrap_or_default();
        let y = lookup(b, field).and_then(scalar).unwrap_or_default();
        let o = compare(&x, &y);
        let o = if *desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(f: &str, v: &Value) -> bool {
        matches(&parse(f).unwrap().unwrap(), v)
    }

    #[test]
    fn label_keys_are_not_renamed() {
        let item = serde_json::json!({"displayName": "a", "labels": {"cost_center": "x", "costCenter": "y"}});
        assert!(check("labels.cost_center = \"x\"", &item));
        assert!(check("display_name = \"a\"", &item));
        assert!(check("labels.costCenter = \"y\"", &item));
    }

    #[test]
    fn aip_and_compute_filters() {
        let v = json!({"name": "web-1", "status": "RUNNING", "labels": {"env": "prod"}, "cpus": 4, "tags": {"items": ["a", "b"]}});
        assert!(check("name = \"web-1\"", &v));
        assert!(check("name = web-*", &v));
        assert!(check("(name = web-1) (status != STOPPED)", &v));
        assert!(check("labels.env = prod AND cpus >= 4", &v));
        assert!(check("labels.env:*", &v));
        assert!(!check("labels.team:*", &v));
        assert!(check("status = STOPPED OR cpus > 3", &v));
        assert!(check("NOT status = STOPPED", &v));
        assert!(check("-status = STOPPED", &v));
        assert!(check("name eq web-1", &v));
        assert!(check("tags.items:a", &v));
        assert!(!check("cpus < 4", &v));
        assert!(parse("name = ").is_err());
        assert!(parse("(name = x").is_err());
        assert_eq!(parse("  ").unwrap(), None);
        let deep = format!("{}a = b{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse(&deep).is_err());
        let nots = format!("{}a = b", "NOT ".repeat(10_000));
        assert!(parse(&nots).is_err());
    }

    #[test]
    fn orders() {
        let by = parse_order("cpus desc, name").unwrap();
        let a = json!({"name": "a", "cpus": 2});
        let b = json!({"name": "b", "cpus": 10});
        assert_eq!(order(&a, &b, &by), Ordering::Greater);
        assert!(parse_order("name sideways").is_err());
    }
}
