//! Splitting SQL text into statements with sqlparser's tokenizer (so that a
//! `;` inside a string or comment never splits), keeping each statement's
//! original text, its tokens, and its `/*+ HINT */` comments.
//!
//! The splitter follows SQLite's own rules, so that what SQLite prepares is
//! exactly what was written: a NUL byte (where SQLite would stop reading) is a
//! syntax error, and the `;`s inside a `CREATE TRIGGER ... BEGIN ... END` body
//! do not end the statement. Byte offsets are found in one forward pass, so
//! splitting is linear in the length of the text.

use crate::Error;
use sqlparser::dialect::SQLiteDialect;
use sqlparser::tokenizer::{Location, Token, Tokenizer, Whitespace};

/// The hints the engine understands (`/*+ AWAIT */`).
pub const KNOWN_HINTS: &[&str] = &["AWAIT", "SHOWRESULTS"];

/// One statement of a script.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The statement exactly as written, without the trailing `;`.
    pub text: String,
    /// Its tokens, whitespace and comments left out.
    pub tokens: Vec<Token>,
    /// Byte range of each token within `text`.
    pub spans: Vec<std::ops::Range<usize>>,
    /// Words of `/*+ ... */` hint comments, upper-cased (e.g. `AWAIT`).
    pub hints: Vec<String>,
    /// 1-based line where the statement starts in the script.
    pub line: u64,
}

/// Maps tokenizer locations (1-based line, 1-based char column) to byte
/// offsets. Tokens come in order, so the cursor only ever moves forward: each
/// character of the text is walked over once, whatever the line length.
struct Offsets<'a> {
    src: &'a str,
    /// Byte offset of the cursor and the location it stands at.
    byte: usize,
    line: u64,
    column: u64,
}

impl<'a> Offsets<'a> {
    fn new(src: &'a str) -> Self {
        Offsets {
            src,
            byte: 0,
            line: 1,
            column: 1,
        }
    }

    fn byte(&mut self, loc: Location) -> usize {
        if (loc.line, loc.column) < (self.line, self.column) {
            // Never expected (locations are monotonic); restart rather than
            // guess, which is still correct.
            *self = Offsets::new(self.src);
        }
        let mut chars = self.src[self.byte..].chars();
        while (self.line, self.column) < (loc.line, loc.column) {
            let Some(c) = chars.next() else {
                return self.src.len();
            };
            self.byte += c.len_utf8();
            if c == '\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
        }
        self.byte
    }
}

/// The first NUL byte (SQLite stops reading at one, silently dropping the
/// rest of a statement) as a syntax error naming its line and column.
fn reject_nul(sql: &str) -> Result<(), Error> {
    let Some(at) = sql.find('\0') else {
        return Ok(());
    };
    let before = &sql[..at];
    let line = before.matches('\n').count() as u64 + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() as u64 + 1;
    Err(Error::Syntax {
        line,
        column,
        message: "a NUL character (\\0) is not allowed in a statement; remove it (SQLite would \
                  stop reading there and run only the text before it)"
            .into(),
    })
}

/// Hint words must be ones the engine knows: a misspelt `/*+ AWIAT */` would
/// otherwise be ignored silently.
fn check_hint(word: &str, loc: Location) -> Result<(), Error> {
    if KNOWN_HINTS.contains(&word) {
        return Ok(());
    }
    let hint = skyql_provider::closest(word, KNOWN_HINTS.iter().copied())
        .map(|s| format!("did you mean /*+ {s} */? "))
        .unwrap_or_default();
    Err(Error::Syntax {
        line: loc.line,
        column: loc.column,
        message: format!(
            "unknown hint `{word}` in /*+ ... */; {hint}known hints: {}",
            KNOWN_HINTS.join(", ")
        ),
    })
}

/// `x IN ()` (standard SQL has no empty list; SQLite folds it to false, so
/// a required parameter given that way would be reported as missing
/// altogether): a syntax error naming the column. `tokens` ends at `)`.
fn reject_empty_in(
    tokens: &[Token],
    spans: &[std::ops::Range<usize>],
    sql: &str,
    locations: &[Location],
) -> Result<(), Error> {
    let n = tokens.len();
    if n < 3
        || !matches!(tokens[n - 2], Token::LParen)
        || !matches!(&tokens[n - 3], Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("IN"))
    {
        return Ok(());
    }
    let subject = match n.checked_sub(4).map(|i| (&tokens[i], &spans[i])) {
        Some((Token::Word(_), span)) => format!("`{} IN ()`", &sql[span.clone()]),
        _ => "`IN ()`".to_string(),
    };
    let (line, column) = locations
        .get(n - 3)
        .map_or((0, 0), |at| (at.line, at.column));
    Err(Error::Syntax {
        line,
        column,
        message: format!(
            "{subject} lists no values; give at least one, e.g. IN ('a', 'b') (an empty list \
             matches nothing)"
        ),
    })
}

/// Where a statement is in SQLite's `CREATE TRIGGER` rule (as in SQLite's
/// `sqlite3_complete`): inside a trigger, a `;` ends the statement only when
/// it follows `; END`.
#[derive(Default)]
struct TriggerState {
    /// The statement is `[EXPLAIN [QUERY PLAN]] CREATE [TEMP|TEMPORARY] TRIGGER`.
    trigger: bool,
    /// The last token was a `;` inside the trigger body.
    after_semi: bool,
    /// The last two tokens were `;` and `END`.
    semi_end: bool,
}

impl TriggerState {
    fn see(&mut self, tokens: &[Token]) {
        let Some(last) = tokens.last() else { return };
        if tokens.len() <= 6 && !self.trigger {
            self.trigger = starts_trigger(tokens);
        }
        let is_end = matches!(last, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("END"));
        self.semi_end = self.after_semi && is_end;
        self.after_semi = false;
    }

    /// Whether a `;` here ends the statement.
    fn ends_at_semicolon(&mut self) -> bool {
        if !self.trigger || self.semi_end {
            return true;
        }
        self.after_semi = true;
        self.semi_end = false;
        false
    }
}

fn starts_trigger(tokens: &[Token]) -> bool {
    let words: Vec<String> = tokens
        .iter()
        .map(|t| match t {
            Token::Word(w) if w.quote_style.is_none() => w.value.to_ascii_uppercase(),
            _ => String::new(),
        })
        .collect();
    let mut w: &[String] = &words;
    if w.first().is_some_and(|s| s == "EXPLAIN") {
        w = &w[1..];
        if w.len() >= 2 && w[0] == "QUERY" && w[1] == "PLAN" {
            w = &w[2..];
        }
    }
    if w.first().is_none_or(|s| s != "CREATE") {
        return false;
    }
    w = &w[1..];
    if w.first().is_some_and(|s| s == "TEMP" || s == "TEMPORARY") {
        w = &w[1..];
    }
    w.first().is_some_and(|s| s == "TRIGGER")
}

/// Splits a script into statements; empty statements are dropped.
pub fn split_statements(sql: &str) -> Result<Vec<Statement>, Error> {
    reject_nul(sql)?;
    let dialect = SQLiteDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| Error::Syntax {
            line: e.location.line,
            column: e.location.column,
            message: e.message,
        })?;
    let mut offsets = Offsets::new(sql);
    let mut out = Vec::new();
    let mut current: Vec<Token> = Vec::new();
    let mut spans: Vec<std::ops::Range<usize>> = Vec::new();
    let mut hints = Vec::new();
    let mut start: Option<(usize, u64)> = None;
    let mut end = 0usize;
    let mut trigger = TriggerState::default();
    // Where each token of the current statement starts (for messages).
    let mut locations: Vec<Location> = Vec::new();
    let mut flush = |current: &mut Vec<Token>,
                     spans: &mut Vec<std::ops::Range<usize>>,
                     hints: &mut Vec<String>,
                     start: &mut Option<(usize, u64)>,
                     end: usize| {
        if let Some((s, line)) = start.take()
            && !current.is_empty()
        {
            out.push(Statement {
                text: sql[s..end.max(s)].to_string(),
                tokens: std::mem::take(current),
                spans: spans.iter().map(|r| r.start - s..r.end - s).collect(),
                hints: std::mem::take(hints),
                line,
            });
        }
        current.clear();
        spans.clear();
        hints.clear();
    };
    for t in tokens {
        match &t.token {
            Token::SemiColon if current.is_empty() || trigger.ends_at_semicolon() => {
                flush(&mut current, &mut spans, &mut hints, &mut start, end);
                trigger = TriggerState::default();
                locations.clear();
            }
            Token::EOF => {}
            Token::Whitespace(Whitespace::MultiLineComment(c)) if c.starts_with('+') => {
                for word in c[1..].split_whitespace() {
                    let word = word.to_ascii_uppercase();
                    check_hint(&word, t.span.start)?;
                    hints.push(word);
                }
            }
            Token::Whitespace(_) => {}
            other => {
                let begin = offsets.byte(t.span.start);
                if start.is_none() {
                    start = Some((begin, t.span.start.line));
                }
                end = offsets.byte(t.span.end);
                current.push(other.clone());
                spans.push(begin..end);
                if !matches!(other, Token::SemiColon) {
                    trigger.see(&current);
                }
                if matches!(other, Token::RParen) {
                    reject_empty_in(&current, &spans, sql, &locations)?;
                }
                locations.push(t.span.start);
            }
        }
    }
    flush(&mut current, &mut spans, &mut hints, &mut start, end);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_semicolons_outside_strings_and_comments() {
        let s =
            split_statements("SELECT 'a;b' -- x;y\n; /* c;d */ SHOW PROVIDERS;;\nSELECT 'it''s'")
                .expect("split");
        let texts: Vec<&str> = s.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["SELECT 'a;b'", "SHOW PROVIDERS", "SELECT 'it''s'"]);
        assert_eq!(s[2].line, 3);
        assert_eq!(&s[2].text[s[2].spans[1].clone()], "'it''s'");
    }

    #[test]
    fn collects_hints() {
        let s = split_statements("INSERT /*+ AWAIT */ INTO t VALUES (1)").expect("split");
        assert_eq!(s[0].hints, ["AWAIT"]);
    }

    #[test]
    fn unterminated_string_is_a_syntax_error() {
        let e = split_statements("SELECT 'abc")
            .expect_err("error")
            .to_string();
        assert!(e.starts_with("syntax error at line 1"), "{e}");
    }

    #[test]
    fn a_nul_byte_is_a_syntax_error_naming_its_position() {
        let sql = "SELECT 1;\nDELETE FROM t WHERE a = 1 \0 AND b = 2";
        let e = split_statements(sql).expect_err("NUL").to_string();
        assert!(
            e.starts_with("syntax error at line 2, column 27: a NUL character"),
            "{e}"
        );
        // Inside a string or a comment too: SQLite stops there all the same.
        assert!(split_statements("SELECT 'a\0b'").is_err());
        assert!(split_statements("SELECT 1 -- \0\n").is_err());
    }

    #[test]
    fn an_empty_in_list_names_its_column() {
        let e = split_statements(
            "SELECT * FROM t WHERE projectsId = 'p'\n  AND locationsId IN ( ) AND x = 1",
        )
        .expect_err("empty IN")
        .to_string();
        assert_eq!(
            e,
            "syntax error at line 2, column 19: `locationsId IN ()` lists no values; give at \
             least one, e.g. IN ('a', 'b') (an empty list matches nothing)"
        );
        assert!(split_statements("SELECT 1 WHERE 1 NOT IN ()").is_err());
        assert!(split_statements("SELECT 1 WHERE 1 IN (2) AND f() = 1").is_ok());
    }

    #[test]
    fn trigger_bodies_are_one_statement() {
        let sql = "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET a = CASE WHEN 1 THEN 2 END;\n  SELECT 1; END; SELECT 2";
        let s = split_statements(sql).expect("split");
        let texts: Vec<&str> = s.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET a = CASE WHEN 1 THEN 2 END;\n  SELECT 1; END",
                "SELECT 2"
            ]
        );
        let s = split_statements("create temp trigger x before delete on t begin select 1; end;")
            .expect("split");
        assert_eq!(s.len(), 1);
        // Not a trigger: END does not matter.
        let s = split_statements("SELECT CASE WHEN 1 THEN 2 END; SELECT 3").expect("split");
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn unknown_hints_are_errors_with_a_suggestion() {
        let e = split_statements("INSERT /*+ AWIAT */ INTO t VALUES (1)")
            .expect_err("unknown hint")
            .to_string();
        assert!(e.contains("unknown hint `AWIAT`"), "{e}");
        assert!(e.contains("did you mean /*+ AWAIT */?"), "{e}");
        let e = split_statements("SELECT /*+ NOPE_NOTHING_LIKE_IT */ 1")
            .expect_err("unknown hint")
            .to_string();
        assert!(!e.contains("did you mean"), "{e}");
        // Ordinary comments are not hints.
        assert!(split_statements("SELECT /* AWIAT */ 1").is_ok());
    }

    /// Quadratic offset mapping took minutes on these (a token's column was
    /// found by walking its line from the start); linear, they take well
    /// under a second even in a debug build.
    #[test]
    fn long_lines_split_in_linear_time() {
        let items: Vec<String> = (0..40_000).map(|i| format!("'job-{i}'")).collect();
        let sql = format!("SELECT * FROM t WHERE id IN ({})", items.join(", "));
        let s = split_statements(&sql).expect("split");
        assert_eq!(s[0].tokens.len(), 9 + 2 * 40_000 - 1);
        let last = s[0].spans[s[0].spans.len() - 2].clone();
        assert_eq!(&s[0].text[last], "'job-39999'");

        let mut big = String::from("SELECT 1");
        while big.len() < 1 << 20 {
            big.push_str(" + 1");
        }
        big.push_str("; SELECT 'é'");
        let s = split_statements(&big).expect("split");
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].text, "SELECT 'é'");
        assert_eq!(&s[1].text[s[1].spans[1].clone()], "'é'");
    }
}
