//! Writing one shard's output: its data file (Parquet or JSONL) and then
//! its manifest, each atomically, so a manifest on disk always describes
//! files that are whole. A statement that failed still writes a manifest
//! (status `failed`, its error, no files), so `--merge` names the shard
//! that failed instead of calling it missing.

use crate::atomic::write_file;
use crate::columns;
use crate::manifest::{FileEntry, Format, Group, GroupSource, Manifest, OnError, Status, VERSION};
use crate::{Error, Shard, jsonl, parquet_file};
use chrono::{DateTime, SecondsFormat, Utc};
use skyql_engine::Table;
use std::collections::BTreeMap;
use std::path::Path;

/// One shard's run of a statement, as the caller ran it.
#[derive(Debug)]
pub struct Run {
    /// The statement (or script) as given.
    pub statement: String,
    pub shard: Shard,
    pub format: Format,
    pub on_error: OnError,
    pub started_at: DateTime<Utc>,
    /// The result, or the error that ended the statement.
    pub outcome: Result<Table, String>,
    /// The request groups, where the engine reported them; `None` writes
    /// one group for the whole statement.
    pub groups: Option<Vec<Group>>,
}

/// The one result of a script that `export` writes: the only statement
/// that returned columns. Statements without a result (a CREATE VIEW, an
/// INSERT without RETURNING) may come before it.
pub fn single_result(tables: Vec<Table>) -> Result<Table, Error> {
    let mut with_columns = tables.into_iter().filter(|t| !t.columns.is_empty());
    let first = with_columns.next().ok_or_else(|| {
        Error::Result(
            "the statement returned no result to export (no columns); export a SELECT, or a mutation with RETURNING"
                .into(),
        )
    })?;
    let others = with_columns.count();
    if others > 0 {
        return Err(Error::Result(format!(
            "the script returned {} results; export writes one: keep one statement that returns rows (others may set up, such as CREATE VIEW)",
            others + 1
        )));
    }
    Ok(first)
}

fn remove_stale(path: &Path) -> Result<(), Error> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::write(path)(e)),
        _ => Ok(()),
    }
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Writes the shard's data file and manifest into `dir` (created if
/// missing) and returns the manifest. A statement that failed, or whose
/// result cannot become a file (two columns of one name), gives a manifest
/// of status `failed` with the reason, not an error: the error is only for
/// files that cannot be written.
pub fn write(dir: &Path, run: &Run) -> Result<Manifest, Error> {
    std::fs::create_dir_all(dir).map_err(Error::write(dir))?;
    let stem = run.shard.part_stem();
    let planned = match &run.outcome {
        Ok(table) => columns::plan(table)
            .map(|columns| (table, columns))
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.clone()),
    };
    for other in [Format::Parquet, Format::Jsonl] {
        // A rerun in another format, or a failed rerun, must not leave the
        // previous run's file for a loader to find.
        if planned.is_err() || other != run.format {
            remove_stale(&dir.join(format!("{stem}.{}", other.extension())))?;
        }
    }
    let mut files = Vec::new();
    let mut rows = 0u64;
    if let Ok((table, columns)) = &planned {
        let name = format!("{stem}.{}", run.format.extension());
        let path = dir.join(&name);
        let written = match run.format {
            Format::Parquet => write_file(&path, |w| parquet_file::write(w, table, columns))?,
            Format::Jsonl => write_file(&path, |w| jsonl::write(w, table, &path))?,
        };
        rows = table.rows.len() as u64;
        files.push(FileEntry {
            path: name,
            rows,
            bytes: written.bytes,
            sha256: written.sha256,
        });
    }
    let status = if planned.is_ok() {
        Status::Ok
    } else {
        Status::Failed
    };
    let error = planned.as_ref().err().cloned();
    let (group_source, groups) = match &run.groups {
        Some(groups) => (GroupSource::Engine, groups.clone()),
        None => (
            GroupSource::Statement,
            vec![Group {
                resource: None,
                project: None,
                location: None,
                parameters: BTreeMap::new(),
                status,
                rows,
                codes: Vec::new(),
                sharded: false,
                error: error.clone(),
            }],
        ),
    };
    let manifest = Manifest {
        skyql_export: VERSION,
        skyql_version: env!("CARGO_PKG_VERSION").to_string(),
        statement: run.statement.clone(),
        shard: run.shard,
        format: run.format,
        on_error: run.on_error.clone(),
        status,
        error,
        columns: planned.map(|(_, c)| c).unwrap_or_default(),
        rows,
        files,
        group_source,
        groups,
        started_at: timestamp(run.started_at),
        finished_at: timestamp(Utc::now()),
    };
    let text = manifest.to_json()?;
    let path = dir.join(run.shard.manifest_name());
    write_file(&path, |w| {
        use std::io::Write;
        w.write_all(text.as_bytes())
            .and_then(|()| w.write_all(b"\n"))
            .map_err(Error::write(&path))
    })?;
    Ok(manifest)
}
