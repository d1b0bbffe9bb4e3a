//! The type each result column gets in a file. The engine's column type
//! decides where every value fits it (text → Utf8, integer → Int64, real →
//! Float64, bool → Boolean, JSON → Utf8 holding JSON text, timestamp →
//! Timestamp(µs, UTC)); where a value does not fit (SQLite is dynamically
//! typed, an expression has no declared type) the cells decide, and text
//! is the type every value fits. No value is ever dropped or changed to
//! fit a type.

use crate::Error;
use serde::{Deserialize, Serialize};
use skyql_engine::{Cell, ColumnType, Table};
use std::collections::HashSet;

/// A column's type in the written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Text (and anything shown as text).
    Utf8,
    /// JSON objects and arrays as JSON text (Parquet has no JSON type
    /// every loader reads).
    Json,
    Int64,
    Float64,
    Boolean,
    /// RFC 3339 text, as microseconds since the epoch in UTC.
    Timestamp,
}

/// One column of the written file: its name and type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: Kind,
}

/// Integers beyond ±2^53 are not exact as doubles: a column mixing them
/// with reals becomes text rather than lose digits.
const EXACT_IN_F64: i64 = 1 << 53;

/// An RFC 3339 timestamp as microseconds since the epoch, if it is one.
pub fn timestamp_micros(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_micros())
}

fn fits(kind: Kind, cell: &Cell) -> bool {
    match (kind, cell) {
        (_, Cell::Null) => true,
        (Kind::Utf8, _) => true,
        (Kind::Json, Cell::Json(_)) => true,
        (Kind::Int64, Cell::Integer(_)) => true,
        (Kind::Float64, Cell::Real(_)) => true,
        (Kind::Float64, Cell::Integer(i)) => i.unsigned_abs() <= EXACT_IN_F64 as u64,
        (Kind::Boolean, Cell::Bool(_)) => true,
        (Kind::Timestamp, Cell::Text(s)) => timestamp_micros(s).is_some(),
        _ => false,
    }
}

/// The kind the engine's column type asks for.
fn declared(ty: ColumnType) -> Kind {
    match ty {
        ColumnType::Text => Kind::Utf8,
        ColumnType::Integer => Kind::Int64,
        ColumnType::Real => Kind::Float64,
        ColumnType::Bool => Kind::Boolean,
        ColumnType::Json => Kind::Json,
        ColumnType::Timestamp => Kind::Timestamp,
    }
}

/// The kind the cells themselves agree on (text when they do not).
fn inferred(cells: &mut dyn Iterator<Item = &Cell>) -> Kind {
    let mut kind: Option<Kind> = None;
    for cell in cells {
        let this = match cell {
            Cell::Null => continue,
            Cell::Integer(_) => Kind::Int64,
            Cell::Real(_) => Kind::Float64,
            Cell::Bool(_) => Kind::Boolean,
            Cell::Json(_) => Kind::Json,
            Cell::Text(_) => return Kind::Utf8,
        };
        kind = Some(match (kind, this) {
            (None, k) => k,
            (Some(a), b) if a == b => a,
            (Some(Kind::Int64 | Kind::Float64), Kind::Int64 | Kind::Float64) => Kind::Float64,
            _ => return Kind::Utf8,
        });
    }
    kind.unwrap_or(Kind::Utf8)
}

/// The columns of the file `table` becomes. Refuses names that repeat
/// (a file's columns are found by name).
pub fn plan(table: &Table) -> Result<Vec<Column>, Error> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(table.columns.len());
    for (i, name) in table.columns.iter().enumerate() {
        if !seen.insert(name.as_str()) {
            return Err(Error::DuplicateColumn(name.clone()));
        }
        let cells = || table.rows.iter().filter_map(move |r| r.get(i));
        let mut kind = match table.column_type(i) {
            Some(ty) => declared(ty),
            None => inferred(&mut cells()),
        };
        if !cells().all(|c| fits(kind, c)) {
            kind = inferred(&mut cells());
        }
        if !cells().all(|c| fits(kind, c)) {
            kind = Kind::Utf8;
        }
        out.push(Column {
            name: name.clone(),
            kind,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kinds(table: &Table) -> Vec<Kind> {
        plan(table)
            .expect("plan")
            .into_iter()
            .map(|c| c.kind)
            .collect()
    }

    #[test]
    fn declared_types_hold_where_every_value_fits() {
        let mut t = Table::new(["s", "i", "r", "b", "j", "t"]);
        t.column_types = vec![
            Some(ColumnType::Text),
            Some(ColumnType::Integer),
            Some(ColumnType::Real),
            Some(ColumnType::Bool),
            Some(ColumnType::Json),
            Some(ColumnType::Timestamp),
        ];
        t.push(vec![
            "a".into(),
            Cell::Integer(1),
            Cell::Integer(2),
            Cell::Bool(true),
            Cell::Json(json!({"a": 1})),
            "2026-01-02T03:04:05.123456Z".into(),
        ]);
        t.push(vec![Cell::Null; 6]);
        assert_eq!(
            kinds(&t),
            [
                Kind::Utf8,
                Kind::Int64,
                Kind::Float64,
                Kind::Boolean,
                Kind::Json,
                Kind::Timestamp
            ]
        );
    }

    #[test]
    fn values_that_do_not_fit_make_the_column_text() {
        let mut t = Table::new(["t", "i", "x", "big", "none"]);
        t.column_types = vec![Some(ColumnType::Timestamp), Some(ColumnType::Integer)];
        t.push(vec![
            "yesterday".into(),
            "n/a".into(),
            Cell::Integer(1),
            Cell::Integer(i64::MAX),
            Cell::Null,
        ]);
        t.push(vec![
            "2026-01-02T03:04:05Z".into(),
            Cell::Integer(3),
            Cell::Real(1.5),
            Cell::Real(0.5),
            Cell::Null,
        ]);
        assert_eq!(
            kinds(&t),
            [
                Kind::Utf8,
                Kind::Utf8,
                Kind::Float64,
                Kind::Utf8,
                Kind::Utf8
            ]
        );
    }

    #[test]
    fn repeated_names_are_refused() {
        let t = Table::new(["a", "b", "a"]);
        let e = plan(&t).expect_err("dup").to_string();
        assert!(e.contains("`a`") && e.contains("AS"), "{e}");
    }
}
