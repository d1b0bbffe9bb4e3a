//! skyql-export against the in-process emulator: the rows in Parquet and
//! JSONL are the engine's own result, a real PostgreSQL loads the JSONL
//! with COPY, and `--merge` finds every way a set of shards can be
//! incomplete.

#[path = "skyql-export/harness.rs"]
mod harness;
#[path = "skyql-export/merge.rs"]
mod merge;
#[path = "skyql-export/postgres.rs"]
mod postgres;
#[path = "skyql-export/round_trip.rs"]
mod round_trip;
#[path = "skyql-export/shards.rs"]
mod shards;
