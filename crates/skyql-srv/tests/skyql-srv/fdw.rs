//! PostgreSQL 15 with postgres_fdw: a throwaway cluster (`pg_cluster.rs`)
//! defines a foreign server pointing at skyql srv, a foreign table and an
//! imported schema, and counts jobs with the required parameters pushed
//! down as WHERE.

use crate::harness::{PROJECT, start};
use crate::pg_cluster::{Cluster, require, server};

#[test]
fn postgres_fdw_reads_jobs_with_parameters_pushed_down() {
    if require(
        "PostgreSQL 15 server with postgres_fdw",
        server(&["postgres_fdw"]),
    )
    .is_none()
    {
        return;
    }
    let srv = start();
    let cluster = Cluster::start();
    cluster.psql(&format!(
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
    ));
    let where_ = format!("\"projectsId\" = '{PROJECT}' AND \"locationsId\" = 'us-central1'");
    let expected = srv.engine_count(&format!(
        "SELECT count(*) FROM google.aiplatform.custom_jobs WHERE projectsId = '{PROJECT}' AND locationsId = 'us-central1'"
    ));
    assert!(expected > 0);
    let count = cluster.psql(&format!("SELECT count(*) FROM jobs WHERE {where_}"));
    assert_eq!(count.trim(), expected.to_string());
    let rows = cluster.psql(&format!(
        "SELECT \"displayName\", labels->>'team' FROM jobs WHERE {where_} ORDER BY 1"
    ));
    assert_eq!(rows.lines().count() as i64, expected, "{rows}");
    // Rows, not an aggregate, cross the wire here: WHERE reaches skyql, the
    // JSON operator runs in PostgreSQL.
    let count = cluster.psql(&format!(
            "SELECT count(*) FROM (SELECT labels->>'team' AS t FROM jobs WHERE {where_}) x WHERE t IS NOT NULL"
        ),
    );
    assert_eq!(count.trim(), expected.to_string());
    let imported = cluster.psql(&format!(
        "SELECT count(*) FROM aip.custom_jobs WHERE {where_}"
    ));
    assert_eq!(imported.trim(), expected.to_string());
    let columns = cluster.psql("SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = 'aip' AND table_name = 'custom_jobs'",
    );
    assert!(
        columns.contains("displayName") && columns.contains("projectsId"),
        "{columns}"
    );
    // A whole service at once: every resource becomes a foreign table.
    cluster.psql(
        "CREATE SCHEMA aip_all; IMPORT FOREIGN SCHEMA aiplatform FROM SERVER skyql INTO aip_all;",
    );
    let tables = cluster.psql("SELECT count(*) FROM information_schema.foreign_tables WHERE foreign_table_schema = 'aip_all'",
    );
    let resources = srv
        .registry
        .service("aiplatform")
        .expect("aiplatform")
        .resources
        .len();
    assert_eq!(tables.trim(), resources.to_string());
}
