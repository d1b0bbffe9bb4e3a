//! The engine against the Discovery-driven emulator serving the pinned
//! compute, storage and KMS documents (real shapes end to end). Skipped,
//! with the reason printed, when SKYQL_DISCOVERY_DIR is not set.

use super::column;
use skyql_client::{AuthConfig, Client, ClientConfig};
use skyql_discovery_emulator::{Config, Sources};
use skyql_engine::{Engine, Remote, Table};
use skyql_registry::Registry;
use std::sync::Arc;
use std::time::Duration;

struct Env {
    engine: Engine,
    _running: skyql_discovery_emulator::Running,
    _rt: tokio::runtime::Runtime,
    _home: tempfile::TempDir,
}

fn start(test: &str) -> Option<Env> {
    let dir = super::discovery_dir(test)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("rt");
    let names: Vec<String> = ["compute", "storage", "cloudkms"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let apis = skyql_discovery_emulator::load(
        &names,
        &Sources {
            registry: None,
            discovery_dir: Some(&dir),
        },
    )
    .expect("documents load");
    let running = rt
        .block_on(skyql_discovery_emulator::spawn(
            Config {
                operation_duration: Duration::from_millis(300),
                ..Config::default()
            },
            apis,
        ))
        .expect("emulator");
    let home = tempfile::tempdir().expect("home");
    let reg = Registry::open(home.path());
    for doc in ["compute.v1.json", "storage.v1.json", "cloudkms.v1.json"] {
        let bytes = std::fs::read(dir.join(doc)).expect("document");
        reg.pull_document(&bytes, doc, None).expect("pull");
    }
    let client = Client::new(ClientConfig {
        endpoint: Some(running.base_url.clone()),
        auth: AuthConfig::AccessToken(running.emulator.issue_access_token()),
        ..ClientConfig::default()
    })
    .expect("client");
    let engine = Engine::with_remote(
        Arc::new(reg),
        Remote {
            client,
            rt: rt.handle().clone(),
            await_timeout: Duration::from_secs(30),
        },
    );
    Some(Env {
        engine,
        _running: running,
        _rt: rt,
        _home: home,
    })
}

impl Env {
    fn run(&mut self, sql: &str) -> Table {
        super::run(&mut self.engine, sql)
    }
}

#[test]
fn compute_disks_through_the_discovery_emulator() {
    let Some(mut e) = start("compute_disks_through_the_discovery_emulator") else {
        return;
    };
    let t = e.run(
        "INSERT /*+ AWAIT */ INTO google.compute.disks (project, zone, data__name, data__sizeGb) \
         SELECT 'p', 'us-east1-b', 'd1', '10' RETURNING name, split_part(zone, '/', -1) AS zone",
    );
    assert_eq!(column(&t, "name"), ["d1"]);
    assert_eq!(column(&t, "zone"), ["us-east1-b"]);
    for (zone, name) in [
        ("us-east1-b", "d2"),
        ("us-east1-b", "d3"),
        ("europe-west1-b", "d4"),
    ] {
        e.run(&format!(
            "INSERT /*+ AWAIT */ INTO google.compute.disks (project, zone, data__name) SELECT 'p', '{zone}', '{name}'"
        ));
    }
    // The zone in WHERE is the request's; the rows carry the zone's URL.
    let t = e.run(
        "SELECT count(*) AS n, min(zone) AS z FROM google.compute.disks WHERE project = 'p' AND zone = 'us-east1-b'",
    );
    assert_eq!(column(&t, "n"), ["3"]);
    assert!(column(&t, "z")[0].ends_with("/zones/us-east1-b"), "{t:?}");
    // The aggregated list: every zone.
    let t = e.run("SELECT count(*) AS n FROM google.compute.disks WHERE project = 'p'");
    assert_eq!(column(&t, "n"), ["4"]);
    let t = e.run(
        "DELETE /*+ AWAIT */ FROM google.compute.disks WHERE project = 'p' AND zone = 'us-east1-b' AND disk = 'd1'",
    );
    assert_eq!(t.notice.as_deref(), Some("DELETE 1"));
    let t = e.run(
        "SELECT name FROM google.compute.disks WHERE project = 'p' AND zone = 'us-east1-b' ORDER BY name",
    );
    assert_eq!(column(&t, "name"), ["d2", "d3"]);
}

#[test]
fn storage_and_kms_through_the_discovery_emulator() {
    let Some(mut e) = start("storage_and_kms_through_the_discovery_emulator") else {
        return;
    };
    e.run(
        "INSERT INTO google.storage.buckets (project, data__name, data__location) SELECT 'p', 'logs-b', 'US'",
    );
    let t = e.run(
        "UPDATE google.storage.buckets SET labels = '{\"team\":\"ops\"}' WHERE bucket = 'logs-b' \
         RETURNING name, json_extract(labels, '$.team') AS team",
    );
    assert_eq!(column(&t, "team"), ["ops"]);
    let t = e.run("SELECT name FROM google.storage.buckets WHERE project = 'p'");
    assert_eq!(column(&t, "name"), ["logs-b"]);
    e.run(
        "INSERT INTO google.cloudkms.key_rings (projectsId, locationsId, keyRingId) SELECT 'p', 'global', 'ring-1'",
    );
    let t = e.run(
        "SELECT split_part(name, '/', -1) AS ring FROM google.cloudkms.key_rings WHERE projectsId = 'p' AND locationsId = 'global'",
    );
    assert_eq!(column(&t, "ring"), ["ring-1"]);
}
