//! PostgreSQL 15 with postgres_fdw: a throwaway cluster (initdb as an
//! unprivileged user when the test runs as root) defines a foreign server
//! pointing at skyql srv, a foreign table and an imported schema, and
//! counts jobs with the required parameters pushed down as WHERE.

use crate::harness::{PROJECT, output_of, require, start};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = "/usr/lib/postgresql/15/bin";

/// Runs a PostgreSQL program, as `postgres` when this process is root
/// (PostgreSQL refuses to run as root).
fn pg(as_user: Option<&str>, program: &str) -> Command {
    let path = Path::new(BIN).join(program);
    match as_user {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--"]).arg(path);
            c
        }
        None => Command::new(path),
    }
}

struct Cluster {
    data: PathBuf,
    user: Option<String>,
    _dir: tempfile::TempDir,
    port: u16,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = pg(self.user.as_deref(), "pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn start_cluster() -> Cluster {
    let user = is_root().then(|| "postgres".to_string());
    let dir = tempfile::tempdir().expect("dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");
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
    let port = free_port();
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
    Cluster {
        data,
        user,
        port,
        _dir: dir,
    }
}

fn psql(cluster: &Cluster, sql: &str) -> String {
    output_of(
        pg(cluster.user.as_deref(), "psql")
            .args([
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-U",
                "postgres",
                "-d",
                "postgres",
            ])
            .arg("-h")
            .arg(cluster._dir.path())
            .arg("-p")
            .arg(cluster.port.to_string())
            .arg("-c")
            .arg(sql),
    )
}

#[test]
fn postgres_fdw_reads_jobs_with_parameters_pushed_down() {
    let found = Path::new(BIN).join("initdb").is_file()
        && Path::new("/usr/share/postgresql/15/extension/postgres_fdw.control").is_file();
    if require(
        "PostgreSQL 15 server with postgres_fdw",
        found.then(|| PathBuf::from(BIN)),
    )
    .is_none()
    {
        return;
    }
    let srv = start();
    let cluster = start_cluster();
    psql(
        &cluster,
        &format!(
            "CREATE EXTENSION postgres_fdw;
             CREATE SERVER skyql FOREIGN DATA WRAPPER postgres_fdw
               OPTIONS (host '{}', port '{}', dbname 'skyql');
             CREATE USER MAPPING FOR CURRENT_USER SERVER skyql OPTIONS (user 'fdw');
             CREATE FOREIGN TABLE jobs (
               \"name\" text, \"displayName\" text, \"state\" text, \"labels\" json,
               \"createTime\" timestamptz, \"projectsId\" text, \"locationsId\" text)
               SERVER skyql OPTIONS (schema_name 'aiplatform', table_name 'custom_jobs');
             CREATE SCHEMA aip;
             IMPORT FOREIGN SCHEMA aiplatform LIMIT TO (custom_jobs) FROM SERVER skyql INTO aip;",
            srv.addr.ip(),
            srv.addr.port()
        ),
    );
    let where_ = format!("\"projectsId\" = '{PROJECT}' AND \"locationsId\" = 'us-central1'");
    let expected = srv.engine_count(&format!(
        "SELECT count(*) FROM google.aiplatform.custom_jobs WHERE projectsId = '{PROJECT}' AND locationsId = 'us-central1'"
    ));
    assert!(expected > 0);
    let count = psql(
        &cluster,
        &format!("SELECT count(*) FROM jobs WHERE {where_}"),
    );
    assert_eq!(count.trim(), expected.to_string());
    let rows = psql(
        &cluster,
        &format!("SELECT \"displayName\", labels->>'team' FROM jobs WHERE {where_} ORDER BY 1"),
    );
    assert_eq!(rows.lines().count() as i64, expected, "{rows}");
    // Rows, not an aggregate, cross the wire here: WHERE reaches skyql, the
    // JSON operator runs in PostgreSQL.
    let count = psql(
        &cluster,
        &format!(
            "SELECT count(*) FROM (SELECT labels->>'team' AS t FROM jobs WHERE {where_}) x WHERE t IS NOT NULL"
        ),
    );
    assert_eq!(count.trim(), expected.to_string());
    let imported = psql(
        &cluster,
        &format!("SELECT count(*) FROM aip.custom_jobs WHERE {where_}"),
    );
    assert_eq!(imported.trim(), expected.to_string());
    let columns = psql(
        &cluster,
        "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = 'aip' AND table_name = 'custom_jobs'",
    );
    assert!(
        columns.contains("displayName") && columns.contains("projectsId"),
        "{columns}"
    );
    // A whole service at once: every resource becomes a foreign table.
    psql(
        &cluster,
        "CREATE SCHEMA aip_all; IMPORT FOREIGN SCHEMA aiplatform FROM SERVER skyql INTO aip_all;",
    );
    let tables = psql(
        &cluster,
        "SELECT count(*) FROM information_schema.foreign_tables WHERE foreign_table_schema = 'aip_all'",
    );
    let resources = srv
        .registry
        .service("aiplatform")
        .expect("aiplatform")
        .resources
        .len();
    assert_eq!(tables.trim(), resources.to_string());
}
