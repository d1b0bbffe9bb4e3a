//! Project chores that are code, not shell: fetching Google's Discovery
//! documents for tests, regenerating the embedded snapshot, running the whole
//! test suite, and benchmarks. Run as `cargo xtask <command>`.

mod bench;
mod bench_emulator;
mod bench_org;
mod bench_select;
mod bench_srv;
mod discovery;
mod emulator_child;
mod srv_clients;
mod test;

use anyhow::{Result, bail};
use std::path::PathBuf;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  fetch-discovery     download google-api-python-client (pinned) and extract its
                      Discovery documents into .discovery/ (skipped if present)
  snapshot [--check]  regenerate the embedded aiplatform snapshot and service
                      catalog from .discovery/ (--check: fail if they differ)
  test                everything CI tests: Rust tests, then the Python
                      compatibility tests against the emulator
  bench               start-up and document-loading benchmarks
  bench-load          load every pinned document once (the child process that
                      `bench` times)
  bench-emulator      emulator throughput and memory benchmark
  bench-select        SELECT against the emulator: skyql vs a bare HTTP loop vs
                      Google's Python client; peak memory over 100,000 jobs
  bench-org           1,000 projects (Resource Manager's folder tree) × 2
                      locations under a per-project quota: skyql's wall time
                      against the ideal the quota allows, and with --shard I/4
  bench-srv           skyql srv: 50 PostgreSQL connections running list and get
                      queries at once (queries/s, p99, errors)";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        println!("{USAGE}");
        return Ok(());
    };
    let rest = &args[1..];
    match cmd.as_str() {
        "fetch-discovery" => discovery::fetch(rest.iter().any(|a| a == "--force")).map(|_| ()),
        "snapshot" => discovery::snapshot(rest.iter().any(|a| a == "--check")),
        "test" => test::run_all(rest),
        "bench" => bench::run(rest),
        "bench-load" => bench::load_all(),
        "bench-emulator" => bench_emulator::run(rest),
        "bench-select" => bench_select::run(rest),
        "bench-org" => bench_org::run(rest),
        "bench-srv" => bench_srv::run(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown xtask command `{other}`\n\n{USAGE}"),
    }
}

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Builds `skyql` in release mode and returns its path (benchmarks measure
/// the optimised binary).
pub fn release_skyql() -> Result<PathBuf> {
    let root = root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(&cargo)
        .current_dir(&root)
        .args(["build", "--release", "-p", "skyql-cli"])
        .status()
        .map_err(|e| anyhow::anyhow!("cannot run cargo: {e}"))?;
    if !status.success() {
        bail!("release build failed");
    }
    Ok(root.join("target/release/skyql"))
}
