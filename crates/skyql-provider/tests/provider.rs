//! Provider-model tests over Google's real documents (fetched by
//! `cargo xtask fetch-discovery` into `.discovery/`) and a hand-written fixture.

use skyql_provider::{ParamLocation, Service, SqlVerb};
use std::path::PathBuf;

fn discovery_dir() -> PathBuf {
    if let Ok(d) = std::env::var("SKYQL_DISCOVERY_DIR") {
        return PathBuf::from(d);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.discovery")
}

fn load(file: &str) -> Service {
    let path = discovery_dir().join(file);
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask fetch-discovery`", path.display()));
    Service::from_json(&bytes, &path.display().to_string()).expect("document loads")
}

#[test]
fn every_pinned_document_loads() {
    let dir = discovery_dir();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask fetch-discovery`", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    entries.sort();
    assert_eq!(entries.len(), 611, "610 documents plus index.json");
    let mut services = std::collections::BTreeSet::new();
    let mut summary = String::new();
    for path in &entries {
        let bytes = std::fs::read(path).expect("read");
        let origin = path.display().to_string();
        if path.file_name().is_some_and(|n| n == "index.json") {
            let err = Service::from_json(&bytes, &origin).expect_err("index.json is not a service");
            assert!(err.to_string().contains("directory list"), "{err}");
            continue;
        }
        let svc = Service::from_json(&bytes, &origin).unwrap_or_else(|e| panic!("{e}"));
        services.insert(svc.name.clone());
        summary.push_str(&format!(
            "{}:{} {}\n",
            svc.name,
            svc.version,
            svc.resources.len()
        ));
        let mut names = std::collections::HashSet::new();
        for r in &svc.resources {
            assert!(
                names.insert(&r.name),
                "{}: duplicate resource {}",
                origin,
                r.name
            );
            for m in &r.methods {
                assert!(
                    m.params
                        .iter()
                        .filter(|p| p.location == ParamLocation::Path)
                        .all(|p| p.required),
                    "{}: path params are required",
                    m.id
                );
            }
        }
    }
    assert_eq!(services.len(), 338);
    eprintln!("{summary}");
}

#[test]
fn compute_lists_and_aggregated_lists() {
    let svc = load("compute.v1.json");
    let r = svc.resource("instances").expect("instances");
    let list = r.method("list").expect("list");
    assert_eq!(
        (list.items_key.as_deref(), list.aggregated),
        (Some("items"), false)
    );
    assert_eq!(list.required_params(), ["project", "zone"]);
    let agg = r.method("aggregatedList").expect("aggregatedList");
    assert_eq!(
        (agg.items_key.as_deref(), agg.aggregated),
        (Some("items"), true)
    );
    assert_eq!(agg.required_params(), ["project"]);
    assert!(r.method("_aggregatedList").is_ok());
    assert_eq!(
        svc.root_url_for(Some("us-central1")),
        "https://compute.googleapis.com/"
    );
    assert_eq!(svc.service_path, "compute/v1/");
}

#[test]
fn custom_jobs_follows_the_naming_rules() {
    let svc = load("aiplatform.v1.json");
    assert_eq!(svc.id(), "aiplatform:v1");
    let r = svc.resource("custom_jobs").expect("custom_jobs");
    assert_eq!(r.discovery_path, "projects.locations.customJobs");
    let rows: Vec<(String, String, String)> = r
        .methods
        .iter()
        .map(|m| {
            (
                m.name.clone(),
                m.verb.to_string(),
                m.required_params().join(", "),
            )
        })
        .collect();
    let want = [
        ("get", "SELECT", "customJobsId, locationsId, projectsId"),
        ("list", "SELECT", "locationsId, projectsId"),
        ("create", "INSERT", "locationsId, projectsId"),
        ("delete", "DELETE", "customJobsId, locationsId, projectsId"),
        ("_list", "EXEC", "locationsId, projectsId"),
        ("cancel", "EXEC", "customJobsId, locationsId, projectsId"),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(rows, want);
    let list = r.method("list").expect("list");
    assert_eq!(list.items_key.as_deref(), Some("customJobs"));
    for q in ["filter", "pageSize", "pageToken", "readMask"] {
        let p = list.param(q).expect(q);
        assert_eq!(p.location, ParamLocation::Query);
        assert!(!p.required);
    }
    let get = r.method("get").expect("get");
    assert_eq!(
        get.discovery_params["name"].pattern.as_deref(),
        Some("^projects/[^/]+/locations/[^/]+/customJobs/[^/]+$")
    );
    assert_eq!(
        r.method("create").expect("create").request.as_deref(),
        Some("GoogleCloudAiplatformV1CustomJob")
    );
    let cols: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
    for c in [
        "name",
        "displayName",
        "state",
        "jobSpec",
        "error",
        "labels",
        "satisfiesPzi",
    ] {
        assert!(cols.contains(&c), "{c} in {cols:?}");
    }
    let job_spec = r
        .columns
        .iter()
        .find(|c| c.name == "jobSpec")
        .expect("jobSpec");
    assert_eq!(job_spec.ty, "object");
    assert!(svc.resource("custom_jobs_operations").is_ok());
    assert_eq!(SqlVerb::of("update", "PUT"), SqlVerb::Replace);
    assert_eq!(
        svc.root_url_for(Some("us-central1")),
        "https://us-central1-aiplatform.googleapis.com/"
    );
    assert_eq!(
        svc.root_url_for(Some("us")),
        "https://us-aiplatform.googleapis.com/"
    );
    assert_eq!(
        svc.root_url_for(Some("mars-north9")),
        "https://mars-north9-aiplatform.googleapis.com/"
    );
    assert_eq!(
        svc.root_url_for(Some("eu")),
        "https://eu-aiplatform.googleapis.com/"
    );
    assert_eq!(
        svc.root_url_for(Some("global")),
        "https://aiplatform.googleapis.com/"
    );
    assert_eq!(svc.root_url_for(None), "https://aiplatform.googleapis.com/");
    let err = svc.resource("custom_job").expect_err("typo").to_string();
    assert!(err.contains("did you mean custom_jobs?"), "{err}");
}
