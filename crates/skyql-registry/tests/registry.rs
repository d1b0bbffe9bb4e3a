//! Registry tests: the embedded snapshot is exactly what the generator makes
//! from the pinned document; pulls are stored atomically and take precedence.

use skyql_registry::{EMBEDDED_AIPLATFORM, EMBEDDED_CATALOG, Registry, Source};
use std::path::PathBuf;

fn discovery_dir() -> PathBuf {
    std::env::var_os("SKYQL_DISCOVERY_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.discovery"))
}

fn read_doc(name: &str) -> Vec<u8> {
    let p = discovery_dir().join(name);
    std::fs::read(&p)
        .unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask fetch-discovery`", p.display()))
}

#[test]
fn embedded_snapshot_matches_the_generator() {
    let regenerated =
        skyql_provider::snapshot::render(&read_doc("aiplatform.v1.json"), "aiplatform.v1.json")
            .expect("render");
    assert!(
        regenerated == EMBEDDED_AIPLATFORM,
        "embedded snapshot is stale: run `cargo xtask snapshot`"
    );
    let index: serde_json::Value = serde_json::from_slice(&read_doc("index.json")).expect("index");
    let mut docs = Vec::new();
    for entry in std::fs::read_dir(discovery_dir()).expect("dir").flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.ends_with(".json") || name == "index.json" {
            continue;
        }
        let doc = skyql_provider::parse_document(&read_doc(&name), &name).expect("doc");
        docs.push(skyql_registry::CatalogEntry {
            name: doc.name.unwrap_or_default(),
            version: doc.version.unwrap_or_default(),
            title: doc.title.unwrap_or_default(),
            preferred: false,
        });
    }
    let directory = skyql_registry::catalog_from_directory(&index);
    let catalog =
        skyql_registry::render_catalog(&skyql_registry::catalog_from_documents(&docs, &directory));
    assert!(
        catalog == EMBEDDED_CATALOG,
        "embedded catalog is stale: run `cargo xtask snapshot`"
    );
    assert!(
        !EMBEDDED_AIPLATFORM.contains("Output only"),
        "snapshot carries no descriptions"
    );
}

#[test]
fn embedded_service_works_without_a_home() {
    let home = tempfile::tempdir().expect("tempdir");
    let reg = Registry::open(home.path());
    let svc = reg.service("aiplatform").expect("embedded aiplatform");
    let r = svc.resource("custom_jobs").expect("custom_jobs");
    assert!(r.columns.iter().all(|c| c.description.is_empty()));
    let docs = reg.documents();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].source, Source::Embedded);
    assert_eq!(
        docs[0].revision.len(),
        8,
        "revision is read from the snapshot"
    );
    // Without pulls, the catalog lists every service of the pinned package.
    let services = reg.services();
    assert_eq!(services.len(), 338);
    let compute = services
        .iter()
        .find(|s| s.name == "compute")
        .expect("compute");
    assert_eq!(compute.source, Source::Available);
    let err = reg
        .service("compute")
        .expect_err("not installed")
        .to_string();
    assert!(err.contains("skyql registry pull google.compute"), "{err}");
    let err = reg.service("aiplatfrom").expect_err("typo").to_string();
    assert!(err.contains("did you mean aiplatform?"), "{err}");
    let err = reg
        .resolve("gogle.aiplatform.custom_jobs")
        .expect_err("typo")
        .to_string();
    assert!(err.contains("did you mean google?"), "{err}");
    let err = reg
        .resolve("google.aiplatform.custom_job")
        .expect_err("typo")
        .to_string();
    assert!(err.contains("did you mean custom_jobs?"), "{err}");
}

#[test]
fn pulling_a_folder_stores_every_document_and_prefers_the_pull() {
    let home = tempfile::tempdir().expect("tempdir");
    let reg = Registry::open(home.path());
    let report = reg.pull_folder(&discovery_dir(), None).expect("pull");
    assert!(report.used_index);
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.stored.len(), 610);
    let docs = reg.documents();
    // The package ships three documents twice under two file names
    // (admin.directoryv1.json and admin.directory_v1.json, ...): 607 distinct.
    assert_eq!(
        docs.iter().filter(|d| d.source == Source::Pulled).count(),
        607
    );
    // No temporary files are left behind.
    let leftovers = walk(home.path())
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .count();
    assert_eq!(leftovers, 0);
    // The pulled aiplatform (with descriptions) now wins over the embedded one.
    let svc = reg.service("aiplatform").expect("aiplatform");
    let r = svc.resource("custom_jobs").expect("custom_jobs");
    assert!(r.columns.iter().any(|c| !c.description.is_empty()));
    // Several versions are kept; the directory's preferred one is used.
    let aiplatform: Vec<_> = docs
        .iter()
        .filter(|d| d.name == "aiplatform" && d.source == Source::Pulled)
        .collect();
    assert!(aiplatform.len() >= 2, "{aiplatform:?}");
    assert_eq!(reg.service("aiplatform").expect("svc").version, "v1");
    let services = reg.services();
    assert!(
        services.iter().all(|s| s.source == Source::Pulled),
        "every service is installed"
    );
    assert_eq!(services.len(), 338);
}

#[test]
fn pulling_one_service_from_a_folder() {
    let home = tempfile::tempdir().expect("tempdir");
    let reg = Registry::open(home.path());
    let report = reg
        .pull_folder(&discovery_dir(), Some("aiplatform"))
        .expect("pull");
    let versions: Vec<&str> = report.stored.iter().map(|i| i.version.as_str()).collect();
    assert_eq!(versions, ["v1", "v1beta1"]);
    assert!(report.stored.iter().all(|i| i.name == "aiplatform"));
    assert_eq!(
        reg.documents()
            .iter()
            .filter(|d| d.source == Source::Pulled)
            .count(),
        2
    );
}

#[test]
fn bad_documents_are_named_and_nothing_is_written() {
    let home = tempfile::tempdir().expect("tempdir");
    let reg = Registry::open(home.path());
    let err = reg
        .pull_document(b"{not json", "broken.json", None)
        .expect_err("malformed")
        .to_string();
    assert!(err.starts_with("broken.json: not valid JSON"), "{err}");
    let err = reg
        .pull_document(br#"{"hello": 1}"#, "other.json", None)
        .expect_err("not discovery")
        .to_string();
    assert!(
        err.contains("other.json: not a Google Discovery REST document"),
        "{err}"
    );
    let err = reg
        .pull_document(&read_doc("index.json"), "index.json", None)
        .expect_err("index")
        .to_string();
    assert!(err.contains("directory list"), "{err}");
    assert!(walk(home.path()).is_empty());
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
