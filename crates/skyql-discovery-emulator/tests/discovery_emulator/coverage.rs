//! The coverage figure: every collection of every pinned document that has a create
//! method, walked through create (a minimal body: `{}` plus a `name` where the family
//! takes the id from it), get, list, delete and a get that must then be 404, all over
//! HTTP. Prints how many collections complete the round trip, per family and in total
//! (the figure in BENCHMARKS.md), and checks the core collections of compute, storage
//! and cloudkms always do.

use std::collections::BTreeMap;

use skyql_discovery_emulator::api::{Api, MethodDef, Role};
use skyql_discovery_emulator::route::{Seg, encode_segment};
use skyql_discovery_emulator::{Config, Family};

use super::common::discovery_dir;

/// A concrete value for a path variable: the parameter's pattern with `[^/]+` filled in,
/// else a plain segment.
fn fill(m: &MethodDef, var: &str, rest: bool) -> String {
    let pattern = m.params.get(var).and_then(|p| p.pattern.clone());
    match (rest, pattern) {
        (true, Some(p)) => p
            .trim_start_matches('^')
            .trim_end_matches('$')
            .replace("[^/]+", "x1")
            .replace(".*", "x1")
            .replace("[^/]*", "x1"),
        _ => "x1".to_string(),
    }
}

/// The collection path a create method posts to, and the query it needs.
fn create_request(api: &Api, m: &MethodDef) -> Option<(String, Vec<(String, String)>)> {
    let mut segs = Vec::new();
    for s in &m.template.segs {
        match s {
            Seg::Lit(l) => segs.push(l.clone()),
            Seg::Var(v) => segs.push(fill(m, v, false)),
            Seg::Rest(v) => segs.push(fill(m, v, true)),
        }
    }
    if segs.iter().any(|s| s.contains(['[', '(', '\\', '?', '*'])) {
        return None;
    }
    let mut path = format!("/{}{}", api.service_path, segs.join("/"));
    if let Some(v) = &m.template.verb {
        path.push(':');
        path.push_str(v);
    }
    let query = m
        .params
        .iter()
        .filter(|(_, p)| p.location.as_deref() == Some("query"))
        .filter(|(k, p)| p.required || (k.ends_with("Id") && *k != "requestId"))
        .map(|(k, p)| {
            let v = match p.enum_values.first() {
                Some(e) => p.enum_values.get(1).unwrap_or(e).clone(),
                None => "c1".to_string(),
            };
            (k.clone(), v)
        })
        .collect();
    Some((path, query))
}

#[derive(Default)]
struct Tally {
    candidates: usize,
    passed: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_collection_round_trip() {
    let Some(dir) = discovery_dir() else { return };
    let mut apis = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.extension().and_then(|e| e.to_str()) != Some("json")
            || path.file_name().and_then(|f| f.to_str()) == Some("index.json")
        {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        match Api::from_json(&bytes, &path.display().to_string()) {
            Ok(api) => apis.push(api),
            Err(e) => eprintln!("not served: {e}"),
        }
    }
    let documents = apis.len();
    // What to try, decided before the documents move into the emulator.
    let mut plan = Vec::new();
    for api in &apis {
        for m in api.methods.iter().filter(|m| m.role == Role::Create) {
            let prefix = m.id.rsplit_once('.').map(|(p, _)| p).unwrap_or_default();
            let has = |r: Role| {
                api.methods
                    .iter()
                    .any(|o| o.role == r && o.id.rsplit_once('.').map(|(p, _)| p) == Some(prefix))
            };
            if !(has(Role::Get) && has(Role::List) && has(Role::Delete)) {
                continue;
            }
            let at_key = m.creates_at_key();
            plan.push((
                at_key,
                m.id.clone(),
                api.family,
                api.host().to_string(),
                create_request(api, m),
            ));
        }
    }
    let running = skyql_discovery_emulator::spawn(Config::default(), apis)
        .await
        .unwrap();
    let token = running.emulator.issue_access_token();
    let http = reqwest::Client::new();
    let base = running.base_url.clone();
    let mut by_family: BTreeMap<&'static str, Tally> = BTreeMap::new();
    let mut failures = Vec::new();
    for (at_key, id, family, host, request) in plan {
        let tally = by_family.entry(family.as_str()).or_default();
        tally.candidates += 1;
        let Some((create_path, query)) = request else {
            failures.push(format!("{id}: no concrete path"));
            continue;
        };
        // A create at the resource's own path (PUT v1/{+name}) names the item already.
        let (path, item_path) = if at_key {
            let coll = create_path
                .rsplit_once('/')
                .map(|(c, _)| c.to_string())
                .unwrap_or_default();
            (coll, create_path.clone())
        } else {
            (create_path.clone(), format!("{create_path}/c1"))
        };
        let send = |method: reqwest::Method, url: String, body: Option<serde_json::Value>| {
            let mut req = http
                .request(method, url)
                .bearer_auth(&token)
                .header("host", &host);
            if let Some(b) = body {
                req = req.json(&b);
            }
            req.send()
        };
        let body = match family {
            Family::Compute | Family::Storage | Family::Plain => serde_json::json!({"name": "c1"}),
            Family::Aip => serde_json::json!({}),
        };
        let qs: String = query
            .iter()
            .map(|(k, v)| format!("{k}={}", encode_segment(v)))
            .collect::<Vec<_>>()
            .join("&");
        let url = format!("{base}{create_path}?{qs}");
        let create_method = if at_key {
            reqwest::Method::PUT
        } else {
            reqwest::Method::POST
        };
        let step = async {
            let r = send(create_method, url, Some(body))
                .await
                .map_err(|e| e.to_string())?;
            if !r.status().is_success() {
                return Err(format!(
                    "create {}: {}",
                    r.status(),
                    r.text().await.unwrap_or_default()
                ));
            }
            let item = format!("{base}{item_path}");
            let r = send(reqwest::Method::GET, item.clone(), None)
                .await
                .map_err(|e| e.to_string())?;
            if r.status().as_u16() != 200 {
                return Err(format!("get {}", r.status()));
            }
            let list_qs: String = query
                .iter()
                .filter(|(k, _)| !k.ends_with("Id"))
                .map(|(k, v)| format!("{k}={}", encode_segment(v)))
                .collect::<Vec<_>>()
                .join("&");
            let r = send(
                reqwest::Method::GET,
                format!("{base}{path}?{list_qs}"),
                None,
            )
            .await
            .map_err(|e| e.to_string())?;
            let status = r.status().as_u16();
            let text = r.text().await.unwrap_or_default();
            let last = item_path.rsplit('/').next().unwrap_or_default();
            if status != 200 || !text.contains(last) {
                return Err(format!("list {status}"));
            }
            let r = send(reqwest::Method::DELETE, item.clone(), None)
                .await
                .map_err(|e| e.to_string())?;
            if !r.status().is_success() {
                return Err(format!("delete {}", r.status()));
            }
            let r = send(reqwest::Method::GET, item, None)
                .await
                .map_err(|e| e.to_string())?;
            if r.status().as_u16() != 404 {
                return Err(format!("get after delete {}", r.status()));
            }
            Ok(())
        };
        match step.await {
            Ok(()) => tally.passed += 1,
            Err(e) => failures.push(format!("{id}: {e}")),
        }
    }
    let candidates: usize = by_family.values().map(|t| t.candidates).sum();
    let passed: usize = by_family.values().map(|t| t.passed).sum();
    eprintln!(
        "coverage: {documents} documents, {candidates} collections with create/get/list/delete, {passed} complete the CRUD round trip"
    );
    for (family, t) in &by_family {
        eprintln!("  {family}: {}/{}", t.passed, t.candidates);
    }
    for f in failures.iter().take(40) {
        eprintln!("  fails: {f}");
    }
    for core in [
        "compute.networks.insert",
        "compute.firewalls.insert",
        "compute.instances.insert",
        "storage.buckets.insert",
        "secretmanager.projects.secrets.create",
    ] {
        assert!(
            !failures.iter().any(|f| f.starts_with(&format!("{core}:"))),
            "{core} must complete the round trip: {failures:?}"
        );
    }
    assert!(
        passed * 2 > candidates,
        "fewer than half the collections round-trip"
    );
}
