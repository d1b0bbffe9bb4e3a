//! The coverage figure: every collection of every pinned document that has a create
//! method, walked through create (a minimal body: `{}` plus a `name` where the family
//! takes the id from it), get, list, delete and a get that must then be 404, all over
//! HTTP. Prints how many collections complete the round trip, per family and in total
//! (the figure in BENCHMARKS.md), and checks the core collections of compute, storage
//! and cloudkms always do.

use std::collections::BTreeMap;

use skyql_discovery_emulator::Family;
use skyql_discovery_emulator::api::{Api, MethodDef, Role};
use skyql_discovery_emulator::route::{Seg, encode_segment};

use super::common::{Emu, discovery_dir, operations_taking};

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
                None => "x1".to_string(),
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

/// One collection to walk.
struct Planned {
    id: String,
    family: Family,
    host: String,
    /// Path and query of the create, or why there is none.
    request: Option<(String, Vec<(String, String)>)>,
    at_key: bool,
    body: serde_json::Value,
    depth: usize,
    /// `/` + servicePath + the version literal of AIP paths (`v1/`).
    prefix: String,
    /// Query parameters the list method requires.
    list_query: Vec<String>,
}

/// The minimal body: `{}`, with a `name` where the resource has one (its last segment
/// is the id compute, storage and most APIs take).
fn minimal_body(api: &Api, m: &MethodDef) -> serde_json::Value {
    let has_name = m
        .request
        .as_deref()
        .and_then(|r| api.schema(r))
        .and_then(|s| s.properties.get("name"))
        .is_some_and(|p| p.ty.as_deref() == Some("string"));
    if has_name {
        serde_json::json!({"name": "x1"})
    } else {
        serde_json::json!({})
    }
}

/// Where the created resource is, from the create's answer.
fn item_path(p: &Planned, create_path: &str, answer: &serde_json::Value) -> String {
    if p.at_key {
        return create_path.to_string();
    }
    let named = answer
        .get("response")
        .and_then(|r| r.get("name"))
        .or_else(|| answer.get("name"))
        .and_then(|n| n.as_str())
        .filter(|n| n.contains('/') && p.family == Family::Aip);
    match named {
        Some(name) => format!("{}{name}", p.prefix),
        None => format!("{create_path}/x1"),
    }
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
            let version: String = m.template.segs[..m.key_skip]
                .iter()
                .filter_map(|s| match s {
                    Seg::Lit(l) => Some(format!("{l}/")),
                    _ => None,
                })
                .collect();
            let list_query = api
                .methods
                .iter()
                .find(|o| {
                    o.role == Role::List && o.id.rsplit_once('.').map(|(p, _)| p) == Some(prefix)
                })
                .map(|l| {
                    l.params
                        .iter()
                        .filter(|(_, p)| p.required && p.location.as_deref() == Some("query"))
                        .map(|(k, _)| k.clone())
                        .collect()
                })
                .unwrap_or_default();
            plan.push(Planned {
                list_query,
                id: m.id.clone(),
                family: api.family,
                host: api.host().to_string(),
                request: create_request(api, m),
                at_key: m.creates_at_key(),
                body: minimal_body(api, m),
                depth: m.template.segs.len(),
                prefix: format!("/{}{version}", api.service_path),
            });
        }
    }
    // Parents first: every variable is `x1`, so a child's parent is the `x1` made before.
    plan.sort_by_key(|p| p.depth);
    // Two documents serving the same path (a service under two names) are one endpoint:
    // the first one routed is walked, the other is not a candidate.
    let mut seen = std::collections::HashSet::new();
    let before = plan.len();
    plan.retain(|p| seen.insert((p.host.clone(), p.request.as_ref().map(|r| r.0.clone()))));
    let shadowed = before - plan.len();
    let emu = Emu::spawn(operations_taking(0), apis).await;
    let send = |method: &str, path: &str, host: &str, body: Option<&serde_json::Value>| {
        emu.request(method, path, body).header("host", host).send()
    };
    let mut failures: Vec<String> = Vec::new();
    // Create, get, list, in depth order; remember what to delete.
    let mut made: Vec<(usize, String)> = Vec::new();
    let mut ok = vec![false; plan.len()];
    for (i, p) in plan.iter().enumerate() {
        let Some((create_path, query)) = &p.request else {
            failures.push(format!("{}: no concrete path", p.id));
            continue;
        };
        let qs: String = query
            .iter()
            .map(|(k, v)| format!("{k}={}", encode_segment(v)))
            .collect::<Vec<_>>()
            .join("&");
        let step = async {
            let method = if p.at_key { "PUT" } else { "POST" };
            let r = send(
                method,
                &format!("{create_path}?{qs}"),
                &p.host,
                Some(&p.body),
            )
            .await
            .map_err(|e| e.to_string())?;
            let status = r.status();
            let text = r.text().await.unwrap_or_default();
            if !status.is_success() {
                return Err(format!(
                    "create {status}: {}",
                    text.lines().take(4).collect::<String>()
                ));
            }
            let answer: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            let item = item_path(p, create_path, &answer);
            let r = send("GET", &item, &p.host, None)
                .await
                .map_err(|e| e.to_string())?;
            if r.status().as_u16() != 200 {
                return Err(format!("get {item}: {}", r.status()));
            }
            let collection = if p.at_key {
                create_path
                    .rsplit_once('/')
                    .map(|(c, _)| c.to_string())
                    .unwrap_or_default()
            } else {
                create_path.clone()
            };
            let list_qs: String = p
                .list_query
                .iter()
                .map(|k| {
                    let v = query
                        .iter()
                        .find(|(q, _)| q == k)
                        .map(|(_, v)| v.as_str())
                        .unwrap_or("x1");
                    format!("{k}={}", encode_segment(v))
                })
                .collect::<Vec<_>>()
                .join("&");
            let r = send("GET", &format!("{collection}?{list_qs}"), &p.host, None)
                .await
                .map_err(|e| e.to_string())?;
            let status = r.status().as_u16();
            let text = r.text().await.unwrap_or_default();
            let last = item.rsplit('/').next().unwrap_or_default();
            if status != 200 || !text.contains(last) {
                return Err(format!("list {status}"));
            }
            Ok(item)
        };
        match step.await {
            Ok(item) => made.push((i, item)),
            Err(e) => failures.push(format!("{}: {e}", p.id)),
        }
    }
    // Delete, children first, and check each is gone.
    made.sort_by_key(|(i, _)| std::cmp::Reverse(plan[*i].depth));
    for (i, item) in made {
        let p = &plan[i];
        let r = send("DELETE", &item, &p.host, None).await;
        let deleted = r.as_ref().is_ok_and(|r| r.status().is_success());
        let gone = match send("GET", &item, &p.host, None).await {
            Ok(r) => r.status().as_u16() == 404,
            Err(_) => false,
        };
        if deleted && gone {
            ok[i] = true;
        } else {
            failures.push(format!(
                "{}: delete (deleted {deleted}, then 404 {gone})",
                p.id
            ));
        }
    }
    let mut by_family: BTreeMap<&'static str, Tally> = BTreeMap::new();
    for (i, p) in plan.iter().enumerate() {
        let t = by_family.entry(p.family.as_str()).or_default();
        t.candidates += 1;
        t.passed += usize::from(ok[i]);
    }
    let candidates: usize = by_family.values().map(|t| t.candidates).sum();
    let passed: usize = by_family.values().map(|t| t.passed).sum();
    eprintln!(
        "coverage: {documents} documents, {candidates} collections with create/get/list/delete ({shadowed} more shadowed by another document's identical path), {passed} complete the CRUD round trip"
    );
    for (family, t) in &by_family {
        eprintln!("  {family}: {}/{}", t.passed, t.candidates);
    }
    for f in failures.iter().filter(|f| {
        std::env::var_os("COVERAGE_VERBOSE").is_some()
            || f.starts_with("compute.")
            || f.starts_with("storage.")
            || f.starts_with("cloudkms.")
    }) {
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
