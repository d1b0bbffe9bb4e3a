//! `skyql export`: a statement's rows written as Parquet or JSONL files,
//! with a manifest per shard saying what was read and what was not, and
//! the check (`--merge`) that a set of shards is complete.
