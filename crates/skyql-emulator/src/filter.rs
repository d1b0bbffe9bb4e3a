//! The AIP-160 filter subset that `customJobs.list` and `operations.list` accept.
//!
//! Operations take `done` (`=`, `!=` with `true` or `false`) and `create_time`.
//! Fields: `display_name` (`=`, `!=`, `:` with `*` wildcards), `state` (`=`, `!=`),
//! `create_time` (`=`, `!=`, `<`, `<=`, `>`, `>=` on RFC 3339 values), `labels.KEY` (`=`,
//! `!=`, `:` with a value or `*` for existence) and `labels:KEY` (existence). camelCase field
//! names are accepted too. Terms combine with `AND`, `OR`, `NOT` (or a leading `-`),
//! juxtaposition (an implicit `AND`) and parentheses. As in AIP-160, `OR` binds tighter than
//! `AND`: `a AND b OR c` is `a AND (b OR c)`.
//!
//! `:` on `display_name` is a "has" match: without `*` it matches a substring; with `*` the
//! pattern must match the whole name, `*` standing for any run of characters. A malformed
//! filter is an error that names the 1-based character position of the problem.
//!
//! Parentheses nest at most [`MAX_DEPTH`] deep: the parser recurses per level, and a
//! deeper filter is refused (400) rather than allowed to exhaust the stack.
//!
//! The pieces any filter dialect needs ([`Op::lex`], [`quoted`], [`glob`],
//! [`one_or_many`]) serve the Discovery-driven emulator's filters too.

use std::collections::BTreeMap;

use crate::clock::parse_rfc3339;
use crate::schema::JOB_STATE;

/// How deep parentheses may nest.
pub const MAX_DEPTH: usize = 64;

/// What a filter is written for: the fields it may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// `customJobs.list`: display_name, state, create_time, labels.
    Jobs,
    /// `operations.list`: done, create_time.
    Operations,
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Has,
}

impl Op {
    /// The comparison operator `chars` starts with, and how many chars it takes.
    pub fn lex(chars: &[char]) -> Option<(Op, usize)> {
        Some(match (chars.first(), chars.get(1)) {
            (Some('!'), Some('=')) => (Op::Ne, 2),
            (Some('<'), Some('=')) => (Op::Le, 2),
            (Some('>'), Some('=')) => (Op::Ge, 2),
            (Some('='), _) => (Op::Eq, 1),
            (Some('<'), _) => (Op::Lt, 1),
            (Some('>'), _) => (Op::Gt, 1),
            (Some(':'), _) => (Op::Has, 1),
            _ => return None,
        })
    }

    fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Has => ":",
        }
    }
}

/// A parsed, checked filter.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    All,
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    DisplayName(Op, String),
    State(Op, &'static str),
    CreateTime(Op, i64),
    Label(Op, String, Option<String>),
    Done(Op, bool),
}

/// What a filter is evaluated against.
pub struct Subject<'a> {
    pub display_name: &'a str,
    pub state: &'a str,
    pub create_us: i64,
    pub labels: &'a BTreeMap<String, String>,
    /// Whether an operation has finished (`None` for jobs).
    pub done: Option<bool>,
}

/// A malformed or unsupported filter.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterError {
    /// 1-based character position.
    pub position: usize,
    pub message: String,
}

impl std::fmt::Display for FilterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at position {})", self.message, self.position)
    }
}

impl Filter {
    /// Parses a `customJobs.list` filter; an empty or blank string matches everything.
    pub fn parse(input: &str) -> Result<Filter, FilterError> {
        Self::parse_for(input, Target::Jobs)
    }

    /// Parses a filter for `target`; an empty or blank string matches everything.
    pub fn parse_for(input: &str, target: Target) -> Result<Filter, FilterError> {
        let mut p = Parser {
            chars: input.chars().collect(),
            pos: 0,
            depth: 0,
            target,
        };
        p.skip_ws();
        if p.at_end() {
            return Ok(Filter::All);
        }
        let f = p.expression()?;
        p.skip_ws();
        if !p.at_end() {
            return Err(p.err(match p.peek() {
                Some(')') => "unbalanced ')'".to_string(),
                _ => "unexpected input".to_string(),
            }));
        }
        Ok(f)
    }

    /// Whether the subject matches.
    pub fn matches(&self, s: &Subject<'_>) -> bool {
        match self {
            Filter::All => true,
            Filter::And(fs) => fs.iter().all(|f| f.matches(s)),
            Filter::Or(fs) => fs.iter().any(|f| f.matches(s)),
            Filter::Not(f) => !f.matches(s),
            Filter::DisplayName(op, v) => match op {
                Op::Eq => s.display_name == v,
                Op::Ne => s.display_name != v,
                Op::Has if v.contains('*') => glob(v, s.display_name),
                Op::Has => s.display_name.contains(v.as_str()),
                _ => false,
            },
            Filter::State(op, v) => match op {
                Op::Eq => s.state == *v,
                _ => s.state != *v,
            },
            Filter::CreateTime(op, t) => {
                let c = s.create_us;
                match op {
                    Op::Eq => c == *t,
                    Op::Ne => c != *t,
                    Op::Lt => c < *t,
                    Op::Le => c <= *t,
                    Op::Gt => c > *t,
                    Op::Ge => c >= *t,
                    Op::Has => false,
                }
            }
            Filter::Label(op, key, value) => {
                let got = s.labels.get(key);
                match (op, value) {
                    (Op::Has, None) => got.is_some(),
                    (Op::Eq | Op::Has, Some(v)) => got == Some(v),
                    (Op::Ne, Some(v)) => got != Some(v),
                    _ => false,
                }
            }
            Filter::Done(op, want) => match (op, s.done) {
                (Op::Eq, Some(d)) => d == *want,
                (Op::Ne, Some(d)) => d != *want,
                _ => false,
            },
        }
    }
}

/// The string quoted at the start of `chars` (whose first char is the quote, `"` or `'`),
/// a backslash taking the next char as it is, and how many chars it spans with its
/// quotes; `None` when it is not closed.
pub fn quoted(chars: &[char]) -> Option<(String, usize)> {
    let quote = *chars.first()?;
    let mut out = String::new();
    let mut i = 1;
    loop {
        match *chars.get(i)? {
            '\\' => {
                out.push(*chars.get(i + 1)?);
                i += 2;
            }
            c if c == quote => return Some((out, i + 1)),
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
}

/// The one item of `items`, or `many` of them all (`a AND b`, `a OR b`).
pub fn one_or_many<T>(mut items: Vec<T>, many: impl FnOnce(Vec<T>) -> T) -> T {
    if items.len() == 1 {
        items.remove(0)
    } else {
        many(items)
    }
}

/// `*` matches any run of characters; everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    let last = parts.len() - 1;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == last {
            return rest.ends_with(part);
        } else if let Some(idx) = rest.find(part) {
            rest = &rest[idx + part.len()..];
        } else {
            return false;
        }
    }
    true
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
    target: Target,
}

enum Field {
    Done,
    DisplayName,
    State,
    CreateTime,
    Labels,
    Label(String),
}

impl Parser {
    fn err(&self, message: impl Into<String>) -> FilterError {
        FilterError {
            position: self.pos + 1,
            message: message.into(),
        }
    }
    fn err_at(pos: usize, message: impl Into<String>) -> FilterError {
        FilterError {
            position: pos + 1,
            message: message.into(),
        }
    }
    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }
    fn rest(&self) -> &[char] {
        self.chars.get(self.pos..).unwrap_or_default()
    }
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }
    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }
    /// Whether a keyword (followed by a delimiter) starts here.
    fn keyword(&self, kw: &str) -> bool {
        let n = kw.chars().count();
        let matches = kw
            .chars()
            .enumerate()
            .all(|(i, c)| self.chars.get(self.pos + i) == Some(&c));
        matches
            && self
                .chars
                .get(self.pos + n)
                .is_none_or(|c| c.is_whitespace() || *c == '(')
    }

    fn expression(&mut self) -> Result<Filter, FilterError> {
        let mut items = vec![self.sequence()?];
        loop {
            self.skip_ws();
            if self.keyword("AND") {
                self.pos += 3;
                self.skip_ws();
                if self.at_end() {
                    return Err(self.err("expected a term after AND"));
                }
                items.push(self.sequence()?);
            } else {
                break;
            }
        }
        Ok(one_or_many(items, Filter::And))
    }

    fn sequence(&mut self) -> Result<Filter, FilterError> {
        let mut items = vec![self.factor()?];
        loop {
            self.skip_ws();
            if self.at_end() || self.peek() == Some(')') || self.keyword("AND") {
                break;
            }
            if self.keyword("OR") {
                return Err(self.err("unexpected OR"));
            }
            items.push(self.factor()?);
        }
        Ok(one_or_many(items, Filter::And))
    }

    fn factor(&mut self) -> Result<Filter, FilterError> {
        let mut items = vec![self.term()?];
        loop {
            self.skip_ws();
            if self.keyword("OR") {
                self.pos += 2;
                self.skip_ws();
                if self.at_end() {
                    return Err(self.err("expected a term after OR"));
                }
                items.push(self.term()?);
            } else {
                break;
            }
        }
        Ok(one_or_many(items, Filter::Or))
    }

    fn term(&mut self) -> Result<Filter, FilterError> {
        self.skip_ws();
        if self.keyword("NOT") {
            self.pos += 3;
            self.skip_ws();
            return Ok(Filter::Not(Box::new(self.simple()?)));
        }
        if self.peek() == Some('-') {
            self.pos += 1;
            return Ok(Filter::Not(Box::new(self.simple()?)));
        }
        self.simple()
    }

    fn simple(&mut self) -> Result<Filter, FilterError> {
        self.skip_ws();
        match self.peek() {
            None => Err(self.err("expected a term")),
            Some('(') => {
                let open = self.pos;
                if self.depth >= MAX_DEPTH {
                    return Err(self.err(format!(
                        "the filter nests parentheses more than {MAX_DEPTH} deep"
                    )));
                }
                self.pos += 1;
                self.skip_ws();
                if self.peek() == Some(')') {
                    return Err(self.err("empty parentheses"));
                }
                self.depth += 1;
                let inner = self.expression();
                self.depth -= 1;
                let inner = inner?;
                self.skip_ws();
                if self.peek() != Some(')') {
                    return Err(Self::err_at(open, "unclosed '('"));
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(')') => Err(self.err("unexpected ')'")),
            Some(_) => self.restriction(),
        }
    }

    fn name(&mut self) -> String {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '-')
        {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn comparator(&mut self) -> Option<Op> {
        let (op, n) = Op::lex(self.rest())?;
        self.pos += n;
        Some(op)
    }

    /// A quoted string or a bare run of characters up to whitespace or a parenthesis.
    fn value(&mut self) -> Result<(String, bool), FilterError> {
        self.skip_ws();
        match self.peek() {
            None => Err(self.err("expected a value")),
            Some('"' | '\'') => {
                let (text, n) =
                    quoted(self.rest()).ok_or_else(|| self.err("unterminated string"))?;
                self.pos += n;
                Ok((text, true))
            }
            Some(c) if c == '(' || c == ')' => Err(self.err("expected a value")),
            Some(_) => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| !c.is_whitespace() && c != '(' && c != ')')
                {
                    self.pos += 1;
                }
                Ok((self.chars[start..self.pos].iter().collect(), false))
            }
        }
    }

    fn restriction(&mut self) -> Result<Filter, FilterError> {
        let start = self.pos;
        let name = self.name();
        if name.is_empty() {
            return Err(self.err(format!(
                "unexpected character '{}'",
                self.peek().unwrap_or(' ')
            )));
        }
        let jobs = self.target == Target::Jobs;
        let field = match name.as_str() {
            "create_time" | "createTime" => Field::CreateTime,
            "done" if !jobs => Field::Done,
            "display_name" | "displayName" if jobs => Field::DisplayName,
            "state" if jobs => Field::State,
            "labels" if jobs => Field::Labels,
            other => match other.strip_prefix("labels.") {
                Some(key) if jobs && !key.is_empty() => Field::Label(key.to_string()),
                _ => {
                    let known = if jobs {
                        "display_name, state, create_time or labels"
                    } else {
                        "done or create_time"
                    };
                    return Err(Self::err_at(
                        start,
                        format!("unsupported field \"{other}\": use {known}"),
                    ));
                }
            },
        };
        self.skip_ws();
        let op_pos = self.pos;
        let Some(op) = self.comparator() else {
            return Err(self.err(format!("expected a comparison operator after \"{name}\"")));
        };
        let value_pos = {
            self.skip_ws();
            self.pos
        };
        let (value, quoted) = self.value()?;
        let unsupported = || {
            Self::err_at(
                op_pos,
                format!("operator '{}' is not supported for \"{name}\"", op.symbol()),
            )
        };
        Ok(match field {
            Field::Done => match (op, value.as_str()) {
                (Op::Eq | Op::Ne, "true" | "false") => Filter::Done(op, value == "true"),
                (Op::Eq | Op::Ne, _) => {
                    return Err(Self::err_at(
                        value_pos,
                        format!("invalid done \"{value}\": expected true or false"),
                    ));
                }
                _ => return Err(unsupported()),
            },
            Field::DisplayName => match op {
                Op::Eq | Op::Ne | Op::Has => Filter::DisplayName(op, value),
                _ => return Err(unsupported()),
            },
            Field::State => {
                if !matches!(op, Op::Eq | Op::Ne) {
                    return Err(unsupported());
                }
                let name = JOB_STATE
                    .values
                    .iter()
                    .find(|(n, num)| *n == value || (!quoted && num.to_string() == value))
                    .map(|(n, _)| *n);
                match name {
                    Some(n) => Filter::State(op, n),
                    None => {
                        return Err(Self::err_at(
                            value_pos,
                            format!(
                                "invalid state \"{value}\": expected a JobState such as JOB_STATE_SUCCEEDED"
                            ),
                        ));
                    }
                }
            }
            Field::CreateTime => {
                if op == Op::Has {
                    return Err(unsupported());
                }
                match parse_rfc3339(&value) {
                    Some(t) => Filter::CreateTime(op, t),
                    None => {
                        return Err(Self::err_at(
                            value_pos,
                            format!(
                                "invalid create_time \"{value}\": expected RFC 3339, such as 2021-05-18T00:00:00Z"
                            ),
                        ));
                    }
                }
            }
            Field::Labels => {
                if op != Op::Has || (value == "*" && !quoted) {
                    return Err(unsupported());
                }
                Filter::Label(Op::Has, value, None)
            }
            Field::Label(key) => match op {
                Op::Has if value == "*" && !quoted => Filter::Label(Op::Has, key, None),
                Op::Has | Op::Eq | Op::Ne => Filter::Label(op, key, Some(value)),
                _ => return Err(unsupported()),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject<'a>(labels: &'a BTreeMap<String, String>) -> Subject<'a> {
        Subject {
            display_name: "my_job_7",
            state: "JOB_STATE_SUCCEEDED",
            create_us: 1_621_296_000_000_000 + 1,
            labels,
            done: None,
        }
    }

    #[test]
    fn evaluates_documented_examples() {
        let mut labels = BTreeMap::new();
        labels.insert("keyA".to_string(), "valueA".to_string());
        labels.insert("keyB".to_string(), "x".to_string());
        let s = subject(&labels);
        let cases = [
            ("", true),
            (
                "state=\"JOB_STATE_SUCCEEDED\" AND display_name:\"my_job_*\"",
                true,
            ),
            (
                "state!=\"JOB_STATE_FAILED\" OR display_name=\"my_job\"",
                true,
            ),
            ("NOT display_name=\"my_job\"", true),
            ("create_time>\"2021-05-18T00:00:00Z\"", true),
            ("create_time<=2021-05-18T00:00:00Z", false),
            ("labels.keyA=valueA", true),
            ("labels.keyB:*", true),
            ("labels.keyC:*", false),
            ("labels:keyA", true),
            ("display_name:job", true),
            ("display_name:\"other*\"", false),
            ("-state=JOB_STATE_SUCCEEDED", false),
            ("state=4", true),
            (
                "(state=JOB_STATE_FAILED OR labels.keyA=valueA) display_name:\"*_7\"",
                true,
            ),
            (
                "state=JOB_STATE_FAILED AND labels.keyA=valueA OR display_name=my_job_7",
                false,
            ),
        ];
        for (f, want) in cases {
            let parsed = Filter::parse(f).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert_eq!(parsed.matches(&s), want, "{f}");
        }
    }

    #[test]
    fn reports_positions() {
        let cases = [
            ("state=", 7),
            ("state = JOB_STATE_NOPE", 9),
            ("(state=JOB_STATE_FAILED", 1),
            ("foo=1", 1),
            ("display_name<3", 13),
            ("state=JOB_STATE_FAILED AND", 27),
            ("display_name=\"abc", 14),
            ("state=JOB_STATE_FAILED)", 23),
            ("create_time>yesterday", 13),
        ];
        for (f, pos) in cases {
            let e = Filter::parse(f).expect_err(f);
            assert_eq!(e.position, pos, "{f}: {e}");
        }
    }

    #[test]
    fn depth_is_bounded() {
        let deep = format!(
            "{}state=JOB_STATE_FAILED{}",
            "(".repeat(2000),
            ")".repeat(2000)
        );
        let e = Filter::parse(&deep).expect_err("too deep");
        assert!(e.message.contains("more than 64 deep"), "{e}");
        let fine = format!("{}state=JOB_STATE_FAILED{}", "(".repeat(64), ")".repeat(64));
        assert!(Filter::parse(&fine).is_ok());
        let negated = format!(
            "{}state=JOB_STATE_FAILED{}",
            "-(".repeat(2000),
            ")".repeat(2000)
        );
        assert!(Filter::parse(&negated).is_err());
    }

    #[test]
    fn operation_filters() {
        let labels = BTreeMap::new();
        let mut s = subject(&labels);
        s.done = Some(true);
        let f = Filter::parse_for("done=true", Target::Operations).unwrap();
        assert!(f.matches(&s));
        let f = Filter::parse_for("NOT done = true", Target::Operations).unwrap();
        assert!(!f.matches(&s));
        assert!(Filter::parse_for("done=maybe", Target::Operations).is_err());
        assert!(Filter::parse_for("state=JOB_STATE_FAILED", Target::Operations).is_err());
        assert!(Filter::parse("done=true").is_err());
    }

    #[test]
    fn lexing_pieces() {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(Op::lex(&chars("!=x")), Some((Op::Ne, 2)));
        assert_eq!(Op::lex(&chars("<3")), Some((Op::Lt, 1)));
        assert_eq!(Op::lex(&chars(">=")), Some((Op::Ge, 2)));
        assert_eq!(Op::lex(&chars(":*")), Some((Op::Has, 1)));
        assert_eq!(Op::lex(&chars("!")), None);
        assert_eq!(
            quoted(&chars(r#""a\"b" rest"#)),
            Some(("a\"b".to_string(), 6))
        );
        assert_eq!(quoted(&chars("'it''")), Some(("it".to_string(), 4)));
        assert_eq!(quoted(&chars("'x")), None);
        assert_eq!(quoted(&chars("\"x\\")), None);
        assert_eq!(one_or_many(vec![1], |v| v.len()), 1);
        assert_eq!(one_or_many(vec![7, 8, 9], |v| v.len()), 3);
    }

    #[test]
    fn globs() {
        assert!(glob("a*c", "abc"));
        assert!(glob("*", ""));
        assert!(glob("a*b*c", "a-b-c"));
        assert!(!glob("a*c", "abd"));
        assert!(!glob("abc", "abcd"));
    }
}
