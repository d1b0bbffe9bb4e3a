//! What the `skyql srv` client tests need besides the Rust toolchain:
//! node-postgres (npm `pg`, pinned) under `target/srv-clients/node`, pgjdbc
//! (Debian's `libpostgresql-jdbc-java`, installed with apt-get when missing)
//! and psycopg (through tests/python/requirements.txt, in the test venv).
//! psql, PostgreSQL 15 with postgres_fdw, Java and Node are expected on the
//! machine; the tests fail under CI when a client is missing.

use crate::test::run;
use anyhow::{Context, Result};
use std::path::Path;
use std::process::Command;

/// node-postgres, pinned.
const NODE_PG: &str = "pg@8.23.1";
/// Where Debian puts pgjdbc.
pub const JDBC_JAR: &str = "/usr/share/java/postgresql.jar";

pub fn install(root: &Path) -> Result<()> {
    let node = root.join("target/srv-clients/node");
    if !node.join("node_modules/pg/package.json").is_file() {
        std::fs::create_dir_all(&node).with_context(|| format!("creating {}", node.display()))?;
        run(Command::new("npm")
            .arg("install")
            .arg("--prefix")
            .arg(&node)
            .args(["--no-audit", "--no-fund", "--silent", NODE_PG]))
        .context("installing node-postgres (needs Node.js and npm)")?;
    }
    if !Path::new(JDBC_JAR).is_file() {
        let root_user = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
        let apt = |args: &[&str]| {
            let mut c = if root_user {
                Command::new("apt-get")
            } else {
                let mut c = Command::new("sudo");
                c.arg("apt-get");
                c
            };
            c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
            c
        };
        run(&mut apt(&["update", "-qq"]))?;
        run(&mut apt(&[
            "install",
            "-y",
            "-qq",
            "libpostgresql-jdbc-java",
        ]))
        .context("installing pgjdbc (libpostgresql-jdbc-java)")?;
    }
    Ok(())
}
