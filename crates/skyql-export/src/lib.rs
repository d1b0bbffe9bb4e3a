//! `skyql export`: a statement's rows written as Parquet (arrow-rs) or
//! JSONL files, with a manifest per shard saying what was read and what
//! was not, and the check (`--merge`) that a set of shards is complete.
//!
//! The caller runs the statement (the engine splits the fan-out by
//! `--shard`); this crate turns its result and the engine's per-request
//! accounting into files. It never prints and never touches the network.

mod atomic;
mod columns;
mod error;
mod export;
mod groups;
mod jsonl;
mod manifest;
mod merge;
mod parquet_file;
mod shard;

pub use atomic::hash_file;
pub use columns::{Column, Kind, plan as plan_columns};
pub use error::Error;
pub use export::{Run, single_result, write};
pub use groups::groups_of;
pub use jsonl::line as jsonl_line;
pub use manifest::{
    FileEntry, Format, Group, GroupSource, Manifest, OnError, Status, VERSION as MANIFEST_VERSION,
};
pub use merge::{Report as MergeReport, check as check_merge, describe as describe_group};
pub use parquet_file::{count_rows as parquet_rows, data_type as arrow_type};
pub use shard::Shard;
