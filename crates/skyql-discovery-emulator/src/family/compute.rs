//! compute-style APIs: numeric `id`s as uint64 strings, `selfLink`s and `zone`/`region` as
//! full URLs on www.googleapis.com (as the real service writes them), `creationTimestamp`
//! with a UTC offset, fingerprints, partial references (`global/networks/default`)
//! expanded to URLs, and a `compute#operation` for every mutation, kept in the zonal,
//! regional or global operations collection of the resource's scope.
//!
//! An operation is PENDING until a quarter of the configured duration has passed, RUNNING
//! until all of it has, then DONE, on the emulator clock. Deleting a resource that another
//! resource still refers to (a network with firewalls) fails the way compute fails it: the
//! operation ends DONE with `error.errors[0].code = RESOURCE_IN_USE_BY_ANOTHER_RESOURCE`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use super::{Placed, encoded_path, has_prop};
use crate::api::Api;
use crate::store::{Item, OpTimeline};

/// compute writes times in US Pacific; the emulator uses a fixed -07:00.
const OFFSET_SECS: i32 = -7 * 3600;

/// `2026-12-01T08:30:00.123-07:00`
pub fn timestamp(us: i64) -> String {
    let t = DateTime::<Utc>::from_timestamp_micros(us).unwrap_or_default();
    match FixedOffset::east_opt(OFFSET_SECS) {
        Some(offset) => t
            .with_timezone(&offset)
            .to_rfc3339_opts(SecondsFormat::Millis, false),
        None => t.to_rfc3339_opts(SecondsFormat::Millis, true),
    }
}

/// A compute id: a non-zero uint64 as a decimal string.
pub fn new_id() -> String {
    let n: u64 = rand::random::<u64>() >> 1;
    n.max(1).to_string()
}

pub fn fingerprint() -> String {
    STANDARD.encode(rand::random::<u64>().to_be_bytes())
}

/// compute's rule for resource names (RFC 1035 labels).
pub fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b.last() != Some(&b'-')
}

/// The scope of a key: `projects/p/zones/z`, `projects/p/regions/r`, `projects/p/global`,
/// or for resources outside projects the key's parent.
pub fn scope_of(key: &[String]) -> Option<Vec<String>> {
    match key {
        [p, project, kind, name, ..]
            if p == "projects" && (kind == "zones" || kind == "regions") =>
        {
            Some(vec![p.clone(), project.clone(), kind.clone(), name.clone()])
        }
        [p, project, ..] if p == "projects" => {
            Some(vec![p.clone(), project.clone(), "global".into()])
        }
        // Organization-level resources (`locations/global/firewallPolicies/x`) keep their
        // operations beside them (`locations/global/operations`).
        [_, _, ..] => Some(key[..key.len() - 2].to_vec()),
        _ => None,
    }
}

pub fn on_create(api: &Api, at: &Placed<'_>, body: &mut Map<String, Value>) {
    let schema = at.schema;
    body.insert("name".into(), Value::String(at.id().to_string()));
    if has_prop(api, schema, "id") {
        body.insert("id".into(), Value::String(new_id()));
    }
    if has_prop(api, schema, "creationTimestamp") {
        body.insert(
            "creationTimestamp".into(),
            Value::String(timestamp(at.now_us)),
        );
    }
    if has_prop(api, schema, "selfLink") {
        body.insert(
            "selfLink".into(),
            Value::String(format!("{}{}", api.link_base(), encoded_path(at.key))),
        );
    }
    if let Some(scope) = scope_of(at.key)
        && scope.len() == 4
    {
        let field = if scope[2] == "zones" {
            "zone"
        } else {
            "region"
        };
        if has_prop(api, schema, field) {
            body.insert(
                field.into(),
                Value::String(format!("{}{}", api.link_base(), scope.join("/"))),
            );
        }
    }
    for f in ["fingerprint", "labelFingerprint"] {
        if has_prop(api, schema, f) {
            body.insert(f.into(), Value::String(fingerprint()));
        }
    }
    if let Some(status) = schema
        .and_then(|s| api.schema(s))
        .and_then(|s| s.properties.get("status"))
        .filter(|p| p.enum_values.iter().any(|v| v == "RUNNING"))
        .map(|_| "RUNNING")
    {
        body.entry("status").or_insert(Value::String(status.into()));
    }
    let project = at.key.get(1).cloned().unwrap_or_default();
    let base = api.link_base();
    for v in body.values_mut() {
        expand_references(v, &base, &project);
    }
}

pub fn on_update(api: &Api, at: &Placed<'_>, body: &mut Map<String, Value>) {
    for f in ["fingerprint", "labelFingerprint"] {
        if has_prop(api, at.schema, f) {
            body.insert(f.into(), Value::String(fingerprint()));
        }
    }
    let project = at.key.get(1).cloned().unwrap_or_default();
    let base = api.link_base();
    for v in body.values_mut() {
        expand_references(v, &base, &project);
    }
}

/// `global/networks/n`, `zones/z/machineTypes/m` or `projects/p/...` → a full URL, as
/// compute stores references.
fn expand_references(v: &mut Value, base: &str, project: &str) {
    match v {
        Value::String(s) => {
            let segs: Vec<&str> = s.split('/').collect();
            let scoped = match segs.first() {
                Some(&"global") => segs.len() >= 3,
                Some(&"zones" | &"regions") => segs.len() >= 4,
                _ => false,
            };
            let is_ref = |segs: &[&str]| segs.iter().all(|x| !x.is_empty() && !x.contains(' '));
            if scoped && is_ref(&segs) && !project.is_empty() {
                *s = format!("{base}projects/{project}/{s}");
            } else if segs.first() == Some(&"projects")
                && segs.len() >= 4
                && matches!(segs.get(2), Some(&"global" | &"zones" | &"regions"))
                && is_ref(&segs)
            {
                *s = format!("{base}{s}");
            }
        }
        Value::Array(a) => a
            .iter_mut()
            .for_each(|x| expand_references(x, base, project)),
        Value::Object(m) => m
            .values_mut()
            .for_each(|x| expand_references(x, base, project)),
        _ => {}
    }
}

/// Whether some stored value of this API refers to `self_link`; returns the referrer's link.
pub fn referrer<'a>(items: impl Iterator<Item = &'a Item>, self_link: &str) -> Option<String> {
    fn refers(v: &Value, link: &str) -> bool {
        match v {
            Value::String(s) => s == link,
            Value::Array(a) => a.iter().any(|x| refers(x, link)),
            Value::Object(m) => m.iter().any(|(k, x)| k != "selfLink" && refers(x, link)),
            _ => false,
        }
    }
    items
        .filter(|it| it.op.is_none())
        .find(|it| refers(&it.body, self_link))
        .map(|it| it.body["selfLink"].as_str().unwrap_or_default().to_string())
}

/// A new operation: (collection key, id, item).
pub struct NewOp {
    pub collection: String,
    pub id: String,
    pub item: Item,
}

/// Builds the operation for a mutation of `target` (key segments).
#[allow(clippy::too_many_arguments)]
pub fn operation(
    api: &Api,
    target: &[String],
    operation_type: &str,
    target_id: Option<&str>,
    now_us: i64,
    duration_us: i64,
    error: Option<(u16, String, String)>,
    user: &str,
) -> Option<NewOp> {
    let scope = scope_of(target)?;
    let id = new_id();
    let name = format!(
        "operation-{}-{:x}-{:08x}-{:08x}",
        now_us / 1000,
        rand::random::<u64>() >> 12,
        rand::random::<u32>(),
        rand::random::<u32>()
    );
    let base = api.link_base();
    let mut collection = scope.clone();
    collection.push("operations".into());
    let kind = super::kind_of(api, Some("Operation")).unwrap_or_else(|| "compute#operation".into());
    let mut body = json!({
        "kind": kind,
        "id": id,
        "name": name,
        "operationType": operation_type,
        "targetLink": format!("{base}{}", encoded_path(target)),
        "user": user,
        "insertTime": timestamp(now_us),
        "selfLink": format!("{base}{}/{name}", collection.join("/")),
    });
    if let Some(t) = target_id {
        body["targetId"] = Value::String(t.to_string());
    }
    if scope.len() == 4 {
        let field = if scope[2] == "zones" {
            "zone"
        } else {
            "region"
        };
        body[field] = Value::String(format!("{base}{}", scope.join("/")));
    }
    let op = OpTimeline {
        insert_us: now_us,
        start_us: now_us + duration_us / 4,
        done_us: now_us + duration_us,
        error,
    };
    Some(NewOp {
        collection: collection.join("/"),
        id: name,
        item: Item {
            body,
            created_us: now_us,
            scope: Default::default(),
            op: Some(op),
        },
    })
}

/// The operation as the client sees it at `now_us`.
pub fn render_operation(item: &Item, now_us: i64) -> Value {
    let mut body = item.body.clone();
    let Some(op) = &item.op else { return body };
    let status = op.status(now_us);
    body["status"] = Value::String(status.into());
    body["progress"] = Value::from(if status == "DONE" { 100 } else { 0 });
    if status != "PENDING" {
        body["startTime"] = Value::String(timestamp(op.start_us));
    }
    if status == "DONE" {
        body["endTime"] = Value::String(timestamp(op.done_us));
        if let Some((code, reason, message)) = &op.error {
            body["error"] = json!({"errors": [{"code": reason, "message": message}]});
            body["httpErrorStatusCode"] = Value::from(*code);
            body["httpErrorMessage"] = Value::String(http_reason(*code).into());
        }
    }
    body
}

fn http_reason(code: u16) -> &'static str {
    match code {
        400 => "BAD REQUEST",
        404 => "NOT FOUND",
        409 => "CONFLICT",
        412 => "PRECONDITION FAILED",
        _ => "ERROR",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_carry_an_offset() {
        assert_eq!(timestamp(0), "1969-12-31T17:00:00.000-07:00");
    }

    #[test]
    fn names_and_scopes() {
        assert!(valid_name("web-1"));
        assert!(!valid_name("Web"));
        assert!(!valid_name("web-"));
        let k: Vec<String> = "projects/p/zones/z/instances/i"
            .split('/')
            .map(String::from)
            .collect();
        assert_eq!(scope_of(&k).unwrap().join("/"), "projects/p/zones/z");
        let k: Vec<String> = "projects/p/global/networks/n"
            .split('/')
            .map(String::from)
            .collect();
        assert_eq!(scope_of(&k).unwrap().join("/"), "projects/p/global");
    }

    #[test]
    fn references_become_urls() {
        let base = "https://www.googleapis.com/compute/v1/";
        let mut v = json!({"network": "global/networks/default", "machineType": "zones/z/machineTypes/e2-small", "description": "global warming"});
        expand_references(&mut v, base, "p");
        assert_eq!(
            v["network"],
            format!("{base}projects/p/global/networks/default")
        );
        assert_eq!(
            v["machineType"],
            format!("{base}projects/p/zones/z/machineTypes/e2-small")
        );
        assert_eq!(v["description"], "global warming");
    }
}
