//! StackQL's semantics over compute, storage and KMS, against the loopback
//! fakes in `google.rs`: parameters that are also fields, typed values,
//! StackQL's functions, every mutation with RETURNING and AWAIT, every
//! operation style, paging that a server gets wrong.

use super::google::{self, Fake};
use super::{FIXTURES, client_config, column, remote_engine, runtime};
use serde_json::{Value, json};
use skyql_client::{AuthConfig, ClientConfig, DryRunRequest, DryRunSink};
use skyql_engine::{Cell, ColumnType, Engine, Table};
use skyql_registry::Registry;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Env {
    pub engine: Engine,
    pub fake: Fake,
    _rt: tokio::runtime::Runtime,
    _home: tempfile::TempDir,
}

fn registry() -> (tempfile::TempDir, Arc<Registry>) {
    let home = tempfile::tempdir().expect("tempdir");
    let reg = Registry::open(home.path());
    for (name, bytes) in FIXTURES {
        reg.pull_document(bytes, name, None).expect("fixture pulls");
    }
    (home, Arc::new(reg))
}

pub fn env() -> Env {
    env_awaiting(Duration::from_secs(30))
}

/// An environment whose `/*+ AWAIT */` gives up after `timeout`.
pub fn env_awaiting(timeout: Duration) -> Env {
    let fake = google::start();
    let rt = runtime(1);
    let (home, reg) = registry();
    let config = client_config(fake.base.clone(), AuthConfig::Anonymous);
    let engine = remote_engine(reg, config, &rt, timeout);
    Env {
        engine,
        fake,
        _rt: rt,
        _home: home,
    }
}

impl Env {
    pub fn run(&mut self, sql: &str) -> Table {
        super::run(&mut self.engine, sql)
    }

    pub fn fail(&mut self, sql: &str) -> String {
        self.engine.execute_script(sql).expect_err(sql).to_string()
    }

    fn methods(&self) -> Vec<String> {
        self.fake
            .requests()
            .iter()
            .map(|(m, p, _)| format!("{m} {}", p.split('?').next().unwrap_or("")))
            .collect()
    }
}

const SYD: &str = "project = 'p' AND zone = 'australia-southeast1-b'";

#[test]
fn a_parameter_that_is_also_a_field_is_consumed_by_the_request() {
    let mut e = env();
    // The request names the zone; the rows carry its URL. Six disks, two pages.
    let t = e.run(&format!(
        "SELECT count(*) AS n FROM google.compute.disks WHERE {SYD}"
    ));
    assert_eq!(column(&t, "n"), ["6"]);
    assert_eq!(
        e.fake.count(
            "GET",
            "/compute/v1/projects/p/zones/australia-southeast1-b/disks"
        ),
        2
    );
    let t = e.run(&format!(
        "SELECT name, zone FROM google.compute.disks WHERE {SYD} ORDER BY name LIMIT 1"
    ));
    assert_eq!(
        t.rows[0][1],
        Cell::from(format!(
            "{}/projects/p/zones/australia-southeast1-b",
            google::ROOT
        ))
    );
    // IN: one request per zone, every row kept.
    let t = e.run(
        "SELECT count(*) AS n FROM google.compute.disks \
         WHERE project = 'p' AND zone IN ('australia-southeast1-b', 'us-east1-b', 'us-west1-a')",
    );
    assert_eq!(column(&t, "n"), ["7"]);
    // A join feeding the parameter.
    let t = e.run(
        "WITH z(n) AS (VALUES ('australia-southeast1-b'), ('us-east1-b')) \
         SELECT z.n AS zone, count(d.name) AS disks FROM z JOIN google.compute.disks d \
         ON d.zone = z.n WHERE d.project = 'p' GROUP BY z.n ORDER BY z.n",
    );
    assert_eq!(column(&t, "disks"), ["6", "1"]);
    // Conditions the request cannot carry are still SQLite's: LIKE on the
    // returned URL (over the aggregated list), > on a field, column vs column.
    let t = e.run(
        "SELECT count(*) AS n FROM google.compute.disks WHERE project = 'p' AND zone LIKE '%/australia-%'",
    );
    assert_eq!(column(&t, "n"), ["6"]);
    assert_eq!(
        e.fake
            .count("GET", "/compute/v1/projects/p/aggregated/disks"),
        1
    );
    let t = e.run(&format!(
        "SELECT name FROM google.compute.disks WHERE {SYD} AND CAST(sizeGb AS INTEGER) > 80 ORDER BY name"
    ));
    assert_eq!(column(&t, "name"), ["disk-5", "disk-6"]);
    let t = e.run(&format!(
        "SELECT count(*) AS n FROM google.compute.disks WHERE {SYD} AND zone = selfLink"
    ));
    assert_eq!(column(&t, "n"), ["0"]);
    // AIP style: full names in the rows, the hidden parameters as the request had them.
    let t = e.run(
        "SELECT name, keyRingsId, pageSize FROM google.cloudkms.crypto_keys \
         WHERE projectsId = 'p' AND locationsId = 'global' AND keyRingsId = 'ring-1' AND pageSize = 10 ORDER BY name",
    );
    assert_eq!(
        column(&t, "name"),
        [
            "projects/p/locations/global/keyRings/ring-1/cryptoKeys/key-a",
            "projects/p/locations/global/keyRings/ring-1/cryptoKeys/key-b"
        ]
    );
    assert_eq!(column(&t, "keyRingsId"), ["ring-1", "ring-1"]);
    assert_eq!(column(&t, "pageSize"), ["10", "10"]);
}

#[test]
fn values_are_typed_and_stackql_functions_work() {
    let mut e = env();
    let t = e.run(&format!(
        "SELECT name, satisfiesPzs, labels, sizeGb, split_part(zone, '/', -1) AS z, \
         floor(CAST(sizeGb AS REAL) / 3) AS third, regexp_substr(name, '[0-9]+') AS num \
         FROM google.compute.disks WHERE {SYD} ORDER BY name LIMIT 2"
    ));
    assert_eq!(t.column_type(1), Some(ColumnType::Bool));
    assert_eq!(t.column_type(2), Some(ColumnType::Json));
    assert_eq!(t.rows[0][1], Cell::Bool(true));
    assert_eq!(t.rows[0][2], Cell::Json(json!({"env": "dev"})));
    assert_eq!(t.rows[0][3], Cell::from("20"));
    assert_eq!(column(&t, "z"), ["australia-southeast1-b"; 2]);
    assert_eq!(column(&t, "third"), ["6", "13"]);
    assert_eq!(column(&t, "num"), ["1", "2"]);
    let t = e.run(
        "SELECT name, timeCreated, json_extract(versioning, '$.enabled') AS v FROM google.storage.buckets WHERE project = 'p' ORDER BY name",
    );
    assert_eq!(t.column_type(1), Some(ColumnType::Timestamp));
    assert_eq!(column(&t, "v"), ["1", "0"]);
    let err = e.fail(&format!(
        "SELECT regexp_like(name, '(') FROM google.compute.disks WHERE {SYD}"
    ));
    assert!(
        err.contains("`(` is not a valid regular expression"),
        "{err}"
    );
}

#[test]
fn an_aggregated_list_missing_scopes_is_an_error_not_fewer_rows() {
    let mut e = env();
    e.fake.state.lock().expect("state").unreachables = vec!["zones/europe-west9-a".into()];
    let err = e.fail("SELECT count(*) FROM google.compute.disks WHERE project = 'p'");
    assert!(
        err.contains("google.compute.disks: the API could not reach zones/europe-west9-a"),
        "{err}"
    );
}

#[test]
fn unaliased_expressions_are_named_as_written() {
    let mut e = env();
    let t = e.run(&format!(
        "SELECT count(*), json_extract(labels, '$.env'), split_part(zone, '/', -1) \
         FROM google.compute.disks WHERE {SYD} GROUP BY 2, 3 ORDER BY 2"
    ));
    assert_eq!(
        t.columns,
        [
            "count(*)",
            "json_extract(labels, '$.env')",
            "split_part(zone, '/', -1)"
        ]
    );
    assert_eq!(column(&t, "count(*)"), ["2", "4"]);
}

#[test]
fn paging_that_repeats_a_token_is_an_error_naming_the_resource() {
    let mut e = env();
    e.fake.state.lock().expect("state").stuck_token = Some("same".into());
    let err = e.fail(&format!(
        "SELECT count(*) FROM google.compute.disks WHERE {SYD}"
    ));
    assert!(
        err.contains("google.compute.disks: the API gave the page token `same` a second time"),
        "{err}"
    );
}

#[test]
fn compute_mutations_await_zonal_regional_and_global_operations() {
    let mut e = env();
    // INSERT, awaited: the zonal operation is waited on with its `wait`
    // method (POST {selfLink}/wait), then RETURNING answers from the disk it
    // made (read through targetLink).
    let t = e.run(
        "INSERT /*+ AWAIT */ INTO google.compute.disks (project, zone, data__name, data__sizeGb, data__labels) \
         SELECT 'p', 'us-west1-a', 'new-disk', '30', '{\"env\":\"test\"}' \
         RETURNING name, json_extract(labels, '$.env') AS env, sizeGb, upper(status) AS s",
    );
    assert_eq!(t.notice.as_deref(), Some("INSERT 1"));
    assert_eq!(t.columns, ["name", "env", "sizeGb", "s"]);
    assert_eq!(
        t.rows,
        [vec![
            Cell::from("new-disk"),
            Cell::from("test"),
            Cell::from("30"),
            Cell::from("READY")
        ]]
    );
    assert_eq!(
        e.methods()[1],
        "POST /compute/v1/projects/p/zones/us-west1-a/operations/operation-1/wait"
    );
    let waits = e.fake.count(
        "POST",
        "/compute/v1/projects/p/zones/us-west1-a/operations/",
    );
    assert_eq!(waits, 1, "{:?}", e.methods());
    assert_eq!(
        e.fake.count(
            "GET",
            "/compute/v1/projects/p/zones/us-west1-a/disks/new-disk"
        ),
        1
    );
    // Without AWAIT, RETURNING shows the operation itself.
    let t = e.run(
        "INSERT INTO google.compute.disks (project, zone, data__name) SELECT 'p', 'us-west1-a', 'quick' \
         RETURNING split_part(targetLink, '/', -1) AS target, status",
    );
    assert_eq!(column(&t, "status"), ["RUNNING"]);
    assert_eq!(column(&t, "target"), ["quick"]);
    // A failed operation is an error with its message.
    let err = e.fail(
        "INSERT /*+ AWAIT */ INTO google.compute.disks (project, zone, data__name) SELECT 'p', 'us-west1-a', 'too-big'",
    );
    assert!(
        err.contains("failed: QUOTA_EXCEEDED: Quota 'DISKS_TOTAL_GB' exceeded"),
        "{err}"
    );
    // Regional and global operations.
    let t = e.run(
        "INSERT /*+ AWAIT */ INTO google.compute.addresses (project, region, data__name) \
         SELECT 'p', 'us-east1', 'ip-2' RETURNING name, address",
    );
    assert_eq!(
        column(&t, "address"),
        ["10.0.0.9"],
        "{:?} {:?}",
        t,
        e.methods()
    );
    assert_eq!(
        e.fake.count(
            "POST",
            "/compute/v1/projects/p/regions/us-east1/operations/"
        ),
        1
    );
    let t = e.run(
        "UPDATE /*+ AWAIT */ google.compute.networks SET data__mtu = 1500 \
         WHERE project = 'p' AND network = 'default' RETURNING name, mtu, autoCreateSubnetworks",
    );
    assert_eq!(
        t.rows,
        [vec![
            Cell::from("default"),
            Cell::Integer(1500),
            Cell::Bool(true)
        ]]
    );
    assert_eq!(
        e.fake
            .count("POST", "/compute/v1/projects/p/global/operations/"),
        1
    );
    // The PATCH went straight out: no read of the network first.
    assert_eq!(
        e.fake
            .count("GET", "/compute/v1/projects/p/global/networks/default"),
        1
    );
    let patch = e
        .fake
        .requests()
        .into_iter()
        .find(|(m, _, _)| m == "PATCH")
        .expect("PATCH");
    assert_eq!(patch.2, r#"{"mtu":1500}"#);
}

#[test]
fn delete_goes_straight_out_when_the_key_is_given_and_reads_first_otherwise() {
    let mut e = env();
    let t = e.run(
        "DELETE /*+ AWAIT */ FROM google.compute.disks WHERE project = 'p' AND zone = 'australia-southeast1-b' AND disk = 'disk-1'",
    );
    assert_eq!(t.notice.as_deref(), Some("DELETE 1"));
    let first: Vec<String> = e.methods().into_iter().take(1).collect();
    assert_eq!(
        first,
        ["DELETE /compute/v1/projects/p/zones/australia-southeast1-b/disks/disk-1"]
    );
    // A condition on another column needs the rows: read, then one DELETE each.
    e.fake.clear_log();
    let t = e.run(&format!(
        "DELETE FROM google.compute.disks WHERE {SYD} AND CAST(sizeGb AS INTEGER) >= 100"
    ));
    assert_eq!(t.notice.as_deref(), Some("DELETE 2"));
    let deletes: Vec<String> = e
        .methods()
        .into_iter()
        .filter(|m| m.starts_with("DELETE"))
        .collect();
    assert_eq!(
        deletes,
        [
            "DELETE /compute/v1/projects/p/zones/australia-southeast1-b/disks/disk-5",
            "DELETE /compute/v1/projects/p/zones/australia-southeast1-b/disks/disk-6"
        ]
    );
    // Rows from the aggregated list know their zone from their selfLink.
    e.fake.clear_log();
    let t = e.run("DELETE FROM google.compute.disks WHERE project = 'p' AND name = 'east-1'");
    assert_eq!(t.notice.as_deref(), Some("DELETE 1"));
    assert!(
        e.methods()
            .contains(&"DELETE /compute/v1/projects/p/zones/us-east1-b/disks/east-1".to_string()),
        "{:?}",
        e.methods()
    );
    let t = e.run(&format!(
        "SELECT count(*) AS n FROM google.compute.disks WHERE {SYD}"
    ));
    assert_eq!(column(&t, "n"), ["3"]);
}

#[test]
fn storage_update_replace_delete_with_returning() {
    let mut e = env();
    let t = e.run(
        "UPDATE google.storage.buckets SET labels = '{\"team\":\"web\"}' WHERE bucket = 'logs-bucket' \
         RETURNING name, json_extract(iamConfiguration, '$.publicAccessPrevention') AS ic, labels",
    );
    assert_eq!(t.columns, ["name", "ic", "labels"]);
    assert_eq!(
        t.rows,
        [vec![
            Cell::from("logs-bucket"),
            Cell::from("enforced"),
            Cell::Json(json!({"team": "web"}))
        ]]
    );
    assert_eq!(e.methods(), ["PATCH /storage/v1/b/logs-bucket"]);
    // REPLACE ... SET ... WHERE runs the replace method (PUT).
    let t = e.run(
        "REPLACE google.storage.buckets SET data__storageClass = 'NEARLINE', data__location = 'EU' \
         WHERE bucket = 'web-bucket' RETURNING name, storageClass, metageneration",
    );
    assert_eq!(t.notice.as_deref(), Some("REPLACE 1"));
    assert_eq!(column(&t, "storageClass"), ["NEARLINE"]);
    let put = e.fake.requests().last().cloned().expect("PUT");
    assert_eq!(put.0, "PUT");
    let body: Value = serde_json::from_str(&put.2).expect("json");
    assert_eq!(body, json!({"storageClass": "NEARLINE", "location": "EU"}));
    // INSERT is synchronous: RETURNING any expression of the bucket made.
    let t = e.run(
        "INSERT INTO google.storage.buckets (project, data__name, data__location) \
         SELECT 'p', 'new-bucket', 'US' RETURNING lower(name) || '@' || location AS id",
    );
    assert_eq!(column(&t, "id"), ["new-bucket@US"]);
    // DELETE answers 204 with no body.
    let t = e.run("DELETE FROM google.storage.buckets WHERE bucket = 'new-bucket'");
    assert_eq!(t.notice.as_deref(), Some("DELETE 1"));
    let t = e.run("SELECT count(*) AS n FROM google.storage.buckets WHERE project = 'p'");
    assert_eq!(column(&t, "n"), ["2"]);
}

#[test]
fn kms_patch_sends_an_update_mask() {
    let mut e = env();
    let t = e.run(
        "UPDATE google.cloudkms.crypto_keys SET labels = '{\"app\":\"ledger\"}' \
         WHERE projectsId = 'p' AND locationsId = 'global' AND keyRingsId = 'ring-1' AND cryptoKeysId = 'key-a' \
         RETURNING json_extract(labels, '$.app') AS app, purpose",
    );
    assert_eq!(
        t.rows,
        [vec![Cell::from("ledger"), Cell::from("ENCRYPT_DECRYPT")]]
    );
    let patch = e.fake.requests().last().cloned().expect("PATCH");
    assert_eq!(
        patch.1,
        "/v1/projects/p/locations/global/keyRings/ring-1/cryptoKeys/key-a?updateMask=labels"
    );
}

#[test]
fn left_join_with_the_right_tables_parameters_in_where() {
    let mut e = env();
    let sql = "SELECT n.name AS network, d.name AS disk FROM google.compute.networks n \
         LEFT JOIN google.compute.disks d ON d.name = n.name \
         WHERE n.project = 'p' AND d.project = 'p' AND d.zone = 'us-east1-b'";
    let t = e.run(sql);
    assert_eq!(t.rows, [vec![Cell::from("default"), Cell::Null]]);
    // A match joins as usual; the disk's own zone is the URL it has.
    let t = e.run(
        "SELECT n.name AS network, d.name AS disk, split_part(d.zone, '/', -1) AS zone          FROM google.compute.networks n LEFT JOIN google.compute.disks d ON d.name = 'east-1'          WHERE n.project = 'p' AND d.project = 'p' AND d.zone IN ('us-east1-b', 'us-west1-a')",
    );
    assert_eq!(
        t.rows,
        [vec![
            Cell::from("default"),
            Cell::from("east-1"),
            Cell::from("us-east1-b")
        ]]
    );
}

#[test]
fn right_join_with_the_left_tables_parameters_in_where() {
    let mut e = env();
    // The mirror of the LEFT JOIN above: the disks are the null-supplying
    // side, their parameters still feed the request, and the column order
    // of `*` is the written one (disk columns first).
    let t = e.run(
        "SELECT d.name AS disk, n.name AS network FROM google.compute.disks d \
         RIGHT JOIN google.compute.networks n ON d.name = n.name \
         WHERE n.project = 'p' AND d.project = 'p' AND d.zone = 'us-east1-b'",
    );
    assert_eq!(t.rows, [vec![Cell::Null, Cell::from("default")]]);
    let t = e.run(
        "SELECT d.name AS disk, n.name AS network FROM google.compute.disks d \
         RIGHT OUTER JOIN google.compute.networks n ON d.name = 'east-1' \
         WHERE n.project = 'p' AND d.project = 'p' AND d.zone IN ('us-east1-b', 'us-west1-a')",
    );
    assert_eq!(t.rows, [vec![Cell::from("east-1"), Cell::from("default")]]);
    let t = e.run(
        "SELECT * FROM google.compute.disks d RIGHT JOIN google.compute.networks n ON d.name = 'east-1' \
         WHERE n.project = 'p' AND d.project = 'p' AND d.zone = 'us-east1-b'",
    );
    let disk_name = t.columns.iter().position(|c| c == "name");
    let last_name = t.columns.iter().rposition(|c| c == "name");
    assert!(disk_name < last_name, "{:?}", t.columns);
    let (Some(first), Some(last)) = (disk_name, last_name) else {
        panic!("no name column")
    };
    assert_eq!(t.rows[0][first], Cell::from("east-1"));
    assert_eq!(t.rows[0][last], Cell::from("default"));
}

#[test]
fn exec_in_from_is_a_subquery_of_the_response_items() {
    let mut e = env();
    // A list method: the items of every page are the rows.
    let t = e.run(
        "SELECT t.name, t.satisfiesPzs, json_extract(t.labels, '$.env') AS env \
         FROM (EXEC /*+ SHOWRESULTS */ google.compute.disks.list @project='p', @zone='australia-southeast1-b') t \
         WHERE CAST(t.sizeGb AS INTEGER) > 60 ORDER BY t.name",
    );
    assert_eq!(column(&t, "name"), ["disk-4", "disk-5", "disk-6"]);
    assert_eq!(t.rows[0][1], Cell::Bool(true));
    assert_eq!(column(&t, "env"), ["prod", "prod", "prod"]);
    // A method without items: the response is the one row; joins work too.
    let t = e.run(
        "SELECT b.name, d.n FROM (EXEC google.storage.buckets.get @bucket='logs-bucket') b \
         JOIN (SELECT count(*) AS n FROM google.compute.disks WHERE project = 'p' AND zone = 'us-east1-b') d",
    );
    assert_eq!(t.rows, [vec![Cell::from("logs-bucket"), Cell::Integer(1)]]);
    let err = e.fail("SELECT * FROM (EXEC google.compute.disks.list @project='p') t");
    assert!(err.contains("needs zone"), "{err}");
}

#[test]
fn update_and_replace_that_need_the_rows_read_them_first() {
    let mut e = env();
    // SET from the row's own value, WHERE on a field: list, then PATCH each.
    let t = e.run(
        "UPDATE google.storage.buckets SET labels = json_set(labels, '$.tier', 'gold') \
         WHERE project = 'p' AND location = 'US' RETURNING name, labels",
    );
    assert_eq!(t.notice.as_deref(), Some("UPDATE 1"));
    assert_eq!(
        t.rows,
        [vec![
            Cell::from("logs-bucket"),
            Cell::Json(json!({"team": "ops", "tier": "gold"}))
        ]]
    );
    assert_eq!(
        e.methods(),
        ["GET /storage/v1/b", "PATCH /storage/v1/b/logs-bucket"]
    );
    // REPLACE through the rows runs the replace method (PUT) for each.
    e.fake.clear_log();
    let t = e.run(
        "REPLACE google.storage.buckets SET data__storageClass = 'ARCHIVE' \
         WHERE project = 'p' AND name LIKE '%-bucket'",
    );
    assert_eq!(t.notice.as_deref(), Some("REPLACE 2"));
    let puts: Vec<String> = e
        .methods()
        .into_iter()
        .filter(|m| m.starts_with("PUT"))
        .collect();
    assert_eq!(
        puts,
        [
            "PUT /storage/v1/b/logs-bucket",
            "PUT /storage/v1/b/web-bucket"
        ]
    );
}
#[test]
fn dry_run_prints_exactly_the_mutations() {
    let seen: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let rt = runtime(1);
    let (_home, reg) = registry();
    let config = ClientConfig {
        auth: AuthConfig::Anonymous,
        dry_run: true,
        dry_run_sink: Some(DryRunSink(Arc::new(move |r: DryRunRequest| {
            sink.lock().expect("sink").push(r.to_string());
        }))),
        ..ClientConfig::default()
    };
    let mut engine = remote_engine(reg, config, &rt, Duration::from_secs(5));
    for sql in [
        "DELETE FROM google.compute.disks WHERE project = 'p' AND zone = 'z' AND disk = 'd'",
        "UPDATE google.storage.buckets SET labels = json_object('a', 'b') WHERE bucket = 'b'",
        "REPLACE google.storage.buckets SET data__storageClass = 'COLDLINE' WHERE bucket = 'b'",
    ] {
        super::run(&mut engine, sql);
    }
    let seen = seen.lock().expect("seen").clone();
    assert_eq!(seen.len(), 3, "{seen:#?}");
    assert!(
        seen[0].starts_with(
            "DELETE https://compute.googleapis.com/compute/v1/projects/p/zones/z/disks/d"
        ),
        "{}",
        seen[0]
    );
    assert!(
        seen[1].starts_with("PATCH https://storage.googleapis.com/storage/v1/b/b"),
        "{}",
        seen[1]
    );
    assert!(seen[1].contains(r#"{"labels":{"a":"b"}}"#), "{}", seen[1]);
    assert!(
        seen[2].starts_with("PUT https://storage.googleapis.com/storage/v1/b/b"),
        "{}",
        seen[2]
    );
}

#[test]
fn an_operation_still_running_at_the_await_timeout_is_the_apis_error() {
    let mut e = env_awaiting(Duration::ZERO);
    let err = e
        .engine
        .execute_script(
            "INSERT /*+ AWAIT */ INTO google.compute.disks (project, zone, data__name) SELECT 'p', 'us-west1-a', 'slow'",
        )
        .expect_err("times out");
    assert_eq!(err.fault(), skyql_engine::Fault::Remote);
    assert!(
        err.to_string()
            .contains("operation operation-1 is still running after 0s"),
        "{err}"
    );
}

#[test]
fn an_unclosed_exec_in_from_points_at_its_parenthesis() {
    let mut e = env();
    let err = e.fail("SELECT *\nFROM (EXEC google.compute.disks.list @project='p'");
    assert!(
        err.starts_with("syntax error at line 2, column 6: `(EXEC ...` has no closing parenthesis"),
        "{err}"
    );
}

#[test]
fn sqladmin_status_operations_are_awaited_too() {
    let mut e = env();
    let t = e.run(
        "INSERT /*+ AWAIT */ INTO google.sqladmin.instances (project, data__name, data__region, data__databaseVersion) \
         SELECT 'p', 'db-1', 'us-east1', 'POSTGRES_16' RETURNING name, state, databaseVersion",
    );
    assert_eq!(
        t.rows,
        [vec![
            Cell::from("db-1"),
            Cell::from("RUNNABLE"),
            Cell::from("POSTGRES_16")
        ]]
    );
    assert_eq!(e.fake.count("GET", "/v1/projects/p/operations/sqlop-1"), 2);
    assert_eq!(e.fake.count("GET", "/v1/projects/p/instances/db-1"), 1);
}
