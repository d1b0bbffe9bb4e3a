//! A throwaway PostgreSQL 15 cluster for tests, and the programs around it:
//! initdb as the unprivileged `postgres` user when the test runs as root
//! (PostgreSQL refuses to run as root), listening on a Unix socket in its
//! own temporary folder only, stopped when dropped. Shared by two test
//! binaries: skyql-srv's (postgres_fdw in front of `skyql srv`) and
//! skyql-export's (COPY of the JSONL), which includes this file with
//! `#[path]`; so it uses nothing but std and tempfile.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = "/usr/lib/postgresql/15/bin";

/// PostgreSQL 15's server programs, if installed with every extension in
/// `extensions` (e.g. `postgres_fdw`).
pub fn server(extensions: &[&str]) -> Option<PathBuf> {
    let found = Path::new(BIN).join("initdb").is_file()
        && extensions.iter().all(|e| {
            Path::new("/usr/share/postgresql/15/extension")
                .join(format!("{e}.control"))
                .is_file()
        });
    found.then(|| PathBuf::from(BIN))
}

/// A program a test needs, or why the test cannot run: under CI this is a
/// failure, otherwise the test is skipped with the reason.
pub fn require(what: &str, found: Option<PathBuf>) -> Option<PathBuf> {
    if found.is_some() {
        return found;
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    // node-postgres and pgjdbc come from `cargo xtask test`; PostgreSQL,
    // psql, openssl, Java and Node.js are the machine's own packages.
    let hint = "`cargo xtask test` installs node-postgres and pgjdbc; \
                PostgreSQL 15, psql, openssl, Java and Node.js come from the system's packages";
    assert!(!ci, "{what} is not installed ({hint})");
    eprintln!("SKIPPED: {what} is not installed ({hint})");
    None
}

/// Runs a program and returns its stdout, failing the test with its output.
pub fn output_of(cmd: &mut Command) -> String {
    output_with_stdin(cmd, None)
}

/// [`output_of`], with `stdin` written to the program's standard input.
pub fn output_with_stdin(cmd: &mut Command, stdin: Option<&[u8]>) -> String {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
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

/// A running cluster: superuser `postgres`, trust authentication, its
/// socket in `dir`.
pub struct Cluster {
    dir: tempfile::TempDir,
    user: Option<String>,
    port: u16,
}

impl Cluster {
    /// initdb and pg_ctl start, waiting until the server accepts connections.
    pub fn start() -> Cluster {
        let user = is_root().then(|| "postgres".to_string());
        let dir = tempfile::tempdir().expect("dir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
            .expect("chmod");
        let data = dir.path().join("data");
        output_of(pg(user.as_deref(), "initdb").arg("-D").arg(&data).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        ]));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        output_of(
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
        );
        Cluster { dir, user, port }
    }

    /// psql's unaligned, tuples-only output of `sql` (stopping at the first
    /// error, which fails the test).
    pub fn psql(&self, sql: &str) -> String {
        self.psql_with_stdin(sql, None)
    }

    /// [`Cluster::psql`], with `stdin` on psql's standard input (`\copy ...
    /// FROM STDIN`).
    pub fn psql_with_stdin(&self, sql: &str, stdin: Option<&[u8]>) -> String {
        output_with_stdin(
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
