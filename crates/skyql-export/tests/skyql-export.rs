//! skyql-export against the in-process emulator: the rows in Parquet and
//! JSONL are the engine's own result, a real PostgreSQL loads the JSONL
//! with COPY, and `--merge` finds every way a set of shards can be
//! incomplete.

#[path = "skyql-export/harness.rs"]
mod harness;
#[path = "skyql-export/merge.rs"]
mod merge;
// The PostgreSQL test cluster is skyql-srv's (its fdw test uses it too).
#[path = "../../skyql-srv/tests/skyql-srv/pg_cluster.rs"]
mod pg_cluster;
#[path = "skyql-export/postgres.rs"]
mod postgres;
#[path = "skyql-export/round_trip.rs"]
mod round_trip;
#[path = "skyql-export/shards.rs"]
mod shards;
