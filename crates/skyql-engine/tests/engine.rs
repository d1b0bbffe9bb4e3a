//! Engine tests: metadata statements and generated pages over the embedded
//! snapshot, a hand-written fixture service, and the pinned full document.

use sha2::{Digest, Sha256};
use skyql_client::{AuthConfig, Client, ClientConfig};
use skyql_engine::{Cell, Engine, Remote, Table, reference_page};
use skyql_registry::Registry;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[path = "engine/loopback.rs"]
mod loopback;
#[path = "engine/naming.rs"]
mod naming;

const FIXTURE: &[u8] = include_bytes!("fixtures/widgets.v1.json");

/// Hand-written documents with the shapes of compute, storage and KMS.
const FIXTURES: &[(&str, &[u8])] = &[
    (
        "compute.v1.json",
        include_bytes!("fixtures/compute.v1.json"),
    ),
    (
        "storage.v1.json",
        include_bytes!("fixtures/storage.v1.json"),
    ),
    (
        "cloudkms.v1.json",
        include_bytes!("fixtures/cloudkms.v1.json"),
    ),
    (
        "sqladmin.v1.json",
        include_bytes!("fixtures/sqladmin.v1.json"),
    ),
];

#[path = "engine/accounting.rs"]
mod accounting;
#[path = "engine/discovery.rs"]
mod discovery;
#[path = "engine/google.rs"]
mod google;
#[path = "engine/semantics.rs"]
mod semantics;

/// The pinned Discovery documents (`cargo xtask fetch-discovery`; `cargo
/// xtask test` sets SKYQL_DISCOVERY_DIR). Without it, tests that need them
/// say so and skip, so that `cargo test` passes on a fresh clone.
fn discovery_dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("SKYQL_DISCOVERY_DIR").map(PathBuf::from);
    if dir.is_none() {
        println!("{test}: skipped, SKYQL_DISCOVERY_DIR is not set (cargo xtask test sets it)");
    }
    dir
}

/// A registry in a fresh home, with the widgets fixture pulled.
fn fixture_registry() -> (tempfile::TempDir, Arc<Registry>) {
    let home = tempfile::tempdir().expect("tempdir");
    let reg = Registry::open(home.path());
    reg.pull_document(FIXTURE, "widgets.v1.json", None)
        .expect("fixture pulls");
    (home, Arc::new(reg))
}

/// A multi-threaded runtime with `workers` threads for an engine's requests.
fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A client configuration sending to `endpoint` with `auth`, the rest default.
fn client_config(endpoint: String, auth: AuthConfig) -> ClientConfig {
    ClientConfig {
        endpoint: Some(endpoint),
        auth,
        ..ClientConfig::default()
    }
}

/// An engine over `reg` whose requests go through a client made from
/// `config` on `rt`, and whose `/*+ AWAIT */` gives up after `await_timeout`.
fn remote_engine(
    reg: Arc<Registry>,
    config: ClientConfig,
    rt: &tokio::runtime::Runtime,
    await_timeout: Duration,
) -> Engine {
    let client = Client::new(config).expect("client");
    Engine::with_remote(
        reg,
        Remote {
            client,
            rt: rt.handle().clone(),
            await_timeout,
        },
    )
}

fn run(engine: &mut Engine, sql: &str) -> Table {
    let mut tables = engine
        .execute_script(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    tables.pop().expect("one table")
}

fn column(t: &Table, name: &str) -> Vec<String> {
    let i = t.columns.iter().position(|c| c == name).expect("column");
    t.rows.iter().map(|r| r[i].to_text()).collect()
}

#[test]
fn reference_page_of_the_fixture() {
    let (_home, reg) = fixture_registry();
    let svc = reg.service("widgets").expect("widgets");
    let r = svc.resource("widgets").expect("resource");
    insta::assert_snapshot!("widgets_page", reference_page(&svc, r));
}

#[test]
fn fixture_verbs_params_and_names() {
    let (_home, reg) = fixture_registry();
    let mut e = Engine::new(reg);
    let t = run(&mut e, "show methods in google.widgets.widgets");
    assert_eq!(
        column(&t, "MethodName"),
        [
            "get", "list", "create", "patch", "update", "delete", "_list", "polish"
        ]
    );
    assert_eq!(
        column(&t, "SQLVerb"),
        [
            "SELECT", "SELECT", "INSERT", "UPDATE", "REPLACE", "DELETE", "EXEC", "EXEC"
        ]
    );
    assert_eq!(
        column(&t, "RequiredParams")[2],
        "locationsId, projectsId, widgetId"
    );
    let t = run(
        &mut e,
        "SHOW EXTENDED METHODS IN google.widgets.widgets LIKE 'p%';",
    );
    assert_eq!(
        t.columns,
        ["MethodName", "RequiredParams", "SQLVerb", "description"]
    );
    assert_eq!(
        column(&t, "description"),
        ["Changes some fields of a widget.", "Polishes a widget."]
    );
    let t = run(&mut e, "SHOW RESOURCES IN google.widgets");
    assert_eq!(
        column(&t, "name"),
        ["operations", "widgets"],
        "every `operations` collection is one resource"
    );
    assert_eq!(
        column(&t, "path"),
        [
            "projects.locations.operations",
            "projects.locations.widgets"
        ]
    );
    let t = run(&mut e, "DESCRIBE EXTENDED google.widgets.widgets");
    let spec = t
        .rows
        .iter()
        .find(|r| r[0] == Cell::from("spec"))
        .expect("spec");
    assert_eq!(
        spec[1..],
        [Cell::from("object"), Cell::from("How a widget is built.")]
    );
    let t = run(&mut e, "describe google.widgets.widgets");
    assert_eq!(t.columns, ["name", "type"]);
    assert_eq!(
        column(&t, "name"),
        [
            "colour",
            "createTime",
            "displayName",
            "labels",
            "name",
            "size",
            "spec",
            "tags"
        ]
    );
    assert_eq!(column(&t, "type")[5..], ["integer", "object", "array"]);
    let t = run(&mut e, "SHOW INSERT INTO google.widgets.widgets");
    insta::assert_snapshot!("widgets_insert", t.rows[0][0].to_text());
}

#[test]
fn metadata_statements_on_the_embedded_snapshot() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut e = Engine::new(Arc::new(Registry::open(home.path())));
    assert_eq!(column(&run(&mut e, "SHOW PROVIDERS"), "name"), ["google"]);
    let t = run(&mut e, "Show Services In google Like 'aiplat%'");
    assert_eq!(t.columns, ["id", "name", "title"]);
    assert_eq!(column(&t, "id"), ["aiplatform:v1"]);
    let t = run(&mut e, "SHOW EXTENDED SERVICES IN google LIKE 'aiplatform'");
    assert_eq!(column(&t, "source"), ["embedded"]);
    let t = run(&mut e, "SHOW SERVICES IN google LIKE 'compute'");
    assert_eq!(column(&t, "id"), ["compute:v1"]);
    assert_eq!(run(&mut e, "SHOW SERVICES IN google").rows.len(), 338);
    let t = run(
        &mut e,
        "SHOW RESOURCES IN google.aiplatform LIKE 'custom_jobs'",
    );
    assert_eq!(column(&t, "path"), ["projects.locations.customJobs"]);
    let t = run(&mut e, "DESCRIBE EXTENDED google.aiplatform.custom_jobs");
    assert!(
        column(&t, "description").iter().all(String::is_empty),
        "embedded snapshot has no prose"
    );
    // The page renders with empty descriptions.
    let svc = e.registry().service("aiplatform").expect("svc");
    let page = reference_page(&svc, svc.resource("custom_jobs").expect("r"));
    assert!(page.contains("| `displayName` | `string` |  |"), "{page}");
    assert!(
        page.contains("| `cancel` | `EXEC` | `customJobsId, locationsId, projectsId` |  |"),
        "{page}"
    );
}

#[test]
fn bad_metadata_statements_say_what_to_do() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut e = Engine::new(Arc::new(Registry::open(home.path())));
    let cases = [
        (
            "SHOW SERVICES IN gogle",
            "unknown provider `gogle` (did you mean google?)",
        ),
        (
            "SHOW RESOURCES IN google.aiplatfrm",
            "did you mean aiplatform?",
        ),
        (
            "SHOW METHODS IN google.aiplatform.custom_job",
            "did you mean custom_jobs?",
        ),
        (
            "DESCRIBE google.aiplatform.customjobs",
            "did you mean custom_jobs?",
        ),
        (
            "SHOW METHODS IN google.compute.instances",
            "skyql registry pull google.compute",
        ),
        ("SHOW METHODS google.aiplatform.custom_jobs", "expected IN"),
        ("SHOW TABLES", "unknown SHOW statement"),
        (
            "DESCRIBE",
            "expected DESCRIBE [EXTENDED] <provider.service.resource>",
        ),
        ("SHOW PROVIDERS now", "unexpected `now`"),
        (
            "SHOW RESOURCES IN google.aiplatform LIKE custom",
            "LIKE needs a quoted pattern",
        ),
        (
            "DESCRIBE aiplatform.custom_jobs",
            "expected provider.service.resource",
        ),
        (
            "SHOW INSERT INTO google.aiplatform.operations",
            "has no INSERT method",
        ),
        (
            "SHOW METHODS IN google.aiplatform.custom_jobs_operations",
            "did you mean operations?",
        ),
        ("SELECT 'unterminated", "syntax error at line 1"),
    ];
    for (sql, want) in cases {
        let err = e.execute_script(sql).expect_err(sql).to_string();
        assert!(err.contains(want), "{sql}: got `{err}`, want `{want}`");
    }
}

/// SHA-256 of each Fields and Methods row of the reference page
/// (shared/reference/google.aiplatform.custom_jobs.md). Hashes, so that no
/// Google text is committed; the test prints rows that differ.
const REFERENCE_ROWS: &[(&str, &str)] = &[
    (
        "name",
        "6e24403f55f03925f11060b2fed5992dd0be0aff4ca43c10334aec54ea8120b2",
    ),
    (
        "displayName",
        "f7b5b57888d6ebb6048b3af2ca9ddeef0f9f7fd350a7ebdf37de31426053db4d",
    ),
    (
        "state",
        "7b3f2d8e3bdef1e2b3c2309b54c1000c4c35c7b7d756d966ab6bc22e70260b5d",
    ),
    (
        "createTime",
        "a874bd48c926bb22825ecb8ff8a77566c1bd14f7f276f4b1649181cbc5523d38",
    ),
    (
        "webAccessUris",
        "3caa4caf8c267af64fc20d1b6a46425d7169cd039b6e3c59f73be893a9bd4e3c",
    ),
    (
        "error",
        "33d72b1ff936b1af463ed8ac0c6db0ac17c917fd4eb56b4d94d1001949cd8527",
    ),
    (
        "labels",
        "49d17073ee162ce07c7c835c66dafcde3ae372dea73b3effe6c224912327ab17",
    ),
    (
        "updateTime",
        "5de815a42f1b1ef35115efb5c141847c21908288df2d2fa185625136292f382e",
    ),
    (
        "jobSpec",
        "c61c50cc1f837c412438d522df7b600650256fa4f7a93c31d76c50d297679c82",
    ),
    (
        "startTime",
        "f62ff158c2fe11df0c8bed744a6b58ba5db88a401403cf92a353a2391cf595db",
    ),
    (
        "encryptionSpec",
        "e7c798cb93916763a3a3601ffcdafb093687e8f3a0379fd553662c278f167927",
    ),
    (
        "endTime",
        "86cfa7019b7788b15edf0533f4490b5f43e1d6ae9d91594dda31f430f51bbd9a",
    ),
    (
        "get",
        "8a37d60053551c78284fe878fe7f28412fc062c3ce169c1b7b283f1412101568",
    ),
    (
        "list",
        "66138345f08c7540c6c174cb6ef3553ba4ed4740eaf938e3c3a8c572411a4ca2",
    ),
    (
        "create",
        "a0f94c509021ae10259b5888dde43883923c1d35aaf882d5cd29dca1b2a1fd04",
    ),
    (
        "delete",
        "0a1588d44f65f0ec2887bda84b1b42831cd447c1efd4976cca17c119b5bcd083",
    ),
    (
        "_list",
        "6b632707009aa65c40111c610fd48de5b044051e7edc5ff6592d42f390949375",
    ),
    (
        "cancel",
        "e439de3c5261b8aefc7716b3dfb71d9e2fcd2a3c19671ef13c39a11b4b621a4e",
    ),
];

#[test]
fn custom_jobs_page_matches_the_reference_rows() {
    let Some(dir) = discovery_dir("custom_jobs_page_matches_the_reference_rows") else {
        return;
    };
    let doc = dir.join("aiplatform.v1.json");
    let bytes = std::fs::read(&doc)
        .unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask fetch-discovery`", doc.display()));
    let home = tempfile::tempdir().expect("tempdir");
    let reg = Registry::open(home.path());
    reg.pull_document(&bytes, "aiplatform.v1.json", None)
        .expect("pull");
    let svc = reg.service("aiplatform").expect("svc");
    let page = reference_page(&svc, svc.resource("custom_jobs").expect("r"));
    let rows: Vec<&str> = page.lines().filter(|l| l.starts_with("| `")).collect();
    let name_of = |row: &str| row.split('`').nth(1).unwrap_or_default().to_string();
    let generated: Vec<String> = rows.iter().map(|r| name_of(r)).collect();

    // The pinned document's EncryptionSpec schema was reworded after the
    // reference page was made, so that one row cannot match word for word;
    // the rule (a $ref column takes the referenced schema's description) holds.
    let reworded = ["encryptionSpec"];
    let mut mismatches = Vec::new();
    for (name, want) in REFERENCE_ROWS {
        let Some(row) = rows.iter().find(|r| name_of(r) == *name) else {
            mismatches.push(format!("missing row `{name}`"));
            continue;
        };
        let got: String = Sha256::digest(row.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if got != *want && !reworded.contains(name) {
            mismatches.push(format!("row differs from the reference: {row}"));
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    let enc = rows
        .iter()
        .find(|r| name_of(r) == "encryptionSpec")
        .expect("row");
    let enc_desc = svc
        .schemas
        .get("GoogleCloudAiplatformV1EncryptionSpec")
        .expect("schema")
        .description
        .clone()
        .unwrap_or_default();
    assert_eq!(
        *enc,
        format!("| `encryptionSpec` | `object` | {enc_desc} |")
    );
    // Only the two fields the document added since are extra.
    let mut extra: Vec<&String> = generated
        .iter()
        .filter(|g| !REFERENCE_ROWS.iter().any(|(n, _)| n == g))
        .collect();
    extra.sort();
    assert_eq!(extra, ["satisfiesPzi", "satisfiesPzs"]);

    // Where the reference page itself is at hand, compare rows as text too.
    let reference = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/google.aiplatform.custom_jobs.md");
    if let Ok(text) = std::fs::read_to_string(reference) {
        for line in text.lines().filter(|l| l.starts_with("| `")) {
            if !reworded.contains(&name_of(line).as_str()) {
                assert!(rows.contains(&line), "reference row not generated: {line}");
            }
        }
    }
    for section in [
        "## `SELECT` example",
        "## `INSERT` example",
        "## `DELETE` example",
        "## `EXEC` examples",
    ] {
        assert!(page.contains(section), "{section}");
    }
}

// ---------------------------------------------------------------------------
// Against the emulator: SELECT, fan-out, paging, mutations, EXEC.

mod live {
    use super::*;
    use serde_json::Value;

    pub struct Live {
        pub engine: Engine,
        pub base_url: String,
        // Field order matters: the engine goes before the emulator and runtime.
        pub _running: skyql_emulator::Running,
        pub rt: tokio::runtime::Runtime,
        _home: tempfile::TempDir,
    }

    /// The emulator with `seed_jobs` jobs on a frozen clock, and an engine
    /// in a fresh home sending to it.
    pub fn start(seed_jobs: usize) -> Live {
        let start = chrono::DateTime::parse_from_rfc3339("2026-06-01T12:00:00Z")
            .expect("time")
            .with_timezone(&chrono::Utc);
        start_with(
            skyql_emulator::Config {
                seed_jobs,
                clock: skyql_emulator::ClockMode::Frozen,
                start_time: Some(start),
                ..skyql_emulator::Config::default()
            },
            |_| {},
        )
    }

    /// The emulator made from `config`, and an engine in a fresh home whose
    /// client configuration (to the emulator, with its key) `tweak` adjusts.
    pub fn start_with(
        config: skyql_emulator::Config,
        tweak: impl FnOnce(&mut ClientConfig),
    ) -> Live {
        let rt = runtime(2);
        let running = rt
            .block_on(skyql_emulator::spawn(config))
            .expect("emulator");
        let mut cc = client_config(
            running.base_url.clone(),
            AuthConfig::ServiceAccountJson(running.key_json().to_string()),
        );
        tweak(&mut cc);
        let home = tempfile::tempdir().expect("home");
        let engine = remote_engine(
            Arc::new(Registry::open(home.path())),
            cc,
            &rt,
            Duration::from_secs(30),
        );
        Live {
            engine,
            base_url: running.base_url.clone(),
            _running: running,
            rt,
            _home: home,
        }
    }

    impl Live {
        pub fn run(&mut self, sql: &str) -> Table {
            run(&mut self.engine, sql)
        }

        pub fn fail(&mut self, sql: &str) -> String {
            self.engine.execute_script(sql).expect_err(sql).to_string()
        }

        /// `{"customJobs.list:200": 3, ...}` from the emulator's stats.
        pub fn stats(&self) -> std::collections::BTreeMap<String, u64> {
            let url = format!("{}/emulator/stats", self.base_url);
            let body: Value = self
                .rt
                .block_on(async { reqwest::get(&url).await?.json().await })
                .expect("stats");
            body["requests"]
                .as_array()
                .expect("requests")
                .iter()
                .map(|r| {
                    (
                        format!("{}:{}", r["method"].as_str().unwrap_or(""), r["status"]),
                        r["count"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        }

        pub fn count(&self, key: &str) -> u64 {
            self.stats().get(key).copied().unwrap_or(0)
        }

        pub fn post(&self, path: &str) {
            let url = format!("{}{path}", self.base_url);
            self.rt
                .block_on(async { reqwest::Client::new().post(&url).send().await })
                .expect("post");
        }
    }
}

const WHERE_US: &str = "WHERE projectsId = 'demo-project' AND locationsId = 'us-central1'";

#[test]
fn select_lists_and_gets_jobs() {
    let mut l = live::start(24);
    let t = l.run(&format!(
        "SELECT name, displayName, state, customJobsId FROM google.aiplatform.custom_jobs {WHERE_US}"
    ));
    assert_eq!(
        t.rows.len(),
        12,
        "even-numbered seed jobs live in us-central1"
    );
    let names = column(&t, "name");
    assert!(
        names
            .iter()
            .all(|n| n.contains("/locations/us-central1/customJobs/")),
        "{names:?}"
    );
    let id = column(&t, "customJobsId")[0].clone();
    assert_eq!(id.len(), 19);
    assert!(names[0].ends_with(&id));
    assert_eq!(l.count("customJobs.list:200"), 1);
    // With the id, the get method is chosen.
    let t = l.run(&format!(
        "SELECT name, state FROM google.aiplatform.custom_jobs {WHERE_US} AND customJobsId = '{id}'"
    ));
    assert_eq!(t.rows.len(), 1);
    assert_eq!(column(&t, "name")[0], names[0]);
    assert_eq!(l.count("customJobs.get:200"), 1);
    // An id that does not exist is no row, not an error.
    let t = l.run(&format!(
        "SELECT name FROM google.aiplatform.custom_jobs {WHERE_US} AND customJobsId = '1234567890123456789'"
    ));
    assert!(t.rows.is_empty());
    // SELECT * shows the response fields, not the parameters.
    let t = l.run(&format!(
        "SELECT * FROM google.aiplatform.custom_jobs {WHERE_US} LIMIT 1"
    ));
    assert!(t.columns.contains(&"jobSpec".to_string()));
    assert!(!t.columns.contains(&"projectsId".to_string()));
    // Optional query parameters go in WHERE too: pageSize 5 means three pages.
    let before = l.count("customJobs.list:200");
    let t = l.run(&format!(
        "SELECT count(*) AS n, max(pageSize) AS size FROM google.aiplatform.custom_jobs {WHERE_US} AND pageSize = 5"
    ));
    assert_eq!(column(&t, "n"), ["12"]);
    assert_eq!(column(&t, "size"), ["5"]);
    assert_eq!(l.count("customJobs.list:200") - before, 3);
    // JSON columns work with json1.
    let t = l.run(&format!(
        "SELECT json_extract(jobSpec, '$.workerPoolSpecs[0].machineSpec.machineType') AS machine FROM google.aiplatform.custom_jobs {WHERE_US}"
    ));
    assert!(column(&t, "machine").iter().all(|m| !m.is_empty()));
}

#[test]
fn in_lists_fan_out_and_pages_are_followed() {
    let mut l = live::start(250);
    let t = l.run(
        "SELECT locationsId, count(*) AS n FROM google.aiplatform.custom_jobs \
         WHERE projectsId = 'demo-project' AND locationsId IN ('us-central1', 'europe-west4') \
         GROUP BY locationsId ORDER BY locationsId",
    );
    assert_eq!(column(&t, "locationsId"), ["europe-west4", "us-central1"]);
    assert_eq!(column(&t, "n"), ["125", "125"]);
    assert_eq!(
        l.count("customJobs.list:200"),
        4,
        "two pages in each of two locations"
    );
    // LIMIT reads lazily: one page, one request.
    l.post("/emulator/reset");
    let mut l = live::start(250);
    let t = l.run(&format!(
        "SELECT name FROM google.aiplatform.custom_jobs {WHERE_US} LIMIT 5"
    ));
    assert_eq!(t.rows.len(), 5);
    assert_eq!(l.count("customJobs.list:200"), 1);
}

#[test]
fn a_join_supplies_parameters() {
    let mut l = live::start(24);
    let t = l.run(
        "WITH locs(loc) AS (VALUES ('us-central1'), ('europe-west4')) \
         SELECT l.loc, count(j.name) AS n FROM locs l JOIN google.aiplatform.custom_jobs j \
         ON j.locationsId = l.loc WHERE j.projectsId = 'demo-project' GROUP BY l.loc ORDER BY l.loc",
    );
    assert_eq!(column(&t, "n"), ["12", "12"]);
}

#[test]
fn a_join_reads_each_thing_once_with_the_inner_side_prefetched() {
    let mut l = live::start(24);
    // Outer: one list (read by constants). Inner: a get per outer row.
    let t = l.run(
        "SELECT a.displayName, b.state FROM google.aiplatform.custom_jobs a \
         JOIN google.aiplatform.custom_jobs b \
           ON b.projectsId = a.projectsId AND b.locationsId = a.locationsId AND b.customJobsId = a.customJobsId \
         WHERE a.projectsId = 'demo-project' AND a.locationsId = 'us-central1' ORDER BY a.displayName",
    );
    assert_eq!(t.rows.len(), 12);
    assert_eq!(
        l.count("customJobs.list:200"),
        1,
        "the discovery pass's list is reused"
    );
    assert_eq!(
        l.count("customJobs.get:200"),
        12,
        "each inner row fetched once"
    );
    // Same answer as the plain list.
    let plain = l.run(&format!(
        "SELECT displayName, state FROM google.aiplatform.custom_jobs {WHERE_US} ORDER BY displayName"
    ));
    assert_eq!(t.rows, plain.rows);
    // With a LIMIT there is no discovery pass: the join reads only what it needs.
    let t = l.run(
        "SELECT b.state FROM google.aiplatform.custom_jobs a \
         JOIN google.aiplatform.custom_jobs b \
           ON b.projectsId = a.projectsId AND b.locationsId = a.locationsId AND b.customJobsId = a.customJobsId \
         WHERE a.projectsId = 'demo-project' AND a.locationsId = 'us-central1' LIMIT 2",
    );
    assert_eq!(t.rows.len(), 2);
    assert_eq!(l.count("customJobs.get:200"), 14);
}

#[test]
fn missing_parameters_are_named() {
    let mut l = live::start(0);
    let err = l.fail("SELECT name FROM google.aiplatform.custom_jobs WHERE projectsId = 'p'");
    assert!(
        err.contains("google.aiplatform.custom_jobs needs locationsId"),
        "{err}"
    );
    assert!(
        err.contains("WHERE locationsId = 'us-central1' AND projectsId = 'my-project'"),
        "{err}"
    );
    let err = l.fail("SELECT name FROM google.aiplatform.custom_jobz WHERE projectsId = 'p'");
    assert!(err.contains("did you mean custom_jobs?"), "{err}");
}

#[test]
fn insert_cancel_delete_and_await() {
    let mut l = live::start(0);
    let spec = r#"{"workerPoolSpecs":[{"machineSpec":{"machineType":"n1-standard-4"},"replicaCount":"1","containerSpec":{"imageUri":"gcr.io/p/train:1"}}]}"#;
    let t = l.run(&format!(
        "INSERT INTO google.aiplatform.custom_jobs (projectsId, locationsId, data__displayName, data__jobSpec) \
         SELECT 'demo-project', 'us-central1', 'train-1', '{spec}' RETURNING name, displayName, state"
    ));
    assert_eq!(t.columns, ["name", "displayName", "state"]);
    assert_eq!(column(&t, "displayName"), ["train-1"]);
    assert_eq!(column(&t, "state"), ["JOB_STATE_PENDING"]);
    assert_eq!(t.notice.as_deref(), Some("INSERT 1"));
    let name = column(&t, "name")[0].clone();
    let id = name.rsplit('/').next().expect("id").to_string();
    // Bare field names work as body columns too; RETURNING * gives every field.
    let t = l.run(&format!(
        "INSERT INTO google.aiplatform.custom_jobs (projectsId, locationsId, displayName, jobSpec, labels) \
         VALUES ('demo-project', 'us-central1', 'bare-1', '{spec}', '{{\"team\":\"x\"}}') RETURNING *"
    ));
    assert_eq!(column(&t, "displayName"), ["bare-1"]);
    assert_eq!(column(&t, "labels"), [r#"{"team":"x"}"#]);
    assert!(t.columns.contains(&"createTime".to_string()));
    // Bad JSON in a body column is caught before any request.
    let err = l.fail(
        "INSERT INTO google.aiplatform.custom_jobs (projectsId, locationsId, data__displayName, data__jobSpec) \
         SELECT 'demo-project', 'us-central1', 'x', '{not json'",
    );
    assert!(err.contains("data__jobSpec must be JSON text"), "{err}");
    // The API's validation errors come through.
    let err = l.fail(
        "INSERT INTO google.aiplatform.custom_jobs (projectsId, locationsId, data__displayName) \
         SELECT 'demo-project', 'us-central1', 'no-spec'",
    );
    assert!(err.contains("400 INVALID_ARGUMENT"), "{err}");
    // Deleting an unfinished job is refused by the service.
    let del =
        format!("DELETE FROM google.aiplatform.custom_jobs {WHERE_US} AND customJobsId = '{id}'");
    let err = l.fail(&del);
    assert!(err.contains("FAILED_PRECONDITION"), "{err}");
    let t = l.run(&format!(
        "EXEC google.aiplatform.custom_jobs.cancel @projectsId='demo-project', @locationsId='us-central1', @customJobsId='{id}'"
    ));
    assert!(t.rows.is_empty());
    l.post("/emulator/clock:advance?seconds=60");
    let t = l.run(&format!(
        "SELECT state, json_extract(error, '$.code') AS code FROM google.aiplatform.custom_jobs {WHERE_US} AND customJobsId = '{id}'"
    ));
    assert_eq!(column(&t, "state"), ["JOB_STATE_CANCELLED"]);
    assert_eq!(column(&t, "code"), ["1"]);
    let t = l.run(&format!("DELETE /*+ AWAIT */ FROM google.aiplatform.custom_jobs {WHERE_US} AND customJobsId = '{id}'"));
    assert_eq!(t.notice.as_deref(), Some("DELETE 1"));
    let t = l.run(&format!(
        "SELECT name FROM google.aiplatform.custom_jobs {WHERE_US} AND customJobsId = '{id}'"
    ));
    assert!(t.rows.is_empty(), "deleted");
}

#[test]
fn exec_raw_list_and_bad_exec() {
    let mut l = live::start(24);
    let t = l.run("EXEC google.aiplatform.custom_jobs._list @projectsId='demo-project', @locationsId='europe-west4'");
    assert_eq!(t.columns, ["customJobs"]);
    let page: serde_json::Value = serde_json::from_str(&t.rows[0][0].to_text()).expect("json");
    assert_eq!(page.as_array().map(Vec::len), Some(12));
    let err = l.fail("EXEC google.aiplatform.custom_jobs.cancel @projectsId='demo-project', @locationsId='us-central1'");
    assert!(err.contains("needs customJobsId"), "{err}");
    let err = l.fail("EXEC google.aiplatform.custom_jobs.cancle @projectsId='p'");
    assert!(err.contains("did you mean cancel?"), "{err}");
    let err = l.fail("EXEC google.aiplatform.custom_jobs.cancel @projectId='p'");
    assert!(err.contains("did you mean @projectsId?"), "{err}");
    let err = l.fail("EXEC google.aiplatform.custom_jobs.cancel @projectsId='p', @locationsId='l', @customJobsId='1', @@json='{oops'");
    assert!(err.contains("@@json is not valid JSON"), "{err}");
}

/// Every prefix of a set of statements (and a few mangled variants) gives a
/// result or an error, never a panic, with and without a live emulator.
#[test]
fn truncated_and_mangled_input_never_panics() {
    let corpus = [
        "SHOW EXTENDED METHODS IN google.aiplatform.custom_jobs LIKE 'c%';",
        "DESCRIBE EXTENDED google.aiplatform.custom_jobs;",
        "SELECT name, json_extract(jobSpec, '$.a') FROM google.aiplatform.custom_jobs WHERE projectsId = 'demo-project' AND locationsId IN ('us-central1', 'x') LIMIT 3;",
        "INSERT INTO google.aiplatform.custom_jobs (projectsId, locationsId, data__displayName, data__jobSpec) SELECT 'demo-project', 'us-central1', 'n', '{\"workerPoolSpecs\":[]}' RETURNING name;",
        "EXEC google.aiplatform.custom_jobs.cancel @projectsId='demo-project', @locationsId='us-central1', @customJobsId='1', @@json='{}';",
        "DELETE /*+ AWAIT */ FROM google.aiplatform.custom_jobs WHERE projectsId='demo-project' AND locationsId='us-central1' AND customJobsId='1';",
    ];
    let mut l = live::start(4);
    let home = tempfile::tempdir().expect("tempdir");
    let mut offline = Engine::new(Arc::new(Registry::open(home.path())));
    for sql in corpus {
        let cuts: Vec<usize> = sql.char_indices().map(|(i, _)| i).step_by(3).collect();
        for &cut in &cuts {
            let prefix = &sql[..cut];
            let _ = offline.execute_script(prefix);
            let _ = l.engine.execute_script(prefix);
        }
        for junk in [
            "'", "\"", "(", ")", ",", "@", "@@", "/*", "--", ";", "\u{0}", "é", "NULL",
        ] {
            let mangled = sql.replacen(' ', &format!(" {junk} "), 2);
            let _ = offline.execute_script(&mangled);
            let _ = l.engine.execute_script(&mangled);
        }
    }
}

#[test]
fn where_conditions_are_pushed_into_the_list_filter() {
    let mut l = live::start(250);
    let both = "projectsId = 'demo-project' AND locationsId IN ('us-central1', 'europe-west4')";
    // Not pushable (an expression): every page of both locations is read.
    let slow = l.run(&format!(
        "SELECT name FROM google.aiplatform.custom_jobs WHERE {both} AND state || '' = 'JOB_STATE_FAILED' ORDER BY name"
    ));
    assert_eq!(l.count("customJobs.list:200"), 4);
    // Pushed: the service filters, one short page per location, same rows.
    let fast = l.run(&format!(
        "SELECT name FROM google.aiplatform.custom_jobs WHERE {both} AND state = 'JOB_STATE_FAILED' ORDER BY name"
    ));
    assert_eq!(l.count("customJobs.list:200"), 6);
    assert_eq!(fast, slow);
    assert!(!fast.rows.is_empty());
    // Time bounds and names too; results agree with the unpushed forms.
    for (pushed, plain) in [
        (
            "createTime >= '2026-06-01T00:00:00Z' AND createTime < '2026-06-01T06:00:00.5Z'",
            "createTime || '' >= '2026-06-01T00:00:00Z' AND createTime || '' < '2026-06-01T06:00:00.5Z'",
        ),
        (
            "displayName = 'bert-finetune-00001'",
            "displayName || '' = 'bert-finetune-00001'",
        ),
        (
            "state != 'JOB_STATE_SUCCEEDED'",
            "state || '' != 'JOB_STATE_SUCCEEDED'",
        ),
    ] {
        let a = l.run(&format!("SELECT name, state, createTime FROM google.aiplatform.custom_jobs WHERE {both} AND {pushed} ORDER BY name"));
        let b = l.run(&format!("SELECT name, state, createTime FROM google.aiplatform.custom_jobs WHERE {both} AND {plain} ORDER BY name"));
        assert_eq!(a, b, "{pushed}");
        assert!(!a.rows.is_empty(), "{pushed}");
    }
    // Label conditions in the WHERE clause go into the filter too.
    let before = l.count("customJobs.list:200");
    let pushed = l.run(&format!(
        "SELECT name FROM google.aiplatform.custom_jobs WHERE {both} AND json_extract(labels, '$.team') = 'vision' ORDER BY name"
    ));
    assert_eq!(
        l.count("customJobs.list:200") - before,
        2,
        "one short page per location"
    );
    let plain = l.run(&format!(
        "SELECT name FROM google.aiplatform.custom_jobs WHERE {both} AND json_extract(labels, '$.team') || '' = 'vision' ORDER BY name"
    ));
    assert_eq!(
        l.count("customJobs.list:200") - before,
        6,
        "not pushed: every page"
    );
    assert_eq!(pushed, plain);
    assert!(!pushed.rows.is_empty());
    // Under OR nothing is pushed, and the answer is still right.
    let either = l.run(&format!(
        "SELECT count(*) AS n FROM google.aiplatform.custom_jobs WHERE {both} AND (json_extract(labels, '$.team') = 'vision' OR state = 'JOB_STATE_FAILED')"
    ));
    let n: usize = column(&either, "n")[0].parse().expect("n");
    assert!(n > pushed.rows.len());
    // A user's own filter is kept and combined.
    let t = l.run(&format!(
        "SELECT count(*) AS n FROM google.aiplatform.custom_jobs WHERE {both} AND filter = 'display_name:\"bert*\"' AND state = 'JOB_STATE_SUCCEEDED'"
    ));
    let n: i64 = column(&t, "n")[0].parse().expect("n");
    assert!(n > 0);
}

// ---------------------------------------------------------------------------
// UPDATE, REPLACE and operation polling, against a small fake of the widgets
// fixture's API (the emulator serves aiplatform only).

mod fake {
    pub use super::loopback::Log;

    pub fn serve() -> (String, Log) {
        let mut polls = 0;
        super::loopback::serve(move |method, target, body| {
            let widget = r#"{"name":"projects/p/locations/l/widgets/w1","displayName":"old","size":3,"colour":"RED"}"#;
            let path = target.split('?').next().unwrap_or("");
            let reply = match (method, path) {
                ("GET", "/v1/projects/p/locations/l/widgets/w1") => widget.to_string(),
                ("GET", "/v1/projects/p/locations/l/widgets") => format!(
                    r#"{{"widgets":[{widget},{{"name":"projects/p/locations/l/widgets/w2","displayName":"gone"}}]}}"#
                ),
                ("DELETE", "/v1/projects/p/locations/l/widgets/w1") => "{}".to_string(),
                ("PATCH" | "PUT", "/v1/projects/p/locations/l/widgets/w1") => {
                    let mut v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
                    v["name"] = "projects/p/locations/l/widgets/w1".into();
                    v.to_string()
                }
                ("POST", "/v1/projects/p/locations/l/widgets") => {
                    r#"{"name":"projects/p/locations/l/operations/op1","done":false}"#.to_string()
                }
                ("GET", "/v1/projects/p/locations/l/operations/op1") => {
                    polls += 1;
                    if polls < 3 {
                        r#"{"name":"projects/p/locations/l/operations/op1","done":false}"#
                            .to_string()
                    } else {
                        r#"{"name":"projects/p/locations/l/operations/op1","done":true,"response":{"name":"projects/p/locations/l/widgets/w2"}}"#.to_string()
                    }
                }
                _ => r#"{"error":{"code":404,"message":"no such thing","status":"NOT_FOUND"}}"#
                    .to_string(),
            };
            let status = if reply.contains("\"error\"") {
                404
            } else {
                200
            };
            (status, reply)
        })
    }
}

#[test]
fn update_sends_only_what_is_set_and_await_polls_operations() {
    let (base, log) = fake::serve();
    let rt = runtime(1);
    let (_home, reg) = fixture_registry();
    let mut e = remote_engine(
        reg,
        client_config(base, AuthConfig::Anonymous),
        &rt,
        Duration::from_secs(30),
    );
    let key = "projectsId = 'p' AND locationsId = 'l' AND widgetsId = 'w1'";
    let t = run(
        &mut e,
        &format!("UPDATE google.widgets.widgets SET data__displayName = 'new' WHERE {key}"),
    );
    assert_eq!(t.notice.as_deref(), Some("UPDATE 1"));
    let patch = log
        .lock()
        .expect("log")
        .iter()
        .find(|(m, _, _)| m == "PATCH")
        .cloned()
        .expect("a PATCH");
    assert_eq!(
        patch.1,
        "/v1/projects/p/locations/l/widgets/w1?updateMask=displayName"
    );
    assert_eq!(patch.2, r#"{"displayName":"new"}"#);
    // REPLACE ... SET ... WHERE, as `skyql docs` shows it, runs the replace
    // method (PUT) with the SET fields as the body.
    let t = run(
        &mut e,
        &format!("REPLACE google.widgets.widgets SET data__displayName = 'whole' WHERE {key}"),
    );
    assert_eq!(t.notice.as_deref(), Some("REPLACE 1"));
    let last = log.lock().expect("log").last().cloned().expect("request");
    assert_eq!(
        (last.0.as_str(), last.1.as_str(), last.2.as_str()),
        (
            "PUT",
            "/v1/projects/p/locations/l/widgets/w1",
            r#"{"displayName":"whole"}"#
        )
    );
    // A bare field column works as well, and only it is sent.
    run(
        &mut e,
        &format!("UPDATE google.widgets.widgets SET size = 9 WHERE {key}"),
    );
    let last = log.lock().expect("log").last().cloned().expect("request");
    assert_eq!(
        (last.0.as_str(), last.2.as_str()),
        ("PATCH", r#"{"size":9}"#)
    );
    // INSERT /*+ AWAIT */ polls the operation until done and returns its result.
    let t = run(
        &mut e,
        "INSERT /*+ AWAIT */ INTO google.widgets.widgets (projectsId, locationsId, widgetId, data__displayName) \
         SELECT 'p', 'l', 'w2', 'two' RETURNING name, split_part(name, '/', -1) AS id",
    );
    // RETURNING answers from what the operation made (its response).
    assert_eq!(column(&t, "name"), ["projects/p/locations/l/widgets/w2"]);
    assert_eq!(column(&t, "id"), ["w2"]);
    let polls = log
        .lock()
        .expect("log")
        .iter()
        .filter(|(m, p, _)| m == "GET" && p.contains("/operations/op1"))
        .count();
    assert_eq!(polls, 3);
    let create = log
        .lock()
        .expect("log")
        .iter()
        .find(|(m, _, _)| m == "POST")
        .cloned()
        .expect("POST");
    assert_eq!(create.1, "/v1/projects/p/locations/l/widgets?widgetId=w2");
    assert_eq!(create.2, r#"{"displayName":"two"}"#);
    // A DELETE that fails half-way says what it had already done.
    let err = e
        .execute_script(
            "DELETE FROM google.widgets.widgets WHERE projectsId = 'p' AND locationsId = 'l'",
        )
        .expect_err("w2 cannot be deleted")
        .to_string();
    assert!(err.contains("404 NOT_FOUND"), "{err}");
    assert!(
        err.contains("1 earlier DELETE call(s) of this statement had already succeeded"),
        "{err}"
    );
}
