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

/// A value that does not fit its column's type: an error, never a wrong value.
fn range(i: i64, ty: &Type) -> pgwire::error::PgWireError {
    crate::sqlstate::user_error(
        "22003",
        format!("{i} is out of range for type {}", ty.name()),
    )
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
        (Cell::Integer(i), &Type::INT4) => put!(i32::try_from(*i).map_err(|_| range(*i, ty))?),
        (Cell::Integer(i), &Type::INT2) => put!(i16::try_from(*i).map_err(|_| range(*i, ty))?),
        (Cell::Integer(i), &Type::OID) => put!(u32::try_from(*i).map_err(|_| range(*i, ty))?),
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

#[cfg(test)]
mod tests {
    use super::*;
    use pgwire::api::results::FieldFormat;

    fn text_of(rs: &ResultSet, formats: &Format) -> Vec<Option<Vec<u8>>> {
        let fields = Arc::new(rs.fields(formats));
        let rows = rs.data_rows(&fields).expect("encode");
        let mut out = Vec::new();
        for r in rows {
            let mut buf = &r.data[..];
            for _ in 0..r.field_count {
                let len = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
                buf = &buf[4..];
                if len < 0 {
                    out.push(None);
                } else {
                    out.push(Some(buf[..len as usize].to_vec()));
                    buf = &buf[len as usize..];
                }
            }
        }
        out
    }

    #[test]
    fn schema_types_and_value_types() {
        let mut t = Table::new(["flag", "obj", "at", "n", "mixed", "bad_time"]);
        t.column_types = vec![
            Some(ColumnType::Bool),
            Some(ColumnType::Json),
            Some(ColumnType::Timestamp),
            None,
            None,
            Some(ColumnType::Timestamp),
        ];
        t.push(vec![
            Cell::Bool(true),
            Cell::Json(serde_json::json!({"a": [1]})),
            Cell::from("2026-06-01T12:00:00.123456789Z"),
            Cell::Integer(3),
            Cell::Integer(1),
            Cell::from("not a time"),
        ]);
        t.push(vec![
            Cell::Null,
            Cell::Null,
            Cell::Null,
            Cell::Integer(4),
            Cell::Real(1.5),
            Cell::Null,
        ]);
        let rs = ResultSet::of_table(t, "SELECT".into());
        let types: Vec<Type> = rs.columns.iter().map(|c| c.1.clone()).collect();
        assert_eq!(
            types,
            [
                Type::BOOL,
                Type::JSON,
                Type::TIMESTAMPTZ,
                Type::INT8,
                Type::FLOAT8,
                Type::TEXT
            ]
        );
        let cells = text_of(&rs, &Format::UnifiedText);
        assert_eq!(cells[0].as_deref(), Some(&b"t"[..]));
        assert_eq!(cells[1].as_deref(), Some(&br#"{"a":[1]}"#[..]));
        assert_eq!(
            cells[2].as_deref(),
            Some(&b"2026-06-01 12:00:00.123456+00"[..])
        );
        assert_eq!(cells[6], None);
        let binary = text_of(&rs, &Format::UnifiedBinary);
        assert_eq!(binary[0].as_deref(), Some(&[1u8][..]));
        assert_eq!(binary[3].as_deref(), Some(&3i64.to_be_bytes()[..]));
        assert_eq!(
            rs.fields(&Format::UnifiedBinary)[0].format(),
            FieldFormat::Binary
        );
    }

    #[test]
    fn out_of_range_is_an_error() {
        let rs = ResultSet {
            columns: vec![("x".into(), Type::INT4)],
            rows: vec![vec![Cell::Integer(1 << 40)]],
            tag: "SELECT".into(),
        };
        let fields = Arc::new(rs.fields(&Format::UnifiedText));
        assert!(rs.data_rows(&fields).is_err());
    }
}
