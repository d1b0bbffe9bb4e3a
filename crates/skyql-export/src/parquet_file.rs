//! Parquet: the result as Arrow record batches (one row group per batch of
//! rows), columns typed by `columns::plan`, compressed with Snappy, which
//! every Parquet reader (DuckDB, BigQuery's loader, Spark, pandas) reads.

use crate::Error;
use crate::columns::{Column, Kind, timestamp_micros};
use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use skyql_engine::{Cell, Table};
use std::io::Write;
use std::sync::Arc;

/// Rows per row group: big enough for column compression to work, small
/// enough that a reader can split a large file.
const ROWS_PER_GROUP: usize = 65_536;

/// The Arrow type of a column kind.
pub fn data_type(kind: Kind) -> DataType {
    match kind {
        Kind::Utf8 | Kind::Json => DataType::Utf8,
        Kind::Int64 => DataType::Int64,
        Kind::Float64 => DataType::Float64,
        Kind::Boolean => DataType::Boolean,
        Kind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
    }
}

/// The Arrow schema of the planned columns (every column nullable).
pub fn schema(columns: &[Column]) -> Arc<Schema> {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| Field::new(&c.name, data_type(c.kind), true))
            .collect::<Vec<_>>(),
    ))
}

/// One column of a batch of rows. `columns::plan` has checked that every
/// cell fits `kind`; a cell that does not is a bug, reported, not dropped.
fn array(kind: Kind, rows: &[Vec<Cell>], i: usize) -> Result<ArrayRef, Error> {
    let misfit = |c: &Cell| Error::Encode(format!("value {c:?} does not fit a {kind:?} column"));
    let cells = rows.iter().map(|r| r.get(i).unwrap_or(&Cell::Null));
    Ok(match kind {
        Kind::Utf8 | Kind::Json => {
            let mut b = StringBuilder::new();
            for c in cells {
                match c {
                    Cell::Null => b.append_null(),
                    other => b.append_value(other.to_text()),
                }
            }
            Arc::new(b.finish())
        }
        Kind::Int64 => {
            let mut b = Int64Builder::new();
            for c in cells {
                match c {
                    Cell::Null => b.append_null(),
                    Cell::Integer(v) => b.append_value(*v),
                    other => return Err(misfit(other)),
                }
            }
            Arc::new(b.finish())
        }
        Kind::Float64 => {
            let mut b = Float64Builder::new();
            for c in cells {
                match c {
                    Cell::Null => b.append_null(),
                    Cell::Real(v) => b.append_value(*v),
                    Cell::Integer(v) => b.append_value(*v as f64),
                    other => return Err(misfit(other)),
                }
            }
            Arc::new(b.finish())
        }
        Kind::Boolean => {
            let mut b = BooleanBuilder::new();
            for c in cells {
                match c {
                    Cell::Null => b.append_null(),
                    Cell::Bool(v) => b.append_value(*v),
                    other => return Err(misfit(other)),
                }
            }
            Arc::new(b.finish())
        }
        Kind::Timestamp => {
            let mut b = TimestampMicrosecondBuilder::new().with_timezone("UTC");
            for c in cells {
                match c {
                    Cell::Null => b.append_null(),
                    Cell::Text(s) => b.append_value(timestamp_micros(s).ok_or_else(|| misfit(c))?),
                    other => return Err(misfit(other)),
                }
            }
            Arc::new(b.finish())
        }
    })
}

/// Writes `table` as a Parquet file with the planned columns.
pub fn write<W: Write + Send>(out: W, table: &Table, columns: &[Column]) -> Result<(), Error> {
    let schema = schema(columns);
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(format!("skyql {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut writer = ArrowWriter::try_new(out, schema.clone(), Some(props))?;
    for rows in table.rows.chunks(ROWS_PER_GROUP) {
        let arrays = columns
            .iter()
            .enumerate()
            .map(|(i, c)| array(c.kind, rows, i))
            .collect::<Result<Vec<_>, _>>()?;
        writer.write(&RecordBatch::try_new(schema.clone(), arrays)?)?;
        writer.flush()?;
    }
    writer.close()?;
    Ok(())
}

/// The number of rows a Parquet file says it holds (from its footer).
pub fn count_rows(path: &std::path::Path) -> Result<u64, Error> {
    let file = std::fs::File::open(path).map_err(Error::read(path))?;
    let reader =
        parquet::file::serialized_reader::SerializedFileReader::new(file).map_err(|cause| {
            Error::ParquetRead {
                path: path.to_path_buf(),
                cause,
            }
        })?;
    use parquet::file::reader::FileReader;
    let rows = reader.metadata().file_metadata().num_rows();
    // A negative count is a damaged footer: report it as one.
    u64::try_from(rows).map_err(|_| Error::ParquetRead {
        path: path.to_path_buf(),
        cause: parquet::errors::ParquetError::General(format!("its footer says {rows} rows")),
    })
}
