//! `cargo xtask bench`: start-up and document-loading benchmarks for the
//! issue-2 targets, measured on the release build. Prints a markdown table to
//! paste into BENCHMARKS.md.
//!
//! - start to exit of `skyql exec "SHOW SERVICES IN google"` and
//!   `skyql exec "DESCRIBE google.aiplatform.custom_jobs"` from the embedded
//!   snapshot (median and best of 30 runs, in a fresh home);
//! - parsing and modelling all 610 pinned Discovery documents in one process
//!   (`bench-load`, which this command runs in a release build of xtask).

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 30;

pub fn run(_args: &[String]) -> Result<()> {
    let root = crate::root();
    let bin = crate::release_skyql()?;
    let home = root.join("target/bench-home");
    let _ = std::fs::remove_dir_all(&home);
    println!("| measurement | median | best |\n|---|---|---|");
    for sql in [
        "SHOW SERVICES IN google",
        "DESCRIBE google.aiplatform.custom_jobs",
    ] {
        let (median, best) = time_command(&bin, &home, sql)?;
        println!(
            "| `skyql exec \"{sql}\"` (embedded) | {} | {} |",
            ms(median),
            ms(best)
        );
    }
    let docs = crate::discovery::fetch(false)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .current_dir(&root)
        .args([
            "run",
            "--quiet",
            "--release",
            "-p",
            "xtask",
            "--",
            "bench-load",
        ])
        .env("SKYQL_DISCOVERY_DIR", &docs)
        .status()?;
    if !status.success() {
        bail!("bench-load failed");
    }
    Ok(())
}

fn time_command(bin: &Path, home: &Path, sql: &str) -> Result<(Duration, Duration)> {
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let status = Command::new(bin)
            .arg("--home")
            .arg(home)
            .args(["exec", sql, "--output", "csv"])
            .stdout(Stdio::null())
            .status()
            .with_context(|| bin.display().to_string())?;
        times.push(start.elapsed());
        if !status.success() {
            bail!("`{sql}` failed");
        }
    }
    times.sort();
    Ok((times[RUNS / 2], times[0]))
}

/// Loads and models every document of the pinned package in this process.
pub fn load_all() -> Result<()> {
    let dir = crate::discovery::dir();
    let mut files: Vec<_> = std::fs::read_dir(&dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && !p.ends_with("index.json"))
        .collect();
    files.sort();
    let mut best = Duration::MAX;
    let mut resources = 0;
    for _ in 0..3 {
        let start = Instant::now();
        resources = 0;
        for f in &files {
            let bytes = std::fs::read(f)?;
            let svc = skyql_provider::Service::from_json(&bytes, &f.display().to_string())?;
            resources += svc.resources.len();
        }
        best = best.min(start.elapsed());
    }
    println!(
        "| load and model all {} documents ({resources} resources), best of 3 | | {} |",
        files.len(),
        ms(best)
    );
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
