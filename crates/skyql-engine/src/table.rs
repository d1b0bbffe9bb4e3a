//! Result tables: the column names and typed cells every statement returns.

use crate::Error;

/// One value in a result, as SQLite types it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
}

impl Cell {
    /// The value as text (NULL is empty), for table and CSV output.
    pub fn to_text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Integer(i) => i.to_string(),
            Cell::Real(r) => r.to_string(),
            Cell::Text(s) => s.clone(),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Cell::Null => serde_json::Value::Null,
            Cell::Integer(i) => (*i).into(),
            Cell::Real(r) => {
                serde_json::Number::from_f64(*r).map_or(serde_json::Value::Null, Into::into)
            }
            Cell::Text(s) => s.clone().into(),
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
    pub rows: Vec<Vec<Cell>>,
    /// A status line for the user (`INSERT 1`), printed apart from the rows.
    pub notice: Option<String>,
}

impl Table {
    pub fn new<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Table {
        Table {
            columns: columns.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
            notice: None,
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }
}

/// Runs a prepared statement and collects its rows.
pub fn run(stmt: &mut rusqlite::Statement<'_>) -> Result<Table, Error> {
    let mut table = Table::new(stmt.column_names());
    let width = table.columns.len();
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let mut cells = Vec::with_capacity(width);
        for i in 0..width {
            use rusqlite::types::ValueRef;
            cells.push(match row.get_ref(i)? {
                ValueRef::Null => Cell::Null,
                ValueRef::Integer(v) => Cell::Integer(v),
                ValueRef::Real(v) => Cell::Real(v),
                ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Cell::Text(format!("<{} bytes>", b.len())),
            });
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
