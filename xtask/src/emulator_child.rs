//! `skyql emulator` as a child process of a benchmark: started with
//! `--addr 127.0.0.1:0 --credentials-out KEY` and the benchmark's own flags,
//! its URL read from the first line it prints, killed when dropped.

use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `skyql emulator`; killed on drop.
pub struct Emulator {
    pub child: Child,
    pub base_url: String,
    /// The service-account key it wrote (`--credentials-out`).
    pub key_file: PathBuf,
    /// From spawn to its URL printed.
    pub startup: Duration,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `bin emulator` on a free loopback port with `args`, writing its
/// key to `key_file`.
pub fn start(bin: &Path, key_file: PathBuf, args: &[String]) -> Result<Emulator> {
    let started = Instant::now();
    let mut child = Command::new(bin)
        .args(["emulator", "--addr", "127.0.0.1:0"])
        .args(args)
        .arg("--credentials-out")
        .arg(&key_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting skyql emulator")?;
    let stdout = child.stdout.take().context("emulator stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let startup = started.elapsed();
    let base_url = line.trim().to_string();
    if !base_url.starts_with("http://") {
        let _ = child.kill();
        bail!("the emulator printed `{base_url}` instead of its URL");
    }
    Ok(Emulator {
        child,
        base_url,
        key_file,
        startup,
    })
}
