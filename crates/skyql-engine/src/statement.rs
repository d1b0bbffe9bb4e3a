//! Splitting SQL text into statements with sqlparser's tokenizer (so that a
//! `;` inside a string or comment never splits), keeping each statement's
//! original text, its tokens, and its `/*+ HINT */` comments.

use crate::Error;
use sqlparser::dialect::SQLiteDialect;
use sqlparser::tokenizer::{Location, Token, Tokenizer, Whitespace};

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

/// Maps tokenizer locations (1-based line, 1-based char column) to byte offsets.
struct Offsets<'a> {
    src: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Offsets<'a> {
    fn new(src: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        Offsets { src, line_starts }
    }

    fn byte(&self, loc: Location) -> usize {
        let Some(&start) = self.line_starts.get(loc.line.saturating_sub(1) as usize) else {
            return self.src.len();
        };
        let col = loc.column.saturating_sub(1) as usize;
        self.src[start..]
            .char_indices()
            .nth(col)
            .map(|(i, _)| start + i)
            .unwrap_or(self.src.len())
    }
}

/// Splits a script into statements; empty statements are dropped.
pub fn split_statements(sql: &str) -> Result<Vec<Statement>, Error> {
    let dialect = SQLiteDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| Error::Syntax {
            line: e.location.line,
            column: e.location.column,
            message: e.message,
        })?;
    let offsets = Offsets::new(sql);
    let mut out = Vec::new();
    let mut current: Vec<Token> = Vec::new();
    let mut spans: Vec<std::ops::Range<usize>> = Vec::new();
    let mut hints = Vec::new();
    let mut start: Option<(usize, u64)> = None;
    let mut end = 0usize;
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
            Token::SemiColon => flush(&mut current, &mut spans, &mut hints, &mut start, end),
            Token::EOF => {}
            Token::Whitespace(Whitespace::MultiLineComment(c)) if c.starts_with('+') => {
                hints.extend(c[1..].split_whitespace().map(|w| w.to_ascii_uppercase()));
            }
            Token::Whitespace(_) => {}
            other => {
                if start.is_none() {
                    start = Some((offsets.byte(t.span.start), t.span.start.line));
                }
                let begin = offsets.byte(t.span.start);
                end = offsets.byte(t.span.end);
                current.push(other.clone());
                spans.push(begin..end);
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
}
