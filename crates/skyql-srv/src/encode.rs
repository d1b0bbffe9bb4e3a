//! Results on the wire: PostgreSQL types for result columns (from the
//! resource schema where the engine knows it, else from the values) and
//! cells encoded in the text or binary format each column asks for.

use chrono::{DateTime, Utc};
use pgwire::api::Type;
use pgwire::api::portal::Format;
use pgwire::api::results::{DataRowEncoder, FieldFormat, FieldInfo};
use pgwire::error::PgWireResult;
use pgwire::messages::data::DataRow;
use pgwire::types::format::FormatOptions;
use skyql_engine::{Cell, ColumnType, Table};
use std::sync::Arc;

/// Rows with typed columns, and the command tag that ends them.
#[derive(Debug, Clone)]
pub struct ResultSet {
    pub columns: Vec<(String, Type)>,
    pub rows: Vec<Vec<Cell>>,
    /// `SELECT`, or `INSERT` etc. for RETURNING rows.
    pub tag: String,
}

impl ResultSet {
    /// The PostgreSQL view of an engine result.
    pub fn of_table(t: Table, tag: String) -> ResultSet {
        let columns = t
            .columns
            .iter()
            .enumerate()
            .map(|(i, name)| (name.clone(), column_type(t.column_type(i), &t.rows, i)))
            .collect();
        ResultSet {
            columns,
            rows: t.rows,
            tag,
        }
    }

    /// The first `n` rows, removed from this set (all with `None`).
    pub fn take(&mut self, n: Option<usize>) -> ResultSet {
        let n = n.unwrap_or(self.rows.len()).min(self.rows.len());
        ResultSet {
            columns: self.columns.clone(),
            rows: self.rows.drain(..n).collect(),
            tag: self.tag.clone(),
        }
    }

    pub fn fields(&self, formats: &Format) -> Vec<FieldInfo> {
        self.columns
            .iter()
            .enumerate()
            .map(|(i, (name, ty))| {
                FieldInfo::new(
                    name.clone(),
                    None,
                    None,
                    ty.clone(),
                    field_format(formats, i),
                )
                .with_type_size(type_size(ty))
            })
            .collect()
    }

    /// Every row, encoded for `fields`.
    pub fn data_rows(&self, fields: &Arc<Vec<FieldInfo>>) -> PgWireResult<Vec<DataRow>> {
        let options = FormatOptions::default();
        let mut enc = DataRowEncoder::new(fields.clone());
        let mut out = Vec::with_capacity(self.rows.len());
        for row in &self.rows {
            for (i, f) in fields.iter().enumerate() {
                let cell = row.get(i).unwrap_or(&Cell::Null);
                encode_cell(&mut enc, cell, f.datatype(), f.format(), &options)?;
            }
            out.push(enc.take_row());
        }
        Ok(out)
    }
}

/// The format of result column `i`; a client may give fewer codes than
/// columns (one code applies to all).
fn field_format(formats: &Format, i: usize) -> FieldFormat {
    match formats {
        Format::Individual(codes) if i >= codes.len() => FieldFormat::Text,
        f => f.format_for(i),
    }
}

fn type_size(ty: &Type) -> i16 {
    match *ty {
        Type::BOOL | Type::CHAR => 1,
        Type::INT2 => 2,
        Type::INT4 | Type::OID | Type::FLOAT4 => 4,
        Type::INT8 | Type::FLOAT8 | Type::TIMESTAMPTZ => 8,
        Type::NAME => 64,
        _ => -1,
    }
}

/// A column's type: the schema's where known, else what its values are.
fn column_type(known: Option<ColumnType>, rows: &[Vec<Cell>], i: usize) -> Type {
    let cells = || {
        rows.iter()
            .filter_map(|r| r.get(i))
            .filter(|c| !c.is_null())
    };
    match known {
        Some(ColumnType::Text) => Type::TEXT,
        Some(ColumnType::Integer) => Type::INT8,
        Some(ColumnType::Real) => Type::FLOAT8,
        Some(ColumnType::Bool) => Type::BOOL,
        Some(ColumnType::Json) => Type::JSON,
        Some(ColumnType::Timestamp) => {
            // Only when every value is a timestamp: a column never loses a value.
            if cells().all(|c| matches!(c, Cell::Text(s) if parse_time(s).is_some())) {
                Type::TIMESTAMPTZ
            } else {
                Type::TEXT
            }
        }
        None => {
            let mut ty: Option<Type> = None;
            for c in cells() {
                let t = match c {
                    Cell::Integer(_) => Type::INT8,
                    Cell::Real(_) => Type::FLOAT8,
                    Cell::Bool(_) => Type::BOOL,
                    Cell::Json(_) => Type::JSON,
                    _ => Type::TEXT,
                };
                ty = Some(match (ty, t) {
                    (None, t) => t,
                    (Some(a), b) if a == b => a,
                    (Some(Type::INT8), Type::FLOAT8) | (Some(Type::FLOAT8), Type::INT8) => {
                        Type::FLOAT8
                    }
                    _ => return Type::TEXT,
                });
            }
            ty.unwrap_or(Type::TEXT)
        }
    }
}

/// RFC 3339 (Google's timestamps have up to nine fractional digits).
fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn encode_cell(
    enc: &mut DataRowEncoder,
    cell: &Cell,
    ty: &Type,
    format: FieldFormat,
    options: &FormatOptions,
) -> PgWireResult<()> {
    macro_rules! put {
        ($v:expr) => {
            enc.encode_field_with_type_and_format(&$v, ty, format, options)
        };
    }
    let none: Option<String> = None;
    match (cell, ty) {
        (Cell::Null, _) => put!(none),
        (Cell::Bool(b), &Type::BOOL) => put!(*b),
        (Cell::Integer(i), &Type::BOOL) => put!(*i != 0),
        (Cell::Text(s), &Type::BOOL) => put!(matches!(s.as_str(), "t" | "true" | "1")),
        (Cell::Integer(i), &Type::INT8) => put!(*i),
        (Cell::Integer(i), &Type::INT4) => put!(i32::try_from(*i).unwrap_or_default()),
        (Cell::Integer(i), &Type::INT2) => put!(i16::try_from(*i).unwrap_or_default()),
        (Cell::Integer(i), &Type::OID) => put!(u32::try_from(*i).unwrap_or_default()),
        (Cell::Integer(i), &Type::FLOAT8) => put!(*i as f64),
        (Cell::Real(r), &Type::FLOAT8) => put!(*r),
        (Cell::Json(v), &Type::JSON) => put!(v.clone()),
        (Cell::Text(s), &Type::JSON) => put!(
            serde_json::from_str::<serde_json::Value>(s)
                .unwrap_or_else(|_| serde_json::Value::String(s.clone()))
        ),
        (Cell::Text(s), &Type::TIMESTAMPTZ) => match parse_time(s) {
            Some(t) => put!(t),
            None => put!(s.clone()),
        },
        (Cell::Text(s), &Type::CHAR) if format == FieldFormat::Binary => {
            put!(s.bytes().next().map_or(0i8, |b| b as i8))
        }
        (other, _) => put!(other.to_text()),
    }
}
