//! Provider-model tests over Google's real documents (fetched by
//! `cargo xtask fetch-discovery`; the tests skip, saying why, unless
//! `SKYQL_DISCOVERY_DIR` points at them): every naming rule on a service
//! that needs it, and the exceptions table checked against the documents.

use skyql_provider::{Method, ParamLocation, Resource, Service, SqlVerb};
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// The pinned documents, or `None` (with a note why the test skips).
fn discovery_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SKYQL_DISCOVERY_DIR").map(PathBuf::from);
    if dir.is_none() {
        eprintln!(
            "skipped: SKYQL_DISCOVERY_DIR is not set (run `cargo xtask fetch-discovery` and set it to .discovery, or use `cargo xtask test`)"
        );
    }
    dir
}

fn load(dir: &Path, file: &str) -> Service {
    let path = dir.join(file);
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask fetch-discovery`", path.display()));
    Service::from_json(&bytes, &path.display().to_string()).expect("document loads")
}

/// (name, verb, required params) of each method, in table order.
fn rows(r: &Resource) -> Vec<(String, String, String)> {
    r.methods
        .iter()
        .map(|m| {
            (
                m.name.clone(),
                m.verb.to_string(),
                m.required_params().join(", "),
            )
        })
        .collect()
}

fn method<'a>(r: &'a Resource, name: &str) -> &'a Method {
    r.method(name)
        .unwrap_or_else(|e| panic!("{e}; methods: {:?}", rows(r)))
}

fn document_files(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask fetch-discovery`", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| p.file_name().is_some_and(|n| n != "index.json"))
        .collect();
    entries.sort();
    entries
}

/// Every method id of a document, and the collection ids they belong to.
fn method_ids(doc: &serde_json::Value, out: &mut BTreeSet<String>) {
    if let Some(methods) = doc.get("methods").and_then(|m| m.as_object()) {
        for m in methods.values() {
            if let Some(id) = m.get("id").and_then(|i| i.as_str()) {
                out.insert(id.to_string());
                if let Some((collection, _)) = id.rsplit_once('.') {
                    out.insert(collection.to_string());
                }
            }
        }
    }
    if let Some(resources) = doc.get("resources").and_then(|r| r.as_object()) {
        for r in resources.values() {
            method_ids(r, out);
        }
    }
}

#[test]
fn every_pinned_document_loads_and_every_method_has_one_home() {
    let Some(dir) = discovery_dir() else { return };
    let files = document_files(&dir);
    assert_eq!(files.len(), 610, "the pinned package has 610 documents");
    let index = std::fs::read(dir.join("index.json")).expect("index.json");
    let err = Service::from_json(&index, "index.json").expect_err("index.json is not a service");
    assert!(err.to_string().contains("directory list"), "{err}");
    let mut services = BTreeSet::new();
    for path in &files {
        let bytes = std::fs::read(path).expect("read");
        let origin = path.display().to_string();
        let svc = Service::from_json(&bytes, &origin).unwrap_or_else(|e| panic!("{e}"));
        services.insert(svc.name.clone());
        let mut ids = BTreeSet::new();
        method_ids(&serde_json::from_slice(&bytes).expect("json"), &mut ids);
        let mut placed = HashSet::new();
        let mut names = HashSet::new();
        for r in &svc.resources {
            assert!(
                names.insert(&r.name),
                "{origin}: duplicate resource {}",
                r.name
            );
            let mut method_names = HashSet::new();
            for m in &r.methods {
                assert!(
                    method_names.insert(&m.name),
                    "{origin}: {} has two methods named {}",
                    r.id,
                    m.name
                );
                assert!(
                    m.params
                        .iter()
                        .filter(|p| p.location == ParamLocation::Path)
                        .all(|p| p.required),
                    "{}: path params are required",
                    m.id
                );
                if !m.raw_pages {
                    assert!(placed.insert(m.id.clone()), "{} placed twice", m.id);
                }
            }
        }
        let documented: BTreeSet<&String> = ids
            .iter()
            .filter(|id| {
                placed.contains(*id) || !ids.iter().any(|o| o.starts_with(&format!("{id}.")))
            })
            .collect();
        for id in documented {
            assert!(
                placed.contains(id),
                "{origin}: method {id} is in no resource"
            );
        }
    }
    assert_eq!(services.len(), 338);
}

#[test]
fn custom_jobs_keeps_the_reference_shape() {
    let Some(dir) = discovery_dir() else { return };
    let svc = load(&dir, "aiplatform.v1.json");
    assert_eq!(svc.id(), "aiplatform:v1");
    let r = svc.resource("custom_jobs").expect("custom_jobs");
    assert_eq!(r.discovery_path, "projects.locations.customJobs");
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
    assert_eq!(rows(r), want);
    let list = method(r, "list");
    assert_eq!(list.items_key.as_deref(), Some("customJobs"));
    for q in ["filter", "pageSize", "pageToken", "readMask"] {
        let p = list.param(q).expect(q);
        assert_eq!(p.location, ParamLocation::Query);
        assert!(!p.required);
    }
    let get = method(r, "get");
    assert_eq!(
        get.discovery_params["name"].pattern.as_deref(),
        Some("^projects/[^/]+/locations/[^/]+/customJobs/[^/]+$")
    );
    assert_eq!(
        get.params_from_name("projects/p/locations/l/customJobs/7")
            .expect("fits")
            .get("customJobsId")
            .map(String::as_str),
        Some("7")
    );
    assert_eq!(
        method(r, "create").request.as_deref(),
        Some("GoogleCloudAiplatformV1CustomJob")
    );
    let cols: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
    for c in ["name", "displayName", "state", "jobSpec", "error", "labels"] {
        assert!(cols.contains(&c), "{c} in {cols:?}");
    }
    assert_eq!(
        svc.root_url_for(Some("us-central1")),
        "https://us-central1-aiplatform.googleapis.com/"
    );
    assert_eq!(
        svc.root_url_for(Some("global")),
        "https://aiplatform.googleapis.com/"
    );
    let err = svc.resource("custom_job").expect_err("typo").to_string();
    assert!(err.contains("did you mean custom_jobs?"), "{err}");
    // Every `operations` collection is one resource, its methods named in full.
    let ops = svc.resource("operations").expect("operations");
    assert!(
        ops.variants
            .contains(&"projects.locations.customJobs.operations".to_string()),
        "{:?}",
        ops.variants
    );
    method(ops, "projects_locations_custom_jobs_operations_list");
    let err = svc
        .resource("custom_jobs_operations")
        .expect_err("old name")
        .to_string();
    assert!(err.contains("did you mean operations?"), "{err}");
}

#[test]
fn container_clusters_by_location_and_by_zone() {
    let Some(dir) = discovery_dir() else { return };
    let svc = load(&dir, "container.v1.json");
    let r = svc.resource("clusters").expect("clusters");
    let by_location = method(r, "projects_locations_clusters_list");
    assert_eq!(by_location.verb, SqlVerb::Select);
    assert_eq!(by_location.required_params(), ["locationsId", "projectsId"]);
    assert_eq!(
        by_location.template,
        "v1/projects/{projectsId}/locations/{locationsId}/clusters"
    );
    let by_zone = method(r, "projects_zones_clusters_list");
    assert_eq!(by_zone.required_params(), ["projectId", "zone"]);
    assert_eq!(
        method(r, "projects_locations_clusters_get").required_params(),
        ["clustersId", "locationsId", "projectsId"]
    );
    assert_eq!(
        method(r, "projects_locations_clusters_create").verb,
        SqlVerb::Insert
    );
    // Given the location variant's parameters, that variant is chosen.
    let given = |p: &str| ["projectsId", "locationsId", "data__cluster"].contains(&p);
    assert_eq!(
        r.method_for(SqlVerb::Insert, given)
            .map(|m| m.name.as_str()),
        Some("projects_locations_clusters_create")
    );
    let given = |p: &str| ["projectId", "zone"].contains(&p);
    assert_eq!(
        r.method_for(SqlVerb::Insert, given)
            .map(|m| m.name.as_str()),
        Some("projects_zones_clusters_create")
    );
    let err = svc
        .resource("locations_clusters")
        .expect_err("old name")
        .to_string();
    assert!(err.contains("did you mean clusters?"), "{err}");
    assert!(svc.resource("server_config").is_ok());
    assert!(svc.resource("zones_serverconfig").is_ok());
}

#[test]
fn logging_sinks_under_every_parent() {
    let Some(dir) = discovery_dir() else { return };
    let svc = load(&dir, "logging.v2.json");
    let r = svc.resource("sinks").expect("sinks");
    for (parent, param) in [
        ("projects", "projectsId"),
        ("organizations", "organizationsId"),
        ("folders", "foldersId"),
        ("billing_accounts", "billingAccountsId"),
    ] {
        let list = method(r, &format!("{parent}_sinks_list"));
        assert_eq!(list.required_params(), [param], "{parent}");
        assert_eq!(list.verb, SqlVerb::Select);
        assert!(list.is_list());
        assert!(r.method(&format!("_{parent}_sinks_list")).is_ok());
        assert_eq!(
            method(r, &format!("{parent}_sinks_create")).verb,
            SqlVerb::Insert
        );
        assert_eq!(
            method(r, &format!("{parent}_sinks_update")).verb,
            SqlVerb::Replace
        );
        assert_eq!(
            method(r, &format!("{parent}_sinks_patch")).verb,
            SqlVerb::Update
        );
        assert_eq!(
            method(r, &format!("{parent}_sinks_delete")).verb,
            SqlVerb::Delete
        );
    }
    assert!(r.variants.contains(&"organizations.sinks".to_string()));
    let given = |p: &str| p == "organizationsId" || p == "sinksId";
    assert_eq!(
        r.method_for(SqlVerb::Delete, given)
            .map(|m| m.name.as_str()),
        Some("organizations_sinks_delete")
    );
    // Settings read by "get X" on a scope are resources named X.
    assert!(svc.resource("cmek_settings").is_ok());
    assert!(svc.resource("billing_accounts_cmek_settings").is_ok());
    assert!(svc.resource("logging_cmek_settings").is_ok());
}

#[test]
fn compute_iam_policies_reads_and_aggregates() {
    let Some(dir) = discovery_dir() else { return };
    let svc = load(&dir, "compute.v1.json");
    let iam = svc
        .resource("instances_iam_policies")
        .expect("instances_iam_policies");
    let get = method(iam, "get_iam_policy");
    assert_eq!(get.verb, SqlVerb::Select);
    assert_eq!(get.items_key.as_deref(), Some("bindings"));
    assert_eq!(get.parent_fields, ["etag", "version"]);
    assert_eq!(get.required_params(), ["project", "resource", "zone"]);
    assert_eq!(method(iam, "set_iam_policy").verb, SqlVerb::Replace);
    assert_eq!(method(iam, "test_iam_permissions").verb, SqlVerb::Exec);
    assert!(iam.method("_get_iam_policy").is_err(), "no pages, no twin");
    let cols: Vec<&str> = iam.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(cols, ["condition", "members", "role", "etag", "version"]);

    let instances = svc.resource("instances").expect("instances");
    let agg = method(instances, "aggregated_list");
    assert_eq!(
        (agg.items_key.as_deref(), agg.aggregated),
        (Some("items"), true)
    );
    assert_eq!(agg.required_params(), ["project"]);
    assert!(instances.method("_aggregated_list").is_ok());
    assert_eq!(
        method(instances, "list").required_params(),
        ["project", "zone"]
    );
    assert_eq!(method(instances, "insert").verb, SqlVerb::Insert);
    assert_eq!(
        instances
            .method_for(SqlVerb::Insert, |_| true)
            .map(|m| m.name.as_str()),
        Some("insert"),
        "the usual insert before bulk_insert"
    );
    let serial = svc
        .resource("instances_serial_port_output")
        .expect("serial port output");
    assert_eq!(
        method(serial, "get_serial_port_output").verb,
        SqlVerb::Select
    );
    // Global and regional collections are one resource; where an aggregated
    // list needs no more than a global list, it is a resource of its own.
    let backends = svc.resource("backend_services").expect("backend_services");
    assert!(backends.method("region_backend_services_list").is_ok());
    assert!(backends.method("backend_services_list").is_ok());
    assert!(svc.resource("backend_services_aggregated").is_ok());
    let disks = svc.resource("disks").expect("disks");
    assert!(disks.method("aggregated_list").is_ok());
    assert!(disks.method("disks_get").is_ok());
    assert!(disks.method("region_disks_get").is_ok());
    assert!(instances.method("region_instances_bulk_insert").is_ok());
    assert!(instances.method("start").is_ok());
    assert!(svc.resource("operations").is_ok());
    assert!(svc.resource("operations_aggregated").is_ok());
    assert_eq!(
        svc.root_url_for(Some("us-central1")),
        "https://compute.googleapis.com/"
    );
}

#[test]
fn bigquery_tables_take_path_parameter_names() {
    let Some(dir) = discovery_dir() else { return };
    let svc = load(&dir, "bigquery.v2.json");
    let r = svc.resource("tables").expect("tables");
    let list = method(r, "list");
    assert_eq!(list.required_params(), ["datasetId", "projectId"]);
    assert_eq!(
        list.template,
        "projects/{+projectId}/datasets/{+datasetId}/tables"
    );
    assert_eq!(
        method(r, "get").required_params(),
        ["datasetId", "projectId", "tableId"]
    );
    assert!(svc.resource("tables_iam_policies").is_ok());
    assert!(
        svc.resource("query_results").is_ok(),
        "by the exceptions table"
    );
}

#[test]
fn cloudasset_assets_by_parent_type_and_parent() {
    let Some(dir) = discovery_dir() else { return };
    let svc = load(&dir, "cloudasset.v1.json");
    let r = svc.resource("assets").expect("assets");
    let list = method(r, "list");
    assert_eq!(list.template, "v1/{parentType}/{parent}/assets");
    assert_eq!(list.required_params(), ["parent", "parentType"]);
    assert_eq!(list.verb, SqlVerb::Select);
    assert!(svc.resource("cloudasset_iam_policies").is_ok());
    assert!(svc.resource("asset_history").is_ok());
}

#[test]
fn cloudresourcemanager_v3_projects() {
    let Some(dir) = discovery_dir() else { return };
    let svc = load(&dir, "cloudresourcemanager.v3.json");
    let r = svc.resource("projects").expect("projects");
    assert_eq!(method(r, "get").required_params(), ["projectsId"]);
    assert_eq!(method(r, "list").verb, SqlVerb::Select);
    assert_eq!(method(r, "search").verb, SqlVerb::Exec);
    assert_eq!(method(r, "undelete").verb, SqlVerb::Exec);
    let iam = svc.resource("projects_iam_policies").expect("iam");
    let get = method(iam, "get_iam_policy");
    assert_eq!(get.http_method, "POST");
    assert_eq!(get.verb, SqlVerb::Select);
    assert_eq!(get.template, "v3/projects/{projectsId}:getIamPolicy");
}

#[test]
fn the_exceptions_table_names_real_methods() {
    let Some(dir) = discovery_dir() else { return };
    let mut ids = BTreeSet::new();
    for path in document_files(&dir) {
        let bytes = std::fs::read(&path).expect("read");
        method_ids(&serde_json::from_slice(&bytes).expect("json"), &mut ids);
    }
    for (key, resource) in skyql_provider::exceptions::RESOURCE_BY_METHOD {
        assert!(
            ids.contains(*key),
            "exception for `{key}` ({resource}): no such method or collection in the pinned documents"
        );
    }
    let reference = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/stackql-google-resources.txt");
    let Ok(list) = std::fs::read_to_string(&reference) else {
        eprintln!(
            "skipped the StackQL name check: {} is absent",
            reference.display()
        );
        return;
    };
    for (key, resource) in skyql_provider::exceptions::RESOURCE_BY_METHOD {
        let service = key.split('.').next().unwrap_or_default();
        let id = format!("google.{service}.{resource}");
        assert!(
            list.lines().any(|l| l.trim() == id),
            "exception for `{key}` names {id}, which StackQL does not have"
        );
    }
}

mod provider {
    pub mod properties;
}
