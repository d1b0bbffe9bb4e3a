//! Drivers in their default modes: node-postgres (extended protocol,
//! parameters, typed values) and pgjdbc (connection metadata, prepared
//! statements, SQLSTATEs).

use crate::harness::{PROJECT, start, target_dir, which};
use crate::pg_cluster::{output_of, require};
use std::process::Command;

const COUNT: &str = "SELECT count(*) AS n FROM google.aiplatform.custom_jobs WHERE projectsId = 'demo-project' AND locationsId = 'us-central1'";

const NODE_SCRIPT: &str = r#"
const { Client } = require('pg');
(async () => {
  const [host, port, project] = process.argv.slice(2);
  const c = new Client({ host, port: Number(port), user: 'tester', database: 'skyql' });
  await c.connect();
  const r = await c.query(
    'SELECT name, displayName, labels, createTime FROM google.aiplatform.custom_jobs WHERE projectsId = $1 AND locationsId = $2 ORDER BY name',
    [project, 'us-central1']);
  const n = await c.query(
    'SELECT count(*) AS n FROM google.aiplatform.custom_jobs WHERE projectsId = $1 AND locationsId = $2',
    [project, 'us-central1']);
  const out = {
    rows: r.rows.length,
    labels: typeof r.rows[0].labels,
    team: r.rows[0].labels.team !== undefined,
    createTime: r.rows[0].createtime instanceof Date || r.rows[0].createTime instanceof Date,
    count: Number(n.rows[0].n),
  };
  try {
    await c.query('SELECT x FROM google.aiplatform.custom_jobz WHERE projectsId = $1', [project]);
  } catch (e) {
    out.code = e.code;
  }
  const again = await c.query('SELECT 1 AS one');
  out.after = Number(again.rows[0].one);
  console.log(JSON.stringify(out));
  await c.end();
})().catch((e) => { console.error(e); process.exit(1); });
"#;

#[test]
fn node_postgres_reads_typed_rows_with_parameters() {
    let node = require("node", which("node", &[]));
    let module = target_dir().join("srv-clients/node/node_modules");
    let module = require(
        "node-postgres (npm pg under target/srv-clients/node)",
        module.join("pg/package.json").is_file().then_some(module),
    );
    let (Some(node), Some(module)) = (node, module) else {
        return;
    };
    let srv = start();
    let dir = tempfile::tempdir().expect("dir");
    let script = dir.path().join("check.js");
    std::fs::write(&script, NODE_SCRIPT).expect("script");
    let out = output_of(
        Command::new(node)
            .arg(&script)
            .arg(srv.addr.ip().to_string())
            .arg(srv.addr.port().to_string())
            .arg(PROJECT)
            .env("NODE_PATH", &module),
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("json");
    let expected = srv.engine_count(COUNT);
    assert_eq!(v["count"], expected, "{v}");
    assert_eq!(v["rows"], expected, "{v}");
    assert_eq!(v["labels"], "object", "{v}");
    assert_eq!(v["team"], true, "{v}");
    assert_eq!(v["createTime"], true, "{v}");
    assert_eq!(v["code"], "42P01", "{v}");
    assert_eq!(v["after"], 1, "{v}");
}

const JAVA: &str = r#"
import java.sql.*;

public class SrvCheck {
    public static void main(String[] a) throws Exception {
        String url = "jdbc:postgresql://" + a[0] + "/skyql?user=tester";
        try (Connection c = DriverManager.getConnection(url)) {
            DatabaseMetaData md = c.getMetaData();
            System.out.println("product=" + md.getDatabaseProductName() + " " + md.getDatabaseMajorVersion());
            int tables = 0;
            try (ResultSet rs = md.getTables(null, "aiplatform", "custom_jobs", null)) {
                while (rs.next()) tables++;
            }
            System.out.println("tables=" + tables);
            int columns = 0;
            try (ResultSet rs = md.getColumns(null, "aiplatform", "custom_jobs", "%")) {
                while (rs.next()) columns++;
            }
            System.out.println("columns=" + (columns > 5));
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT count(*) FROM google.aiplatform.custom_jobs WHERE projectsId = ? AND locationsId = ?")) {
                ResultSetMetaData md0 = ps.getMetaData();
                System.out.println("described=" + md0.getColumnCount());
                ps.setString(1, a[1]);
                ps.setString(2, "us-central1");
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    System.out.println("count=" + rs.getLong(1));
                }
            }
            // pgjdbc switches to a named server-side statement at the fifth run.
            long total = 0;
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT displayName, labels FROM google.aiplatform.custom_jobs WHERE projectsId = ? AND locationsId = ?")) {
                for (int i = 0; i < 7; i++) {
                    ps.setString(1, a[1]);
                    ps.setString(2, "us-central1");
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) total++;
                    }
                }
            }
            System.out.println("repeated=" + total);
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.setFetchSize(2);
                int rows = 0;
                try (ResultSet rs = st.executeQuery(
                        "SELECT displayName, labels FROM google.aiplatform.custom_jobs WHERE projectsId = '" + a[1] + "' AND locationsId = 'us-central1'")) {
                    while (rs.next()) rows++;
                }
                System.out.println("rows=" + rows);
            }
            c.commit();
            c.setAutoCommit(true);
            try (Statement st = c.createStatement()) {
                st.executeQuery("SELECT x FROM google.aiplatform.custom_jobz WHERE projectsId = 'p'");
            } catch (SQLException e) {
                System.out.println("state=" + e.getSQLState());
            }
        }
    }
}
"#;

#[test]
fn pgjdbc_connects_reads_metadata_and_runs_prepared_statements() {
    let java = require("java", which("java", &[]));
    let javac = require("javac", which("javac", &[]));
    let jar = require(
        "pgjdbc (libpostgresql-jdbc-java)",
        Some(std::path::PathBuf::from("/usr/share/java/postgresql.jar")).filter(|p| p.is_file()),
    );
    let (Some(java), Some(javac), Some(jar)) = (java, javac, jar) else {
        return;
    };
    let srv = start();
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("SrvCheck.java"), JAVA).expect("java");
    output_of(
        Command::new(javac)
            .arg("-d")
            .arg(dir.path())
            .arg(dir.path().join("SrvCheck.java")),
    );
    let cp = format!("{}:{}", dir.path().display(), jar.display());
    let out = output_of(
        Command::new(java)
            .arg("-cp")
            .arg(cp)
            .arg("SrvCheck")
            .arg(srv.addr.to_string())
            .arg(PROJECT),
    );
    let expected = srv.engine_count(COUNT);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "product=PostgreSQL 15",
            "tables=1",
            "columns=true",
            "described=1",
            &format!("count={expected}"),
            &format!("repeated={}", expected * 7),
            &format!("rows={expected}"),
            "state=42P01",
        ],
        "{out}"
    );
}
