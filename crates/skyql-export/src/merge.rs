//! `skyql export --merge DIR`: checks that a set of shards is complete
//! before anyone loads it. Every shard 1..N has a manifest; every file a
//! manifest names is there, whole (size and SHA-256) and holds the rows it
//! says; no statement and no request group failed, unless it was skipped
//! under the `skip:CODES` policy its manifest records; and no data file
//! lies in the folder that no manifest names (a loader reading
//! `part-*.parquet` would read it too).

use crate::atomic::hash_file;
use crate::manifest::{Format, Group, GroupSource, Manifest, OnError, Status};
use crate::{Error, Shard, jsonl, parquet_file};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What `--merge` found: the totals, and every problem that makes the set
/// incomplete (empty when it is complete).
#[derive(Debug, Default)]
pub struct Report {
    pub dir: PathBuf,
    /// N, where the manifests agree on it.
    pub shards: Option<u32>,
    /// Manifests read.
    pub manifests: usize,
    /// Data files, by name, in shard order.
    pub files: Vec<String>,
    pub rows: u64,
    pub bytes: u64,
    pub groups_ok: usize,
    pub groups_skipped: usize,
    pub groups_failed: usize,
    /// Why the set is incomplete or cannot be trusted.
    pub problems: Vec<String>,
    /// Worth knowing, not wrong (shards that typed a column differently).
    pub notes: Vec<String>,
}

impl Report {
    pub fn is_complete(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A request group as a person reads it: `project=p location=l`.
pub fn describe(group: &Group) -> String {
    let mut parts = Vec::new();
    if let Some(r) = &group.resource {
        parts.push(r.clone());
    }
    if let Some(p) = &group.project {
        parts.push(format!("project={p}"));
    }
    if let Some(l) = &group.location {
        parts.push(format!("location={l}"));
    }
    for (k, v) in &group.parameters {
        if group.project.as_deref() != Some(v.as_str())
            && group.location.as_deref() != Some(v.as_str())
        {
            parts.push(format!("{k}={v}"));
        }
    }
    if parts.is_empty() {
        "the statement".to_string()
    } else {
        parts.join(" ")
    }
}

/// A file name a manifest may name: a plain name inside the folder.
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && !name.contains('\0')
}

fn is_data_file(name: &str) -> bool {
    name.starts_with("part-") && (name.ends_with(".parquet") || name.ends_with(".jsonl"))
}

/// Checks the exports in `dir`. An error only when the folder cannot be
/// read; everything wrong with its contents is a problem in the report.
pub fn check(dir: &Path) -> Result<Report, Error> {
    let mut report = Report {
        dir: dir.to_path_buf(),
        ..Report::default()
    };
    let mut manifests: BTreeMap<Shard, Manifest> = BTreeMap::new();
    let mut data_files = BTreeSet::new();
    let entries = std::fs::read_dir(dir).map_err(Error::read(dir))?;
    for entry in entries {
        let entry = entry.map_err(Error::read(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_data_file(&name) {
            data_files.insert(name);
        } else if name.starts_with(".skyql-export-") {
            report.notes.push(format!(
                "{name} is left from an interrupted write; it is not part of the export and can be deleted"
            ));
        } else if name.starts_with("manifest-") && name.ends_with(".json") {
            let Some(shard) = Shard::of_manifest_name(&name) else {
                report.problems.push(format!(
                    "{name} is not named manifest-I-of-N.json with 1 ≤ I ≤ N"
                ));
                continue;
            };
            match Manifest::read(&entry.path()) {
                Ok(m) if m.shard != shard => report.problems.push(format!(
                    "{name} describes shard {}, not {shard}: it was renamed or copied over",
                    m.shard
                )),
                Ok(m) => {
                    manifests.insert(shard, m);
                }
                Err(e) => report.problems.push(e.to_string()),
            }
        }
    }
    report.manifests = manifests.len();
    if manifests.is_empty() && report.problems.is_empty() {
        report.problems.push(format!(
            "no manifest (manifest-I-of-N.json) in {}: run skyql export --out {} first",
            dir.display(),
            dir.display()
        ));
        return Ok(report);
    }
    check_agreement(&manifests, &mut report);
    check_disjoint(&manifests, &mut report);
    let mut referenced = BTreeSet::new();
    for (shard, m) in &manifests {
        check_shard(dir, *shard, m, &mut report, &mut referenced);
    }
    for name in data_files.difference(&referenced) {
        report.problems.push(format!(
            "{name} is not named by any manifest of this export (left from another run?): remove it, a loader reading part-* would read it too"
        ));
    }
    Ok(report)
}

/// All manifests are shards of one export: the same N, statement, format
/// and columns; and every shard from 1 to N is there.
fn check_agreement(manifests: &BTreeMap<Shard, Manifest>, report: &mut Report) {
    let counts: BTreeSet<u32> = manifests.keys().map(|s| s.count).collect();
    if counts.len() > 1 {
        let list: Vec<String> = manifests.keys().map(|s| s.to_string()).collect();
        report.problems.push(format!(
            "the manifests are of different shardings ({}): one export has one N; remove the other run's files",
            list.join(", ")
        ));
    } else if let Some(&n) = counts.iter().next() {
        report.shards = Some(n);
        let missing: Vec<String> = (1..=n)
            .filter(|i| {
                !manifests.contains_key(&Shard {
                    index: *i,
                    count: n,
                })
            })
            .map(|i| format!("{i}/{n}"))
            .collect();
        if !missing.is_empty() {
            report.problems.push(format!(
                "{} of {n} shards missing: {} (run skyql export --shard I/N for each)",
                missing.len(),
                missing.join(", ")
            ));
        }
    }
    let Some((first_shard, first)) = manifests.iter().next() else {
        return;
    };
    let mut typed: Option<(Shard, &Manifest)> = None;
    for (shard, m) in manifests.iter().skip(1) {
        if m.statement != first.statement {
            report.problems.push(format!(
                "shard {shard} ran another statement than shard {first_shard}"
            ));
        }
        if m.format != first.format {
            report.problems.push(format!(
                "shard {shard} is {:?}, shard {first_shard} is {:?}: one export has one format",
                m.format, first.format
            ));
        }
    }
    for (shard, m) in manifests.iter().filter(|(_, m)| m.status == Status::Ok) {
        let Some((s0, m0)) = typed else {
            typed = Some((*shard, m));
            continue;
        };
        let names = |m: &Manifest| m.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        if names(m) != names(m0) {
            report.problems.push(format!(
                "shard {shard} has columns {:?}, shard {s0} has {:?}",
                names(m),
                names(m0)
            ));
        } else {
            for (a, b) in m.columns.iter().zip(&m0.columns) {
                if a.kind != b.kind {
                    let why = if m.rows == 0 || m0.rows == 0 {
                        "a shard without rows cannot tell an expression's type, and writes text"
                    } else {
                        "values that did not fit a type were kept as text"
                    };
                    report.notes.push(format!(
                        "column `{}` is {:?} in shard {shard} and {:?} in shard {s0} ({why}); a loader may need to cast it",
                        a.name, a.kind, b.kind
                    ));
                }
            }
        }
    }
}

/// Shards split a fan-out: a group of the split fan-out (the same
/// resource and parameters) read by two shards would be loaded twice.
/// A request group's identity: its resource and its parameters.
type GroupKey<'a> = (Option<&'a str>, Vec<(&'a str, &'a str)>);

fn check_disjoint(manifests: &BTreeMap<Shard, Manifest>, report: &mut Report) {
    let mut seen: BTreeMap<GroupKey<'_>, Shard> = BTreeMap::new();
    for (shard, m) in manifests {
        if m.group_source != GroupSource::Engine {
            continue;
        }
        for g in m.groups.iter().filter(|g| g.sharded) {
            let key = (
                g.resource.as_deref(),
                g.parameters
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect::<Vec<_>>(),
            );
            match seen.get(&key) {
                Some(first) if first != shard => report.problems.push(format!(
                    "{} was read by shard {first} and by shard {shard}: its rows would be loaded twice",
                    describe(g)
                )),
                Some(_) => {}
                None => {
                    seen.insert(key, *shard);
                }
            }
        }
    }
}

fn check_shard(
    dir: &Path,
    shard: Shard,
    m: &Manifest,
    report: &mut Report,
    referenced: &mut BTreeSet<String>,
) {
    if m.status != Status::Ok {
        report.problems.push(format!(
            "shard {shard} failed: {}",
            m.error.as_deref().unwrap_or("(no error recorded)")
        ));
    }
    let mut file_rows = 0u64;
    for f in &m.files {
        if !plain_name(&f.path) {
            report.problems.push(format!(
                "shard {shard}'s manifest names `{}`, which is not a file name in the folder",
                f.path
            ));
            continue;
        }
        referenced.insert(f.path.clone());
        report.files.push(f.path.clone());
        let path = dir.join(&f.path);
        if !path.is_file() {
            report
                .problems
                .push(format!("{} (shard {shard}) is missing", f.path));
            continue;
        }
        match hash_file(&path) {
            Ok(w) if w.sha256 != f.sha256 || w.bytes != f.bytes => {
                report.problems.push(format!(
                    "{} (shard {shard}) is not the file its manifest describes (size {} bytes, SHA-256 {}; recorded {} bytes, {}): it was changed or cut short",
                    f.path, w.bytes, w.sha256, f.bytes, f.sha256
                ));
                continue;
            }
            Ok(w) => report.bytes += w.bytes,
            Err(e) => {
                report.problems.push(e.to_string());
                continue;
            }
        }
        let rows = match m.format {
            Format::Parquet => parquet_file::count_rows(&path),
            Format::Jsonl => std::fs::read(&path)
                .map(|b| jsonl::count_rows(&b))
                .map_err(Error::read(&path)),
        };
        match rows {
            Ok(n) if n != f.rows => report.problems.push(format!(
                "{} (shard {shard}) holds {n} rows, its manifest says {}",
                f.path, f.rows
            )),
            Ok(n) => {
                file_rows += n;
                report.rows += n;
            }
            Err(e) => report.problems.push(e.to_string()),
        }
    }
    if m.status == Status::Ok && file_rows != m.rows {
        report.problems.push(format!(
            "shard {shard}'s files hold {file_rows} rows, its manifest says {}",
            m.rows
        ));
    }
    for g in &m.groups {
        match g.status {
            Status::Ok => report.groups_ok += 1,
            Status::Skipped => {
                let allowed = match &m.on_error {
                    OnError::Skip(codes) => g.codes.iter().any(|c| codes.contains(c)),
                    _ => false,
                };
                if allowed {
                    report.groups_skipped += 1;
                } else {
                    report.groups_failed += 1;
                    report.problems.push(format!(
                        "shard {shard}: {} was skipped ({}) but the shard ran with --on-error {}, which does not skip it",
                        describe(g),
                        if g.codes.is_empty() {
                            "no error code".to_string()
                        } else {
                            g.codes.join(", ")
                        },
                        m.on_error
                    ));
                }
            }
            Status::Failed => {
                report.groups_failed += 1;
                // The statement's own failure is already named above.
                if m.status == Status::Ok || m.groups.len() > 1 {
                    let codes = if g.codes.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", g.codes.join(", "))
                    };
                    report.problems.push(format!(
                        "shard {shard}: {} failed{codes}: {}",
                        describe(g),
                        g.error.as_deref().unwrap_or("(no error recorded)")
                    ));
                }
            }
        }
    }
}
