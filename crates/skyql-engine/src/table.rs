//! Result tables: the column names, the column types where the schema says
//! them, and typed cells. Every statement returns one; the CLI (and any
//! other front end) prints it without knowing where it came from.

use crate::Error;
use serde_json::Value;

/// What a result column holds, where the resource's schema says so: a
/// column read straight from a resource keeps its Discovery type; an
/// expression has none (its cells say what they are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    Integer,
    Real,
    Bool,
    /// A JSON object or array (Discovery `object`, `array`, `any`).
    Json,
    /// RFC 3339 text (Discovery `string` of format `google-datetime` or `date-time`).
    Timestamp,
}

impl ColumnType {
    /// The type a virtual-table column is declared with, for SQLite.
    pub fn declared(self) -> &'static str {
        match self {
            ColumnType::Text => "TEXT",
            ColumnType::Integer => "INTEGER",
            ColumnType::Real => "REAL",
            ColumnType::Bool => "BOOLEAN",
            ColumnType::Json => "JSON",
            ColumnType::Timestamp => "TIMESTAMP",
        }
    }

    /// The type of a column SQLite reports as declared with `decl`.
    pub fn from_declared(decl: &str) -> Option<ColumnType> {
        Some(match decl.to_ascii_uppercase().as_str() {
            "TEXT" => ColumnType::Text,
            "INTEGER" | "INT" | "BIGINT" => ColumnType::Integer,
            "REAL" | "DOUBLE" | "FLOAT" => ColumnType::Real,
            "BOOLEAN" | "BOOL" => ColumnType::Bool,
            "JSON" => ColumnType::Json,
            "TIMESTAMP" => ColumnType::Timestamp,
            _ => return None,
        })
    }

    /// The column type of a Discovery type and format.
    pub fn of_discovery(ty: &str, format: Option<&str>) -> ColumnType {
        match (ty, format) {
            ("integer", _) => ColumnType::Integer,
            ("number", _) => ColumnType::Real,
            ("boolean", _) => ColumnType::Bool,
            ("object" | "array" | "any", _) => ColumnType::Json,
            ("string", Some("google-datetime" | "date-time")) => ColumnType::Timestamp,
            _ => ColumnType::Text,
        }
    }
}

/// One value in a result.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Bool(bool),
    /// A JSON object or array.
    Json(Value),
}

impl Cell {
    /// The value as text for table, CSV and text output: booleans as
    /// `true`/`false`, JSON compact; NULL is empty (each format decides how
    /// to show it).
    pub fn to_text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Integer(i) => i.to_string(),
            Cell::Real(r) => r.to_string(),
            Cell::Text(s) => s.clone(),
            Cell::Bool(b) => b.to_string(),
            Cell::Json(v) => v.to_string(),
        }
    }

    /// The value as JSON: numbers as numbers, booleans as booleans, objects
    /// and arrays as themselves.
    pub fn to_json(&self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Integer(i) => (*i).into(),
            Cell::Real(r) => serde_json::Number::from_f64(*r).map_or(Value::Null, Into::into),
            Cell::Text(s) => s.clone().into(),
            Cell::Bool(b) => (*b).into(),
            Cell::Json(v) => v.clone(),
        }
    }

    /// A JSON value as it appears in a result.
    pub fn from_json(v: Option<&Value>) -> Cell {
        match v {
            None | Some(Value::Null) => Cell::Null,
            Some(Value::String(s)) => Cell::Text(s.clone()),
            Some(Value::Bool(b)) => Cell::Bool(*b),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(i) => Cell::Integer(i),
                None => Cell::Real(n.as_f64().unwrap_or(f64::NAN)),
            },
            Some(other) => Cell::Json(other.clone()),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Cell::Null)
    }

    /// A SQLite value in a column of type `ty`: 0/1 in a boolean column is a
    /// boolean, JSON text in a JSON column is JSON.
    fn of_sqlite(v: rusqlite::types::ValueRef<'_>, ty: Option<ColumnType>) -> Cell {
        use rusqlite::types::ValueRef;
        match (v, ty) {
            (ValueRef::Null, _) => Cell::Null,
            (ValueRef::Integer(i), Some(ColumnType::Bool)) => Cell::Bool(i != 0),
            (ValueRef::Integer(v), _) => Cell::Integer(v),
            (ValueRef::Real(v), _) => Cell::Real(v),
            (ValueRef::Text(t), Some(ColumnType::Json)) => {
                match serde_json::from_slice::<Value>(t) {
                    Ok(v @ (Value::Object(_) | Value::Array(_))) => Cell::Json(v),
                    _ => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                }
            }
            (ValueRef::Text(t), _) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
            (ValueRef::Blob(b), _) => Cell::Text(format!("<{} bytes>", b.len())),
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

/// A statement's result: named columns and rows of cells.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    /// One entry per column where known (may be shorter than `columns`:
    /// missing entries are unknown).
    pub column_types: Vec<Option<ColumnType>>,
    pub rows: Vec<Vec<Cell>>,
    /// A status line for the user (`INSERT 1`), printed apart from the rows.
    pub notice: Option<String>,
}

impl Table {
    pub fn new<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Table {
        Table {
            columns: columns.into_iter().map(Into::into).collect(),
            column_types: Vec::new(),
            rows: Vec::new(),
            notice: None,
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }

    /// The type of column `i`, where known.
    pub fn column_type(&self, i: usize) -> Option<ColumnType> {
        self.column_types.get(i).copied().flatten()
    }
}

/// Runs a prepared statement and collects its rows, typing columns by the
/// type they were declared with (a column read straight from a resource).
pub fn run(stmt: &mut rusqlite::Statement<'_>) -> Result<Table, Error> {
    let mut table = Table::new(stmt.column_names());
    table.column_types = stmt
        .columns()
        .map(|c| c.decl_type().and_then(ColumnType::from_declared))
        .collect();
    let types = table.column_types.clone();
    let width = table.columns.len();
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let mut cells = Vec::with_capacity(width);
        for (i, ty) in types.iter().enumerate().take(width) {
            cells.push(Cell::of_sqlite(row.get_ref(i)?, *ty));
        }
        table.push(cells);
    }
    Ok(table)
}

/// SQLite's syntax errors carry a byte offset; turn it into line and column.
pub fn sqlite_error(e: rusqlite::Error, sql: &str) -> Error {
    match e {
        rusqlite::Error::SqlInputError { msg, offset, .. } => {
            let offset = usize::try_from(offset).unwrap_or(0).min(sql.len());
            let before = sql.get(..offset).unwrap_or(sql);
            let line = before.matches('\n').count() as u64 + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
            Error::Syntax {
                line,
                column,
                message: msg,
            }
        }
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_from_json_keep_their_type() {
        let v = serde_json::json!({"b": true, "n": 3, "r": 1.5, "o": {"a": [1]}, "s": "x"});
        assert_eq!(Cell::from_json(v.get("b")), Cell::Bool(true));
        assert_eq!(Cell::from_json(v.get("n")), Cell::Integer(3));
        assert_eq!(Cell::from_json(v.get("r")), Cell::Real(1.5));
        assert_eq!(Cell::from_json(v.get("missing")), Cell::Null);
        let o = Cell::from_json(v.get("o"));
        assert_eq!(o.to_text(), r#"{"a":[1]}"#);
        assert_eq!(o.to_json(), serde_json::json!({"a": [1]}));
        assert_eq!(Cell::Bool(false).to_text(), "false");
    }

    #[test]
    fn declared_types_round_trip() {
        for t in [
            ColumnType::Text,
            ColumnType::Integer,
            ColumnType::Real,
            ColumnType::Bool,
            ColumnType::Json,
            ColumnType::Timestamp,
        ] {
            assert_eq!(ColumnType::from_declared(t.declared()), Some(t));
        }
        assert_eq!(ColumnType::from_declared("NUMERIC"), None);
    }

    #[test]
    fn sqlite_values_typed_by_their_column() {
        let conn = rusqlite::Connection::open_in_memory().expect("db");
        conn.execute_batch(
            "CREATE TABLE t(b BOOLEAN, j JSON, n INTEGER); INSERT INTO t VALUES (1, '{\"a\":1}', 1), (0, 'plain', NULL)",
        )
        .expect("setup");
        let mut st = conn
            .prepare("SELECT b, j, n, b = 1 AS e FROM t")
            .expect("prepare");
        let t = run(&mut st).expect("run");
        assert_eq!(t.column_type(0), Some(ColumnType::Bool));
        assert_eq!(t.column_type(3), None);
        assert_eq!(t.rows[0][0], Cell::Bool(true));
        assert_eq!(t.rows[0][1], Cell::Json(serde_json::json!({"a": 1})));
        assert_eq!(t.rows[0][3], Cell::Integer(1));
        assert_eq!(t.rows[1][0], Cell::Bool(false));
        assert_eq!(t.rows[1][1], Cell::from("plain"));
        assert_eq!(t.rows[1][2], Cell::Null);
    }
}
