//! Loopback fakes of compute, storage and Cloud KMS that answer the way the
//! real APIs do: compute with bare-name parameters and full URLs (`zone`,
//! `selfLink`, `targetLink`) in its rows, aggregated lists keyed by scope,
//! and `compute#operation`s (zonal, regional, global) that finish after a
//! few polls; storage synchronously (an empty 204 for a delete); KMS in the
//! AIP manner (full resource names, `updateMask`).

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

pub use super::loopback::Log;

pub const ROOT: &str = "https://compute.googleapis.com/compute/v1";

#[derive(Default)]
pub struct State {
    /// zone → disks
    pub disks: BTreeMap<String, Vec<Value>>,
    /// region → addresses
    pub addresses: BTreeMap<String, Vec<Value>>,
    pub networks: Vec<Value>,
    /// operation name → (polls until done, the operation when done)
    pub operations: BTreeMap<String, (u32, Value)>,
    pub buckets: Vec<Value>,
    pub key_rings: Vec<Value>,
    pub crypto_keys: Vec<Value>,
    /// Cloud SQL instances (made through `sql#operation`s).
    pub sql_instances: Vec<Value>,
    /// Zonal list pages hold at most this many disks.
    pub page_size: usize,
    /// Answer every page of zonal disk lists with this token (a broken server).
    pub stuck_token: Option<String>,
    /// Scopes the aggregated list reports as unreachable.
    pub unreachables: Vec<String>,
    next_op: u32,
}

pub struct Fake {
    pub base: String,
    pub log: Log,
    pub state: Arc<Mutex<State>>,
}

impl Fake {
    pub fn requests(&self) -> Vec<(String, String, String)> {
        self.log.lock().expect("log").clone()
    }

    /// Requests whose method and path (with query) match.
    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|(m, p, _)| m == method && p.starts_with(path_prefix))
            .count()
    }

    pub fn clear_log(&self) {
        self.log.lock().expect("log").clear();
    }
}

pub fn disk(zone: &str, name: &str, size: u64) -> Value {
    json!({
        "kind": "compute#disk",
        "id": format!("{}", 1000 + size),
        "name": name,
        "zone": format!("{ROOT}/projects/p/zones/{zone}"),
        "sizeGb": size.to_string(),
        "status": "READY",
        "type": format!("{ROOT}/projects/p/zones/{zone}/diskTypes/pd-balanced"),
        "selfLink": format!("{ROOT}/projects/p/zones/{zone}/disks/{name}"),
        "creationTimestamp": "2026-05-01T10:00:00.000-07:00",
        "labels": {"env": if size > 50 { "prod" } else { "dev" }},
        "satisfiesPzs": size.is_multiple_of(2),
    })
}

/// A fake with six disks in australia-southeast1-b, one in us-east1-b, an
/// empty us-west1-a, two buckets, a key ring with two keys.
pub fn start() -> Fake {
    let mut st = State {
        page_size: 4,
        ..State::default()
    };
    let syd = "australia-southeast1-b";
    st.disks.insert(
        syd.into(),
        (1..=6)
            .map(|i| disk(syd, &format!("disk-{i}"), i * 20))
            .collect(),
    );
    st.disks
        .insert("us-east1-b".into(), vec![disk("us-east1-b", "east-1", 10)]);
    st.disks.insert("us-west1-a".into(), Vec::new());
    st.addresses.insert(
        "us-east1".into(),
        vec![
            json!({"kind": "compute#address", "name": "ip-1", "address": "10.0.0.1",
                    "region": format!("{ROOT}/projects/p/regions/us-east1"), "status": "RESERVED"}),
        ],
    );
    st.networks
        .push(json!({"kind": "compute#network", "name": "default",
        "autoCreateSubnetworks": true, "mtu": 1460, "routingConfig": {"routingMode": "REGIONAL"},
        "selfLink": format!("{ROOT}/projects/p/global/networks/default")}));
    for (name, loc, public) in [
        ("logs-bucket", "US", "enforced"),
        ("web-bucket", "EU", "inherited"),
    ] {
        st.buckets.push(json!({
            "kind": "storage#bucket", "id": name, "name": name, "location": loc,
            "storageClass": "STANDARD", "timeCreated": "2026-04-01T09:00:00.123Z",
            "metageneration": "1", "labels": {"team": "ops"},
            "versioning": {"enabled": loc == "US"},
            "iamConfiguration": {"publicAccessPrevention": public,
                                 "uniformBucketLevelAccess": {"enabled": true}},
            "selfLink": format!("https://www.googleapis.com/storage/v1/b/{name}"),
        }));
    }
    st.key_rings.push(
        json!({"name": "projects/p/locations/global/keyRings/ring-1",
                             "createTime": "2026-03-01T00:00:00.000000Z"}),
    );
    for (k, purpose) in [("key-a", "ENCRYPT_DECRYPT"), ("key-b", "ASYMMETRIC_SIGN")] {
        st.crypto_keys.push(json!({
            "name": format!("projects/p/locations/global/keyRings/ring-1/cryptoKeys/{k}"),
            "purpose": purpose, "createTime": "2026-03-02T00:00:00.000000Z",
            "labels": {"app": "billing"}, "importOnly": false,
            "primary": {"name": format!("projects/p/locations/global/keyRings/ring-1/cryptoKeys/{k}/cryptoKeyVersions/1"), "state": "ENABLED"},
            "versionTemplate": {"algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION", "protectionLevel": "SOFTWARE"}
        }));
    }
    serve(st)
}

fn serve(st: State) -> Fake {
    let state = Arc::new(Mutex::new(st));
    let shared = state.clone();
    let (base, log) = super::loopback::serve(move |method, target, body| {
        let mut st = shared.lock().expect("state");
        route(&mut st, method, target, body)
    });
    Fake { base, log, state }
}

fn not_found(what: &str) -> (u16, String) {
    (
        404,
        json!({"error": {"code": 404, "message": format!("The resource '{what}' was not found"),
                         "status": "NOT_FOUND", "errors": [{"reason": "notFound", "message": "not found"}]}})
        .to_string(),
    )
}

fn query_of(target: &str) -> BTreeMap<String, String> {
    target
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.replace("%2C", ",").replace("%3A", ":")))
        .collect()
}

/// A new compute operation on `target` in `scope` (`zones/z`, `regions/r`
/// or `global`); it is done after two polls, failed if `error` is given.
fn operation(
    st: &mut State,
    scope: &str,
    op_type: &str,
    target: &str,
    error: Option<Value>,
) -> Value {
    st.next_op += 1;
    let name = format!("operation-{}", st.next_op);
    let self_link = format!("{ROOT}/projects/p/{scope}/operations/{name}");
    let mut op = json!({
        "kind": "compute#operation", "id": format!("{}", 7000 + st.next_op), "name": name,
        "operationType": op_type, "targetLink": target, "status": "RUNNING", "progress": 0,
        "selfLink": self_link,
    });
    if let Some(z) = scope.strip_prefix("zones/") {
        op["zone"] = format!("{ROOT}/projects/p/zones/{z}").into();
    } else if let Some(r) = scope.strip_prefix("regions/") {
        op["region"] = format!("{ROOT}/projects/p/regions/{r}").into();
    }
    let mut done = op.clone();
    done["status"] = "DONE".into();
    done["progress"] = 100.into();
    if let Some(e) = error {
        done["error"] = json!({"errors": [e]});
        done["httpErrorStatusCode"] = 403.into();
        done["httpErrorMessage"] = "FORBIDDEN".into();
    }
    st.operations.insert(name, (2, done));
    op
}

fn poll(st: &mut State, name: &str, wait: bool) -> (u16, String) {
    let Some((left, done)) = st.operations.get_mut(name) else {
        return not_found(name);
    };
    if *left > 0 && !wait {
        *left -= 1;
        let mut running = done.clone();
        running["status"] = "RUNNING".into();
        running.as_object_mut().map(|o| o.remove("error"));
        return (200, running.to_string());
    }
    *left = 0;
    (200, done.to_string())
}

/// One request as the routes see it: its method, path, query and JSON body.
struct Req<'a> {
    method: &'a str,
    path: &'a str,
    query: BTreeMap<String, String>,
    body: Value,
}

fn route(st: &mut State, method: &str, target: &str, body: &str) -> (u16, String) {
    let path = target.split('?').next().unwrap_or("");
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let req = Req {
        method,
        path,
        query: query_of(target),
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    };
    match segs.as_slice() {
        ["compute", "v1", "projects", "p", rest @ ..] => compute(st, &req, rest),
        ["storage", "v1", "b", rest @ ..] => storage(st, &req, rest),
        ["v1", "projects", "p", rest @ ..] => sql_and_kms(st, &req, rest),
        _ => not_found(path),
    }
}

/// Compute below `/compute/v1/projects/p/`.
fn compute(st: &mut State, req: &Req, segs: &[&str]) -> (u16, String) {
    let body = &req.body;
    match (req.method, segs) {
        ("GET", ["aggregated", "disks"]) => {
            let mut items = serde_json::Map::new();
            for (zone, disks) in &st.disks {
                let scoped = if disks.is_empty() {
                    json!({"warning": {"code": "NO_RESULTS_ON_PAGE", "message": "no disks"}})
                } else {
                    json!({"disks": disks})
                };
                items.insert(format!("zones/{zone}"), scoped);
            }
            let mut page = json!({"kind": "compute#diskAggregatedList", "items": items,
                         "selfLink": format!("{ROOT}/projects/p/aggregated/disks")});
            if !st.unreachables.is_empty() {
                page["unreachables"] = json!(st.unreachables);
            }
            (200, page.to_string())
        }
        ("GET", ["zones", zone, "disks"]) => {
            let disks = st.disks.get(*zone).cloned().unwrap_or_default();
            let start: usize = req
                .query
                .get("pageToken")
                .and_then(|t| t.strip_prefix("page-"))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let end = (start + st.page_size).min(disks.len());
            let mut page = json!({"kind": "compute#diskList", "items": disks[start.min(end)..end],
                                  "selfLink": format!("{ROOT}/projects/p/zones/{zone}/disks")});
            if let Some(t) = &st.stuck_token {
                page["nextPageToken"] = t.clone().into();
            } else if end < disks.len() {
                page["nextPageToken"] = format!("page-{end}").into();
            }
            (200, page.to_string())
        }
        ("GET", ["zones", zone, "disks", name]) => st
            .disks
            .get(*zone)
            .and_then(|d| d.iter().find(|d| d["name"] == *name))
            .map_or_else(|| not_found(name), |d| (200, d.to_string())),
        ("POST", ["zones", zone, "disks"]) => {
            let name = body["name"].as_str().unwrap_or("unnamed").to_string();
            let target = format!("{ROOT}/projects/p/zones/{zone}/disks/{name}");
            let error = (name == "too-big").then(|| {
                json!({"code": "QUOTA_EXCEEDED", "message": "Quota 'DISKS_TOTAL_GB' exceeded. Limit: 500.0 in region australia-southeast1."})
            });
            if error.is_none() {
                let size = body["sizeGb"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(10);
                let mut d = disk(zone, &name, size);
                if let Some(l) = body.get("labels") {
                    d["labels"] = l.clone();
                }
                st.disks.entry(zone.to_string()).or_default().push(d);
            }
            (
                200,
                operation(st, &format!("zones/{zone}"), "insert", &target, error).to_string(),
            )
        }
        ("DELETE", ["zones", zone, "disks", name]) => {
            let Some(disks) = st.disks.get_mut(*zone) else {
                return not_found(name);
            };
            let before = disks.len();
            disks.retain(|d| d["name"] != *name);
            if disks.len() == before {
                return not_found(name);
            }
            let target = format!("{ROOT}/projects/p/zones/{zone}/disks/{name}");
            (
                200,
                operation(st, &format!("zones/{zone}"), "delete", &target, None).to_string(),
            )
        }
        ("GET", ["zones" | "regions", _, "operations", name] | ["global", "operations", name]) => {
            poll(st, name, false)
        }
        (
            "POST",
            ["zones" | "regions", _, "operations", name, "wait"]
            | ["global", "operations", name, "wait"],
        ) => poll(st, name, true),
        ("GET", ["regions", region, "addresses"]) => {
            let items = st.addresses.get(*region).cloned().unwrap_or_default();
            (
                200,
                json!({"kind": "compute#addressList", "items": items}).to_string(),
            )
        }
        ("POST", ["regions", region, "addresses"]) => {
            let name = body["name"].as_str().unwrap_or("unnamed").to_string();
            st.addresses
                .entry(region.to_string())
                .or_default()
                .push(json!({
                "kind": "compute#address", "name": name, "address": "10.0.0.9",
                "region": format!("{ROOT}/projects/p/regions/{region}"), "status": "RESERVED"}));
            let target = format!("{ROOT}/projects/p/regions/{region}/addresses/{name}");
            (
                200,
                operation(st, &format!("regions/{region}"), "insert", &target, None).to_string(),
            )
        }
        ("GET", ["regions", region, "addresses", name]) => st
            .addresses
            .get(*region)
            .and_then(|a| a.iter().find(|a| a["name"] == *name))
            .map_or_else(|| not_found(name), |a| (200, a.to_string())),
        ("GET", ["global", "networks"]) => (
            200,
            json!({"kind": "compute#networkList", "items": st.networks}).to_string(),
        ),
        ("GET", ["global", "networks", name]) => st
            .networks
            .iter()
            .find(|n| n["name"] == *name)
            .map_or_else(|| not_found(name), |n| (200, n.to_string())),
        ("POST", ["global", "networks"]) => {
            let name = body["name"].as_str().unwrap_or("unnamed").to_string();
            let mut n = body.clone();
            n["kind"] = "compute#network".into();
            n["selfLink"] = format!("{ROOT}/projects/p/global/networks/{name}").into();
            st.networks.push(n);
            let target = format!("{ROOT}/projects/p/global/networks/{name}");
            (
                200,
                operation(st, "global", "insert", &target, None).to_string(),
            )
        }
        ("PATCH", ["global", "networks", name]) => {
            let Some(n) = st.networks.iter_mut().find(|n| n["name"] == *name) else {
                return not_found(name);
            };
            merge(n, body);
            let target = format!("{ROOT}/projects/p/global/networks/{name}");
            (
                200,
                operation(st, "global", "patch", &target, None).to_string(),
            )
        }
        _ => not_found(req.path),
    }
}

/// Storage buckets below `/storage/v1/b`.
fn storage(st: &mut State, req: &Req, segs: &[&str]) -> (u16, String) {
    let body = &req.body;
    match (req.method, segs) {
        ("GET", []) if req.query.get("project").map(String::as_str) == Some("p") => (
            200,
            json!({"kind": "storage#buckets", "items": st.buckets}).to_string(),
        ),
        ("GET", [name]) => st
            .buckets
            .iter()
            .find(|b| b["name"] == *name)
            .map_or_else(|| not_found(name), |b| (200, b.to_string())),
        ("POST", []) => {
            let mut b = body.clone();
            b["kind"] = "storage#bucket".into();
            b["id"] = b["name"].clone();
            b["metageneration"] = "1".into();
            b["timeCreated"] = "2026-06-01T12:00:00.000Z".into();
            st.buckets.push(b.clone());
            (200, b.to_string())
        }
        ("PATCH" | "PUT", [name]) => {
            let Some(b) = st.buckets.iter_mut().find(|b| b["name"] == *name) else {
                return not_found(name);
            };
            if req.method == "PUT" {
                let kept = json!({"kind": b["kind"], "id": b["id"], "name": b["name"], "timeCreated": b["timeCreated"]});
                *b = kept;
            }
            merge(b, body);
            b["metageneration"] = "2".into();
            (200, b.to_string())
        }
        ("DELETE", [name]) => {
            let before = st.buckets.len();
            st.buckets.retain(|b| b["name"] != *name);
            if st.buckets.len() == before {
                return not_found(name);
            }
            (204, String::new())
        }
        _ => not_found(req.path),
    }
}

/// Cloud SQL and KMS below `/v1/projects/p/`.
fn sql_and_kms(st: &mut State, req: &Req, segs: &[&str]) -> (u16, String) {
    let body = &req.body;
    match (req.method, segs) {
        // ---- Cloud SQL: instances made through status-style `sql#operation`s.
        ("POST", ["instances"]) => {
            let name = body["name"].as_str().unwrap_or("unnamed").to_string();
            let sql = "https://sqladmin.googleapis.com/v1/projects/p";
            let mut inst = body.clone();
            inst["kind"] = "sql#instance".into();
            inst["state"] = "RUNNABLE".into();
            inst["selfLink"] = format!("{sql}/instances/{name}").into();
            st.sql_instances.push(inst);
            st.next_op += 1;
            let op_name = format!("sqlop-{}", st.next_op);
            let op = json!({"kind": "sql#operation", "name": op_name, "status": "PENDING",
                "operationType": "CREATE", "targetProject": "p",
                "targetLink": format!("{sql}/instances/{name}"),
                "selfLink": format!("{sql}/operations/{op_name}")});
            let mut done = op.clone();
            done["status"] = "DONE".into();
            st.operations.insert(op_name, (1, done));
            (200, op.to_string())
        }
        ("GET", ["operations", name]) => poll(st, name, false),
        ("GET", ["instances", name]) => st
            .sql_instances
            .iter()
            .find(|i| i["name"] == *name)
            .map_or_else(|| not_found(name), |i| (200, i.to_string())),
        // ---- KMS
        ("GET", ["locations", "global", "keyRings"]) => (
            200,
            json!({"keyRings": st.key_rings, "totalSize": st.key_rings.len()}).to_string(),
        ),
        ("POST", ["locations", "global", "keyRings"]) => {
            let id = req.query.get("keyRingId").cloned().unwrap_or_default();
            let r = json!({"name": format!("projects/p/locations/global/keyRings/{id}"),
                           "createTime": "2026-06-01T12:00:00.000000Z"});
            st.key_rings.push(r.clone());
            (200, r.to_string())
        }
        ("GET", ["locations", "global", "keyRings", ring, "cryptoKeys"]) => {
            let keys: Vec<&Value> = st
                .crypto_keys
                .iter()
                .filter(|k| {
                    k["name"]
                        .as_str()
                        .is_some_and(|n| n.contains(&format!("/keyRings/{ring}/")))
                })
                .collect();
            (
                200,
                json!({"cryptoKeys": keys, "totalSize": keys.len()}).to_string(),
            )
        }
        ("GET", ["locations", "global", "keyRings", _, "cryptoKeys", _]) => {
            let name = req.path.trim_start_matches("/v1/");
            st.crypto_keys
                .iter()
                .find(|k| k["name"] == name)
                .map_or_else(|| not_found(name), |k| (200, k.to_string()))
        }
        ("PATCH", ["locations", "global", "keyRings", _, "cryptoKeys", _]) => {
            let name = req.path.trim_start_matches("/v1/");
            let Some(k) = st.crypto_keys.iter_mut().find(|k| k["name"] == name) else {
                return not_found(name);
            };
            let Some(mask) = req.query.get("updateMask") else {
                return (400, json!({"error": {"code": 400, "message": "updateMask is required", "status": "INVALID_ARGUMENT"}}).to_string());
            };
            for field in mask.split(',') {
                k[field] = body[field].clone();
            }
            (200, k.to_string())
        }
        _ => not_found(req.path),
    }
}

fn merge(into: &mut Value, patch: &Value) {
    if let (Some(a), Some(b)) = (into.as_object_mut(), patch.as_object()) {
        for (k, v) in b {
            a.insert(k.clone(), v.clone());
        }
    }
}
