//! JSONL: one JSON object per row, keys in column order, values typed as
//! `skyql exec --output jsonl` prints them (numbers as numbers, booleans
//! as booleans, JSON objects and arrays as themselves, NULL as null).

use crate::Error;
use skyql_engine::Table;
use std::io::Write;
use std::path::Path;

/// One row as a JSON object line (without the newline).
pub fn line(columns: &[String], row: &[skyql_engine::Cell]) -> String {
    let fields: Vec<String> = columns
        .iter()
        .zip(row)
        .map(|(c, v)| format!("{}:{}", serde_json::Value::from(c.as_str()), v.to_json()))
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// Writes every row of `table`, one line each.
pub fn write(out: &mut impl Write, table: &Table, path: &Path) -> Result<(), Error> {
    for row in &table.rows {
        writeln!(out, "{}", line(&table.columns, row)).map_err(Error::write(path))?;
    }
    Ok(())
}

/// The rows in a JSONL file: its lines (each row is exactly one line, as
/// JSON escapes every newline inside a value).
pub fn count_rows(bytes: &[u8]) -> u64 {
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count() as u64
}
