//! The engine against the Discovery-driven emulator serving the pinned
//! compute, storage and KMS documents (real shapes end to end; skipped,
//! with the reason printed, when SKYQL_DISCOVERY_DIR is not set), and the
//! embedded aiplatform snapshot (every filter pushdown entry exercised).

use super::{client_config, column, remote_engine, runtime};
use skyql_client::AuthConfig;
use skyql_discovery_emulator::{Config, Sources};
use skyql_engine::{Engine, Table};
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
    Some(serve(
        &["compute", "storage", "cloudkms"],
        Sources {
            registry: None,
            discovery_dir: Some(&dir),
        },
        None,
        &["compute.v1.json", "storage.v1.json", "cloudkms.v1.json"],
    ))
}

/// The emulator serving `services` from `sources` (seeded from `seed`),
/// and an engine whose registry has pulled `docs` from the same folder.
fn serve(
    services: &[&str],
    sources: Sources<'_>,
    seed: Option<std::path::PathBuf>,
    docs: &[&str],
) -> Env {
    let rt = runtime(2);
    let names: Vec<String> = services.iter().map(|s| s.to_string()).collect();
    let apis = skyql_discovery_emulator::load(&names, &sources).expect("documents load");
    let running = rt
        .block_on(skyql_discovery_emulator::spawn(
            Config {
                operation_duration: Duration::from_millis(300),
                seed_file: seed,
                ..Config::default()
            },
            apis,
        ))
        .expect("emulator");
    let home = tempfile::tempdir().expect("home");
    let reg = Registry::open(home.path());
    for doc in docs {
        let dir = sources.discovery_dir.expect("a folder to pull from");
        let bytes = std::fs::read(dir.join(doc)).expect("document");
        reg.pull_document(&bytes, doc, None).expect("pull");
    }
    let auth = AuthConfig::AccessToken(running.emulator.issue_access_token());
    let engine = remote_engine(
        Arc::new(reg),
        client_config(running.base_url.clone(), auth),
        &rt,
        Duration::from_secs(30),
    );
    Env {
        engine,
        _running: running,
        _rt: rt,
        _home: home,
    }
}

impl Env {
    fn run(&mut self, sql: &str) -> Table {
        super::run(&mut self.engine, sql)
    }

    /// The items the API answered the last statement with.
    fn api_rows(&self) -> u64 {
        self.engine
            .last_report()
            .map_or(0, |r| r.parts.iter().map(|p| p.rows).sum())
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

/// Every resource `pushdown.json` declares, against the emulator serving
/// the embedded aiplatform snapshot: each declared column and the labels
/// reach the list's `filter` (the API answers with fewer items) and the
/// rows are the ones SQLite alone would keep.
#[test]
fn every_declared_pushdown_against_the_emulator() {
    let resources = [
        ("batch_prediction_jobs", "batchPredictionJobs", "JOB_STATE"),
        ("custom_jobs", "customJobs", "JOB_STATE"),
        ("data_labeling_jobs", "dataLabelingJobs", "JOB_STATE"),
        (
            "hyperparameter_tuning_jobs",
            "hyperparameterTuningJobs",
            "JOB_STATE",
        ),
        (
            "model_deployment_monitoring_jobs",
            "modelDeploymentMonitoringJobs",
            "JOB_STATE",
        ),
        ("nas_jobs", "nasJobs", "JOB_STATE"),
        ("pipeline_jobs", "pipelineJobs", "PIPELINE_STATE"),
        ("training_pipelines", "trainingPipelines", "PIPELINE_STATE"),
    ];
    let declared: Vec<String> =
        serde_json::from_str::<serde_json::Value>(skyql_registry::EMBEDDED_PUSHDOWN)
            .expect("pushdown.json")["resources"]
            .as_object()
            .expect("resources")
            .keys()
            .cloned()
            .collect();
    let tested: Vec<String> = resources
        .iter()
        .map(|(r, _, _)| format!("google.aiplatform.{r}"))
        .collect();
    assert_eq!(
        declared, tested,
        "every declared resource is exercised here"
    );

    let parent = "projects/p/locations/us-central1";
    let mut seed = serde_json::Map::new();
    for (_, collection, prefix) in &resources {
        let items: Vec<serde_json::Value> = [
            ("alpha", "SUCCEEDED", "2026-01-01T00:00:00Z", "vision"),
            ("beta", "FAILED", "2026-03-01T00:00:00Z", "nlp"),
            ("gamma", "SUCCEEDED", "2026-05-01T00:00:00.250Z", "vision"),
        ]
        .iter()
        .enumerate()
        .map(|(i, (display, state, created, team))| {
            serde_json::json!({
                "name": format!("{parent}/{collection}/{}", 100 + i),
                "displayName": display,
                "state": format!("{prefix}_{state}"),
                "createTime": created,
                "labels": {"team": team},
            })
        })
        .collect();
        seed.insert(format!("{parent}/{collection}"), items.into());
    }
    let seed_dir = tempfile::tempdir().expect("seed dir");
    let seed_file = seed_dir.path().join("seed.json");
    std::fs::write(
        &seed_file,
        serde_json::json!({ "aiplatform": seed }).to_string(),
    )
    .expect("seed");
    let mut e = serve(&["aiplatform"], Sources::default(), Some(seed_file), &[]);

    for (resource, _, prefix) in &resources {
        let from = format!(
            "SELECT displayName FROM google.aiplatform.{resource} \
             WHERE projectsId = 'p' AND locationsId = 'us-central1'"
        );
        let t = e.run(&format!("{from} ORDER BY displayName"));
        assert_eq!(
            column(&t, "displayName"),
            ["alpha", "beta", "gamma"],
            "{resource}"
        );
        assert_eq!(e.api_rows(), 3, "{resource}: no filter");
        for (condition, expected) in [
            (
                format!("state = '{prefix}_SUCCEEDED'"),
                &["alpha", "gamma"][..],
            ),
            (format!("state != '{prefix}_SUCCEEDED'"), &["beta"][..]),
            ("displayName = 'beta'".to_string(), &["beta"][..]),
            ("displayName != 'beta'".to_string(), &["alpha", "gamma"][..]),
            (
                "createTime > '2026-02-01T00:00:00Z'".to_string(),
                &["beta", "gamma"][..],
            ),
            (
                "createTime <= '2026-03-01T00:00:00Z'".to_string(),
                &["alpha", "beta"][..],
            ),
            (
                "json_extract(labels, '$.team') = 'vision'".to_string(),
                &["alpha", "gamma"][..],
            ),
        ] {
            let t = e.run(&format!("{from} AND {condition} ORDER BY displayName"));
            assert_eq!(
                column(&t, "displayName"),
                expected,
                "{resource}: {condition}"
            );
            assert_eq!(
                e.api_rows(),
                expected.len() as u64,
                "{resource}: {condition} did not reach the filter"
            );
        }
        // A bound the filter is widened for: SQLite keeps the exact rows.
        let t = e.run(&format!(
            "{from} AND createTime > '2026-05-01T00:00:00.1Z' ORDER BY displayName"
        ));
        assert_eq!(column(&t, "displayName"), ["gamma"], "{resource}");
    }
}
