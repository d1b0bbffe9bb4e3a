//! The manifest each shard writes beside its data file
//! (`manifest-I-of-N.json`): the statement, the shard, the format, the
//! error policy it ran under, the columns, the files with their row counts
//! and SHA-256, and one entry per request group (a project, a location,
//! ... with its status, rows and error), so that a run over thousands of
//! projects says exactly what it got and what it did not.

use crate::columns::Column;
use crate::{Error, Shard};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The manifest format's version; `--merge` refuses others.
pub const VERSION: u32 = 1;

/// How the data file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Parquet,
    Jsonl,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Jsonl => "jsonl",
        }
    }
}

/// What a statement does when part of its fan-out fails (`--on-error`):
/// `fail` (the default), `warn` (keep the rows, name what is missing) or
/// `skip:CODES` (leave out parts that failed with one of these codes).
/// Written in manifests as its command-line spelling (`"skip:SERVICE_DISABLED"`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum OnError {
    #[default]
    Fail,
    Warn,
    Skip(Vec<String>),
}

impl From<&skyql_engine::OnError> for OnError {
    fn from(p: &skyql_engine::OnError) -> OnError {
        match p {
            skyql_engine::OnError::Fail => OnError::Fail,
            skyql_engine::OnError::Warn => OnError::Warn,
            skyql_engine::OnError::Skip(codes) => OnError::Skip(codes.clone()),
        }
    }
}

/// Parsed as the engine parses `--on-error`.
impl std::str::FromStr for OnError {
    type Err = Error;

    fn from_str(s: &str) -> Result<OnError, Error> {
        s.parse::<skyql_engine::OnError>()
            .map(|p| OnError::from(&p))
            .map_err(|e| Error::OnError(e.to_string()))
    }
}

impl TryFrom<String> for OnError {
    type Error = Error;

    fn try_from(s: String) -> Result<OnError, Error> {
        s.parse()
    }
}

impl From<OnError> for String {
    fn from(p: OnError) -> String {
        p.to_string()
    }
}

impl std::fmt::Display for OnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OnError::Fail => f.write_str("fail"),
            OnError::Warn => f.write_str("warn"),
            OnError::Skip(codes) => write!(f, "skip:{}", codes.join(",")),
        }
    }
}

/// Whether a statement, or one request group of it, got everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Failed,
    /// Left out under `--on-error skip:CODES`.
    Skipped,
}

/// One data file of a shard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// The file's name, relative to the manifest's folder.
    pub path: String,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// One request group: the requests made for one combination of request
/// parameters (a project, a location, ...), and what came of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// The resource the requests read (`google.aiplatform.custom_jobs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The project parameter's value, where the requests had one.
    #[serde(default)]
    pub project: Option<String>,
    /// The location (or region, or zone) parameter's value, where they had one.
    #[serde(default)]
    pub location: Option<String>,
    /// Every request parameter of the group, by name.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    pub status: Status,
    /// Rows the group's requests returned.
    pub rows: u64,
    /// The codes of its error: the google.rpc status (`PERMISSION_DENIED`),
    /// ErrorInfo reasons (`SERVICE_DISABLED`), the HTTP status.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<String>,
    /// The group is one of the fan-out that `--shard` split (each such
    /// group belongs to exactly one shard); other groups (a table read in
    /// full by every shard) are not.
    #[serde(default)]
    pub sharded: bool,
    #[serde(default)]
    pub error: Option<String>,
}

/// Where a manifest's groups come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupSource {
    /// The engine's per-statement report: one group per request group.
    Engine,
    /// The engine gave no per-request report: one group for the whole
    /// statement (its status and rows).
    Statement,
}

/// One shard's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The manifest format's version ([`VERSION`]).
    pub skyql_export: u32,
    /// The skyql version that wrote it.
    pub skyql_version: String,
    /// The statement (or script) as given.
    pub statement: String,
    pub shard: Shard,
    pub format: Format,
    pub on_error: OnError,
    /// Whether the statement ran to the end (`failed`: its error is in `error`
    /// and no rows were written).
    pub status: Status,
    #[serde(default)]
    pub error: Option<String>,
    pub columns: Vec<Column>,
    pub rows: u64,
    pub files: Vec<FileEntry>,
    pub group_source: GroupSource,
    pub groups: Vec<Group>,
    /// When the statement started and the manifest was written (RFC 3339, UTC).
    pub started_at: String,
    pub finished_at: String,
}

impl Manifest {
    /// Reads and checks a manifest file.
    pub fn read(path: &Path) -> Result<Manifest, Error> {
        let bytes = std::fs::read(path).map_err(Error::read(path))?;
        let bad = |reason: String| Error::Manifest {
            path: path.to_path_buf(),
            reason,
        };
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| bad(format!("not JSON ({e})")))?;
        match value.get("skyql_export").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(VERSION) => {}
            Some(v) => {
                return Err(bad(format!(
                    "it is version {v} of the format, this skyql reads version {VERSION}"
                )));
            }
            None => return Err(bad("it has no `skyql_export` version".into())),
        }
        serde_json::from_value(value).map_err(|e| bad(e.to_string()))
    }

    /// The manifest as the JSON written to disk.
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string_pretty(self).map_err(|e| Error::Encode(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_error_policies_parse_and_print() {
        assert_eq!("fail".parse::<OnError>().expect("fail"), OnError::Fail);
        assert_eq!("WARN".parse::<OnError>().expect("warn"), OnError::Warn);
        let skip: OnError = "skip:service_disabled, PERMISSION_DENIED"
            .parse()
            .expect("skip");
        assert_eq!(skip.to_string(), "skip:SERVICE_DISABLED,PERMISSION_DENIED");
        for bad in ["", "skip:", "skip", "ignore"] {
            let e = bad.parse::<OnError>().expect_err(bad).to_string();
            assert!(
                e.contains("skip:CODES") || e.contains("skip:SERVICE_DISABLED"),
                "{e}"
            );
        }
    }
}
