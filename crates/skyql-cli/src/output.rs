//! Result formatting: table, json, jsonl, csv, text and markdown, with
//! values as StackQL prints them: booleans `true`/`false`; NULL as `null`
//! where it is read by eyes (table, text, markdown), an empty field in csv
//! and JSON `null` in json/jsonl, where objects, arrays, numbers and
//! booleans keep their JSON types.
//!
//! Values come from APIs and may hold terminal control characters (an ESC
//! sequence can rewrite the screen or the window title): the formats meant
//! for eyes (table, text, markdown) show them as visible escapes; csv, json
//! and jsonl keep the data exact.

use skyql_engine::{Cell, Table};
use std::borrow::Cow;
use std::io::{IsTerminal, Write};

/// Whether a character must not reach a terminal raw: C0 and C1 controls,
/// DEL, and the invisible bidirectional overrides that reorder text.
fn is_unsafe(c: char, keep_newlines: bool) -> bool {
    (c.is_control() && !(keep_newlines && c == '\n'))
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with control characters replaced by visible escapes (`\t`, `\r`,
/// `\n`, `\u{1b}`); with `keep_newlines`, line breaks stay.
pub fn visible(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !s.chars().any(|c| is_unsafe(c, keep_newlines)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !is_unsafe(c, keep_newlines) {
            out.push(c);
            continue;
        }
        match c {
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            other => out.push_str(&format!("\\u{{{:x}}}", other as u32)),
        }
    }
    Cow::Owned(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Csv,
    Text,
    Markdown,
}

impl Format {
    /// The chosen format, else `table`.
    pub fn resolve(chosen: Option<Format>) -> Format {
        chosen.unwrap_or(Format::Table)
    }
}

pub fn write(out: &mut impl Write, table: &Table, format: Format) -> std::io::Result<()> {
    // Statements without a result set (INSERT without RETURNING, EXEC that
    // returns nothing) print only their notice.
    if table.columns.is_empty() {
        return Ok(());
    }
    match format {
        Format::Table => write_table(out, table),
        Format::Json => {
            let objects: Vec<String> = table
                .rows
                .iter()
                .map(|r| object(&table.columns, r))
                .collect();
            if objects.is_empty() {
                writeln!(out, "[]")
            } else {
                writeln!(out, "[\n{}\n]", objects.join(",\n"))
            }
        }
        Format::Jsonl => {
            for r in &table.rows {
                writeln!(out, "{}", object(&table.columns, r))?;
            }
            Ok(())
        }
        Format::Csv => write_lines(out, table, Lines::bare(","), csv_field, Cell::to_text),
        Format::Text => write_lines(
            out,
            table,
            Lines::bare("|"),
            |s| visible(s, false).into_owned(),
            shown,
        ),
        Format::Markdown => write_lines(
            out,
            table,
            Lines::MARKDOWN,
            |s| visible(&s.replace('\n', " "), false).replace('|', "\\|"),
            shown,
        ),
    }
}

/// How a line-per-row format frames its fields: what opens and closes a
/// line, what separates fields, and whether a rule follows the header.
struct Lines {
    open: &'static str,
    sep: &'static str,
    close: &'static str,
    rule: bool,
}

impl Lines {
    const MARKDOWN: Lines = Lines {
        open: "| ",
        sep: " | ",
        close: " |",
        rule: true,
    };

    /// Fields joined by `sep`, nothing around them, no rule.
    const fn bare(sep: &'static str) -> Lines {
        Lines {
            open: "",
            sep,
            close: "",
            rule: false,
        }
    }

    fn write<W: Write>(&self, out: &mut W, fields: Vec<String>) -> std::io::Result<()> {
        writeln!(out, "{}{}{}", self.open, fields.join(self.sep), self.close)
    }
}

/// The header line, then a line per row: every column name and every
/// cell (as `text` gives it) goes through `field` (quoting or escaping).
fn write_lines<W: Write>(
    out: &mut W,
    table: &Table,
    lines: Lines,
    field: impl Fn(&str) -> String,
    text: impl Fn(&Cell) -> String,
) -> std::io::Result<()> {
    lines.write(out, table.columns.iter().map(|c| field(c)).collect())?;
    if lines.rule {
        writeln!(out, "|{}", "---|".repeat(table.columns.len()))?;
    }
    for r in &table.rows {
        lines.write(out, r.iter().map(|c| field(&text(c))).collect())?;
    }
    Ok(())
}

fn write_table(out: &mut impl Write, table: &Table) -> std::io::Result<()> {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::ASCII_FULL_CONDENSED);
    if std::io::stdout().is_terminal() {
        t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    }
    t.set_header(table.columns.iter().map(|c| visible(c, true).into_owned()));
    for r in &table.rows {
        t.add_row(r.iter().map(|c| visible(&shown(c), true).into_owned()));
    }
    writeln!(out, "{t}")
}

/// A cell as the formats for eyes show it: NULL as `null`.
fn shown(c: &Cell) -> String {
    match c {
        Cell::Null => "null".to_string(),
        other => other.to_text(),
    }
}

/// One row as a JSON object, keys in column order: the very line `skyql
/// export --format jsonl` writes.
fn object(columns: &[String], row: &[Cell]) -> String {
    skyql_export::jsonl_line(columns, row)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(format: Format) -> String {
        let mut t = Table::new(["name\u{1b}]0;x\u{7}"]);
        t.push(vec!["a\u{1b}[2Jb\tc\r\nd\u{202e}e\u{9b}".into()]);
        let mut out = Vec::new();
        write(&mut out, &t, format).expect("write");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn control_characters_are_escaped_for_eyes_and_kept_for_machines() {
        for f in [Format::Table, Format::Text, Format::Markdown] {
            let s = render(f);
            assert!(
                !s.chars().any(|c| is_unsafe(c, true)),
                "{f:?} lets a control character through: {s:?}"
            );
            assert!(s.contains("a\\u{1b}[2Jb\\tc\\r"), "{f:?}: {s}");
            assert!(s.contains("\\u{202e}e\\u{9b}"), "{f:?}: {s}");
            assert!(s.contains("name\\u{1b}]0;x\\u{7}"), "{f:?}: {s}");
        }
        assert!(render(Format::Text).contains("\\r\\nd"));
        for f in [Format::Csv, Format::Json, Format::Jsonl] {
            let s = render(f);
            assert!(!s.contains("\\u{1b}"), "{f:?} must keep data exact: {s}");
        }
        assert!(render(Format::Csv).contains("a\u{1b}[2Jb\tc\r\nd\u{202e}e\u{9b}"));
        let json = render(Format::Json);
        assert!(json.contains(r#""a\u001b[2Jb\tc\r\nd"#), "{json}");
        assert!(json.contains("d\u{202e}e\u{9b}"), "{json}");
        assert_eq!(visible("plain", false), "plain");
        assert_eq!(visible("a\nb", true), "a\nb");
        assert_eq!(visible("a\nb", false), "a\\nb");
    }

    fn typed(format: Format) -> String {
        let mut t = Table::new(["b", "n", "j", "x", "r"]);
        t.push(vec![
            Cell::Bool(true),
            Cell::Null,
            Cell::Json(serde_json::json!({"k": [1, "v"]})),
            Cell::Integer(7),
            Cell::Real(1.5),
        ]);
        let mut out = Vec::new();
        write(&mut out, &t, format).expect("write");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn values_print_as_stackql_prints_them() {
        assert_eq!(
            typed(Format::Jsonl),
            "{\"b\":true,\"n\":null,\"j\":{\"k\":[1,\"v\"]},\"x\":7,\"r\":1.5}\n"
        );
        assert_eq!(
            typed(Format::Csv),
            "b,n,j,x,r\ntrue,,\"{\"\"k\"\":[1,\"\"v\"\"]}\",7,1.5\n"
        );
        assert_eq!(
            typed(Format::Text),
            "b|n|j|x|r\ntrue|null|{\"k\":[1,\"v\"]}|7|1.5\n"
        );
        let table = typed(Format::Table);
        assert!(
            table.contains("| true | null | {\"k\":[1,\"v\"]} | 7 | 1.5 |"),
            "{table}"
        );
    }
}
