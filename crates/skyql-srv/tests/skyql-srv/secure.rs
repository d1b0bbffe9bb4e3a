//! A password (SCRAM-SHA-256) and TLS (rustls): psql logs in with the right
//! password, over TLS or not, is refused with a wrong one, and the password
//! appears in no log line.

use crate::harness::{Options, start_with, which};
use crate::pg_cluster::{output_of, require};
use std::process::Command;

const PASSWORD: &str = "s3cret-Pa55";

fn psql(addr: std::net::SocketAddr, conninfo: &str) -> Command {
    let bin = which("psql", &["/usr/lib/postgresql/15/bin/psql"]).unwrap_or_default();
    let mut c = Command::new(bin);
    c.args(["-X", "-A", "-t", "-c", "SELECT 42"])
        .arg(format!(
            "host={} port={} user=tester dbname=skyql {conninfo}",
            addr.ip(),
            addr.port()
        ))
        .env_remove("PGPASSWORD");
    c
}

#[test]
fn scram_password_and_tls() {
    let psql_bin = require("psql", which("psql", &["/usr/lib/postgresql/15/bin/psql"]));
    let openssl = require(
        "openssl (to make a test certificate)",
        which("openssl", &[]),
    );
    let (Some(_), Some(openssl)) = (psql_bin, openssl) else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    output_of(
        Command::new(openssl)
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args(["-subj", "/CN=localhost"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert),
    );
    let srv = start_with(Options {
        password: Some(PASSWORD.into()),
        tls: Some(skyql_srv::TlsFiles { cert, key }),
        ..Options::default()
    });
    let out = output_of(&mut psql(
        srv.addr,
        &format!("sslmode=require password={PASSWORD}"),
    ));
    assert_eq!(out.trim(), "42");
    let out = output_of(&mut psql(
        srv.addr,
        &format!("sslmode=disable password={PASSWORD}"),
    ));
    assert_eq!(out.trim(), "42");
    let wrong = psql(srv.addr, "sslmode=require password=wrong")
        .output()
        .expect("psql");
    assert!(!wrong.status.success());
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        err.to_lowercase()
            .contains("password authentication failed"),
        "{err}"
    );
    assert!(!err.contains(PASSWORD));
    for line in srv.logs() {
        assert!(!line.contains(PASSWORD), "password in a log line: {line}");
    }
}
