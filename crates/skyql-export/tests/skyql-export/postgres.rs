//! A real PostgreSQL 15 loads the JSONL with COPY and agrees with the
//! engine on the rows: a throwaway cluster (initdb as the unprivileged
//! `postgres` user when the test runs as root, which PostgreSQL refuses),
//! listening on a Unix socket only. Without PostgreSQL the test fails
//! under CI=true and is skipped with the reason otherwise.

use crate::harness::{JOBS, start};
use skyql_export::{Format, Shard};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = "/usr/lib/postgresql/15/bin";

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A PostgreSQL program, run as `user` when given.
fn pg(user: Option<&str>, program: &str) -> Command {
    let path = Path::new(BIN).join(program);
    match user {
        Some(u) => {
            let mut c = Command::new("runuser");
            c.args(["-u", u, "--"]).arg(path);
            c
        }
        None => Command::new(path),
    }
}

fn run_ok(cmd: &mut Command, stdin: Option<&[u8]>) -> String {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start a PostgreSQL program");
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(bytes).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Cluster {
    dir: tempfile::TempDir,
    user: Option<String>,
    port: u16,
}

impl Cluster {
    fn start() -> Cluster {
        let user = is_root().then(|| "postgres".to_string());
        let dir = tempfile::tempdir().expect("dir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
            .expect("chmod");
        let data = dir.path().join("data");
        run_ok(
            pg(user.as_deref(), "initdb").arg("-D").arg(&data).args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ]),
            None,
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        run_ok(
            pg(user.as_deref(), "pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(dir.path().join("log"))
                .arg("-o")
                .arg(format!(
                    "-p {port} -k {} -c listen_addresses=''",
                    dir.path().display()
                ))
                .args(["-w", "start"]),
            None,
        );
        Cluster { dir, user, port }
    }

    fn psql(&self, sql: &str, stdin: Option<&[u8]>) -> String {
        run_ok(
            pg(self.user.as_deref(), "psql")
                .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-U", "postgres"])
                .args(["-d", "postgres", "-h"])
                .arg(self.dir.path())
                .arg("-p")
                .arg(self.port.to_string())
                .arg("-c")
                .arg(sql),
            stdin,
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = pg(self.user.as_deref(), "pg_ctl")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

/// PostgreSQL 15's server, or why the test cannot run (a failure under CI).
fn postgres_installed() -> Option<PathBuf> {
    let path = PathBuf::from(BIN);
    if path.join("initdb").is_file() {
        return Some(path);
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(
        !ci,
        "PostgreSQL 15 is not installed; `cargo xtask test` installs it"
    );
    eprintln!("SKIPPED: PostgreSQL 15 is not installed (apt-get install postgresql-15)");
    None
}

#[test]
fn postgres_copies_the_jsonl_and_agrees_on_the_rows() {
    if postgres_installed().is_none() {
        return;
    }
    let mut emu = start();
    let expected = emu.query(JOBS);
    let dir = tempfile::tempdir().expect("dir");
    emu.export(JOBS, Shard::WHOLE, Format::Jsonl, dir.path());
    let jsonl = std::fs::read(dir.path().join("part-1-of-1.jsonl")).expect("jsonl");
    let cluster = Cluster::start();
    cluster.psql("CREATE TABLE raw (doc jsonb NOT NULL)", None);
    // CSV with quote and delimiter bytes that JSON text never holds raw:
    // each line is one value, loaded exactly (text COPY would unescape `\`).
    cluster.psql(
        "\\copy raw (doc) FROM STDIN WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')",
        Some(&jsonl),
    );
    let count = cluster.psql("SELECT count(*) FROM raw", None);
    assert_eq!(count.trim(), expected.rows.len().to_string());
    // Typed as PostgreSQL reads them: names, timestamps, JSON labels, numbers.
    let rows = cluster.psql(
        "SELECT doc->>'name', (doc->>'createTime')::timestamptz IS NOT NULL, \
                jsonb_typeof(doc->'labels'), (doc->>'name_length')::bigint \
         FROM raw ORDER BY doc->>'name'",
        None,
    );
    let got: Vec<&str> = rows.lines().collect();
    assert_eq!(got.len(), expected.rows.len());
    for (line, row) in got.iter().zip(&expected.rows) {
        let name = row[0].to_text();
        let len = row[6].to_text();
        assert_eq!(*line, format!("{name}|t|object|{len}"));
    }
}
