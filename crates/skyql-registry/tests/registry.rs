//! Registry tests: the embedded snapshot is exactly what the generator makes
//! from the pinned document; pulls are stored atomically and take precedence.

use skyql_registry::{EMBEDDED_AIPLATFORM, EMBEDDED_CATALOG, Registry, Source};
use std::path::PathBuf;

/// The pinned Discovery documents, or `None` (and a note why the test
/// skips) when `SKYQL_DISCOVERY_DIR` is unset: `cargo xtask test` sets it
/// after `cargo xtask fetch-discovery`.
fn discovery_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SKYQL_DISCOVERY_DIR").map(PathBuf::from);
    if dir.is_none() {
        eprintln!(
            "skipped: SKYQL_DISCOVERY_DIR is not set (run `cargo xtask fetch-discovery` and set it to .discovery, or use `cargo xtask test`)"
        );
    }
    dir
}

fn read_doc(dir: &std::path::Path, name: &str) -> Vec<u8> {
    let p = dir.join(name);
    std::fs::read(&p)
        .unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask fetch-discovery`", p.display()))
}

#[test]
fn embedded_snapshot_matches_the_generator() {
    let Some(dir) = discovery_dir() else { return };
    let regenerated = skyql_provider::snapshot::render(
        &read_doc(&dir, "aiplatform.v1.json"),
        "aiplatform.v1.json",
    )
    .expect("render");
    assert!(
        regenerated == EMBEDDED_AIPLATFORM,
        "embedded snapshot is stale: run `cargo xtask snapshot`"
    );
    let index: serde_json::Value =
        serde_json::from_slice(&read_doc(&dir, "index.json")).expect("index");
    let mut docs = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.ends_with(".json") || name == "index.json" {
            continue;
        }
        let doc = skyql_provider::parse_document(&read_doc(&dir, &name), &name).expect("doc");
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
    let err = reg.service("iamv2").expect_err("not pulled").to_string();
    assert!(err.contains("skyql registry pull google.iam:v2"), "{err}");
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
    let Some(dir) = discovery_dir() else { return };
    let home = tempfile::tempdir().expect("tempdir");
    let reg = Registry::open(home.path());
    let report = reg.pull_folder(&dir, None).expect("pull");
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
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".tmp"))
        })
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
    assert_eq!(
        services.len(),
        340,
        "338 services, and iam v2 and v2beta as iamv2 and iamv2beta"
    );
    // The version StackQL uses: the stale directory prefers v2, v3 is GA and newer.
    assert_eq!(
        reg.service("cloudresourcemanager").expect("crm").version,
        "v3"
    );
    assert!(reg.resolve("google.cloudresourcemanager.projects").is_ok());
    assert_eq!(reg.service("iam").expect("iam").version, "v1");
    let iamv2 = reg.service("iamv2").expect("iamv2");
    assert_eq!(iamv2.version, "v2");
    let policies = iamv2.resource("policies").expect("policies");
    assert_eq!(policies.id, "google.iamv2.policies");
}

#[test]
fn pulling_one_service_from_a_folder() {
    let Some(dir) = discovery_dir() else { return };
    let home = tempfile::tempdir().expect("tempdir");
    let reg = Registry::open(home.path());
    let report = reg.pull_folder(&dir, Some("aiplatform")).expect("pull");
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
    let index = br#"{"kind": "discovery#directoryList", "items": []}"#;
    let err = reg
        .pull_document(index, "index.json", None)
        .expect_err("index")
        .to_string();
    assert!(err.contains("directory list"), "{err}");
    assert!(walk(home.path()).is_empty());
}

/// StackQL's list of Google resource ids, read where the project keeps it
/// (never copied into the repository); `None`, with a note, if absent.
fn stackql_resource_ids() -> Option<Vec<String>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/stackql-google-resources.txt");
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect(),
        ),
        Err(e) => {
            eprintln!("skipped: {}: {e}", path.display());
            None
        }
    }
}

/// StackQL ids that do not resolve against the pinned documents, and why.
const NOT_RESOLVING: &[(&str, &str)] = &[
    (
        "google.datacatalog.entries",
        "absent from the pinned documents: datacatalog v1 no longer has entry groups, entries or tag templates",
    ),
    (
        "google.datacatalog.entries_iam_policies",
        "absent from the pinned documents: datacatalog v1 no longer has entry groups, entries or tag templates",
    ),
    (
        "google.datacatalog.entry_groups",
        "absent from the pinned documents: datacatalog v1 no longer has entry groups, entries or tag templates",
    ),
    (
        "google.datacatalog.entry_groups_iam_policies",
        "absent from the pinned documents: datacatalog v1 no longer has entry groups, entries or tag templates",
    ),
    (
        "google.datacatalog.enum_values",
        "absent from the pinned documents: datacatalog v1 no longer has entry groups, entries or tag templates",
    ),
    (
        "google.datacatalog.fields",
        "absent from the pinned documents: datacatalog v1 no longer has entry groups, entries or tag templates",
    ),
    (
        "google.datacatalog.tag_templates",
        "absent from the pinned documents: datacatalog v1 no longer has entry groups, entries or tag templates",
    ),
    (
        "google.datacatalog.tag_templates_iam_policies",
        "absent from the pinned documents: datacatalog v1 no longer has entry groups, entries or tag templates",
    ),
    (
        "google.datacatalog.tags",
        "absent from the pinned documents: datacatalog v1 no longer has entry groups, entries or tag templates",
    ),
    (
        "google.dataplex.attributes",
        "the pinned dataplex v1 keeps only the IAM policy methods of this collection",
    ),
    (
        "google.dataplex.content",
        "absent from the pinned documents",
    ),
    (
        "google.dataplex.content_iam_policies",
        "absent from the pinned documents",
    ),
    (
        "google.dataplex.contentitems",
        "absent from the pinned documents",
    ),
    (
        "google.dataplex.contentitems_iam_policies",
        "absent from the pinned documents",
    ),
    (
        "google.dataplex.data_assets_iam_policies",
        "absent from the pinned documents",
    ),
    (
        "google.dataplex.data_attribute_bindings",
        "the pinned dataplex v1 keeps only the IAM policy methods of this collection",
    ),
    (
        "google.dataplex.data_taxonomies",
        "the pinned dataplex v1 keeps only the IAM policy methods of this collection",
    ),
    (
        "google.dataplex.environments",
        "absent from the pinned documents",
    ),
    (
        "google.dataplex.environments_iam_policies",
        "absent from the pinned documents",
    ),
    (
        "google.dataplex.sessions",
        "absent from the pinned documents",
    ),
    (
        "google.discoveryengine.media",
        "absent from the pinned documents",
    ),
    (
        "google.eventarc.kafka_sources_iam_policies",
        "absent from the pinned documents",
    ),
    (
        "google.geminicloudassist.instances",
        "no geminicloudassist document in the pinned package",
    ),
    (
        "google.geminicloudassist.investigations",
        "no geminicloudassist document in the pinned package",
    ),
    (
        "google.geminicloudassist.investigations_iam_policies",
        "no geminicloudassist document in the pinned package",
    ),
    (
        "google.geminicloudassist.locations",
        "no geminicloudassist document in the pinned package",
    ),
    (
        "google.geminicloudassist.operations",
        "no geminicloudassist document in the pinned package",
    ),
    (
        "google.geminicloudassist.revisions",
        "no geminicloudassist document in the pinned package",
    ),
    (
        "google.networkconnectivity.service_classes_iam_policies",
        "the pinned collection has no getIamPolicy",
    ),
    (
        "google.networkconnectivity.service_connection_maps_iam_policies",
        "the pinned collection has no getIamPolicy",
    ),
    (
        "google.networkconnectivity.service_connection_policies_iam_policies",
        "the pinned collection has no getIamPolicy",
    ),
    (
        "google.prod_tt_sasportal.customer_node",
        "a name StackQL gives by hand to one of several nested `nodes` collections; which one is not known",
    ),
    (
        "google.prod_tt_sasportal.customer_nodes",
        "a name StackQL gives by hand to one of several nested `nodes` collections; which one is not known",
    ),
    (
        "google.prod_tt_sasportal.node",
        "a name StackQL gives by hand to one of several nested `nodes` collections; which one is not known",
    ),
    (
        "google.sasportal.customer_node",
        "a name StackQL gives by hand to one of several nested `nodes` collections; which one is not known",
    ),
    (
        "google.sasportal.customer_nodes",
        "a name StackQL gives by hand to one of several nested `nodes` collections; which one is not known",
    ),
    (
        "google.sasportal.node",
        "a name StackQL gives by hand to one of several nested `nodes` collections; which one is not known",
    ),
    (
        "google.securitycenter.event_threat_detection_modules",
        "a name StackQL gives by hand to one of several `customModules` collections; which one is not known",
    ),
    (
        "google.securitycenter.security_health_analytics_modules",
        "a name StackQL gives by hand to one of several `customModules` collections; which one is not known",
    ),
    (
        "google.storage.channels",
        "absent from the pinned documents",
    ),
    (
        "google.videointelligence.long_running_operations",
        "absent from the pinned documents",
    ),
];

#[test]
fn stackql_resource_ids_resolve() {
    let Some(dir) = discovery_dir() else { return };
    let Some(ids) = stackql_resource_ids() else {
        return;
    };
    let home = tempfile::tempdir().expect("tempdir");
    let reg = Registry::open(home.path());
    reg.pull_folder(&dir, None).expect("pull");
    let mut failing = Vec::new();
    for id in &ids {
        if let Err(e) = reg.resolve(id) {
            failing.push((id.clone(), e.to_string()));
        }
    }
    let resolved = ids.len() - failing.len();
    eprintln!("{resolved} of {} StackQL resource ids resolve", ids.len());
    for (id, e) in &failing {
        eprintln!("MISS {id}: {e}");
    }
    let unexplained: Vec<&String> = failing
        .iter()
        .map(|(id, _)| id)
        .filter(|id| !NOT_RESOLVING.iter().any(|(n, _)| n == id))
        .collect();
    assert!(
        unexplained.is_empty(),
        "not resolving, no reason given: {unexplained:?}"
    );
    let stale: Vec<&str> = NOT_RESOLVING
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| !failing.iter().any(|(id, _)| id == n))
        .collect();
    assert!(
        stale.is_empty(),
        "listed as not resolving but they do: {stale:?}"
    );
    assert!(
        resolved * 100 >= ids.len() * 97,
        "{resolved} of {} resolve: fewer than 97%",
        ids.len()
    );
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
