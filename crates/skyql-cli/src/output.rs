//! Result formatting: table, json, jsonl, csv, text and markdown.

use skyql_engine::{Cell, Table};
use std::io::{IsTerminal, Write};

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
        Format::Csv => {
            writeln!(
                out,
                "{}",
                table
                    .columns
                    .iter()
                    .map(|c| csv_field(c))
                    .collect::<Vec<_>>()
                    .join(",")
            )?;
            for r in &table.rows {
                writeln!(
                    out,
                    "{}",
                    r.iter()
                        .map(|c| csv_field(&c.to_text()))
                        .collect::<Vec<_>>()
                        .join(",")
                )?;
            }
            Ok(())
        }
        Format::Text => {
            writeln!(out, "{}", table.columns.join("|"))?;
            for r in &table.rows {
                writeln!(
                    out,
                    "{}",
                    r.iter().map(Cell::to_text).collect::<Vec<_>>().join("|")
                )?;
            }
            Ok(())
        }
        Format::Markdown => {
            let esc = |s: &str| s.replace('|', "\\|").replace('\n', " ");
            writeln!(
                out,
                "| {} |",
                table
                    .columns
                    .iter()
                    .map(|c| esc(c))
                    .collect::<Vec<_>>()
                    .join(" | ")
            )?;
            writeln!(out, "|{}", "---|".repeat(table.columns.len()))?;
            for r in &table.rows {
                writeln!(
                    out,
                    "| {} |",
                    r.iter()
                        .map(|c| esc(&c.to_text()))
                        .collect::<Vec<_>>()
                        .join(" | ")
                )?;
            }
            Ok(())
        }
    }
}

fn write_table(out: &mut impl Write, table: &Table) -> std::io::Result<()> {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::ASCII_FULL_CONDENSED);
    if std::io::stdout().is_terminal() {
        t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    }
    t.set_header(&table.columns);
    for r in &table.rows {
        t.add_row(r.iter().map(Cell::to_text));
    }
    writeln!(out, "{t}")
}

/// One row as a JSON object, keys in column order.
fn object(columns: &[String], row: &[Cell]) -> String {
    let fields: Vec<String> = columns
        .iter()
        .zip(row)
        .map(|(c, v)| format!("{}:{}", serde_json::Value::from(c.as_str()), v.to_json()))
        .collect();
    format!("{{{}}}", fields.join(","))
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
