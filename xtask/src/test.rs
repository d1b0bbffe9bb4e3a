//! `cargo xtask test`: the whole test suite, as CI runs it on a fresh clone.
//! Fetches the pinned Discovery documents if missing, runs every Rust test,
//! then the Python compatibility tests (Google's own client library against
//! the emulator) in a virtualenv under `target/`.

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::Command;

/// Runs a command, echoing it; its failure is an error.
pub fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("xtask: {cmd:?}");
    let status = cmd.status().with_context(|| format!("starting {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

pub fn run_all(args: &[String]) -> Result<()> {
    let root = crate::root();
    let docs = crate::discovery::fetch(false)?;
    crate::srv_clients::install(&root)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(Command::new(&cargo)
        .current_dir(&root)
        .args(["build", "--workspace", "--bins"]))?;
    run(Command::new(&cargo)
        .current_dir(&root)
        .env("SKYQL_DISCOVERY_DIR", &docs)
        .args(["test", "--workspace"])
        .args(args))?;
    python_tests(&root, &docs)
}

fn python_tests(root: &Path, docs: &Path) -> Result<()> {
    let tests = root.join("tests/python");
    let python = venv_python(root)?;
    run(Command::new(&python)
        .current_dir(root)
        .env("SKYQL_BIN", root.join("target/debug/skyql"))
        .env("SKYQL_DISCOVERY_DIR", docs)
        .args(["-m", "pytest", "-q"])
        .arg(&tests))
}

/// The virtualenv under `target/` with Google's Python client (pinned in
/// tests/python/requirements.txt) installed; created on first use.
pub fn venv_python(root: &Path) -> Result<std::path::PathBuf> {
    let requirements = root.join("tests/python/requirements.txt");
    let venv = root.join("target/py-venv");
    let python = venv.join("bin/python");
    if !python.is_file() {
        run(Command::new(crate::discovery::python())
            .args(["-m", "venv"])
            .arg(&venv))?;
    }
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements))?;
    Ok(python)
}
