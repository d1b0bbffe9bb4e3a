//! `skyql export`: runs a statement and writes its rows as Parquet or JSONL
//! files plus a manifest (crate `skyql-export`), one shard of a fan-out at
//! a time (`--shard I/N`); `skyql export --merge DIR` checks that every
//! shard is there and nothing failed. Progress and summaries go to stderr;
//! `--merge` prints its summary on stdout.

use crate::Global;
use anyhow::{Context, Result, bail};
use skyql_engine::Engine;
use skyql_engine::{OnError, Shard};
use skyql_export::{Format, Run};
use std::path::{Path, PathBuf};

/// The file format of `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FileFormat {
    /// Apache Parquet (Snappy), columns typed from the result.
    Parquet,
    /// One JSON object per line, as `--output jsonl` prints.
    Jsonl,
}

/// Options of `skyql export`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// SQL to run (a script may set up with statements that return no rows;
    /// exactly one statement returns the rows).
    #[arg(conflicts_with = "merge")]
    pub query: Option<String>,
    /// Read SQL from this file (`-` for standard input).
    #[arg(long, short = 'i', conflicts_with_all = ["query", "merge"])]
    pub infile: Option<PathBuf>,
    /// File format of the rows.
    #[arg(long, value_enum, required_unless_present = "merge")]
    pub format: Option<FileFormat>,
    /// Folder to write part-I-of-N.<format> and manifest-I-of-N.json into
    /// (created if missing; every shard may write into the same folder).
    #[arg(long, value_name = "DIR", required_unless_present = "merge")]
    pub out: Option<PathBuf>,
    /// Run part I of N of the statement's fan-out (default 1/1, all of it).
    #[arg(long, value_name = "I/N", value_parser = parse_shard, conflicts_with = "merge")]
    pub shard: Option<Shard>,
    /// When part of the fan-out fails: fail (default), warn, or skip:CODES
    /// (e.g. skip:SERVICE_DISABLED,PERMISSION_DENIED). Recorded in the manifest.
    #[arg(long, value_name = "POLICY", value_parser = parse_on_error, conflicts_with = "merge")]
    pub on_error: Option<OnError>,
    /// Check the manifests in DIR instead: every shard present, every file
    /// whole, no part failed. Exits 1 naming what is missing or failed.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["format", "out"])]
    pub merge: Option<PathBuf>,
    /// Run against an in-process emulator seeded with sample jobs, instead of Google.
    #[arg(long, conflicts_with = "merge")]
    pub emulator: bool,
    /// Testing aid: freeze the in-process emulator's clock at this RFC 3339 time.
    #[arg(
        long,
        hide = true,
        env = "SKYQL_EMULATOR_FROZEN_AT",
        requires = "emulator"
    )]
    pub emulator_frozen_at: Option<String>,
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse().map_err(|e: skyql_engine::Error| e.to_string())
}

fn parse_on_error(s: &str) -> Result<OnError, String> {
    s.parse().map_err(|e: skyql_engine::Error| e.to_string())
}

pub fn run(global: &Global, args: ExportArgs) -> Result<()> {
    if let Some(dir) = &args.merge {
        return merge(dir);
    }
    let (Some(format), Some(out)) = (args.format, args.out.clone()) else {
        bail!("give --format parquet|jsonl and --out DIR (or --merge DIR to check an export)");
    };
    let format = match format {
        FileFormat::Parquet => Format::Parquet,
        FileFormat::Jsonl => Format::Jsonl,
    };
    if global.dry_run {
        // A dry run sends nothing: its empty result would be a manifest
        // that calls the export complete.
        bail!(
            "--dry-run sends no request, so there are no rows to export; use skyql exec --dry-run to see the requests"
        );
    }
    let shard = args.shard.unwrap_or(Shard { index: 1, count: 1 });
    let on_error = args.on_error.clone().unwrap_or_default();
    let sql = crate::read_sql(args.query.as_deref(), args.infile.as_deref())?;
    let statements = skyql_engine::split_statements(&sql)?;
    let registry = crate::open_registry(global)?;
    let emulator = args.emulator.then(|| crate::remote::EmulatorOptions {
        frozen_at: args.emulator_frozen_at.clone(),
    });
    let (connection, remote) = crate::remote::connect(global, emulator)?;
    let mut engine = Engine::with_remote(registry, remote);
    engine.allow_local_files(global.allow_local_files);
    engine.set_on_error(on_error.clone());
    engine.set_shard(Some(shard));
    let started_at = chrono::Utc::now();
    // Every statement's request groups go into the manifest (a script's
    // setup may fan out too); None when no statement reported any.
    let mut groups: Option<Vec<skyql_export::Group>> = None;
    let mut tables = Vec::new();
    let mut failure = None;
    let mut any_split = false;
    for stmt in &statements {
        let result = engine.execute(stmt);
        if let Some(report) = engine.last_report() {
            any_split |= report.sharded_table.is_some();
            for note in report.notes() {
                crate::term::err_line(crate::output::visible(&note, false));
            }
            if !report.parts.is_empty() {
                groups
                    .get_or_insert_with(Vec::new)
                    .extend(skyql_export::groups_of(report, shard.into()));
            }
        }
        match result {
            Ok(t) => tables.push(t),
            Err(e) => {
                failure = Some(e.to_string());
                break;
            }
        }
    }
    let outcome = match failure {
        Some(e) => Err(e),
        None => skyql_export::single_result(tables).map_err(|e| e.to_string()),
    };
    // Nothing was split (no fan-out at all, as in `SELECT 1` or SHOW): the
    // rows belong to shard 1 alone, or N shards would hold them N times.
    let outcome = outcome.map(|mut table| {
        if shard.count > 1 && shard.index != 1 && !any_split {
            table.rows.clear();
        }
        table
    });
    let run = Run {
        statement: sql.clone(),
        shard: shard.into(),
        format,
        on_error: (&on_error).into(),
        started_at,
        outcome,
        groups,
    };
    let manifest = skyql_export::write(&out, &run)
        .with_context(|| format!("writing the export into {}", out.display()))?;
    std::mem::forget(engine);
    connection.runtime.shutdown_background();
    let manifest_path = out.join(skyql_export::Shard::from(shard).manifest_name());
    if let Some(e) = &manifest.error {
        bail!(
            "{e}\n(shard {shard} failed; {} records it, and skyql export --merge will name it)",
            manifest_path.display()
        );
    }
    for f in &manifest.files {
        crate::term::err_line(format_args!(
            "skyql export: shard {shard}: {} rows in {}, manifest {}",
            f.rows,
            out.join(&f.path).display(),
            manifest_path.display()
        ));
    }
    Ok(())
}

fn merge(dir: &Path) -> Result<()> {
    let report = skyql_export::check_merge(dir)?;
    let shards = match report.shards {
        Some(n) => format!("{} of {n}", report.manifests),
        None => report.manifests.to_string(),
    };
    crate::term::out(format_args!(
        "shards: {shards}\nfiles: {}\nrows: {}\nbytes: {}\ngroups: {} ok, {} skipped, {} failed\n",
        report.files.len(),
        report.rows,
        report.bytes,
        report.groups_ok,
        report.groups_skipped,
        report.groups_failed
    ))?;
    for note in &report.notes {
        crate::term::err_line(format_args!(
            "note: {}",
            crate::output::visible(note, false)
        ));
    }
    if !report.is_complete() {
        for p in &report.problems {
            crate::term::err_line(format_args!(
                "problem: {}",
                crate::output::visible(p, false)
            ));
        }
        bail!(
            "the export in {} is not complete: {} problem(s) above",
            dir.display(),
            report.problems.len()
        );
    }
    crate::term::out_line(format_args!("complete: {}", report.files.join(" ")))?;
    Ok(())
}
