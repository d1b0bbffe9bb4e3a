//! psql: one-shot queries, several statements per message, the backslash
//! commands that read the catalog, errors with their SQLSTATE.

use crate::harness::{Options, PROJECT, Srv, start, start_with, which};
use crate::pg_cluster::require;
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
fn psql_cursors_page_through_a_result() {
    if psql().is_none() {
        return;
    }
    let srv = start();
    let q = format!(
        "SELECT name FROM google.aiplatform.custom_jobs WHERE projectsId = '{PROJECT}' AND locationsId = 'us-central1'"
    );
    let total = srv.engine_count(&format!("SELECT count(*) FROM ({q})"));
    let out = ok(&run(
        &srv,
        &[
            "-A",
            "-t",
            "-c",
            &format!(
                "BEGIN; DECLARE c CURSOR FOR {q}; FETCH 2 FROM c; FETCH ALL FROM c; FETCH 5 FROM c; CLOSE c; COMMIT"
            ),
        ],
    ));
    let names: Vec<&str> = out.lines().filter(|l| l.starts_with("projects/")).collect();
    assert_eq!(names.len() as i64, total, "{out}");
    let out = run(&srv, &["-c", "FETCH 1 FROM nope"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("34000"));
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
    let out = ok(&run(&srv, &["-c", "\\d+ aiplatform.custom_jobs"]));
    assert!(out.contains("displayName"), "{out}");
    let out = ok(&run(&srv, &["-c", "\\dt+ aiplatform.custom*"]));
    assert!(out.contains("custom_jobs"), "{out}");
    let out = ok(&run(&srv, &["-c", "\\l"]));
    assert!(out.contains("skyql"), "{out}");
    for cmd in ["\\du", "\\dv", "\\df", "\\dT", "\\dn+", "\\d"] {
        ok(&run(&srv, &["-c", cmd]));
    }
}

/// What drivers and tools ask at connection time (SQLAlchemy, psycopg,
/// pgjdbc, DBeaver): every query answers, none fails.
#[test]
fn start_up_queries_of_drivers_and_tools() {
    if psql().is_none() {
        return;
    }
    let srv = start();
    let queries = [
        "select pg_catalog.version()",
        "select current_schema()",
        "show transaction isolation level",
        "show standard_conforming_strings",
        "select current_setting('server_version_num')",
        "SELECT current_schema(), session_user",
        "SELECT current_database(), current_user",
        "SELECT t.oid, typarray FROM pg_type t JOIN pg_namespace ns ON typnamespace = ns.oid WHERE typname = 'hstore'",
        "SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=n.oid AND d.objsubid=0 AND d.classoid='pg_namespace'::regclass ORDER BY nspname",
        "SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datname='skyql'",
        "SELECT r.oid,r.* FROM pg_catalog.pg_roles r",
        "SELECT typname, oid FROM pg_type WHERE typname IN ('json', 'jsonb', 'timestamptz')",
        "select relname from pg_class c join pg_namespace n on n.oid=c.relnamespace where pg_catalog.pg_table_is_visible(c.oid) and relname = 'custom_jobs'",
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema = 'aiplatform' AND table_name = 'custom_jobs'",
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'aiplatform' AND table_name = 'custom_jobs' ORDER BY ordinal_position",
        "SET application_name = 'x'; SET DateStyle = 'ISO'; SET extra_float_digits = 3",
        "BEGIN; SELECT 1; ROLLBACK",
        "SHOW ALL",
        "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED",
        "BEGIN; SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; COMMIT",
        "BEGIN READ ONLY; COMMIT",
        "SET search_path TO aiplatform, public",
        "SET LOCAL statement_timeout = 0",
        "RESET ALL",
        "RESET search_path",
        "UNLISTEN *",
        "DISCARD ALL",
        "SELECT pg_catalog.set_config('search_path', '', false)",
        "SELECT 1 WHERE 'a' ~ 'a'",
    ];
    let failed: Vec<String> = queries
        .iter()
        .filter_map(|q| {
            let out = run(&srv, &["-A", "-t", "-c", q]);
            (!out.status.success())
                .then(|| format!("{q}: {}", String::from_utf8_lossy(&out.stderr)))
        })
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let out = ok(&run(
        &srv,
        &[
            "-A",
            "-t",
            "-c",
            "SELECT data_type FROM information_schema.columns WHERE table_schema = 'aiplatform' AND table_name = 'custom_jobs' AND column_name IN ('createTime', 'labels', 'projectsId') ORDER BY column_name",
        ],
    ));
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["timestamp with time zone", "json", "text"],
        "{out}"
    );
}

/// A client may not reach the server's files, through the engine or the
/// catalog database: ATTACH and VACUUM INTO are refused and write nothing.
#[test]
fn psql_cannot_write_the_servers_files() {
    if psql().is_none() {
        return;
    }
    let srv = start();
    let dir = tempfile::tempdir().expect("dir");
    for (i, sql) in [
        "ATTACH DATABASE '{f}' AS x",
        "VACUUM INTO '{f}'",
        "SELECT 1 FROM google.aiplatform.custom_jobs WHERE 0; ATTACH DATABASE '{f}' AS y",
        "SELECT load_extension('{f}')",
    ]
    .iter()
    .enumerate()
    {
        let file = dir.path().join(format!("{i}.db"));
        let sql = sql.replace("{f}", &file.display().to_string());
        let out = run(&srv, &["-c", &sql]);
        assert!(!out.status.success(), "{sql} was accepted");
        assert!(!file.exists(), "{sql} wrote {}", file.display());
    }
    ok(&run(&srv, &["-c", "SELECT 1"]));
}

#[test]
fn a_fan_out_with_a_failed_part_fails_or_warns_as_on_error_says() {
    if psql().is_none() {
        return;
    }
    let sql = "SELECT count(*) AS n FROM google.aiplatform.custom_jobs \
               WHERE projectsId IN ('demo-project-1', 'demo-project-2') AND locationsId = 'us-central1'";
    let options = |on_error| Options {
        on_error,
        seed_projects: 2,
        disable_service_for: vec!["demo-project-2".into()],
        ..Options::default()
    };
    // The default: the statement fails, with the code of what failed.
    let srv = start_with(options(skyql_engine::OnError::Fail));
    let out = run(&srv, &["-c", sql]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ERROR:  42501"), "{err}");
    assert!(err.contains("demo-project-2"), "{err}");
    // warn: the rows that came back, and a WARNING naming what is missing.
    let srv = start_with(options(skyql_engine::OnError::Warn));
    let out = run(&srv, &["-A", "-t", "-c", sql]);
    let rows = ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("WARNING:  01000"), "{err}");
    assert!(err.contains("incomplete result"), "{err}");
    assert!(err.contains("demo-project-2"), "{err}");
    let expected = srv.engine_count(
        "SELECT count(*) FROM google.aiplatform.custom_jobs \
         WHERE projectsId = 'demo-project-1' AND locationsId = 'us-central1'",
    );
    assert!(expected > 0);
    assert_eq!(rows.trim(), expected.to_string());
}
