//! A real PostgreSQL 15 loads the JSONL with COPY and agrees with the
//! engine on the rows, in a throwaway cluster (skyql-srv's test helper
//! `pg_cluster.rs`). Without PostgreSQL the test fails under CI=true and
//! is skipped with the reason otherwise.

use crate::harness::{JOBS, start};
use crate::pg_cluster::{Cluster, require, server};
use skyql_export::{Format, Shard};

#[test]
fn postgres_copies_the_jsonl_and_agrees_on_the_rows() {
    if require("PostgreSQL 15", server(&[])).is_none() {
        return;
    }
    let mut emu = start();
    let expected = emu.query(JOBS);
    let dir = tempfile::tempdir().expect("dir");
    emu.export(JOBS, Shard::WHOLE, Format::Jsonl, dir.path());
    let jsonl = std::fs::read(dir.path().join("part-1-of-1.jsonl")).expect("jsonl");
    let cluster = Cluster::start();
    cluster.psql("CREATE TABLE raw (doc jsonb NOT NULL)");
    // CSV with quote and delimiter bytes that JSON text never holds raw:
    // each line is one value, loaded exactly (text COPY would unescape `\`).
    cluster.psql_with_stdin(
        "\\copy raw (doc) FROM STDIN WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')",
        Some(&jsonl),
    );
    let count = cluster.psql("SELECT count(*) FROM raw");
    assert_eq!(count.trim(), expected.rows.len().to_string());
    // Typed as PostgreSQL reads them: names, timestamps, JSON labels, numbers.
    let rows = cluster.psql(
        "SELECT doc->>'name', (doc->>'createTime')::timestamptz IS NOT NULL, \
                jsonb_typeof(doc->'labels'), (doc->>'name_length')::bigint \
         FROM raw ORDER BY doc->>'name'",
    );
    let got: Vec<&str> = rows.lines().collect();
    assert_eq!(got.len(), expected.rows.len());
    for (line, row) in got.iter().zip(&expected.rows) {
        let name = row[0].to_text();
        let len = row[6].to_text();
        assert_eq!(*line, format!("{name}|t|object|{len}"));
    }
}
