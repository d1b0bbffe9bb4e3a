//! psql: one-shot queries, several statements per message, the backslash
//! commands that read the catalog, errors with their SQLSTATE.

use crate::harness::{PROJECT, Srv, require, start, which};
use std::process::{Command, Output};

fn psql() -> Option<std::path::PathBuf> {
    require(
        "psql",
        which(
            "psql",
            &["/usr/lib/postgresql/15/bin/psql", "/usr/bin/psql"],
        ),
    )
}

fn run(srv: &Srv, args: &[&str]) -> Output {
    let Some(bin) = psql() else {
        panic!("psql missing");
    };
    Command::new(bin)
        .args([
            "-X",
            "-h",
            &srv.addr.ip().to_string(),
            "-p",
            &srv.addr.port().to_string(),
            "-U",
            "tester",
            "-d",
            "skyql",
            "-v",
            "ON_ERROR_STOP=1",
            "-v",
            "VERBOSITY=verbose",
        ])
        .args(args)
        .env_remove("PGPASSWORD")
        .output()
        .expect("run psql")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "psql failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn psql_queries_jobs_and_counts_like_skyql() {
    if psql().is_none() {
        return;
    }
    let srv = start();
    let count_sql = format!(
        "SELECT count(*) FROM google.aiplatform.custom_jobs WHERE projectsId = '{PROJECT}' AND locationsId = 'us-central1'"
    );
    let out = ok(&run(&srv, &["-A", "-t", "-c", &count_sql]));
    let expected = srv.engine_count(&count_sql);
    assert!(expected > 0);
    assert_eq!(out.trim(), expected.to_string());

    let out = ok(&run(
        &srv,
        &[
            "-A",
            "-c",
            &format!(
                "SELECT displayName, state FROM google.aiplatform.custom_jobs WHERE projectsId = '{PROJECT}' AND locationsId = 'us-central1' ORDER BY displayName LIMIT 2"
            ),
        ],
    ));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "displayName|state");
    assert_eq!(lines.last().copied(), Some("(2 rows)"));
}

#[test]
fn psql_runs_several_statements_per_message_and_session_commands() {
    if psql().is_none() {
        return;
    }
    let srv = start();
    let out = ok(&run(
        &srv,
        &[
            "-A",
            "-t",
            "-c",
            "BEGIN; SET search_path = aiplatform; SHOW search_path; SELECT 1 + 1; SHOW RESOURCES IN google.aiplatform LIKE 'custom_jobs'; COMMIT",
        ],
    ));
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| !matches!(*l, "BEGIN" | "SET" | "COMMIT"))
        .collect();
    assert_eq!(lines[0], "aiplatform", "{out}");
    assert_eq!(lines[1], "2", "{out}");
    assert!(lines[2].starts_with("custom_jobs"), "{out}");
    let out = ok(&run(
        &srv,
        &["-A", "-t", "-c", "SELECT version(), current_schema()"],
    ));
    assert!(out.starts_with("PostgreSQL 15.0 (skyql"), "{out}");
}

#[test]
fn psql_gets_errors_with_sqlstate_and_skyqls_message() {
    if psql().is_none() {
        return;
    }
    let srv = start();
    let out = run(
        &srv,
        &[
            "-c",
            "SELECT name FROM google.aiplatform.custom_jobz WHERE projectsId = 'p'",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ERROR:  42P01"), "{err}");
    assert!(err.contains("custom_jobs"), "no suggestion in: {err}");
    let out = run(
        &srv,
        &["-c", "SELECT name FROM google.aiplatform.custom_jobs"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("projectsId"), "{err}");
    // The server still serves.
    ok(&run(&srv, &["-c", "SELECT 1"]));
    assert!(
        srv.logs()
            .iter()
            .any(|l| l.contains("statement failed (42P01)")),
        "{:?}",
        srv.logs()
    );
}

#[test]
fn psql_describes_services_as_schemas_and_resources_as_tables() {
    if psql().is_none() {
        return;
    }
    let srv = start();
    let out = ok(&run(&srv, &["-c", "\\dn"]));
    assert!(out.contains("aiplatform"), "{out}");
    let out = ok(&run(&srv, &["-c", "\\dt aiplatform.*"]));
    assert!(out.contains("custom_jobs"), "{out}");
    let out = ok(&run(&srv, &["-c", "\\d aiplatform.custom_jobs"]));
    assert!(out.contains("displayName"), "{out}");
    assert!(out.contains("projectsId"), "{out}");
}
