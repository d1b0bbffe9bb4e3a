//! Rows written are the rows the engine returned: Parquet read back with
//! the parquet crate, JSONL parsed line by line, cell by cell.

use crate::harness::{JOBS, start};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use skyql_engine::{Cell, Table};
use skyql_export::{Format, Shard, Status};

fn read_parquet(path: &std::path::Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).expect("open parquet");
    ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet footer")
        .build()
        .expect("reader")
        .collect::<Result<Vec<_>, _>>()
        .expect("batches")
}

/// The cell at `row` of an Arrow column, as the engine's cell it was made
/// from (JSON text back to JSON, microseconds back to RFC 3339 text).
fn cell_of(col: &dyn Array, row: usize, original: &Cell) -> Cell {
    if col.is_null(row) {
        return Cell::Null;
    }
    match col.data_type() {
        DataType::Utf8 => {
            let s = col.as_string::<i32>().value(row).to_string();
            match original {
                Cell::Json(_) => Cell::Json(serde_json::from_str(&s).expect("JSON text")),
                _ => Cell::Text(s),
            }
        }
        DataType::Int64 => Cell::Integer(col.as_primitive::<Int64Type>().value(row)),
        DataType::Float64 => Cell::Real(col.as_primitive::<Float64Type>().value(row)),
        DataType::Boolean => Cell::Bool(col.as_boolean().value(row)),
        DataType::Timestamp(TimeUnit::Microsecond, Some(tz)) if tz.as_ref() == "UTC" => {
            let micros = col.as_primitive::<TimestampMicrosecondType>().value(row);
            let t = chrono::DateTime::from_timestamp_micros(micros).expect("in range");
            // Compare instants: the original text may spell the same time
            // with fewer digits.
            let Cell::Text(orig) = original else {
                panic!("timestamp from {original:?}")
            };
            let orig_t = chrono::DateTime::parse_from_rfc3339(orig).expect("rfc3339");
            assert_eq!(orig_t, t, "timestamp changed");
            original.clone()
        }
        other => panic!("unexpected column type {other:?}"),
    }
}

fn parquet_table(path: &std::path::Path, like: &Table) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for batch in read_parquet(path) {
        assert_eq!(batch.num_columns(), like.columns.len());
        for r in 0..batch.num_rows() {
            let i = rows.len();
            rows.push(
                (0..batch.num_columns())
                    .map(|c| cell_of(batch.column(c).as_ref(), r, &like.rows[i][c]))
                    .collect(),
            );
        }
    }
    rows
}

#[test]
fn parquet_holds_the_engines_rows_with_typed_columns() {
    let mut emu = start();
    let expected = emu.query(JOBS);
    assert_eq!(expected.rows.len(), 24, "both locations' seeded jobs");
    let dir = tempfile::tempdir().expect("dir");
    let manifest = emu.export(JOBS, Shard::WHOLE, Format::Parquet, dir.path());
    assert_eq!(manifest.status, Status::Ok);
    assert_eq!(manifest.rows, 24);
    assert_eq!(manifest.files.len(), 1);
    let path = dir.path().join("part-1-of-1.parquet");
    assert_eq!(manifest.files[0].path, "part-1-of-1.parquet");
    assert_eq!(
        manifest.files[0].sha256,
        skyql_export::hash_file(&path).expect("hash").sha256
    );
    // Column types come from the engine's result column types.
    let batches = read_parquet(&path);
    let schema = batches[0].schema();
    let ty = |name: &str| {
        schema
            .field_with_name(name)
            .expect(name)
            .data_type()
            .clone()
    };
    assert_eq!(ty("name"), DataType::Utf8);
    assert_eq!(ty("labels"), DataType::Utf8, "JSON as JSON text");
    assert_eq!(
        ty("createTime"),
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
    );
    assert_eq!(ty("name_length"), DataType::Int64);
    assert_eq!(ty("quarter"), DataType::Float64);
    assert_eq!(
        ty("succeeded"),
        DataType::Int64,
        "SQLite's comparison is 0/1"
    );
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, expected.columns);
    assert_eq!(parquet_table(&path, &expected), expected.rows);
    assert!(
        expected.rows.iter().any(|r| matches!(r[3], Cell::Json(_))),
        "labels are JSON cells"
    );
}

#[test]
fn jsonl_holds_the_engines_rows_as_typed_json() {
    let mut emu = start();
    let expected = emu.query(JOBS);
    let dir = tempfile::tempdir().expect("dir");
    let manifest = emu.export(JOBS, Shard::WHOLE, Format::Jsonl, dir.path());
    assert_eq!(manifest.rows, expected.rows.len() as u64);
    let text = std::fs::read_to_string(dir.path().join("part-1-of-1.jsonl")).expect("jsonl");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), expected.rows.len());
    for (line, row) in lines.iter().zip(&expected.rows) {
        let v: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(line).expect("a JSON object per line");
        let keys: Vec<&String> = v.keys().collect();
        assert_eq!(keys.len(), expected.columns.len());
        for (c, cell) in expected.columns.iter().zip(row) {
            assert_eq!(v.get(c), Some(&cell.to_json()), "column {c}");
        }
        assert!(v["labels"].is_object(), "JSON stays JSON: {line}");
        assert!(v["name_length"].is_i64(), "numbers stay numbers: {line}");
    }
}

#[test]
fn a_statement_without_rows_writes_an_empty_typed_file() {
    let mut emu = start();
    let sql = "SELECT name, createTime FROM google.aiplatform.custom_jobs \
               WHERE projectsId = 'demo-project' AND locationsId = 'us-central1' AND displayName = 'no such job'";
    let dir = tempfile::tempdir().expect("dir");
    let m = emu.export(sql, Shard::WHOLE, Format::Parquet, dir.path());
    assert_eq!(m.rows, 0);
    let path = dir.path().join("part-1-of-1.parquet");
    assert_eq!(skyql_export::parquet_rows(&path).expect("rows"), 0);
    let file = std::fs::File::open(&path).expect("open");
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("footer");
    assert_eq!(
        builder.schema().field(1).data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
    );
}

#[test]
fn a_failed_statement_leaves_a_failed_manifest_and_no_rows() {
    let mut emu = start();
    let dir = tempfile::tempdir().expect("dir");
    // A successful run first, then a failed rerun of the same shard: the
    // old rows must not stay behind for a loader to find.
    emu.export(JOBS, Shard::WHOLE, Format::Parquet, dir.path());
    let denied = "SELECT name FROM google.aiplatform.custom_jobs \
                  WHERE projectsId = 'someone-elses-project' AND locationsId = 'us-central1'";
    let m = emu.export(denied, Shard::WHOLE, Format::Parquet, dir.path());
    assert_eq!(m.status, Status::Failed);
    let error = m.error.clone().expect("error recorded");
    assert!(
        error.contains("403") || error.contains("PERMISSION"),
        "{error}"
    );
    assert!(m.files.is_empty());
    assert!(!dir.path().join("part-1-of-1.parquet").exists());
    assert_eq!(m.groups.len(), 1);
    assert_eq!(m.groups[0].status, Status::Failed);
    let report = skyql_export::check_merge(dir.path()).expect("merge");
    assert!(!report.is_complete());
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("shard 1/1 failed") && p.contains(&error)),
        "{:?}",
        report.problems
    );
}

#[test]
fn a_result_with_a_repeated_column_name_is_a_failed_shard() {
    let mut emu = start();
    let dir = tempfile::tempdir().expect("dir");
    let m = emu.export(
        "SELECT 1 AS a, 2 AS a",
        Shard::WHOLE,
        Format::Parquet,
        dir.path(),
    );
    assert_eq!(m.status, Status::Failed);
    let error = m.error.expect("error");
    assert!(error.contains("`a` appears more than once"), "{error}");
    assert!(m.files.is_empty() && !dir.path().join("part-1-of-1.parquet").exists());
}

#[test]
fn a_script_exports_its_one_result() {
    let mut emu = start();
    let dir = tempfile::tempdir().expect("dir");
    let script = format!("CREATE TEMP VIEW v AS {JOBS}; SELECT count(*) AS n FROM v");
    let m = emu.export(&script, Shard::WHOLE, Format::Jsonl, dir.path());
    assert_eq!(m.status, Status::Ok, "{:?}", m.error);
    let text = std::fs::read_to_string(dir.path().join("part-1-of-1.jsonl")).expect("jsonl");
    assert_eq!(text, "{\"n\":24}\n");
    let two = format!("{JOBS}; {JOBS}");
    let m = emu.export(&two, Shard::WHOLE, Format::Jsonl, dir.path());
    assert_eq!(m.status, Status::Failed);
    assert!(
        m.error.as_deref().is_some_and(|e| e.contains("2 results")),
        "{:?}",
        m.error
    );
}
